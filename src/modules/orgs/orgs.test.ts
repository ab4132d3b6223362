import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp, type TestClient } from '../../../test/harness'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

async function inviteLink(owner: TestClient, email: string, role = 'member') {
  const res = await owner.post('/settings/members/invite', { email, role })
  const html = await res.text()
  if (res.status !== 200) throw new Error(`invite failed ${res.status}: ${html.slice(0, 300)}`)
  const m = html.match(/data-testid="invite-link"[^>]*>([^<]+)</)
  return new URL(m![1]!).pathname
}

/** Owner A, plus a teammate who accepted an invitation with `role`. */
async function teamWith(role: 'member' | 'admin' | 'owner') {
  const owner = await signUpClient(t)
  const email = `mate.${role}.${Date.now()}.${Math.random().toString(36).slice(2, 6)}@example.com`
  const link = await inviteLink(owner.client, email, role)
  const mate = t.client()
  const res = await mate.post(link, { name: `Mate ${role}`, password: 'mate password 1' })
  expect(res.status).toBe(303)
  const [u] = await t.db.raw.query<{ id: string }>('select id from users where email = $1', [email])
  return { owner, mate, mateId: u!.id, mateEmail: email }
}

async function auditActions(orgId: string) {
  const rows = await t.db.raw.query<{ action: string }>(
    'select action from audit_log where organization_id = $1 order by created_at, id',
    [orgId],
  )
  return rows.map((r) => r.action)
}

describe('invitations', () => {
  test('a new person accepts by link, creating their account, and lands in the organization', async () => {
    const { owner, mate, mateId } = await teamWith('member')
    const [m] = await t.db.raw.query<{ role: string }>(
      'select role from organization_members where organization_id = $1 and user_id = $2',
      [owner.orgId, mateId],
    )
    expect(m?.role).toBe('member')
    const html = await mate.page('/dashboard')
    expect(html).toContain('data-testid="stat-members">2<')
    expect(await auditActions(owner.orgId)).toEqual(['org.created', 'member.invited', 'invitation.accepted'])
  })

  test('an existing user accepts while logged in and can switch between both organizations', async () => {
    const a = await signUpClient(t, { orgName: 'Alpha Org' })
    const b = await signUpClient(t, { orgName: 'Beta Org' })
    const link = await inviteLink(a.client, b.email, 'admin')
    // Not logged in as them: asked to log in, not to create an account.
    expect(await t.client().page(link)).toContain(`/login?next=${encodeURIComponent(link)}`)
    expect((await b.client.post(link)).status).toBe(303)
    let html = await b.client.page('/dashboard')
    expect(html).toContain('Alpha Org') // switched to the new org
    expect(html).toContain('Beta Org') // still listed in the switcher
    expect((await b.client.post('/session/org', { orgId: b.orgId })).status).toBe(303)
    html = await b.client.page('/dashboard')
    expect(html).toMatch(/<span class="name">Beta Org<\/span>/)
  })

  test('a link works once, and not after revocation or for another account', async () => {
    const owner = await signUpClient(t)
    const other = await signUpClient(t)
    const link = await inviteLink(owner.client, 'once@example.com')
    expect(await other.client.page(link)).toContain('once@example.com') // wrong account: explained
    expect((await other.client.post(link)).status).toBe(403)
    expect((await t.client().post(link, { name: 'Once', password: 'once password' })).status).toBe(303)
    expect((await t.client().get(link)).status).toBe(410)

    const link2 = await inviteLink(owner.client, 'revoked@example.com')
    const [inv] = await t.db.raw.query<{ id: string }>(
      "select id from invitations where email = 'revoked@example.com'",
    )
    expect((await owner.client.post(`/settings/invitations/${inv!.id}/revoke`)).status).toBe(303)
    expect((await t.client().post(link2, { name: 'R', password: 'revoked password' })).status).toBe(410)
    expect(await auditActions(owner.orgId)).toContain('invitation.revoked')
  })

  test('refuses to invite an existing member or a duplicate pending email, with a form error', async () => {
    const { owner, mateEmail } = await teamWith('member')
    const dup = await owner.client.post('/settings/members/invite', { email: mateEmail, role: 'member' })
    expect(dup.status).toBe(422)
    await inviteLink(owner.client, 'pending@example.com')
    const again = await owner.client.post('/settings/members/invite', {
      email: 'PENDING@example.com',
      role: 'member',
    })
    expect(again.status).toBe(422)
    expect(await again.text()).toMatch(/id="f-email-err"/)
  })

  test('a member cannot invite; an admin cannot invite owners', async () => {
    const { mate } = await teamWith('member')
    expect(
      (await mate.post('/settings/members/invite', { email: 'x@example.com', role: 'member' })).status,
    ).toBe(403)
    const team = await teamWith('admin')
    expect(
      (await team.mate.post('/settings/members/invite', { email: 'y@example.com', role: 'owner' })).status,
    ).toBe(403)
    expect(
      (await team.mate.post('/settings/members/invite', { email: 'y@example.com', role: 'admin' })).status,
    ).toBe(200)
  })
})

describe('roles and membership', () => {
  test('a member cannot promote themselves or anyone', async () => {
    const { owner, mate, mateId } = await teamWith('member')
    expect((await mate.post(`/settings/members/${mateId}/role`, { role: 'owner' })).status).toBe(403)
    expect((await mate.post(`/settings/members/${owner.userId}/role`, { role: 'member' })).status).toBe(403)
    const [m] = await t.db.raw.query<{ role: string }>(
      'select role from organization_members where user_id = $1',
      [mateId],
    )
    expect(m?.role).toBe('member')
  })

  test('an admin cannot change their own role nor touch owners', async () => {
    const { owner, mate, mateId } = await teamWith('admin')
    expect((await mate.post(`/settings/members/${mateId}/role`, { role: 'owner' })).status).toBe(403)
    expect((await mate.post(`/settings/members/${owner.userId}/role`, { role: 'member' })).status).toBe(403)
    expect((await mate.post(`/settings/members/${owner.userId}/remove`)).status).toBe(403)
  })

  test('an owner changes roles, and each change is audited with before and after', async () => {
    const { owner, mateId } = await teamWith('member')
    expect((await owner.client.post(`/settings/members/${mateId}/role`, { role: 'admin' })).status).toBe(303)
    const [row] = await t.db.raw.query<{
      before: { role: string }
      after: { role: string }
      actor_user_id: string
    }>(
      "select before, after, actor_user_id from audit_log where organization_id = $1 and action = 'member.role_changed'",
      [owner.orgId],
    )
    expect(row).toEqual({ before: { role: 'member' }, after: { role: 'admin' }, actor_user_id: owner.userId })
  })

  test('the last owner can neither leave nor be demoted; with a second owner they can leave', async () => {
    const { owner, mate, mateId } = await teamWith('admin')
    expect((await owner.client.post(`/settings/members/${owner.userId}/remove`)).status).toBe(403)
    expect((await owner.client.post(`/settings/members/${mateId}/role`, { role: 'owner' })).status).toBe(303)
    // Now the mate (owner) tries to demote the original owner: allowed, two owners remain one.
    expect((await mate.post(`/settings/members/${owner.userId}/role`, { role: 'admin' })).status).toBe(303)
    // The mate is now the only owner and cannot leave.
    expect((await mate.post(`/settings/members/${mateId}/remove`)).status).toBe(403)
    const owners = await t.db.raw.query(
      "select 1 from organization_members where organization_id = $1 and role = 'owner'",
      [owner.orgId],
    )
    expect(owners.length).toBe(1)
  })

  test('concurrent demotions of two owners never leave the organization without an owner', async () => {
    const { owner, mate, mateId } = await teamWith('owner')
    const results = await Promise.all([
      owner.client.post(`/settings/members/${mateId}/role`, { role: 'member' }),
      mate.post(`/settings/members/${owner.userId}/role`, { role: 'member' }),
    ])
    const owners = await t.db.raw.query(
      "select 1 from organization_members where organization_id = $1 and role = 'owner'",
      [owner.orgId],
    )
    expect(owners.length).toBeGreaterThanOrEqual(1)
    expect(results.map((r) => r.status).sort()).toEqual([303, 403])
  })

  test('a removed member loses access at once and is moved to another organization or asked to create one', async () => {
    const { owner, mate, mateId } = await teamWith('member')
    expect((await owner.client.post(`/settings/members/${mateId}/remove`)).status).toBe(303)
    const res = await mate.get('/dashboard')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/orgs/new')
    expect(await auditActions(owner.orgId)).toContain('member.removed')
  })

  test('organization settings change is audited; members cannot change settings', async () => {
    const { owner, mate } = await teamWith('member')
    const form = {
      name: 'Renamed',
      slug: `renamed-${Date.now()}`,
      displayName: 'Renamed CRM',
      logoUrl: 'https://example.com/logo.png',
      primaryColor: '#0ea5e9',
      locale: 'en',
      timezone: 'America/Recife',
    }
    expect((await mate.post('/settings/organization', form)).status).toBe(403)
    expect((await owner.client.post('/settings/organization', form)).status).toBe(303)
    const html = await owner.client.page('/dashboard')
    expect(html).toContain('--brand:#0ea5e9')
    expect(html).toContain('Renamed CRM')
    expect(html).toContain('lang="en"') // the organization's locale applies when the user has none
    const [audit] = await t.db.raw.query<{ before: Record<string, unknown>; after: Record<string, unknown> }>(
      "select before, after from audit_log where organization_id = $1 and action = 'org.updated'",
      [owner.orgId],
    )
    expect(audit?.after).toMatchObject({ name: 'Renamed', primaryColor: '#0ea5e9', locale: 'en' })
    expect(audit?.before).toMatchObject({ locale: 'pt-BR', primaryColor: null })
    const bad = await owner.client.post('/settings/organization', {
      ...form,
      primaryColor: 'blue',
      timezone: 'Mars/Olympus',
      logoUrl: 'javascript:alert(1)',
    })
    expect(bad.status).toBe(422)
    const text = await bad.text()
    for (const f of ['primaryColor', 'timezone', 'logoUrl']) expect(text).toContain(`id="f-${f}-err"`)
  })

  test('the audit page lists entries for admins and is closed to members', async () => {
    const { owner, mate } = await teamWith('member')
    const html = await owner.client.page('/settings/audit')
    expect(html).toContain('invitation.accepted')
    expect((await mate.get('/settings/audit')).status).toBe(403)
  })
})

describe('cross-tenant isolation through the routes', () => {
  test("organization B can neither see nor change A's members, invitations or audit rows", async () => {
    const a = await teamWith('member')
    await inviteLink(a.owner.client, 'secret-invitee@example.com')
    const [inv] = await t.db.raw.query<{ id: string }>(
      "select id from invitations where email = 'secret-invitee@example.com'",
    )
    const b = await signUpClient(t, { orgName: 'Org B' })

    const members = await b.client.page('/settings/members')
    expect(members).not.toContain(a.mateEmail)
    expect(members).not.toContain(a.owner.email)
    expect(members).not.toContain('secret-invitee@example.com')
    const audit = await b.client.page('/settings/audit')
    expect(audit).not.toContain('secret-invitee')
    expect(audit).not.toContain(a.mateEmail)

    // Acting on A's ids from B's session finds nothing.
    expect((await b.client.post(`/settings/members/${a.mateId}/role`, { role: 'admin' })).status).toBe(404)
    expect((await b.client.post(`/settings/members/${a.mateId}/remove`)).status).toBe(404)
    expect((await b.client.post(`/settings/invitations/${inv!.id}/revoke`)).status).toBe(404)
    // Switching into A is refused: the org comes from memberships, not the form.
    expect((await b.client.post('/session/org', { orgId: a.owner.orgId })).status).toBe(404)

    const [m] = await t.db.raw.query<{ role: string }>(
      'select role from organization_members where user_id = $1',
      [a.mateId],
    )
    expect(m?.role).toBe('member')
    const [i] = await t.db.raw.query<{ revoked_at: Date | null }>(
      'select revoked_at from invitations where id = $1',
      [inv!.id],
    )
    expect(i?.revoked_at).toBeNull()
  })

  test("B cannot take A's URL name", async () => {
    const a = await signUpClient(t, { orgName: 'Taken Slug Co' })
    const b = await signUpClient(t)
    const [slug] = await t.db.raw.query<{ slug: string }>('select slug from organizations where id = $1', [
      a.orgId,
    ])
    const res = await b.client.post('/settings/organization', {
      name: 'B',
      slug: slug!.slug,
      displayName: '',
      logoUrl: '',
      primaryColor: '',
      locale: 'pt-BR',
      timezone: 'America/Sao_Paulo',
    })
    expect(res.status).toBe(422)
    expect(await res.text()).toContain('id="f-slug-err"')
  })
})

describe('pages', () => {
  test('an unknown page renders the 404 page inside the shell', async () => {
    const { client } = await signUpClient(t)
    const res = await client.get('/nope')
    expect(res.status).toBe(404)
    const html = await res.text()
    expect(html).toContain('class="sidebar"')
    expect(html).toContain('404')
  })

  test('API clients get JSON errors', async () => {
    const res = await t.client().get('/nope', { accept: 'application/json' })
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: { code: '404', message: expect.any(String) } })
  })

  test('the dev outbox is for instance admins only, and only without SMTP', async () => {
    const fresh = await createTestApp()
    try {
      const first = await signUpClient(fresh)
      const second = await signUpClient(fresh)
      expect((await first.client.get('/dev/outbox')).status).toBe(200)
      expect((await second.client.get('/dev/outbox')).status).toBe(403)
    } finally {
      await fresh.close()
    }
  })
})
