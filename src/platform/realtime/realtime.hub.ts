/**
 * The WebSocket hub. Sockets are authenticated at the upgrade (session cookie, through the app's
 * `resolveSession`) and subscribed to two topics: `org:<orgId>` (their current organization's
 * events) and `org:<orgId>:user:<userId>` (their personal events in that organization: a personal
 * event of organization A never reaches a socket opened in organization B, even the same user's).
 * Fan-out is Bun's native `server.publish`.
 *
 * Events come from the dispatcher (after commit, from the outbox, on every instance), so a socket on
 * instance B receives what a request on instance A committed. Every message carries the event's
 * per-organization version; a client reconnecting with `?v=<last version>` receives what it missed,
 * in order, with no gap and no duplicate:
 *
 *   1. the missed events older than the hub's ring of recently published events come from the outbox
 *      (`since`, checked contiguous), up to what this instance has published;
 *   2. the rest come from the ring, and the socket subscribes to its topics in the same synchronous
 *      step: no event can be published in between, since publishing runs on this same event loop.
 *
 * More than `catchUpLimit` events behind (or events already pruned): the client is told to reload.
 *
 * Protocol (JSON text frames, server to client):
 *   {"t":"event","org","v","type","data","user","actor","at"}
 *   {"t":"ready","org","v"}          caught up; live from here
 *   {"t":"reload","reason"}          too far behind, or an unknown version: reload the page (the socket
 *                                    is then closed)
 * Close codes: 4001 session ended or changed organization (reconnect), 4002 reload required.
 */
import { Elysia, status } from 'elysia'
import type { Db } from '../db/client'
import { withOrg } from '../db/tenancy'
import type { EventDispatcher } from '../events/events.dispatcher'
import { latestVersion, since as outboxSince } from '../events/events.outbox'
import { consoleLogger, type ServiceLogger } from '../events/events.pg'
import type { StoredEvent } from '../events/events.types'

export interface RealtimeSession {
  userId: string
  orgId: string
  /** Lets the app close one session's sockets (logout). */
  sessionId?: string
}

export interface HubOptions {
  db: Db
  dispatcher: EventDispatcher
  /** From the upgrade request (its cookie) to the session; null refuses the socket with 401. */
  resolveSession(request: Request): Promise<RealtimeSession | null>
  /** Missed events beyond which a reconnecting client must reload. Default 1000. */
  catchUpLimit?: number
  /** Recently published events kept per organization with connected sockets. Default 1024. */
  ringSize?: number
  /** Re-check every socket's session this often (logout or org switch on another instance). Default 60 s. */
  revalidateMs?: number
  /** Origins allowed besides the request's own host (cross-site WebSocket hijacking guard). */
  allowedOrigins?: string[]
  path?: string
  log?: ServiceLogger
}

export interface Publisher {
  publish(topic: string, data: string): unknown
}

export interface RealtimeHub {
  /** The Elysia plugin serving the WebSocket endpoint (`/ws`): `app.use(hub.plugin())`. */
  plugin(): Elysia<any, any, any, any, any, any, any>
  /** The Bun server to publish through (set automatically on start and at the first upgrade). */
  attach(server: Publisher): void
  /** Close the matching sockets with 4001 (logout, organization switch, membership removed). */
  disconnect(filter: { userId?: string; orgId?: string; sessionId?: string }): number
  readonly connections: number
  stop(): void
}

interface Ws {
  send(data: string): unknown
  subscribe(topic: string): void
  close(code?: number, reason?: string): void
  readyState: number
}

interface Conn {
  ws: Ws
  session: RealtimeSession
  request: Request
  open: boolean
}

interface RingEvent {
  version: number
  userId: string | null
  msg: string
}

interface Ring {
  /** Every version <= base was published before the oldest event kept here. */
  base: number
  events: RingEvent[]
  sockets: number
}

export const CLOSE_SESSION = 4001
export const CLOSE_RELOAD = 4002

export const userTopic = (orgId: string, userId: string) => `org:${orgId}:user:${userId}`

export function eventMessage(e: StoredEvent): string {
  return JSON.stringify({
    t: 'event',
    org: e.orgId,
    v: e.version,
    type: e.type,
    data: e.payload,
    user: e.userId,
    actor: e.actorId,
    at: e.createdAt.toISOString(),
  })
}

export function createRealtimeHub(opts: HubOptions): RealtimeHub {
  const { db, dispatcher } = opts
  const limit = opts.catchUpLimit ?? 1_000
  const ringSize = opts.ringSize ?? 1_024
  const log = opts.log ?? consoleLogger
  const path = opts.path ?? '/ws'
  const conns = new Map<object, Conn>()
  const rings = new Map<string, Ring>()
  let server: Publisher | null = null

  const unsubscribe = dispatcher.onEvents((events) => {
    for (const e of events) {
      const msg = eventMessage(e)
      const ring = rings.get(e.orgId)
      if (ring) {
        ring.events.push({ version: e.version, userId: e.userId, msg })
        if (ring.events.length > ringSize) {
          const dropped = ring.events.splice(0, ring.events.length - ringSize)
          ring.base = dropped[dropped.length - 1]!.version
        }
      }
      server?.publish(e.userId ? userTopic(e.orgId, e.userId) : `org:${e.orgId}`, msg)
    }
  })

  function ringOf(orgId: string): Ring {
    let ring = rings.get(orgId)
    if (!ring) {
      ring = { base: dispatcher.liveVersion(orgId), events: [], sockets: 0 }
      rings.set(orgId, ring)
    }
    return ring
  }

  function finishWithReload(conn: Conn, reason: string) {
    conn.ws.send(JSON.stringify({ t: 'reload', reason }))
    conn.ws.close(CLOSE_RELOAD, 'reload')
  }

  async function catchUp(conn: Conn, since: number | null) {
    const { orgId, userId } = conn.session
    let cursor = since ?? dispatcher.liveVersion(orgId)
    // A client can be ahead of this instance (it saw the event through another one): wait until this
    // instance has published that far, or the client would get events it already has.
    if (cursor > dispatcher.liveVersion(orgId)) {
      const ok = await waitForLive(conn, cursor)
      if (!conn.open) return
      if (!ok) return finishWithReload(conn, 'unknown_version')
    }
    for (let round = 0; round < 10; round++) {
      if (!conn.open) return
      const ring = ringOf(orgId)
      if (cursor >= ring.base) {
        // Synchronous from here to subscribe(): nothing can be published in between.
        for (const e of ring.events) {
          if (e.version > cursor && (e.userId === null || e.userId === userId)) conn.ws.send(e.msg)
        }
        conn.ws.subscribe(`org:${orgId}`)
        conn.ws.subscribe(userTopic(orgId, userId))
        const live = dispatcher.liveVersion(orgId)
        conn.ws.send(JSON.stringify({ t: 'ready', org: orgId, v: Math.max(cursor, live) }))
        return
      }
      const upto = dispatcher.liveVersion(orgId) // committed and published: all in the outbox
      if (upto - cursor > limit) return finishWithReload(conn, 'too_far_behind')
      const res = await withOrg(db, { orgId, userId }, (tx) =>
        outboxSince(tx, { after: cursor, upto, userId, limit }),
      )
      if (!conn.open) return
      if (res.kind === 'reload') return finishWithReload(conn, res.reason)
      for (const e of res.events) conn.ws.send(eventMessage(e))
      cursor = upto
    }
    finishWithReload(conn, 'too_far_behind')
  }

  async function waitForLive(conn: Conn, version: number): Promise<boolean> {
    const { orgId, userId } = conn.session
    const latest = await withOrg(db, { orgId, userId }, (tx) => latestVersion(tx))
    if (latest < version) return false // a version this organization never had (database restored?)
    dispatcher.wake(orgId, latest)
    const until = Date.now() + 10_000
    while (dispatcher.liveVersion(orgId) < version) {
      if (!conn.open || Date.now() > until) return false
      await Bun.sleep(5)
    }
    return true
  }

  function originAllowed(request: Request): boolean {
    const origin = request.headers.get('origin')
    if (!origin) return true // not a browser
    if (opts.allowedOrigins?.includes(origin)) return true
    try {
      return new URL(origin).host === (request.headers.get('host') ?? new URL(request.url).host)
    } catch {
      return false
    }
  }

  function parseSince(v: unknown): number | null {
    const n = typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : Number.NaN
    return Number.isSafeInteger(n) ? n : null
  }

  function closeConn(conn: Conn, code: number, reason: string) {
    if (!conn.open) return
    conn.ws.close(code, reason)
  }

  let revalidating = false
  const revalidateTimer = setInterval(async () => {
    if (revalidating) return
    revalidating = true
    try {
      for (const conn of [...conns.values()]) {
        if (!conn.open) continue
        const s = await opts.resolveSession(conn.request).catch(() => undefined)
        if (s === undefined) continue // transient failure: keep the socket
        if (!s || s.userId !== conn.session.userId || s.orgId !== conn.session.orgId)
          closeConn(conn, CLOSE_SESSION, 'session changed')
      }
    } finally {
      revalidating = false
    }
  }, opts.revalidateMs ?? 60_000)
  revalidateTimer.unref?.()

  const hub: RealtimeHub = {
    plugin() {
      return new Elysia({ name: 'loved-realtime', seed: path })
        .onStart(({ server: s }) => {
          if (s) hub.attach(s as unknown as Publisher)
        })
        .ws(path, {
          async upgrade(ctx) {
            if (ctx.server) hub.attach(ctx.server as unknown as Publisher)
            if (!originAllowed(ctx.request)) throw status(403, 'Forbidden')
            const session = await opts.resolveSession(ctx.request)
            if (!session) throw status(401, 'Unauthorized')
            const request = new Request(ctx.request.url, { headers: new Headers(ctx.request.headers) })
            Object.assign(ctx, { realtime: { session, request, since: parseSince(ctx.query.v) } })
          },
          open(ws) {
            const rt = (
              ws.data as unknown as {
                realtime: { session: RealtimeSession; request: Request; since: number | null }
              }
            ).realtime
            const conn: Conn = {
              ws: ws.raw as unknown as Ws,
              session: rt.session,
              request: rt.request,
              open: true,
            }
            conns.set(ws.raw, conn)
            ringOf(rt.session.orgId).sockets++
            catchUp(conn, rt.since).catch((err) => {
              log.error('realtime: catch-up failed', { err: String(err) })
              closeConn(conn, 1011, 'catch-up failed')
            })
          },
          message() {
            // Clients only listen; the connection itself is the subscription.
          },
          close(ws) {
            const conn = conns.get(ws.raw)
            if (!conn) return
            conn.open = false
            conns.delete(ws.raw)
            const ring = rings.get(conn.session.orgId)
            if (ring && --ring.sockets <= 0) rings.delete(conn.session.orgId)
          },
        })
    },
    attach(s) {
      server = s
    },
    disconnect(filter) {
      let n = 0
      for (const conn of conns.values()) {
        const s = conn.session
        if (filter.userId && s.userId !== filter.userId) continue
        if (filter.orgId && s.orgId !== filter.orgId) continue
        if (filter.sessionId && s.sessionId !== filter.sessionId) continue
        if (!filter.userId && !filter.orgId && !filter.sessionId) continue
        closeConn(conn, CLOSE_SESSION, 'session changed')
        n++
      }
      return n
    },
    get connections() {
      return conns.size
    },
    stop() {
      clearInterval(revalidateTimer)
      unsubscribe()
      for (const conn of conns.values()) closeConn(conn, 1001, 'server shutting down')
    },
  }
  return hub
}
