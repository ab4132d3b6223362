/**
 * Job queue: enqueue-to-start latency and throughput, on PGlite (a data directory on disk) and on
 * Postgres (a scratch database on BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres;
 * skipped when unreachable).
 *
 *   bun bench/jobs.bench.ts [--latency 200] [--throughput 2000]
 *
 * - latency: one job per transaction, 10 ms apart, worker idle and polling once a second, so a start
 *   within milliseconds comes from the commit notification. Measured from just before the enqueueing
 *   transaction begins to the first line of the handler (so it includes that transaction and its
 *   commit, an fsync on Postgres), and from the commit's return to the handler.
 * - throughput: N no-op org jobs committed in one transaction while the worker waits; from the commit
 *   to the last completion (claim, run inside withOrg, record the outcome), at concurrency 4 and 16.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { createDb, type Db } from '../src/platform/db/client'
import { migrate } from '../src/platform/db/migrate'
import { withOrg, withSystem } from '../src/platform/db/tenancy'
import { createOrg } from '../src/platform/events/events.fixtures'
import { query, silentLogger, toNumber } from '../src/platform/events/events.pg'
import { defineOrgJob } from '../src/platform/jobs/jobs.define'
import { enqueue } from '../src/platform/jobs/jobs.queue'
import { createWorker } from '../src/platform/jobs/jobs.worker'

const args = process.argv.slice(2)
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const LATENCY_N = Math.min(arg('latency', 200), 2_000)
const THROUGHPUT_N = Math.min(arg('throughput', 2_000), 20_000)
const PG_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'

const now = () => performance.timeOrigin + performance.now()

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

async function completedCount(db: Db): Promise<number> {
  const rows = await withSystem(db, (tx) =>
    query<{ n: unknown }>(tx, sql`select count(*) as n from jobs where state = 'completed'`),
  )
  return toNumber(rows[0]!.n)
}

async function latency(db: Db, orgId: string) {
  const started = new Map<number, number>()
  const job = defineOrgJob<{ i: number }>({
    name: 'bench.latency',
    async run({ payload }) {
      started.set(payload.i, now())
    },
  })
  const worker = createWorker({ db, jobs: [job], log: silentLogger, queues: { default: { concurrency: 4 } } })
  await worker.start()
  const sent = new Map<number, number>()
  const committed = new Map<number, number>()
  for (let i = 0; i < LATENCY_N; i++) {
    sent.set(i, now())
    await withOrg(db, orgId, (tx) => enqueue(tx, job, { i }))
    committed.set(i, now())
    await Bun.sleep(10)
  }
  const deadline = Date.now() + 30_000
  while (started.size < LATENCY_N && Date.now() < deadline) await Bun.sleep(10)
  await worker.stop()
  const lat = [...started].map(([i, t]) => t - sent.get(i)!).sort((a, b) => a - b)
  // The notification can beat the COMMIT reply to the enqueuer: clamp those at 0.
  const fromCommit = [...started].map(([i, t]) => Math.max(0, t - committed.get(i)!)).sort((a, b) => a - b)
  return {
    n: lat.length,
    p50: pct(lat, 0.5),
    p99: pct(lat, 0.99),
    max: lat[lat.length - 1]!,
    commitP50: pct(fromCommit, 0.5),
    commitP99: pct(fromCommit, 0.99),
  }
}

async function throughput(db: Db, orgId: string, concurrency: number) {
  const job = defineOrgJob<{ i: number }>({ name: `bench.noop${concurrency}`, async run() {} })
  const worker = createWorker({ db, jobs: [job], log: silentLogger, queues: { default: { concurrency } } })
  const before = await completedCount(db)
  await worker.start()
  await withOrg(db, orgId, async (tx) => {
    for (let i = 0; i < THROUGHPUT_N; i++) await enqueue(tx, job, { i })
  })
  const t0 = now()
  const deadline = Date.now() + 120_000
  while ((await completedCount(db)) - before < THROUGHPUT_N && Date.now() < deadline) await Bun.sleep(20)
  const seconds = (now() - t0) / 1000
  await worker.stop()
  const done = (await completedCount(db)) - before
  return { done, seconds, perSecond: done / seconds }
}

async function run(label: string, db: Db) {
  await migrate(db)
  const orgId = await createOrg(db, 'Bench')
  const lat = await latency(db, orgId)
  const t4 = await throughput(db, orgId, 4)
  const t16 = await throughput(db, orgId, 16)
  return { label, lat, t4, t16 }
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1))

const results: Awaited<ReturnType<typeof run>>[] = []
{
  const dir = mkdtempSync(join(tmpdir(), 'loved-bench-jobs-'))
  try {
    const db = await createDb({ dataDir: dir })
    results.push(await run('PGlite (disk)', db))
    await db.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
{
  const name = `loved_bench_jobs_${process.pid}`
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {} })
  let created = false
  try {
    await admin.unsafe(`create database ${name}`)
    created = true
    const u = new URL(PG_URL)
    u.pathname = `/${name}`
    const db = await createDb({ databaseUrl: u.toString(), max: 10 })
    results.push(await run('Postgres 15', db))
    await db.close()
  } catch (err) {
    console.log(`Postgres skipped: ${String(err).split('\n')[0]}`)
  } finally {
    if (created) await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {})
    await admin.end()
  }
}

console.log(`\nJob queue — ${LATENCY_N} latency samples, ${THROUGHPUT_N} jobs per throughput run\n`)
console.log(
  '| database | enqueue→start p50 / p99 / max | commit→start p50 / p99 | jobs/s (conc. 4) | jobs/s (conc. 16) |',
)
console.log('|---|---|---|---|---|')
for (const r of results) {
  const l = r.lat
  console.log(
    `| ${r.label} | ${fmt(l.p50)} / ${fmt(l.p99)} / ${fmt(l.max)} ms | ${fmt(l.commitP50)} / ${fmt(l.commitP99)} ms | ${fmt(r.t4.perSecond)} | ${fmt(r.t16.perSecond)} |`,
  )
  if (r.lat.n < LATENCY_N || r.t4.done < THROUGHPUT_N || r.t16.done < THROUGHPUT_N)
    console.log(`  (incomplete: ${r.lat.n} started, ${r.t4.done}/${r.t16.done} completed)`)
}
