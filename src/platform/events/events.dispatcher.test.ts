import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { createTestDb } from '../../../test/db'
import type { Db } from '../db/client'
import { withOrg, withSystem } from '../db/tenancy'
import { createEventDispatcher, type EventDispatcher } from './events.dispatcher'
import { createOrg, waitFor } from './events.fixtures'
import { recordEvent } from './events.outbox'
import { query, silentLogger, toNumber } from './events.pg'
import type { StoredEvent } from './events.types'

// Database-backed tests on 2 cores: the runner's 5 s default is too tight.
setDefaultTimeout(30_000)

let db: Db
let orgA: string
let orgB: string
const dispatchers: EventDispatcher[] = []

function dispatcher(opts: { pollMs?: number; batchSize?: number } = {}) {
  const d = createEventDispatcher({ db, log: silentLogger, ...opts })
  dispatchers.push(d)
  return d
}

beforeEach(async () => {
  db = await createTestDb()
  orgA = await createOrg(db, 'A')
  orgB = await createOrg(db, 'B')
  // Consumers write here, in the dispatcher's transaction, as the app role.
  await db.raw.exec(`create table test_consumed (organization_id uuid not null, version bigint not null,
      primary key (organization_id, version));
    grant select, insert on test_consumed to ${db.appRole};`)
})
afterEach(async () => {
  for (const d of dispatchers.splice(0)) await d.stop()
  await db.close()
})

const ping = (n: number) => ({ type: 'test.ping' as const, payload: { n } })

async function consumed(org: string): Promise<number[]> {
  const rows = await withSystem(db, (tx) =>
    query<{ version: unknown }>(
      tx,
      sql`select version from test_consumed where organization_id = ${org}::uuid order by version`,
    ),
  )
  return rows.map((r) => toNumber(r.version))
}

describe('event dispatcher', () => {
  test('live listeners receive each committed event once, in order, and never a rolled-back one', async () => {
    const d = dispatcher({ pollMs: 60_000 })
    const got: Array<[string, number]> = []
    d.onEvents((events) => {
      for (const e of events) got.push([e.orgId === orgA ? 'A' : 'B', e.version])
    })
    await d.start()
    await withOrg(db, orgA, (tx) => recordEvent(tx, ping(1)))
    await withOrg(db, orgB, (tx) => recordEvent(tx, ping(1)))
    await withOrg(db, orgA, (tx) => recordEvent(tx, ping(2))).catch(() => {})
    await withOrg(db, orgA, async (tx) => {
      await recordEvent(tx, ping(99))
      throw new Error('rolled back')
    }).catch(() => {})
    await withOrg(db, orgA, (tx) => recordEvent(tx, ping(3)))
    // Woken by NOTIFY alone: the poll is a minute away.
    await waitFor(() => got.length >= 4, 5_000, 'four events')
    await d.drain()
    expect(got.filter(([o]) => o === 'A').map(([, v]) => v)).toEqual([1, 2, 3])
    expect(got.filter(([o]) => o === 'B').map(([, v]) => v)).toEqual([1])
  })

  test('live listeners start from the versions current at start, not from history', async () => {
    await withOrg(db, orgA, (tx) => recordEvent(tx, ping(1)))
    const d = dispatcher()
    const got: number[] = []
    d.onEvents((events) => got.push(...events.map((e) => e.version)))
    await d.start()
    await d.drain()
    expect(got).toEqual([])
    expect(d.liveVersion(orgA)).toBe(1)
    await withOrg(db, orgA, (tx) => recordEvent(tx, ping(2)))
    await d.drain()
    expect(got).toEqual([2])
  })

  test('an event committed before a crash is handed to durable consumers at the next start', async () => {
    // The process that committed these died before dispatching: no dispatcher ran at all.
    await withOrg(db, orgA, async (tx) => {
      await recordEvent(tx, ping(1))
      await recordEvent(tx, ping(2))
    })
    await withOrg(db, orgB, (tx) => recordEvent(tx, ping(1)))
    const d = dispatcher({ pollMs: 60_000 })
    const seen: StoredEvent[] = []
    d.consume('test.ping', async (tx, e) => {
      seen.push(e)
      await tx.execute(
        sql`insert into test_consumed (organization_id, version) values (${e.orgId}::uuid, ${e.version})`,
      )
    })
    await d.start()
    await d.drain()
    expect(await consumed(orgA)).toEqual([1, 2])
    expect(await consumed(orgB)).toEqual([1])
    // And a restart does not hand them over again.
    await d.stop()
    const again = dispatcher({ pollMs: 60_000 })
    let calls = 0
    again.consume('*', async () => {
      calls++
    })
    await again.start()
    await again.drain()
    expect(calls).toBe(0)
  })

  test('durable consumers run inside the organization’s transaction, under RLS', async () => {
    await withOrg(db, orgA, (tx) => recordEvent(tx, ping(1)))
    const d = dispatcher()
    const settings: Array<{ org: string; role: string }> = []
    d.consume('test.ping', async (tx) => {
      const [r] = await query<{ org: string; role: string }>(
        tx,
        sql`select current_setting('app.org_id', true) as org, current_user as role`,
      )
      settings.push(r!)
    })
    await d.start()
    await d.drain()
    expect(settings).toEqual([{ org: orgA, role: db.appRole }])
  })

  test('a durable consumer that throws is retried, and its effects happen once per event', async () => {
    await withOrg(db, orgA, async (tx) => {
      for (let n = 1; n <= 3; n++) await recordEvent(tx, ping(n))
    })
    const d = dispatcher({ pollMs: 60_000 })
    let failures = 0
    d.consume('test.ping', async (tx, e) => {
      await tx.execute(
        sql`insert into test_consumed (organization_id, version) values (${e.orgId}::uuid, ${e.version})`,
      )
      if (e.version === 2 && failures === 0) {
        failures++
        throw new Error('transient')
      }
    })
    await d.start()
    // The failing batch rolled back (event 1's insert too); the retry timer runs it again.
    await waitFor(async () => (await consumed(orgA)).length === 3, 5_000, 'retry')
    expect(await consumed(orgA)).toEqual([1, 2, 3])
    expect(failures).toBe(1)
  })

  test('two dispatchers on one database hand each event to durable consumers exactly once', async () => {
    const counts = new Map<string, number>()
    const make = () => {
      const d = dispatcher({ pollMs: 60_000, batchSize: 7 })
      d.consume('test.ping', async (tx, e) => {
        const key = `${e.orgId}:${e.version}`
        counts.set(key, (counts.get(key) ?? 0) + 1)
        await tx.execute(
          sql`insert into test_consumed (organization_id, version) values (${e.orgId}::uuid, ${e.version})`,
        )
      })
      return d
    }
    const d1 = make()
    const d2 = make()
    await Promise.all([d1.start(), d2.start()])
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        withOrg(db, i % 2 ? orgA : orgB, (tx) => recordEvent(tx, ping(i))),
      ),
    )
    await waitFor(
      async () => (await consumed(orgA)).length + (await consumed(orgB)).length === 40,
      10_000,
      'all',
    )
    await Promise.all([d1.drain(), d2.drain()])
    expect(await consumed(orgA)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect(await consumed(orgB)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect([...counts.values()].every((n) => n === 1)).toBe(true)
  })

  test('a missed notification is made up for by the periodic scan', async () => {
    const d = dispatcher({ pollMs: 100 })
    const got: number[] = []
    d.onEvents((events) => got.push(...events.map((e) => e.version)))
    await d.start()
    // Written without NOTIFY, as if the listening connection had been down.
    await withSystem(db, async (tx) => {
      await tx.execute(sql`insert into outbox_counters (organization_id, version) values (${orgA}::uuid, 1)`)
      await tx.execute(
        sql`insert into outbox_events (organization_id, version, type) values (${orgA}::uuid, 1, 'test.ping')`,
      )
    })
    await waitFor(() => got.length === 1, 5_000, 'scan')
    expect(got).toEqual([1])
  })
})
