import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core'
import { migrations } from '../../../migrations/index'
import { createTestDb } from '../../../test/db'
import type { Db } from './client'
import * as schema from './schema'

let db: Db
beforeAll(async () => {
  db = await createTestDb()
})
afterAll(() => db.close())

const q = <T>(text: string, params: unknown[] = []) => db.raw.query<T>(text, params)

describe('schema rules', () => {
  test('every table with organization_id has RLS enabled and forced, a policy, and an index leading with organization_id', async () => {
    const tables = await q<{
      table: string
      enabled: boolean
      forced: boolean
      policies: number
      leading_index: boolean
    }>(`
      select c.relname as table, c.relrowsecurity as enabled, c.relforcerowsecurity as forced,
        (select count(*)::int from pg_policies p where p.schemaname = 'public' and p.tablename = c.relname) as policies,
        exists (
          select 1 from pg_index i
          where i.indrelid = c.oid and i.indkey[0] = a.attnum
        ) as leading_index
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
      join pg_attribute a on a.attrelid = c.oid and a.attname = 'organization_id' and not a.attisdropped
      where c.relkind in ('r', 'p')
      order by 1`)
    expect(tables.length).toBeGreaterThanOrEqual(3)
    const bad = tables.filter((t) => !t.enabled || !t.forced || t.policies < 1 || !t.leading_index)
    expect(bad).toEqual([])
  })

  test('every table the app role can read has forced RLS with a policy', async () => {
    const readable = await q<{ table: string; enabled: boolean; forced: boolean; policies: number }>(
      `select c.relname as table, c.relrowsecurity as enabled, c.relforcerowsecurity as forced,
        (select count(*)::int from pg_policies p where p.schemaname = 'public' and p.tablename = c.relname) as policies
      from pg_class c join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
      where c.relkind in ('r', 'p', 'v', 'm')
        and (has_table_privilege($1, c.oid, 'select') or has_any_column_privilege($1, c.oid, 'select'))
      order by 1`,
      [db.appRole],
    )
    expect(readable.map((t) => t.table)).toContain('organization_members')
    expect(readable.filter((t) => !t.enabled || !t.forced || t.policies < 1)).toEqual([])
  })

  test('the app role cannot read credentials: sessions, password hashes, reset tokens', async () => {
    const [r] = await q<Record<string, boolean>>(
      `select has_table_privilege($1, 'sessions', 'select') as sessions,
              has_column_privilege($1, 'users', 'password_hash', 'select') as password_hash,
              has_table_privilege($1, 'password_resets', 'select') as resets,
              has_table_privilege($1, 'audit_log', 'update') as audit_update,
              has_table_privilege($1, 'audit_log', 'delete') as audit_delete`,
      [db.appRole],
    )
    expect(r).toEqual({
      sessions: false,
      password_hash: false,
      resets: false,
      audit_update: false,
      audit_delete: false,
    })
  })

  test('the app role is neither superuser nor BYPASSRLS', async () => {
    const [r] = await q<{ rolsuper: boolean; rolbypassrls: boolean }>(
      'select rolsuper, rolbypassrls from pg_roles where rolname = $1',
      [db.appRole],
    )
    expect(r).toEqual({ rolsuper: false, rolbypassrls: false })
  })

  test('every timestamp is timestamptz', async () => {
    const naive = await q<{ table_name: string; column_name: string }>(
      `select table_name, column_name from information_schema.columns
       where table_schema = 'public' and data_type = 'timestamp without time zone'`,
    )
    expect(naive).toEqual([])
  })

  test('every Drizzle table and column exists in the migrated database with the same nullability', async () => {
    const cols = await q<{ table_name: string; column_name: string; is_nullable: string }>(
      `select table_name, column_name, is_nullable from information_schema.columns where table_schema = 'public'`,
    )
    const have = new Map(cols.map((c) => [`${c.table_name}.${c.column_name}`, c.is_nullable === 'YES']))
    const problems: string[] = []
    const checked: string[] = []
    for (const value of Object.values(schema)) {
      if (!value || typeof value !== 'object' || !(Symbol.for('drizzle:IsDrizzleTable') in value)) continue
      const cfg = getTableConfig(value as PgTable)
      checked.push(cfg.name)
      for (const col of cfg.columns) {
        const key = `${cfg.name}.${col.name}`
        if (!have.has(key)) problems.push(`missing ${key}`)
        else if (have.get(key) !== !col.notNull) problems.push(`nullability differs for ${key}`)
      }
    }
    expect(checked).toEqual(
      expect.arrayContaining([
        'users',
        'organizations',
        'organization_members',
        'invitations',
        'audit_log',
        'sessions',
      ]),
    )
    expect(problems).toEqual([])
  })
})

describe('migrations', () => {
  test('every .sql file in migrations/ is listed, in order, in migrations/index.ts', () => {
    const files = readdirSync(join(import.meta.dir, '../../../migrations'))
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((f) => f.replace(/\.sql$/, ''))
    expect(migrations.map((m) => m.id)).toEqual(files)
  })
})
