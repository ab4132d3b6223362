import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { createTestDb } from '../../../test/db'
import type { Db } from '../db/client'
import { withOrg, withSystem } from '../db/tenancy'
import { createFakeClock } from '../jobs/jobs.clock'
import { createWorker } from '../jobs/jobs.worker'
import { createOrg, createUser } from './events.fixtures'
import { pruneOutboxJob, pruneOutboxSchedule } from './events.jobs'
import { latestVersion, pruneOutbox, readEvents, recordEvent, since } from './events.outbox'
import { query, silentLogger, toNumber } from './events.pg'

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

const ping = (n: number) => ({ type: 'test.ping' as const, payload: { n } })

describe('outbox', () => {
  test('versions start at 1 per organization and increase by one per event', async () => {
    const a1 = await withOrg(db, orgA, (tx) => recordEvent(tx, ping(1)))
    const a2 = await withOrg(db, orgA, (tx) => recordEvent(tx, ping(2)))
    const b1 = await withOrg(db, orgB, (tx) => recordEvent(tx, ping(1)))
    expect([a1, a2, b1]).toEqual([
      { orgId: orgA, version: 1 },
      { orgId: orgA, version: 2 },
      { orgId: orgB, version: 1 },
    ])
    expect(await withOrg(db, orgA, (tx) => latestVersion(tx))).toBe(2)
  })

  test('an event recorded in a rolled-back transaction disappears and its version is reused', async () => {
    await withOrg(db, orgA, (tx) => recordEvent(tx, ping(1)))
    await expect(
      withOrg(db, orgA, async (tx) => {
        await recordEvent(tx, ping(2))
        throw new Error('use case failed')
      }),
    ).rejects.toThrow('use case failed')
    const next = await withOrg(db, orgA, (tx) => recordEvent(tx, ping(3)))
    expect(next.version).toBe(2)
    const events = await withOrg(db, orgA, (tx) => readEvents(tx, { after: 0, limit: 10 }))
    expect(events.map((e) => [e.version, (e.payload as { n: number }).n])).toEqual([
      [1, 1],
      [2, 3],
    ])
  })

  test('concurrent writers of one organization get consecutive versions with no gap or duplicate', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        withOrg(db, orgA, async (tx) => {
          const r = await recordEvent(tx, ping(i))
          // Hold the transaction a little so writers overlap on Postgres.
          await tx.execute(sql`select pg_sleep(0.005)`)
          return r.version
        }),
      ),
    )
    expect([...results].sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
  })

  test('the event records its actor and, for a personal event, its user', async () => {
    const actor = await createUser(db, 'Actor')
    const target = await createUser(db, 'Target')
    await withOrg(db, { orgId: orgA, userId: actor }, (tx) =>
      recordEvent(tx, { type: 'test.note', payload: { note: 'hi' }, userId: target }),
    )
    const [e] = await withOrg(db, orgA, (tx) => readEvents(tx, { after: 0, limit: 10 }))
    expect(e).toMatchObject({ orgId: orgA, version: 1, type: 'test.note', actorId: actor, userId: target })
    expect(e!.payload).toEqual({ note: 'hi' })
    expect(e!.createdAt).toBeInstanceOf(Date)
  })

  test('since returns the missed events in order, without other users’ personal events', async () => {
    const me = await createUser(db)
    const other = await createUser(db)
    await withOrg(db, orgA, async (tx) => {
      for (let n = 1; n <= 10; n++) await recordEvent(tx, ping(n))
      await recordEvent(tx, { type: 'test.note', payload: { note: 'mine' }, userId: me })
      await recordEvent(tx, { type: 'test.note', payload: { note: 'theirs' }, userId: other })
    })
    const res = await withOrg(db, orgA, (tx) => since(tx, { after: 3, upto: 12, userId: me, limit: 100 }))
    if (res.kind !== 'events') throw new Error('expected events')
    expect(res.events.map((e) => e.version)).toEqual([4, 5, 6, 7, 8, 9, 10, 11])
  })

  test('since tells a client that is too far behind, or behind pruned events, to reload', async () => {
    await withOrg(db, orgA, async (tx) => {
      for (let n = 1; n <= 20; n++) await recordEvent(tx, ping(n))
    })
    expect(
      await withOrg(db, orgA, (tx) => since(tx, { after: 0, upto: 20, userId: null, limit: 10 })),
    ).toEqual({
      kind: 'reload',
      reason: 'too_far_behind',
    })
    // Durable consumers are past 15: events older than now up to 15 may go.
    await withSystem(db, (tx) =>
      tx.execute(sql`insert into outbox_cursors (organization_id, version) values (${orgA}::uuid, 15)`),
    )
    const pruned = await withSystem(db, (tx) => pruneOutbox(tx, new Date(Date.now() + 60_000)))
    expect(pruned).toBe(15)
    expect(
      await withOrg(db, orgA, (tx) => since(tx, { after: 10, upto: 20, userId: null, limit: 100 })),
    ).toEqual({
      kind: 'reload',
      reason: 'pruned',
    })
    const ok = await withOrg(db, orgA, (tx) => since(tx, { after: 15, upto: 20, userId: null, limit: 100 }))
    expect(ok.kind === 'events' && ok.events.map((e) => e.version)).toEqual([16, 17, 18, 19, 20])
  })

  test('the daily prune job deletes old events that durable consumers have processed, and no others', async () => {
    await withOrg(db, orgA, async (tx) => {
      for (let n = 1; n <= 4; n++) await recordEvent(tx, ping(n))
    })
    await withOrg(db, orgB, (tx) => recordEvent(tx, ping(1)))
    await withSystem(db, async (tx) => {
      await tx.execute(sql`update outbox_events set created_at = now() - interval '20 days'`)
      await tx.execute(sql`insert into outbox_cursors (organization_id, version) values (${orgA}::uuid, 3)`)
    })
    const clock = createFakeClock(new Date())
    const worker = createWorker({
      db,
      jobs: [pruneOutboxJob],
      schedules: [pruneOutboxSchedule],
      clock,
      log: silentLogger,
    })
    await worker.sweep()
    clock.advance(86_400_000)
    await worker.sweep()
    expect(await worker.runDue()).toBe(1)
    const left = await withSystem(db, (tx) =>
      query<{ org: string; version: unknown }>(
        tx,
        sql`select organization_id::text as org, version from outbox_events order by organization_id, version`,
      ),
    )
    // A's 1-3 were processed and old; A's 4 and B's 1 were not processed yet.
    expect(left.map((r) => [r.org === orgA ? 'A' : 'B', toNumber(r.version)]).sort()).toEqual([
      ['A', 4],
      ['B', 1],
    ])
  })

  test('recording an event outside an organization transaction fails', async () => {
    await expect(withSystem(db, (tx) => recordEvent(tx as never, ping(1)))).rejects.toThrow()
  })
})

describe('outbox tenancy (as the app role)', () => {
  test('organization B cannot read, change or forge organization A’s events, counters or cursors', async () => {
    await withOrg(db, orgA, (tx) => recordEvent(tx, ping(1)))
    await withSystem(db, (tx) =>
      tx.execute(sql`insert into outbox_cursors (organization_id, version) values (${orgA}::uuid, 0)`),
    )
    await withOrg(db, orgB, async (tx) => {
      const seen = await query<{ n: unknown }>(
        tx,
        sql`select (select count(*) from outbox_events) + (select count(*) from outbox_counters)
          + (select count(*) from outbox_cursors) as n`,
      )
      expect(toNumber(seen[0]!.n)).toBe(0)
      const updated = await query(
        tx,
        sql`update outbox_counters set version = 100 where organization_id = ${orgA}::uuid returning 1`,
      )
      expect(updated).toHaveLength(0)
      const moved = await query(
        tx,
        sql`update outbox_cursors set version = 100 where organization_id = ${orgA}::uuid returning 1`,
      )
      expect(moved).toHaveLength(0)
    })
    await expect(
      withOrg(db, orgB, (tx) =>
        tx.execute(
          sql`insert into outbox_events (organization_id, version, type) values (${orgA}::uuid, 2, 'x')`,
        ),
      ),
    ).rejects.toThrow()
    for (const forged of [
      sql`insert into outbox_counters (organization_id, version) values (${orgA}::uuid, 50)
        on conflict (organization_id) do update set version = 50`,
      sql`insert into outbox_cursors (organization_id, version) values (${orgA}::uuid, 50)
        on conflict (organization_id) do update set version = 50`,
      sql`delete from outbox_events where organization_id = ${orgA}::uuid`,
    ])
      await expect(withOrg(db, orgB, (tx) => tx.execute(forged))).rejects.toThrow()
    await expect(
      withOrg(db, orgB, (tx) => tx.execute(sql`update outbox_events set type = 'x'`)),
    ).rejects.toThrow()
    const still = await withOrg(db, orgA, (tx) => readEvents(tx, { after: 0, limit: 10 }))
    expect(still.map((e) => [e.version, e.type])).toEqual([[1, 'test.ping']])
    expect(await withOrg(db, orgA, (tx) => latestVersion(tx))).toBe(1)
    const [cursor] = await withSystem(db, (tx) =>
      query<{ version: unknown }>(
        tx,
        sql`select version from outbox_cursors where organization_id = ${orgA}::uuid`,
      ),
    )
    expect(toNumber(cursor!.version)).toBe(0)
  })

  test('every platform table with organization_id has RLS enabled and forced, a policy, and an index leading with it', async () => {
    const rows = await withSystem(db, (tx) =>
      query<{ table: string; enabled: boolean; forced: boolean; policies: unknown; indexed: boolean }>(
        tx,
        sql`select c.relname as table, c.relrowsecurity as enabled, c.relforcerowsecurity as forced,
            (select count(*) from pg_policy p where p.polrelid = c.oid) as policies,
            exists (select 1 from pg_index i join pg_attribute a on a.attrelid = c.oid and a.attnum = i.indkey[0]
              where i.indrelid = c.oid and a.attname = 'organization_id') as indexed
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relkind = 'r'
            and c.relname in ('outbox_events', 'outbox_counters', 'outbox_cursors', 'jobs')`,
      ),
    )
    expect(rows).toHaveLength(4)
    for (const r of rows) {
      expect({ table: r.table, enabled: r.enabled, forced: r.forced, indexed: r.indexed }).toEqual({
        table: r.table,
        enabled: true,
        forced: true,
        indexed: true,
      })
      expect(toNumber(r.policies)).toBeGreaterThan(0)
    }
  })
})
