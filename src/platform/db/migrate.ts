/**
 * Forward-only migrator shared by both drivers (and the compiled binary: SQL is embedded, see
 * migrations/index.ts). Each migration runs in its own transaction under a transaction-level
 * advisory lock, and re-checks whether it was applied once it holds the lock, so two instances
 * starting together never apply one twice.
 */
import { migrations as all } from '../../../migrations/index'
import type { Db } from './client'

const LOCK_KEY = 7_446_981_733 // arbitrary, fixed: "loved migrations"

export interface MigrateResult {
  applied: string[]
  total: number
}

export async function migrate(db: Db, list = all): Promise<MigrateResult> {
  await db.raw.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [LOCK_KEY])
    await tx.exec(
      'create table if not exists loved_migrations (id text primary key, applied_at timestamptz not null default now())',
    )
  })
  const applied: string[] = []
  for (const m of list) {
    const done = await db.raw.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [LOCK_KEY])
      const seen = await tx.query('select 1 from loved_migrations where id = $1', [m.id])
      if (seen.length) return false
      await tx.exec(m.sql.replaceAll('__APP_ROLE__', db.appRole))
      await tx.query('insert into loved_migrations (id) values ($1)', [m.id])
      return true
    })
    if (done) applied.push(m.id)
  }
  return { applied, total: list.length }
}

/** For /readyz: every migration this build knows is applied. */
export async function pendingMigrations(db: Db, list = all): Promise<string[]> {
  const rows = await db.raw.query<{ id: string }>('select id from loved_migrations').catch(() => [])
  const have = new Set(rows.map((r) => r.id))
  return list.filter((m) => !have.has(m.id)).map((m) => m.id)
}
