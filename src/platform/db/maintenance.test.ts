import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { systemClock } from '../jobs/jobs.clock'
import type { JobInfo } from '../jobs/jobs.define'
import { maintainEmbedded, maintenanceJob, stepsFor } from './maintenance'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

const AUDIT = '"public"."audit_log"'
const onPglite = !process.env.TEST_DATABASE_URL

/** `n` audit rows of a new organization, written as the connection's own role. */
async function fillAudit(n: number, action: string) {
  const a = await signUpClient(t)
  await t.db.raw.query(
    `insert into audit_log (id, organization_id, action) select gen_random_uuid(), $1, $2
     from generate_series(1, $3::int)`,
    [a.orgId, action, n],
  )
}

async function auditStats() {
  const [r] = await t.db.raw.query<{ rows: number; dead: number; analyzed: boolean; vacuumed: boolean }>(
    `select c.reltuples::float8 as rows, s.n_dead_tup::float8 as dead,
       s.last_analyze is not null as analyzed, s.last_vacuum is not null as vacuumed
     from pg_stat_user_tables s join pg_class c on c.oid = s.relid where s.relname = 'audit_log'`,
  )
  return r!
}

describe('autovacuum thresholds', () => {
  test('vacuum past 50 + 20% dead rows, analyze past 50 + 10% changed rows, else nothing', () => {
    const table = (rows: number, dead: number, modified: number) => ({
      schema: 'public',
      table: 'leads',
      rows,
      dead,
      modified,
    })
    expect(stepsFor([table(1000, 251, 0)])).toEqual([{ table: '"public"."leads"', action: 'vacuum' }])
    expect(stepsFor([table(1000, 250, 151)])).toEqual([{ table: '"public"."leads"', action: 'analyze' }])
    expect(stepsFor([table(1000, 250, 150)])).toEqual([])
    // A table that was never analyzed counts its live rows, and every insert is a change.
    expect(stepsFor([table(0, 0, 40)])).toEqual([])
    expect(stepsFor([table(0, 0, 60)])).toEqual([{ table: '"public"."leads"', action: 'analyze' }])
    // Names are quoted as identifiers.
    expect(stepsFor([{ ...table(0, 100, 0), table: 'we"ird' }])[0]!.table).toBe('"public"."we""ird"')
  })
})

describe('the embedded database is vacuumed and analyzed', () => {
  test.if(onPglite)(
    'PGlite: a filled table gets statistics, its dead rows are reclaimed, then nothing is left to do',
    async () => {
      await fillAudit(600, 'test.row')
      const first = await maintainEmbedded(t.db)
      expect(first.map((s) => s.table)).toContain(AUDIT)
      const after = await auditStats()
      expect(after.rows).toBeGreaterThanOrEqual(600) // the planner now knows the table's size
      expect(after.analyzed || after.vacuumed).toBe(true)

      // Every row updated twice: more than 20% of the table is dead.
      await t.db.raw.query(`update audit_log set action = 'test.row2' where action = 'test.row'`)
      await t.db.raw.query(`update audit_log set action = 'test.row3' where action = 'test.row2'`)
      expect((await maintainEmbedded(t.db)).find((s) => s.table === AUDIT)?.action).toBe('vacuum')
      const vacuumed = await auditStats()
      expect(vacuumed.vacuumed).toBe(true)
      expect(vacuumed.dead).toBe(0)

      expect((await maintainEmbedded(t.db)).find((s) => s.table === AUDIT)).toBeUndefined()
    },
  )

  test.if(!onPglite)("Postgres: the job leaves the work to the server's own autovacuum", async () => {
    expect(await maintainEmbedded(t.db)).toEqual([])
  })

  test.if(onPglite)('PGlite: the recurring job runs it with the database it came from', async () => {
    await fillAudit(300, 'test.job')
    const before = await auditStats()
    await maintenanceJob.run({
      payload: {},
      job: { id: 'j', name: maintenanceJob.name, queue: 'maintenance' } as JobInfo,
      db: t.db,
      signal: new AbortController().signal,
      clock: systemClock,
      tx: () => {
        throw new Error('the maintenance job needs no transaction')
      },
    })
    expect((await auditStats()).rows).toBeGreaterThan(before.rows)
  })
})
