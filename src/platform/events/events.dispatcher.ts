/**
 * Hands committed outbox events to their consumers. Two kinds:
 *
 * - Live listeners (`onEvents`): per process, in memory, e.g. the WebSocket hub. Each process keeps
 *   its own position per organization, starting at the versions current when it starts (its clients
 *   catch up from the outbox themselves). Every process sees every event: that is how an event
 *   committed on instance A reaches sockets connected to instance B.
 * - Durable consumers (`consume`): once per event across all instances, e.g. enqueueing jobs or
 *   webhook deliveries. They run inside the `withOrg` transaction that advances the organization's
 *   persisted cursor (`outbox_cursors`, locked with SKIP LOCKED), so their database effects happen
 *   exactly once, and an event committed right before a crash is handed over at the next start.
 *   Keep them to database writes (enqueue a job for anything slow or remote). A consumer that throws
 *   rolls the batch back; it is retried on the next poll, and that organization's later events wait.
 *
 * Wake-ups: `NOTIFY loved_events '<org>:<version>'` from recordEvent, delivered after commit on both
 * drivers (several processes on Postgres; in-process on PGlite), plus a periodic scan of the counters
 * in case a notification was lost (listener reconnect).
 */
import { sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { type OrgTx, withOrg, withSystem } from '../db/tenancy'
import { readEvents, readOrgEvents } from './events.outbox'
import { consoleLogger, EVENTS_CHANNEL, listen, query, type ServiceLogger, toNumber } from './events.pg'
import type { EventType, StoredEvent } from './events.types'

export type EventListener = (events: StoredEvent[]) => void
export type DurableConsumer<K extends string = string> = (tx: OrgTx, event: StoredEvent<K>) => Promise<void>

export interface DispatcherOptions {
  db: Db
  /** Scan for missed events every so often (ms); notifications make it rarely needed. */
  pollMs?: number
  /** Events read per organization per round. */
  batchSize?: number
  /** Durable consumers run this long after the live fan-out, batched (ms). Default 20. */
  durableDelayMs?: number
  log?: ServiceLogger
}

export interface EventDispatcher {
  /** Called with each organization's new events, in version order, after commit. Returns an unsubscribe. */
  onEvents(listener: EventListener): () => void
  /** Register a durable consumer for one event type, or '*' for all. Register before start(). */
  consume<K extends EventType>(type: K | '*', handler: DurableConsumer<K>): void
  /** The last version this process has handed to live listeners for the organization. */
  liveVersion(orgId: string): number
  start(): Promise<void>
  stop(): Promise<void>
  /** A hint that the organization has events up to `version` (or: look everywhere). */
  wake(orgId?: string, version?: number): void
  /** Resolves once everything committed so far has been handed over (tests, benches). */
  drain(): Promise<void>
}

export function createEventDispatcher(opts: DispatcherOptions): EventDispatcher {
  const { db } = opts
  const pollMs = opts.pollMs ?? 5_000
  const batchSize = opts.batchSize ?? 500
  const durableDelayMs = opts.durableDelayMs ?? 20
  const log = opts.log ?? consoleLogger

  const listeners = new Set<EventListener>()
  const consumers: Array<{ type: string; handler: DurableConsumer<any> }> = []
  const live = new Map<string, number>()
  /** Live path: org -> highest version hinted (Infinity when unknown). */
  const dirty = new Map<string, number>()
  /** Durable path: organizations whose cursor may be behind. */
  const durableDirty = new Set<string>()
  let scanRequested = false
  let loop: Promise<void> | null = null
  let durableLoop: Promise<void> | null = null
  let durableTimer: ReturnType<typeof setTimeout> | null = null
  let started = false
  let stopped = false
  let unlisten: (() => Promise<void>) | null = null
  let timer: ReturnType<typeof setInterval> | null = null
  let retryTimer: ReturnType<typeof setTimeout> | null = null

  function emit(events: StoredEvent[]) {
    for (const l of listeners) {
      try {
        l(events)
      } catch (err) {
        log.error('events: live listener failed', { err: String(err) })
      }
    }
  }

  // Live path ------------------------------------------------------------------------------------
  function schedule() {
    if (stopped || loop) return
    loop = run().finally(() => {
      loop = null
      if (!stopped && (dirty.size || scanRequested)) schedule()
    })
  }

  async function run() {
    while (!stopped && (dirty.size || scanRequested)) {
      if (scanRequested) {
        scanRequested = false
        await scan().catch((err) => {
          log.error('events: scan failed, will retry', { err: String(err) })
          retryLater()
        })
      }
      const batch = [...dirty.entries()]
      dirty.clear()
      for (const [orgId, hint] of batch) {
        if (stopped) return
        try {
          await deliverLive(orgId, hint)
        } catch (err) {
          log.error('events: live dispatch failed, will retry', { orgId, err: String(err) })
          retryLater()
        }
        durableDirty.add(orgId)
      }
      scheduleDurable()
    }
  }

  function retryLater() {
    if (retryTimer || stopped) return
    retryTimer = setTimeout(
      () => {
        retryTimer = null
        wake()
      },
      Math.min(pollMs, 1_000),
    )
  }

  /** Every organization whose counter is ahead of this process or of the durable cursor. */
  async function scan() {
    const rows = await withSystem(db, (tx) =>
      query<{ org_id: string; version: unknown; durable: unknown }>(
        tx,
        sql`select c.organization_id::text as org_id, c.version, coalesce(d.version, 0) as durable
          from outbox_counters c left join outbox_cursors d using (organization_id)`,
      ),
    )
    for (const r of rows) {
      const version = toNumber(r.version)
      if (toNumber(r.durable) < version) durableDirty.add(r.org_id)
      if (!started) live.set(r.org_id, version)
      else if (version > (live.get(r.org_id) ?? 0))
        dirty.set(r.org_id, Math.max(version, dirty.get(r.org_id) ?? 0))
    }
    scheduleDurable()
  }

  async function deliverLive(orgId: string, hint: number) {
    const from = live.get(orgId) ?? 0
    if (hint <= from) return
    const events = await withSystem(db, (tx) => readOrgEvents(tx, orgId, { after: from, limit: batchSize }))
    if (!events.length) return
    // Only this loop advances `live`, but be strict anyway.
    const current = live.get(orgId) ?? 0
    const fresh = events.filter((e) => e.version > current)
    if (!fresh.length) return
    live.set(orgId, fresh[fresh.length - 1]!.version)
    emit(fresh)
    if (events.length === batchSize) dirty.set(orgId, Math.max(hint, dirty.get(orgId) ?? 0))
  }

  // Durable path: a little behind the live one, batched, so on PGlite (one connection) its write
  // transactions do not sit between a commit and the WebSocket fan-out of every event.
  function scheduleDurable(delay = durableDelayMs) {
    if (stopped || !started || durableTimer || durableLoop || !durableDirty.size) return
    durableTimer = setTimeout(() => {
      durableTimer = null
      runDurableNow()
    }, delay)
  }

  function runDurableNow() {
    if (durableLoop) return durableLoop
    durableLoop = runDurable().finally(() => {
      durableLoop = null
      scheduleDurable()
    })
    return durableLoop
  }

  async function runDurable() {
    while (!stopped && durableDirty.size) {
      const orgs = [...durableDirty]
      durableDirty.clear()
      for (const orgId of orgs) {
        if (stopped) return
        try {
          if (await deliverDurable(orgId)) durableDirty.add(orgId)
        } catch (err) {
          log.error('events: durable consumer failed, will retry', { orgId, err: String(err) })
          retryLater()
        }
      }
    }
  }

  /** One batch for one organization; true when there may be more. */
  async function deliverDurable(orgId: string): Promise<boolean> {
    return withOrg(db, orgId, async (tx) => {
      await tx.execute(
        sql`insert into outbox_cursors (organization_id, version) values (${orgId}::uuid, 0)
          on conflict (organization_id) do nothing`,
      )
      const locked = await query<{ version: unknown }>(
        tx,
        sql`select version from outbox_cursors where organization_id = ${orgId}::uuid for update skip locked`,
      )
      if (!locked[0]) return false // another instance is on it
      const after = toNumber(locked[0].version)
      const events = await readEvents(tx, { after, limit: batchSize })
      if (!events.length) return false
      for (const event of events) {
        for (const c of consumers) {
          if (c.type === '*' || c.type === event.type) await c.handler(tx, event)
        }
      }
      await tx.execute(
        sql`update outbox_cursors set version = ${events[events.length - 1]!.version}, updated_at = now()
          where organization_id = ${orgId}::uuid`,
      )
      return events.length === batchSize
    })
  }

  function wake(orgId?: string, version?: number) {
    if (stopped) return
    if (orgId) dirty.set(orgId, Math.max(version ?? Number.POSITIVE_INFINITY, dirty.get(orgId) ?? 0))
    else scanRequested = true
    if (started) schedule()
  }

  function onNotify(payload: string) {
    const i = payload.lastIndexOf(':')
    if (i < 0) return wake()
    const version = Number(payload.slice(i + 1))
    wake(payload.slice(0, i), Number.isFinite(version) ? version : undefined)
  }

  return {
    onEvents(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    consume(type, handler) {
      consumers.push({ type, handler })
    },
    liveVersion: (orgId) => live.get(orgId) ?? 0,
    async start() {
      if (started) return
      // Listen first, then read positions: an event committed in between is both notified and seen.
      unlisten = await listen(db, EVENTS_CHANNEL, onNotify, () => wake())
      await scan()
      started = true
      schedule()
      scheduleDurable(0)
      timer = setInterval(() => wake(), pollMs)
      timer.unref?.()
    },
    async stop() {
      stopped = true
      if (timer) clearInterval(timer)
      if (retryTimer) clearTimeout(retryTimer)
      if (durableTimer) clearTimeout(durableTimer)
      await loop
      await durableLoop
      await unlisten?.()
      unlisten = null
    },
    wake,
    async drain() {
      if (!started) throw new Error('dispatcher: drain() before start()')
      wake()
      while (!stopped) {
        if (loop) await loop
        else if (dirty.size || scanRequested) schedule()
        else if (durableLoop) await durableLoop
        else if (durableDirty.size || durableTimer) {
          if (durableTimer) clearTimeout(durableTimer)
          durableTimer = null
          await runDurableNow()
        } else return
      }
    },
  }
}
