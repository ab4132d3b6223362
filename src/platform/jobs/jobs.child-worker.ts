/**
 * Test fixture, not part of the app: a worker process for the crash (kill -9) and multi-process
 * tests. Env: DATABASE_URL or DATA_DIR; MODE=crash|bulk; LEASE_MS; EXIT_WHEN_DONE=1; ORG_ID.
 * Prints READY once its worker runs. SIGTERM stops it gracefully.
 */
import { sql } from 'drizzle-orm'
import { createDb } from '../db/client'
import { withOrg, withSystem } from '../db/tenancy'
import { sleep } from '../events/events.fixtures'
import { query, silentLogger, toNumber } from '../events/events.pg'
import { defineOrgJob } from './jobs.define'
import { enqueue } from './jobs.queue'
import { createWorker } from './jobs.worker'

const env = process.env
const db = await createDb(
  env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL, max: 4 } : { dataDir: env.DATA_DIR! },
)

/** Idempotent effect: the marker row and the counter change commit together, once per job. */
export const effectJob = defineOrgJob<{ label: string }>({
  name: 'test.effect',
  async run(ctx) {
    await ctx.tx(async (tx) => {
      const fresh = await query(
        tx,
        sql`insert into test_effects (job_id) values (${ctx.job.id}::uuid) on conflict do nothing returning job_id`,
      )
      if (fresh.length) await tx.execute(sql`update test_counter set n = n + 1`)
    })
    if (ctx.job.attempt === 1) {
      console.log(`EFFECT ${ctx.job.id}`)
      await new Promise(() => {}) // the parent kills this process here
    }
  },
})

/** Records every run, duplicates included: the test counts them. */
export const bulkJob = defineOrgJob<{ i: number }>({
  name: 'test.bulk',
  queue: 'bulk',
  async run(ctx) {
    await ctx.tx((tx) =>
      tx.execute(sql`insert into test_runs (job_id, pid, label) values (${ctx.job.id}::uuid, ${process.pid},
        ${ctx.payload.i < 0 ? 'dup' : 'bulk'})`),
    )
  },
})

const worker = createWorker({
  db,
  jobs: env.MODE === 'bulk' ? [bulkJob] : [effectJob],
  queues: { bulk: { concurrency: 4 } },
  leaseMs: Number(env.LEASE_MS ?? 30_000),
  sweepMs: 250,
  pollMs: 200,
  log: silentLogger,
})

process.on('SIGTERM', async () => {
  await worker.stop({ timeoutMs: 5_000 })
  await db.close()
  process.exit(0)
})

await worker.start()
console.log(`READY ${process.pid}`)

if (env.MODE === 'bulk' && env.ORG_ID) {
  // Both processes enqueue the same key 50 times each, concurrently: one job must result.
  const results = await Promise.all(
    Array.from({ length: 50 }, () =>
      withOrg(db, env.ORG_ID!, (tx) => enqueue(tx, bulkJob, { i: -1 }, { idempotencyKey: 'the-one' })),
    ),
  )
  console.log(`ENQUEUED ${results.filter((r) => r.created).length}`)
}

if (env.EXIT_WHEN_DONE) {
  for (;;) {
    const rows = await withSystem(db, (tx) =>
      query<{ n: unknown }>(tx, sql`select count(*) as n from jobs where state <> 'completed'`),
    )
    if (toNumber(rows[0]!.n) === 0) break
    await sleep(100)
  }
  console.log('COMPLETED')
  await worker.stop()
  await db.close()
  process.exit(0)
}
