import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { createTestDatabaseUrl, TEST_DATABASE_URL } from '../../../test/db'
import { createDb } from '../db/client'
import { withOrg, withSystem } from '../db/tenancy'
import { createOrg, spawnChild, waitFor } from '../events/events.fixtures'
import { query, toNumber } from '../events/events.pg'
import { defineOrgJob } from './jobs.define'
import { enqueue } from './jobs.queue'

const CHILD = join(import.meta.dir, 'jobs.child-worker.ts')
const bulkJob = defineOrgJob<{ i: number }>({ name: 'test.bulk', queue: 'bulk', async run() {} })

// Needs a real Postgres: PGlite is one process. The real-Postgres test run sets TEST_DATABASE_URL.
describe.skipIf(!TEST_DATABASE_URL)('two worker processes on one Postgres', () => {
  test('1,000 jobs are processed with none run twice, and 100 enqueues of one key run one job', async () => {
    const url = (await createTestDatabaseUrl())!
    const db = await createDb({ databaseUrl: url, max: 4 })
    const children: ReturnType<typeof spawnChild>[] = []
    try {
      await db.raw.exec(`create table test_runs (job_id uuid not null, pid integer not null, label text not null);
        grant select, insert on test_runs to ${db.appRole};`)
      const org = await createOrg(db)
      for (let i = 0; i < 2; i++)
        children.push(spawnChild(CHILD, { DATABASE_URL: url, MODE: 'bulk', ORG_ID: org }))
      const created = await Promise.all(children.map((c) => c.waitForLine('ENQUEUED', 60_000)))
      expect(created.map((l) => Number(l.split(' ')[1])).reduce((a, b) => a + b, 0)).toBe(1)

      await withOrg(db, org, async (tx) => {
        for (let i = 0; i < 1_000; i++) await enqueue(tx, bulkJob, { i })
      })
      await waitFor(
        async () => {
          const rows = await withSystem(db, (tx) =>
            query<{ n: unknown }>(tx, sql`select count(*) as n from jobs where state <> 'completed'`),
          )
          return toNumber(rows[0]!.n) === 0
        },
        90_000,
        'all jobs completed',
      )
      for (const c of children) c.proc.kill('SIGTERM')
      expect(await Promise.all(children.map((c) => c.proc.exited))).toEqual([0, 0])

      const [stats] = await withSystem(db, (tx) =>
        query<{ runs: unknown; distinct_jobs: unknown; dup_runs: unknown; pids: unknown; retried: unknown }>(
          tx,
          sql`select count(*) as runs, count(distinct job_id) as distinct_jobs,
            count(*) filter (where label = 'dup') as dup_runs, count(distinct pid) as pids,
            (select count(*) from jobs where attempts <> 1) as retried
          from test_runs`,
        ),
      )
      expect({
        runs: toNumber(stats!.runs),
        distinctJobs: toNumber(stats!.distinct_jobs),
        dupRuns: toNumber(stats!.dup_runs),
        pids: toNumber(stats!.pids),
        retried: toNumber(stats!.retried),
      }).toEqual({ runs: 1_001, distinctJobs: 1_001, dupRuns: 1, pids: 2, retried: 0 })
    } finally {
      for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL')
      await db.close()
    }
  }, 180_000)
})
