import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { withOrg, withSystem } from '../../platform/db/tenancy'
import { defineOrgJob, defineSystemJob } from '../../platform/jobs/jobs.define'
import { enqueue, enqueueSystem } from '../../platform/jobs/jobs.queue'

const syncJob = defineOrgJob<{ n: number }>({ name: 'test.sync', async run() {} })
const housekeeping = defineSystemJob<Record<string, never>>({ name: 'test.housekeeping', async run() {} })

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

async function orgJob(orgId: string, userId: string, state: 'queued' | 'dead' = 'queued') {
  const { id } = await withOrg(t.db, { orgId, userId }, (tx) => enqueue(tx, syncJob, { n: 1 }))
  if (state === 'dead')
    await t.db.raw.query(
      "update jobs set state = 'dead', attempts = 5, last_error = 'SMTP 550 mailbox unavailable' where id = $1",
      [id],
    )
  return id
}

describe('background jobs page', () => {
  test("owners see their organization's jobs by state, and retry a dead one", async () => {
    const a = await signUpClient(t)
    const id = await orgJob(a.orgId, a.userId, 'dead')
    await orgJob(a.orgId, a.userId)
    const html = await a.client.page('/settings/jobs?state=dead')
    expect(html).toContain('test.sync')
    expect(html).toContain('SMTP 550 mailbox unavailable')
    expect(html).toMatch(/data-testid="count-dead">1</)
    expect(html).toMatch(/data-testid="count-queued">1</)
    expect((await a.client.post(`/settings/jobs/${id}/retry`)).status).toBe(303)
    const [row] = await t.db.raw.query<{ state: string; attempts: number }>(
      'select state, attempts from jobs where id = $1',
      [id],
    )
    expect(row).toEqual({ state: 'queued', attempts: 0 })
  })

  test('discarding keeps the job for the record, never to run', async () => {
    const a = await signUpClient(t)
    const id = await orgJob(a.orgId, a.userId)
    expect((await a.client.post(`/settings/jobs/${id}/discard`)).status).toBe(303)
    const [row] = await t.db.raw.query<{ state: string }>('select state from jobs where id = $1', [id])
    expect(row?.state).toBe('cancelled')
  })

  test("members are refused; another organization can neither see nor act on A's jobs", async () => {
    const a = await signUpClient(t)
    const id = await orgJob(a.orgId, a.userId, 'dead')
    const b = await signUpClient(t)
    const html = await b.client.page('/settings/jobs')
    expect(html).not.toContain(id)
    expect((await b.client.post(`/settings/jobs/${id}/retry`)).status).toBe(404)
    expect((await b.client.post(`/settings/jobs/${id}/discard`)).status).toBe(404)
    const [row] = await t.db.raw.query<{ state: string }>('select state from jobs where id = $1', [id])
    expect(row?.state).toBe('dead')
    // A member of A.
    const res = await a.client.post('/settings/members/invite', {
      email: `m${Date.now()}@example.com`,
      role: 'member',
    })
    const link = new URL((await res.text()).match(/data-testid="invite-link"[^>]*>([^<]+)</)![1]!).pathname
    const member = t.client()
    await member.post(link, { name: 'Member', password: 'member password' })
    expect((await member.get('/settings/jobs')).status).toBe(403)
  })

  test('system jobs are for instance administrators only', async () => {
    const fresh = await createTestApp()
    try {
      const admin = await signUpClient(fresh) // first account of the instance
      const other = await signUpClient(fresh)
      const { id } = await withSystem(fresh.db, (tx) => enqueueSystem(tx, housekeeping, {}))
      const html = await admin.client.page('/settings/jobs/system')
      expect(html).toContain('test.housekeeping')
      expect(html).toContain(id)
      expect((await other.client.get('/settings/jobs/system')).status).toBe(403)
      expect((await other.client.post(`/settings/jobs/system/${id}/discard`)).status).toBe(403)
      // An organization's page never lists system jobs.
      expect(await admin.client.page('/settings/jobs')).not.toContain(id)
    } finally {
      await fresh.close()
    }
  })
})
