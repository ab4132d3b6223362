/**
 * Small Postgres helpers shared by the platform services (events, jobs, realtime):
 * LISTEN on both drivers, and normalising what the two drivers return for raw SQL
 * (postgres.js gives int8 as a string and timestamptz as text through Drizzle; PGlite gives numbers).
 */
import type { SQL } from 'drizzle-orm'
import { type Db, type DrizzleTx, rowsOf } from '../db/client'

/** Channels: payloads stay tiny (ids only); the tables are the source of truth. */
export const EVENTS_CHANNEL = 'loved_events'
export const JOBS_CHANNEL = 'loved_jobs'

export interface ServiceLogger {
  info(msg: string, data?: Record<string, unknown>): void
  warn(msg: string, data?: Record<string, unknown>): void
  error(msg: string, data?: Record<string, unknown>): void
}

export const consoleLogger: ServiceLogger = {
  info: (msg, data) => console.info(msg, data ?? ''),
  warn: (msg, data) => console.warn(msg, data ?? ''),
  error: (msg, data) => console.error(msg, data ?? ''),
}

export const silentLogger: ServiceLogger = { info() {}, warn() {}, error() {} }

/**
 * LISTEN on `channel`. Notifications are delivered after the notifying transaction commits (never on
 * rollback) on both drivers. postgres.js listens on a dedicated connection and re-listens after a
 * reconnect: `onReconnect` runs then, since notifications sent meanwhile are lost.
 */
export async function listen(
  db: Db,
  channel: string,
  onNotify: (payload: string) => void,
  onReconnect?: () => void,
): Promise<() => Promise<void>> {
  const client = (db.drizzle as unknown as { $client: any }).$client
  if (db.kind === 'pglite') {
    const unsubscribe: () => Promise<void> = await client.listen(channel, onNotify)
    return () => unsubscribe()
  }
  let first = true
  const meta = await client.listen(channel, onNotify, () => {
    if (!first) onReconnect?.()
    first = false
  })
  return () => meta.unlisten()
}

export async function query<T>(tx: DrizzleTx, statement: SQL): Promise<T[]> {
  return rowsOf<T>(await tx.execute(statement))
}

export function toNumber(v: unknown): number {
  return typeof v === 'number' ? v : Number(v)
}

/** timestamptz from either driver: a Date, or Postgres text like `2026-01-02 03:04:05.678+00`. */
export function toDate(v: unknown): Date {
  if (v instanceof Date) return v
  if (typeof v === 'number') return new Date(v)
  const s = String(v)
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d)(?::?(\d\d))?$/.exec(s)
  if (m) return new Date(`${m[1]}T${m[2]}${m[3]}:${m[4] ?? '00'}`)
  return new Date(s)
}

export function toDateOrNull(v: unknown): Date | null {
  return v === null || v === undefined ? null : toDate(v)
}
