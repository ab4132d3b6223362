import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { createTestDb } from '../../../test/db'
import type { Db } from '../db/client'
import { withOrg, withSystem } from '../db/tenancy'
import { createOrg } from '../events/events.fixtures'
import { query, toNumber } from '../events/events.pg'
import { defineOrgJob, defineSystemJob } from './jobs.define'
import {
  countJobs,
  discardJob,
  enqueue,
  enqueueForOrg,
  enqueueSystem,
  getJob,
  listJobs,
  listSystemJobs,
  retryJob,
} from './jobs.queue'

// Database-backed tests on 2 cores: the runner's 5 s default is too tight.
setDefaultTimeout(30_000)

let db: Db
let orgA: string
let orgB: string

beforeEach(async () => {
  db = await createTestDb()
  orgA = await createOrg(db, 'A')
  orgB = await createOrg(db, 'B')
})
afterEach(async () => {
  await db.close()
})

const sendMail = defineOrgJob<{ to: string }>({ name: 'test.send-mail', queue: 'mail', async run() {} })
const nightly = defineSystemJob<{ day: string }>({ name: 'test.nightly', async run() {} })

async function countAll(): Promise<number> {
  const rows = await withSystem(db, (tx) => query<{ n: unknown }>(tx, sql`select count(*) as n from jobs`))
  return toNumber(rows[0]!.n)
}

describe('enqueue', () => {
  test('enqueueing the same idempotency key 100 times, concurrently, creates one job', async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        withOrg(db, orgA, (tx) =>
          enqueue(tx, sendMail, { to: 'a@example.test' }, { idempotencyKey: 'invite:42' }),
        ),
      ),
    )
    expect(new Set(results.map((r) => r.id)).size).toBe(1)
    expect(results.filter((r) => r.created)).toHaveLength(1)
    expect(await countAll()).toBe(1)
  })

  test('the same idempotency key in two organizations, or for system jobs, makes separate jobs', async () => {
    const a = await withOrg(db, orgA, (tx) => enqueue(tx, sendMail, { to: 'x' }, { idempotencyKey: 'k' }))
    const b = await withOrg(db, orgB, (tx) => enqueue(tx, sendMail, { to: 'x' }, { idempotencyKey: 'k' }))
    const s1 = await withSystem(db, (tx) => enqueueSystem(tx, nightly, { day: 'd' }, { idempotencyKey: 'k' }))
    const s2 = await withSystem(db, (tx) => enqueueSystem(tx, nightly, { day: 'd' }, { idempotencyKey: 'k' }))
    expect(new Set([a.id, b.id, s1.id]).size).toBe(3)
    expect(s2).toEqual({ id: s1.id, created: false })
    expect(await countAll()).toBe(3)
  })

  test('jobs without a key are never merged', async () => {
    await withOrg(db, orgA, async (tx) => {
      await enqueue(tx, sendMail, { to: 'x' })
      await enqueue(tx, sendMail, { to: 'x' })
    })
    expect(await countAll()).toBe(2)
  })

  test('an enqueue in a rolled-back transaction leaves no job', async () => {
    await expect(
      withOrg(db, orgA, async (tx) => {
        await enqueue(tx, sendMail, { to: 'x' })
        throw new Error('use case failed')
      }),
    ).rejects.toThrow()
    expect(await countAll()).toBe(0)
  })

  test('a job carries its organization, queue, defaults and options', async () => {
    const runAt = new Date('2031-05-01T10:00:00.000Z')
    const { id } = await withOrg(db, orgA, (tx) =>
      enqueue(tx, sendMail, { to: 'z@example.test' }, { runAt, priority: 7, maxAttempts: 9 }),
    )
    const job = await withOrg(db, orgA, (tx) => getJob(tx, id))
    expect(job).toMatchObject({
      organizationId: orgA,
      queue: 'mail',
      name: 'test.send-mail',
      payload: { to: 'z@example.test' },
      state: 'queued',
      priority: 7,
      maxAttempts: 9,
      attempts: 0,
    })
    expect(job!.runAt.toISOString()).toBe(runAt.toISOString())
  })
})

describe('jobs tenancy (as the app role)', () => {
  test('organization B cannot see, retry, discard or forge organization A’s jobs', async () => {
    const { id } = await withOrg(db, orgA, (tx) => enqueue(tx, sendMail, { to: 'a' }))
    await withSystem(db, (tx) => tx.execute(sql`update jobs set state = 'dead' where id = ${id}::uuid`))
    await withOrg(db, orgB, async (tx) => {
      expect(await listJobs(tx)).toEqual([])
      expect(await getJob(tx, id)).toBeNull()
      expect(await retryJob(tx, id)).toBe(false)
      expect(await discardJob(tx, id)).toBe(false)
      const raw = await query(tx, sql`update jobs set payload = '{}' where id = ${id}::uuid returning 1`)
      expect(raw).toHaveLength(0)
    })
    await expect(
      withOrg(db, orgB, (tx) =>
        tx.execute(sql`insert into jobs (id, organization_id, name) values (${Bun.randomUUIDv7()}::uuid,
          ${orgA}::uuid, 'forged')`),
      ),
    ).rejects.toThrow()
    await expect(
      withOrg(db, orgB, (tx) => tx.execute(sql`delete from jobs where id = ${id}::uuid`)),
    ).rejects.toThrow()
    const job = await withOrg(db, orgA, (tx) => getJob(tx, id))
    expect(job).toMatchObject({ state: 'dead', payload: { to: 'a' } })
    expect(await countAll()).toBe(1)
  })

  test('the app role can neither see nor create system jobs', async () => {
    await withSystem(db, (tx) => enqueueSystem(tx, nightly, { day: 'x' }))
    await withOrg(db, orgA, async (tx) => {
      const rows = await query(tx, sql`select id from jobs where organization_id is null`)
      expect(rows).toHaveLength(0)
    })
    await expect(
      withOrg(db, orgA, (tx) =>
        tx.execute(
          sql`insert into jobs (id, organization_id, name) values (${Bun.randomUUIDv7()}::uuid, null, 'x')`,
        ),
      ),
    ).rejects.toThrow()
    expect(await withSystem(db, (tx) => listSystemJobs(tx))).toHaveLength(1)
  })

  test('a system transaction can enqueue a job for a given organization, which that organization then sees', async () => {
    await withSystem(db, (tx) => enqueueForOrg(tx, orgB, sendMail, { to: 'b' }))
    expect(await withOrg(db, orgA, (tx) => listJobs(tx))).toHaveLength(0)
    const seen = await withOrg(db, orgB, (tx) => listJobs(tx))
    expect(seen.map((j) => [j.organizationId, j.payload])).toEqual([[orgB, { to: 'b' }]])
  })
})

describe('admin operations', () => {
  test('retry re-queues a dead job with a fresh attempt budget; discard cancels a queued one', async () => {
    const dead = await withOrg(db, orgA, (tx) => enqueue(tx, sendMail, { to: 'a' }))
    const queued = await withOrg(db, orgA, (tx) => enqueue(tx, sendMail, { to: 'b' }))
    await withSystem(db, (tx) =>
      tx.execute(
        sql`update jobs set state = 'dead', attempts = 5, last_error = 'boom' where id = ${dead.id}::uuid`,
      ),
    )
    await withOrg(db, orgA, async (tx) => {
      expect(await countJobs(tx)).toMatchObject({ dead: 1, queued: 1 })
      expect(await retryJob(tx, dead.id)).toBe(true)
      expect(await discardJob(tx, queued.id)).toBe(true)
      // A cancelled job can be brought back too.
      expect(await retryJob(tx, queued.id)).toBe(true)
    })
    const after = await withOrg(db, orgA, (tx) => getJob(tx, dead.id))
    expect(after).toMatchObject({ state: 'queued', attempts: 0, lastError: null })
    // A running job is neither retried nor discarded from the admin page.
    await withSystem(db, (tx) =>
      tx.execute(sql`update jobs set state = 'running' where id = ${dead.id}::uuid`),
    )
    await withOrg(db, orgA, async (tx) => {
      expect(await retryJob(tx, dead.id)).toBe(false)
      expect(await discardJob(tx, dead.id)).toBe(false)
      expect((await listJobs(tx, { states: ['running'] })).map((j) => j.id)).toEqual([dead.id])
    })
  })
})
