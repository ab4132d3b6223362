/**
 * One `Db` over two drivers: PGlite (embedded, in DATA_DIR) or postgres.js (DATABASE_URL).
 * Modules never see the Drizzle handle directly: they get a transaction through
 * `withOrg` / `withSystem` (tenancy.ts), so a query outside a tenant transaction does not type-check.
 */
import { PGlite } from '@electric-sql/pglite'
import type { ExtractTablesWithRelations } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { pgliteAssets } from './pglite-assets'
import * as schema from './schema'

export type Schema = typeof schema
type Relations = ExtractTablesWithRelations<Schema>
export type Drizzle = PgDatabase<PgQueryResultHKT, Schema, Relations>
export type DrizzleTx = PgTransaction<PgQueryResultHKT, Schema, Relations>

/** Raw SQL access for the migrator and health checks: multi-statement text and parameterised queries. */
export interface RawSql {
  exec(text: string): Promise<void>
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>
}

export interface Db {
  readonly kind: 'pglite' | 'postgres'
  readonly appRole: string
  /** @internal use withOrg / withSystem */
  readonly drizzle: Drizzle
  raw: RawSql & { transaction<T>(fn: (tx: RawSql) => Promise<T>): Promise<T> }
  close(): Promise<void>
}

export interface DbOptions {
  databaseUrl?: string
  /** PGlite data directory; `memory://` for a throwaway database. */
  dataDir?: string
  /** A dumped PGlite data directory to start from (tests: a migrated template). */
  loadDataDir?: Blob
  appRole?: string
  /** postgres.js pool size */
  max?: number
}

export async function createDb(opts: DbOptions): Promise<Db> {
  const appRole = opts.appRole ?? 'loved_app'
  if (opts.databaseUrl) return createPostgresDb(opts.databaseUrl, appRole, opts.max ?? 10)
  return createPgliteDb(opts.dataDir ?? 'memory://', appRole, opts.loadDataDir)
}

async function createPgliteDb(dataDir: string, appRole: string, loadDataDir?: Blob): Promise<Db> {
  const assets = await pgliteAssets()
  const pg = new PGlite({
    dataDir,
    loadDataDir,
    ...assets,
    // 128 MB of shared buffers cost ~130 MB of RSS for nothing on a small CRM (STACK-NOTES).
    postgresqlconf: ['shared_buffers = 16MB'],
  })
  await pg.waitReady
  const drizzle = drizzlePglite({ client: pg, schema }) as unknown as Drizzle
  const wrap = (q: Pick<PGlite, 'exec' | 'query'>): RawSql => ({
    async exec(text) {
      await q.exec(text)
    },
    async query<T>(text: string, params?: unknown[]) {
      return (await q.query<T>(text, params as any[])).rows
    },
  })
  return {
    kind: 'pglite',
    appRole,
    drizzle,
    raw: { ...wrap(pg), transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))) },
    close: () => pg.close(),
  }
}

async function createPostgresDb(url: string, appRole: string, max: number): Promise<Db> {
  const client = postgres(url, { max, onnotice: () => {}, connection: { application_name: 'loved' } })
  const drizzle = drizzlePostgres({ client, schema }) as unknown as Drizzle
  const wrap = (q: postgres.Sql | postgres.TransactionSql): RawSql => ({
    async exec(text) {
      await q.unsafe(text)
    },
    async query<T>(text: string, params?: unknown[]) {
      return (await q.unsafe(text, params as any[])) as unknown as T[]
    },
  })
  return {
    kind: 'postgres',
    appRole,
    drizzle,
    raw: { ...wrap(client), transaction: (fn) => client.begin((tx) => fn(wrap(tx))) as Promise<any> },
    close: () => client.end({ timeout: 5 }),
  }
}

/** `tx.execute()` returns `{ rows }` on PGlite and an array on postgres.js. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[]
  return ((result as { rows?: T[] }).rows ?? []) as T[]
}
