/**
 * Autovacuum for the embedded database. PGlite runs Postgres in single-user mode, where the
 * autovacuum launcher never starts: without this job the planner never gets statistics (every table
 * keeps `reltuples = -1`, so plans rest on default guesses however many leads there are) and the
 * dead rows that every update leaves (a card move updates its lead) are never reclaimed, so tables
 * and indexes only grow.
 *
 * The job does what the launcher would, with its default thresholds: a table whose dead rows exceed
 * 50 + 20% of its rows is vacuumed (and analyzed); one whose changes since the last analyze exceed
 * 50 + 10% of its rows is analyzed. It runs every 10 minutes on the maintenance queue. PGlite has one
 * connection, so requests wait while it works: an ANALYZE of 200,000 rows takes about 0.25 s, a
 * VACUUM (ANALYZE) about 0.4 s, and only tables past a threshold are touched.
 *
 * On a real Postgres the server's own autovacuum does this; the job does nothing there.
 */
import { defineSystemJob } from '../jobs/jobs.define'
import type { Schedule } from '../jobs/jobs.worker'
import type { Db } from './client'

export interface MaintenanceStep {
  table: string
  action: 'vacuum' | 'analyze'
}

interface TableStats {
  schema: string
  table: string
  rows: number
  dead: number
  modified: number
}

/** Autovacuum's defaults (postgresql.conf): base threshold and scale factor per action. */
export const THRESHOLDS = {
  vacuum: { base: 50, scale: 0.2 },
  analyze: { base: 50, scale: 0.1 },
} as const

/** What the tables need now (a table never analyzed counts its live rows as its size). */
export function stepsFor(stats: TableStats[]): MaintenanceStep[] {
  const steps: MaintenanceStep[] = []
  for (const s of stats) {
    const name = `${quoteIdent(s.schema)}.${quoteIdent(s.table)}`
    if (s.dead > THRESHOLDS.vacuum.base + THRESHOLDS.vacuum.scale * s.rows)
      steps.push({ table: name, action: 'vacuum' })
    else if (s.modified > THRESHOLDS.analyze.base + THRESHOLDS.analyze.scale * s.rows)
      steps.push({ table: name, action: 'analyze' })
  }
  return steps
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`

/**
 * Vacuums and analyzes the embedded database's tables that need it; returns what it did. A no-op
 * on Postgres. VACUUM cannot run inside a transaction, so this uses the connection directly.
 */
export async function maintainEmbedded(db: Db): Promise<MaintenanceStep[]> {
  if (db.kind !== 'pglite') return []
  // Statistics are kept per backend and flushed at most once a second: flush them first.
  await db.raw.exec('select pg_stat_force_next_flush()')
  const stats = await db.raw.query<{
    schema: string
    table: string
    rows: number
    live: number
    dead: number
    modified: number
  }>(
    `select s.schemaname as schema, s.relname as "table", c.reltuples::float8 as rows,
       s.n_live_tup::float8 as live, s.n_dead_tup::float8 as dead,
       s.n_mod_since_analyze::float8 as modified
     from pg_stat_user_tables s join pg_class c on c.oid = s.relid`,
  )
  const steps = stepsFor(
    stats.map((s) => ({
      schema: s.schema,
      table: s.table,
      rows: Number(s.rows) >= 0 ? Number(s.rows) : Number(s.live),
      dead: Number(s.dead),
      modified: Number(s.modified),
    })),
  )
  for (const step of steps)
    await db.raw.exec(step.action === 'vacuum' ? `vacuum (analyze) ${step.table}` : `analyze ${step.table}`)
  return steps
}

export const maintenanceJob = defineSystemJob<Record<string, never>>({
  name: 'db.maintain-embedded',
  queue: 'maintenance',
  maxAttempts: 2,
  // The one job that works on the connection itself (ctx.db): VACUUM refuses to run in a transaction.
  async run(ctx) {
    await maintainEmbedded(ctx.db)
  },
})

export const maintenanceSchedule: Schedule<Record<string, never>> = {
  name: 'db.maintain-embedded',
  cron: '*/10 * * * *',
  job: maintenanceJob,
  payload: {},
}
