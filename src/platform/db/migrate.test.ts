import { afterAll, describe, expect, test } from 'bun:test'
import { createTestDatabaseUrl, TEST_DATABASE_URL } from '../../../test/db'
import { createDb, type Db } from './client'
import { migrate, pendingMigrations } from './migrate'

const opened: Db[] = []
afterAll(async () => {
  for (const db of opened) await db.close()
})

async function emptyDb(): Promise<Db> {
  if (!TEST_DATABASE_URL) {
    const db = await createDb({ dataDir: 'memory://' })
    opened.push(db)
    return db
  }
  // A fresh database, then drop what the template migrated so we start from nothing.
  const url = (await createTestDatabaseUrl())!
  const db = await createDb({ databaseUrl: url, max: 4 })
  await db.raw.exec('drop schema public cascade; create schema public; grant all on schema public to public')
  opened.push(db)
  return db
}

describe('migrations', () => {
  test('apply once, then report nothing pending and apply nothing again', async () => {
    const db = await emptyDb()
    expect((await pendingMigrations(db)).length).toBeGreaterThan(0)
    const first = await migrate(db)
    expect(first.applied.length).toBe(first.total)
    expect(await pendingMigrations(db)).toEqual([])
    expect((await migrate(db)).applied).toEqual([])
  })

  test('a failing migration rolls back entirely and is not recorded', async () => {
    const db = await emptyDb()
    const broken = [{ id: '9999_broken', sql: 'create table half_done (id int); select 1/0;' }]
    await expect(migrate(db, broken)).rejects.toThrow()
    const tables = await db.raw.query("select 1 from pg_tables where tablename = 'half_done'")
    expect(tables.length).toBe(0)
    expect(await pendingMigrations(db, broken)).toEqual(['9999_broken'])
  })

  test.skipIf(!TEST_DATABASE_URL)(
    'two instances migrating at once on Postgres apply each migration exactly once',
    async () => {
      const db = await emptyDb()
      const url = (await db.raw.query<{ db: string }>('select current_database() as db'))[0]!.db
      const u = new URL(TEST_DATABASE_URL!)
      u.pathname = `/${url}`
      const other = await createDb({ databaseUrl: u.toString(), max: 2 })
      opened.push(other)
      const [r1, r2] = await Promise.all([migrate(db), migrate(other)])
      expect([...r1.applied, ...r2.applied].sort()).toEqual(
        (await db.raw.query<{ id: string }>('select id from loved_migrations order by id')).map((r) => r.id),
      )
      expect(r1.applied.length + r2.applied.length).toBe(r1.total)
    },
  )
})
