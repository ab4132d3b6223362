import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { Elysia } from 'elysia'
import { createTestDb } from '../../../test/db'
import type { Db } from '../db/client'
import { withOrg } from '../db/tenancy'
import { createEventDispatcher } from '../events/events.dispatcher'
import { createOrg, createUser, sleep, waitFor } from '../events/events.fixtures'
import { recordEvent } from '../events/events.outbox'
import { silentLogger } from '../events/events.pg'
import { createRealtimeHub, type HubOptions, type RealtimeSession } from './realtime.hub'

// Database-backed tests on 2 cores: the runner's 5 s default is too tight.
setDefaultTimeout(30_000)

let db: Db
let orgA: string
let orgB: string
let alice: string // member of A
let bob: string // member of A
let carol: string // member of B
const sessions = new Map<string, RealtimeSession>()
const cleanups: Array<() => Promise<void>> = []

beforeEach(async () => {
  db = await createTestDb()
  orgA = await createOrg(db, 'A')
  orgB = await createOrg(db, 'B')
  alice = await createUser(db, 'Alice')
  bob = await createUser(db, 'Bob')
  carol = await createUser(db, 'Carol')
  sessions.clear()
  sessions.set('s-alice', { userId: alice, orgId: orgA, sessionId: 's-alice' })
  sessions.set('s-bob', { userId: bob, orgId: orgA, sessionId: 's-bob' })
  sessions.set('s-carol', { userId: carol, orgId: orgB, sessionId: 's-carol' })
})
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  await db.close()
})

async function startServer(opts: Partial<HubOptions> = {}) {
  const dispatcher = createEventDispatcher({ db, log: silentLogger, pollMs: 60_000 })
  const hub = createRealtimeHub({
    db,
    dispatcher,
    log: silentLogger,
    resolveSession: async (req) => {
      const sid = /(?:^|;\s*)sid=([^;]+)/.exec(req.headers.get('cookie') ?? '')?.[1]
      return (sid && sessions.get(sid)) || null
    },
    ...opts,
  })
  await dispatcher.start()
  const app = new Elysia().use(hub.plugin()).listen({ port: 0, hostname: '127.0.0.1' })
  const server = { port: app.server!.port as number, hub, dispatcher }
  cleanups.push(async () => {
    hub.stop()
    await app.stop(true)
    await dispatcher.stop()
  })
  return server
}

interface Msg {
  t: string
  org?: string
  v?: number
  type?: string
  data?: unknown
  user?: string | null
  reason?: string
}

function connect(port: number, sid: string | null, opts: { since?: number; origin?: string } = {}) {
  const q = opts.since === undefined ? '' : `?v=${opts.since}`
  const headers: Record<string, string> = {}
  if (sid) headers.cookie = `sid=${sid}`
  if (opts.origin) headers.origin = opts.origin
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${q}`, { headers } as never)
  const msgs: Msg[] = []
  let opened = false
  ws.onopen = () => {
    opened = true
  }
  ws.onmessage = (m) => msgs.push(JSON.parse(String(m.data)))
  const closed = new Promise<number>((resolve) => {
    ws.onclose = (e) => resolve(e.code)
  })
  cleanups.push(async () => ws.close())
  return {
    ws,
    msgs,
    closed,
    get opened() {
      return opened
    },
    events: () => msgs.filter((m) => m.t === 'event'),
    versions: () => msgs.filter((m) => m.t === 'event').map((m) => m.v),
    ready: () => waitFor(() => msgs.find((m) => m.t === 'ready'), 5_000, 'ready'),
  }
}

const ping = (n: number) => ({ type: 'test.ping' as const, payload: { n } })
const record = (org: string, n: number) => withOrg(db, org, (tx) => recordEvent(tx, ping(n)))

describe('realtime hub', () => {
  test('an unauthenticated socket is refused with 401 and never opens', async () => {
    const { port } = await startServer()
    const res = await fetch(`http://127.0.0.1:${port}/ws`, {
      headers: {
        upgrade: 'websocket',
        connection: 'upgrade',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-version': '13',
        cookie: 'sid=nope',
      },
    })
    expect(res.status).toBe(401)
    const c = connect(port, null)
    await c.closed
    expect(c.opened).toBe(false)
  })

  test('a socket opened from another site is refused', async () => {
    const { port } = await startServer()
    const evil = connect(port, 's-alice', { origin: 'https://evil.example' })
    await evil.closed
    expect(evil.opened).toBe(false)
    const same = connect(port, 's-alice', { origin: `http://127.0.0.1:${port}` })
    await same.ready()
    expect(same.opened).toBe(true)
  })

  test('a socket receives its organization’s events with their versions, and organization B receives none of A’s', async () => {
    const { port } = await startServer()
    const a = connect(port, 's-alice')
    const b = connect(port, 's-carol')
    await Promise.all([a.ready(), b.ready()])
    for (let n = 1; n <= 3; n++) await record(orgA, n)
    await record(orgB, 1)
    await waitFor(() => a.events().length === 3 && b.events().length === 1, 5_000, 'events')
    await record(orgA, 4)
    await waitFor(() => a.events().length === 4, 5_000, 'fourth event')
    await sleep(100)
    expect(a.events().map((m) => [m.org, m.v, m.type, m.data])).toEqual([
      [orgA, 1, 'test.ping', { n: 1 }],
      [orgA, 2, 'test.ping', { n: 2 }],
      [orgA, 3, 'test.ping', { n: 3 }],
      [orgA, 4, 'test.ping', { n: 4 }],
    ])
    expect(b.events().map((m) => [m.org, m.v])).toEqual([[orgB, 1]])
  })

  test('a personal event reaches only its user', async () => {
    const { port } = await startServer()
    const a = connect(port, 's-alice')
    const b = connect(port, 's-bob')
    await Promise.all([a.ready(), b.ready()])
    await withOrg(db, orgA, (tx) =>
      recordEvent(tx, { type: 'test.note', payload: { note: 'for alice' }, userId: alice }),
    )
    await record(orgA, 2)
    await waitFor(() => a.events().length === 2 && b.events().length === 1, 5_000, 'events')
    await sleep(50)
    expect(a.events().map((m) => [m.v, m.type, m.user])).toEqual([
      [1, 'test.note', alice],
      [2, 'test.ping', null],
    ])
    expect(b.events().map((m) => [m.v, m.type])).toEqual([[2, 'test.ping']])
  })

  test('a personal event reaches its user only in the organization it belongs to', async () => {
    sessions.set('s-alice-b', { userId: alice, orgId: orgB })
    const { port } = await startServer()
    const inA = connect(port, 's-alice')
    const inB = connect(port, 's-alice-b')
    await Promise.all([inA.ready(), inB.ready()])
    await withOrg(db, orgA, (tx) =>
      recordEvent(tx, { type: 'test.note', payload: { note: 'A only' }, userId: alice }),
    )
    await record(orgB, 1)
    await waitFor(() => inA.events().length === 1 && inB.events().length === 1, 5_000, 'events')
    await sleep(50)
    expect(inA.events().map((m) => [m.org, m.type])).toEqual([[orgA, 'test.note']])
    expect(inB.events().map((m) => [m.org, m.type])).toEqual([[orgB, 'test.ping']])
  })

  for (const variant of [
    { name: 'from the outbox', bystander: false, ringSize: 1024 },
    { name: 'from the hub’s ring', bystander: true, ringSize: 1024 },
    { name: 'from the outbox, then the ring', bystander: true, ringSize: 20 },
  ]) {
    test(`a client disconnected during 50 events receives all 50, in order, once, on reconnect (${variant.name})`, async () => {
      const { port } = await startServer({ ringSize: variant.ringSize })
      if (variant.bystander) await connect(port, 's-bob').ready()
      const first = connect(port, 's-alice')
      await first.ready()
      await record(orgA, 1)
      await record(orgA, 2)
      await waitFor(() => first.events().length === 2, 5_000, 'two events')
      const last = first.versions().at(-1)!
      first.ws.close()
      await first.closed
      for (let n = 3; n <= 52; n++) await record(orgA, n)
      await sleep(100) // let the hub publish them to nobody (or the bystander)

      const again = connect(port, 's-alice', { since: last })
      await again.ready()
      await record(orgA, 53)
      await waitFor(() => again.versions().includes(53), 5_000, 'live event after catch-up')
      await sleep(50)
      expect(again.versions()).toEqual(Array.from({ length: 51 }, (_, i) => i + 3))
      expect(again.msgs.findIndex((m) => m.t === 'ready')).toBe(50) // the 50 missed ones came first
    })
  }

  test('catching up while events keep being committed leaves no gap and no duplicate', async () => {
    // The hub's catch-up reads are slowed down so events are surely published meanwhile.
    const drizzle = db.drizzle
    const slow = new Proxy(drizzle, {
      get(target, prop) {
        if (prop === 'transaction')
          return async (fn: never) => {
            await sleep(30)
            return target.transaction(fn)
          }
        const v = Reflect.get(target, prop)
        return typeof v === 'function' ? v.bind(target) : v
      },
    })
    const { port, dispatcher } = await startServer({ ringSize: 32, db: { ...db, drizzle: slow } })
    await connect(port, 's-bob').ready() // keeps the (tiny) ring alive
    const writer = (async () => {
      for (let n = 1; n <= 150; n++) {
        await record(orgA, n)
        await sleep(2)
      }
    })()
    // Far enough behind that the catch-up starts from the outbox while events are still published.
    await waitFor(() => dispatcher.liveVersion(orgA) >= 60, 20_000, 'sixty events (the ring holds 32)')
    const c = connect(port, 's-alice', { since: 5 })
    await writer
    await waitFor(() => c.versions().includes(150), 10_000, 'last event')
    await sleep(50)
    expect(c.versions()).toEqual(Array.from({ length: 145 }, (_, i) => i + 6))
  }, 30_000)

  test('a client ahead of this instance waits for it instead of receiving events twice', async () => {
    const { port, dispatcher } = await startServer()
    await record(orgA, 1)
    await waitFor(() => dispatcher.liveVersion(orgA) === 1, 5_000, 'first event')
    // Committed without a notification: this instance has not published 2 and 3 yet, but the client,
    // connected to another instance before, has seen 2.
    await withOrg(db, orgA, async (tx) => {
      await tx.execute(sql`update outbox_counters set version = 3`)
      await tx.execute(sql`insert into outbox_events (organization_id, version, type, payload) values
        (${orgA}::uuid, 2, 'test.ping', '{"n":2}'), (${orgA}::uuid, 3, 'test.ping', '{"n":3}')`)
    })
    const c = connect(port, 's-alice', { since: 2 })
    await c.ready()
    await waitFor(() => c.versions().includes(3), 5_000, 'event 3')
    await sleep(50)
    expect(c.versions()).toEqual([3])
  })

  test('a client claiming a version the organization never reached is told to reload', async () => {
    const { port } = await startServer()
    await record(orgA, 1)
    const c = connect(port, 's-alice', { since: 7 })
    expect(await c.closed).toBe(4002)
    expect(c.msgs).toEqual([{ t: 'reload', reason: 'unknown_version' }])
  })

  test('a client too far behind is told to reload', async () => {
    const { port } = await startServer({ catchUpLimit: 10 })
    for (let n = 1; n <= 20; n++) await record(orgA, n)
    const c = connect(port, 's-alice', { since: 3 })
    expect(await c.closed).toBe(4002)
    expect(c.msgs).toEqual([{ t: 'reload', reason: 'too_far_behind' }])
  })

  test('disconnect closes the matching sockets so they reconnect with their new session', async () => {
    const { port, hub } = await startServer()
    const a = connect(port, 's-alice')
    const b = connect(port, 's-bob')
    await Promise.all([a.ready(), b.ready()])
    expect(hub.connections).toBe(2)
    expect(hub.disconnect({ userId: alice })).toBe(1)
    expect(await a.closed).toBe(4001)
    await sleep(50)
    expect(hub.connections).toBe(1)
  })

  test('a socket whose session ended or changed organization is closed by the periodic check', async () => {
    const { port } = await startServer({ revalidateMs: 50 })
    const a = connect(port, 's-alice')
    const b = connect(port, 's-bob')
    await Promise.all([a.ready(), b.ready()])
    sessions.delete('s-alice')
    sessions.set('s-bob', { userId: bob, orgId: orgB })
    expect(await a.closed).toBe(4001)
    expect(await b.closed).toBe(4001)
  })
})
