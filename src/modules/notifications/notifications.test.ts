import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { createTestApp, signUpClient, type TestApp, type TestClient } from '../../../test/harness'
import { rowsOf } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

async function inviteAndJoin(owner: TestClient, name: string, role = 'member') {
  const email = `${name.toLowerCase().replace(/\W/g, '')}.${Date.now()}@example.com`
  const res = await owner.post('/settings/members/invite', { email, role })
  const link = new URL((await res.text()).match(/data-testid="invite-link"[^>]*>([^<]+)</)![1]!).pathname
  const mate = t.client()
  expect((await mate.post(link, { name, password: 'mate password 1' })).status).toBe(303)
  const [u] = await t.db.raw.query<{ id: string }>('select id from users where email = $1', [email])
  return { mate, mateId: u!.id }
}

describe('notifications', () => {
  test('the inviter is notified when the teammate joins, with an unread badge, and can mark it read', async () => {
    const owner = await signUpClient(t, { orgName: 'Notif Org' })
    await inviteAndJoin(owner.client, 'Bruna Lima')
    let html = await owner.client.page('/dashboard')
    expect(html).toMatch(/class="bell-count">1</)
    html = await owner.client.page('/notifications')
    expect(html).toContain('Bruna Lima entrou em Notif Org.')
    expect((await owner.client.post('/notifications/read-all')).status).toBe(303)
    expect(await owner.client.page('/dashboard')).not.toContain('bell-count')
    const badge = await owner.client.page('/notifications/badge')
    expect(badge.trim()).toBe('')
  })

  test('a role change notifies the member in their own language', async () => {
    const owner = await signUpClient(t)
    const { mate, mateId } = await inviteAndJoin(owner.client, 'Carl Jones')
    expect((await mate.post('/settings/profile', { name: 'Carl Jones', locale: 'en' })).status).toBe(303)
    expect((await owner.client.post(`/settings/members/${mateId}/role`, { role: 'admin' })).status).toBe(303)
    const html = await mate.page('/notifications')
    expect(html).toMatch(/changed your role to Admin\./)
    expect(await mate.page('/notifications/badge')).toContain('bell-count">1<')
  })

  test('records a personal event for the recipient only', async () => {
    const owner = await signUpClient(t)
    const { mateId } = await inviteAndJoin(owner.client, 'Dora')
    await owner.client.post(`/settings/members/${mateId}/role`, { role: 'admin' })
    const rows = await t.db.raw.query<{ type: string; user_id: string | null }>(
      "select type, user_id from outbox_events where organization_id = $1 and type = 'notification.created' order by version",
      [owner.orgId],
    )
    expect(rows.map((r) => r.user_id)).toEqual([owner.userId, mateId])
    const orgWide = await t.db.raw.query<{ type: string }>(
      'select type from outbox_events where organization_id = $1 and user_id is null order by version',
      [owner.orgId],
    )
    expect(orgWide.map((r) => r.type)).toEqual(['member.invited', 'member.joined', 'member.role_changed'])
  })

  test("a teammate in the same organization can neither read nor mark another member's notifications", async () => {
    const owner = await signUpClient(t)
    const { mate, mateId } = await inviteAndJoin(owner.client, 'Eva')
    const [n] = await t.db.raw.query<{ id: string }>('select id from notifications where user_id = $1', [
      owner.userId,
    ])
    expect(n).toBeDefined()
    expect(await mate.page('/notifications')).not.toContain('Eva entrou')
    expect((await mate.post(`/notifications/${n!.id}/read`)).status).toBe(404)
    // Directly as the app role, scoped to the teammate.
    const seen = await withOrg(t.db, { orgId: owner.orgId, userId: mateId }, async (tx) =>
      rowsOf(await tx.execute(sql`select id from notifications`)),
    )
    expect(seen).toEqual([])
    const changed = await withOrg(t.db, { orgId: owner.orgId, userId: mateId }, async (tx) =>
      rowsOf(
        await tx.execute(sql`update notifications set read_at = now() where id = ${n!.id} returning id`),
      ),
    )
    expect(changed).toEqual([])
    const [still] = await t.db.raw.query<{ read_at: Date | null }>(
      'select read_at from notifications where id = $1',
      [n!.id],
    )
    expect(still?.read_at).toBeNull()
  })

  test("another organization sees none of A's notifications, by route or SQL", async () => {
    const a = await signUpClient(t)
    await inviteAndJoin(a.client, 'Fabio')
    const [n] = await t.db.raw.query<{ id: string }>('select id from notifications where user_id = $1', [
      a.userId,
    ])
    const b = await signUpClient(t)
    expect((await b.client.post(`/notifications/${n!.id}/read`)).status).toBe(404)
    expect(await b.client.page('/notifications')).not.toContain('Fabio')
    const seen = await withOrg(t.db, { orgId: b.orgId, userId: a.userId }, async (tx) =>
      rowsOf(await tx.execute(sql`select id from notifications where organization_id = ${a.orgId}`)),
    )
    expect(seen).toEqual([])
  })
})
