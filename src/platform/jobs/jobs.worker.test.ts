import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { createTestDb } from '../../../test/db'
import type { Db } from '../db/client'
import { withOrg, withSystem } from '../db/tenancy'
import { createOrg, sleep, waitFor } from '../events/events.fixtures'
import { query, silentLogger } from '../events/events.pg'
import { backoffDelay } from './jobs.backoff'
import { createFakeClock } from './jobs.clock'
import { defineOrgJob, defineSystemJob, PermanentJobError } from './jobs.define'
import { enqueue, getJob, listSystemJobs } from './jobs.queue'
import { createWorker, type Worker, type WorkerOptions } from './jobs.worker'

// Database-backed tests on 2 cores: the runner's 5 s default is too tight.
setDefaultTimeout(30_000)

let db: Db
let orgA: string
let orgB: string
const workers: Worker[] = []
// Ahead of the database's clock, so jobs enqueued "now" are due for the fake clock.
const T0 = new Date('2031-01-01T00:00:00.000Z')

function worker(opts: Omit<WorkerOptions, 'db'>) {
  const w = createWorker({ db, log: silentLogger, ...opts })
  workers.push(w)
  return w
}

beforeEach(async () => {
  db = await createTestDb()
  orgA = await createOrg(db, 'A')
  orgB = await createOrg(db, 'B')
})
afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop({ timeoutMs: 100 })
  await db.close()
})

const job = (id: string) => withSystem(db, (tx) => getJob(tx, id))

describe('backoff', () => {
  test('the delay doubles per attempt, is capped, and its jitter stays within the upper half', () => {
    const opts = { baseMs: 1_000, maxMs: 10_000 }
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, opts, () => 1))).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000, 10_000,
    ])
    expect([1, 2, 3].map((n) => backoffDelay(n, opts, () => 0))).toEqual([500, 1_000, 2_000])
    expect(backoffDelay(3, opts, () => 0.5)).toBe(3_000)
  })
})

describe('worker with a fake clock', () => {
  test('a failing job is retried with exponential backoff and jitter, then goes dead', async () => {
    const clock = createFakeClock(T0)
    let calls = 0
    const flaky = defineOrgJob<{ to: string }>({
      name: 'test.flaky',
      maxAttempts: 3,
      backoff: { baseMs: 1_000, maxMs: 60_000 },
      async run() {
        calls++
        throw new Error('provider down')
      },
    })
    const w = worker({ jobs: [flaky], clock, random: () => 0.5 })
    const { id } = await withOrg(db, orgA, (tx) => enqueue(tx, flaky, { to: 'x' }, { runAt: T0 }))

    expect(await w.runDue()).toBe(1)
    let j = await job(id)
    expect(j).toMatchObject({ state: 'failed', attempts: 1 })
    expect(j!.lastError).toContain('provider down')
    expect(j!.runAt.getTime() - T0.getTime()).toBe(750) // 1000 / 2 + 0.5 * 1000 / 2

    clock.advance(749)
    expect(await w.runDue()).toBe(0)
    clock.advance(1)
    expect(await w.runDue()).toBe(1)
    j = await job(id)
    expect(j).toMatchObject({ state: 'failed', attempts: 2 })
    expect(j!.runAt.getTime() - clock.now().getTime()).toBe(1_500) // 2000 / 2 + 0.5 * 2000 / 2

    clock.advance(1_500)
    expect(await w.runDue()).toBe(1)
    j = await job(id)
    expect(j).toMatchObject({ state: 'dead', attempts: 3 })
    expect(j!.finishedAt?.getTime()).toBe(clock.now().getTime())

    clock.advance(3_600_000)
    expect(await w.runDue()).toBe(0)
    expect(calls).toBe(3)
  })

  test('a permanent error sends the job to dead at once', async () => {
    const clock = createFakeClock(T0)
    const broken = defineOrgJob<object>({
      name: 'test.broken',
      async run() {
        throw new PermanentJobError('invalid phone number')
      },
    })
    const w = worker({ jobs: [broken], clock })
    const { id } = await withOrg(db, orgA, (tx) => enqueue(tx, broken, {}))
    await w.runDue()
    expect(await job(id)).toMatchObject({ state: 'dead', attempts: 1 })
  })

  test('a job does not run before its run_at, and higher priority runs first', async () => {
    const clock = createFakeClock(T0)
    const order: string[] = []
    const step = defineOrgJob<{ label: string }>({
      name: 'test.step',
      queue: 'serial',
      async run({ payload }) {
        order.push(payload.label)
      },
    })
    const w = worker({ jobs: [step], clock, queues: { serial: { concurrency: 1 } } })
    await withOrg(db, orgA, async (tx) => {
      await enqueue(tx, step, { label: 'later' }, { runAt: new Date(T0.getTime() + 60_000) })
      await enqueue(tx, step, { label: 'low' }, { runAt: T0, priority: 0 })
      await enqueue(tx, step, { label: 'high' }, { runAt: T0, priority: 10 })
    })
    expect(await w.runDue()).toBe(2)
    expect(order).toEqual(['high', 'low'])
    clock.advance(60_000)
    expect(await w.runDue()).toBe(1)
    expect(order).toEqual(['high', 'low', 'later'])
  })

  test('an organization job runs inside withOrg, as the app role, seeing only its organization', async () => {
    const clock = createFakeClock(T0)
    const seen: unknown[] = []
    const inspect = defineOrgJob<{ n: number }>({
      name: 'test.inspect',
      async run(ctx) {
        const rows = await ctx.tx((tx) =>
          query<{ org: string; role: string; jobs: string }>(
            tx,
            sql`select current_setting('app.org_id', true) as org, current_user as role,
              (select string_agg(organization_id::text, ',') from jobs) as jobs`,
          ),
        )
        seen.push({ ctxOrg: ctx.orgId, payload: ctx.payload, attempt: ctx.job.attempt, ...rows[0] })
      },
    })
    const w = worker({ jobs: [inspect], clock })
    await withOrg(db, orgA, (tx) => enqueue(tx, inspect, { n: 1 }))
    await withOrg(db, orgB, (tx) => enqueue(tx, sendNothing, {}))
    await w.runDue()
    expect(seen).toEqual([
      { ctxOrg: orgA, payload: { n: 1 }, attempt: 1, org: orgA, role: db.appRole, jobs: orgA },
    ])
  })

  test('a worker claims only the jobs it has handlers for', async () => {
    const clock = createFakeClock(T0)
    const w = worker({ jobs: [defineOrgJob({ name: 'test.other', async run() {} })], clock })
    const { id } = await withOrg(db, orgA, (tx) => enqueue(tx, sendNothing, {}))
    expect(await w.runDue()).toBe(0)
    expect(await job(id)).toMatchObject({ state: 'queued', attempts: 0 })
  })

  test('with the default lease, a job whose worker died runs again once 30 s have passed, and the dead worker cannot overwrite the outcome', async () => {
    const clock = createFakeClock(T0)
    let release: () => void = () => {}
    const stalled = new Promise<void>((r) => {
      release = r
    })
    const runs: number[] = []
    const task = defineOrgJob<object>({
      name: 'test.task',
      async run({ job: info }) {
        runs.push(info.attempt)
        if (info.attempt === 1) {
          await stalled
          throw new Error('the first worker wakes up late and fails')
        }
      },
    })
    // Worker A claims the job, then "dies": no heartbeat runs, its handler never returns in time.
    const a = worker({ jobs: [task], clock })
    const { id } = await withOrg(db, orgA, (tx) => enqueue(tx, task, {}))
    const aRun = a.runDue()
    await waitFor(async () => (await job(id))?.state === 'running', 5_000, 'claim')

    const b = worker({ jobs: [task], clock })
    clock.advance(29_000)
    await b.sweep()
    expect(await b.runDue()).toBe(0)
    expect((await job(id))?.state).toBe('running')

    clock.advance(2_000)
    await b.sweep()
    expect((await job(id))?.state).toBe('failed')
    expect(await b.runDue()).toBe(1)
    expect(await job(id)).toMatchObject({ state: 'completed', attempts: 2 })

    release()
    await aRun
    expect(await job(id)).toMatchObject({ state: 'completed', attempts: 2, lastError: null })
    expect(runs).toEqual([1, 2])
  })

  test('a job that keeps killing its worker ends dead after max attempts', async () => {
    const clock = createFakeClock(T0)
    const w = worker({ jobs: [sendNothing], clock })
    const { id } = await withOrg(db, orgA, (tx) => enqueue(tx, sendNothing, {}, { maxAttempts: 2 }))
    await withSystem(db, (tx) =>
      tx.execute(sql`update jobs set state = 'running', attempts = 2, locked_by = 'gone/1',
        locked_until = ${new Date(T0.getTime() - 1).toISOString()}::timestamptz where id = ${id}::uuid`),
    )
    await w.sweep()
    expect(await job(id)).toMatchObject({ state: 'dead', attempts: 2 })
    expect(await w.runDue()).toBe(0)
  })

  test('a cron schedule enqueues one job per slot across two workers, and missed slots collapse into one', async () => {
    const clock = createFakeClock(new Date('2031-01-01T00:00:01.000Z'))
    const ran: string[] = []
    const report = defineSystemJob<{ kind: string }>({
      name: 'test.report',
      async run({ payload, tx }) {
        const [r] = await tx((t) => query<{ role: string }>(t, sql`select current_user as role`))
        ran.push(
          `${payload.kind}@${clock.now().toISOString()} as ${r!.role === db.appRole ? 'app' : 'system'}`,
        )
      },
    })
    const schedules = [
      { name: 'five-minutes', cron: '*/5 * * * *', job: report, payload: { kind: 'digest' } },
    ]
    const w1 = worker({ jobs: [report], clock, schedules })
    const w2 = worker({ jobs: [report], clock, schedules })
    await Promise.all([w1.sweep(), w2.sweep()])
    expect(await w1.runDue()).toBe(0)

    clock.set(new Date('2031-01-01T00:05:00.000Z'))
    await Promise.all([w1.sweep(), w2.sweep(), w1.sweep()])
    expect((await w1.runDue()) + (await w2.runDue())).toBe(1)

    clock.set(new Date('2031-01-01T00:17:30.000Z')) // 00:10 and 00:15 were missed
    await Promise.all([w1.sweep(), w2.sweep()])
    expect((await w1.runDue()) + (await w2.runDue())).toBe(1)
    expect(ran).toEqual([
      'digest@2031-01-01T00:05:00.000Z as system',
      'digest@2031-01-01T00:17:30.000Z as system',
    ])
    const jobs = await withSystem(db, (tx) => listSystemJobs(tx))
    expect(jobs.map((j) => j.idempotencyKey).sort()).toEqual([
      'cron:five-minutes:2031-01-01T00:05:00.000Z',
      'cron:five-minutes:2031-01-01T00:10:00.000Z',
    ])
  })
})

const sendNothing = defineOrgJob<object>({ name: 'test.nothing', async run() {} })

describe('worker with real time', () => {
  test('an enqueued job starts on the commit notification, without waiting for the poll', async () => {
    const started: number[] = []
    const quick = defineOrgJob<object>({
      name: 'test.quick',
      async run() {
        started.push(Date.now())
      },
    })
    const w = worker({ jobs: [quick], pollMs: 60_000, sweepMs: 60_000 })
    await w.start()
    await sleep(50)
    const t = Date.now()
    await withOrg(db, orgA, (tx) => enqueue(tx, quick, {}))
    await waitFor(() => started.length === 1, 3_000, 'start')
    expect(started[0]! - t).toBeLessThan(1_000)
  })

  test('each named queue runs at most its concurrency at once', async () => {
    const live = { slow: 0, fast: 0 }
    const peak = { slow: 0, fast: 0 }
    const make = (queue: 'slow' | 'fast') =>
      defineOrgJob<object>({
        name: `test.${queue}`,
        queue,
        async run() {
          live[queue]++
          peak[queue] = Math.max(peak[queue], live[queue])
          await sleep(60)
          live[queue]--
        },
      })
    const slow = make('slow')
    const fast = make('fast')
    const w = worker({
      jobs: [slow, fast],
      queues: { slow: { concurrency: 3 }, fast: { concurrency: 1 } },
      pollMs: 50,
    })
    await withOrg(db, orgA, async (tx) => {
      for (let i = 0; i < 9; i++) await enqueue(tx, slow, {})
      for (let i = 0; i < 3; i++) await enqueue(tx, fast, {})
    })
    await w.start()
    await waitFor(
      async () => {
        const rows = await withSystem(db, (tx) =>
          query(tx, sql`select 1 from jobs where state <> 'completed'`),
        )
        return rows.length === 0
      },
      10_000,
      'all jobs',
    )
    expect(peak).toEqual({ slow: 3, fast: 1 })
  })

  test('graceful shutdown stops claiming, lets running jobs finish, and releases those past the timeout', async () => {
    let aborted = false
    const short = defineOrgJob<object>({
      name: 'test.short',
      async run() {
        await sleep(100)
      },
    })
    const stubborn = defineOrgJob<object>({
      name: 'test.stubborn',
      async run({ signal }) {
        signal.addEventListener('abort', () => {
          aborted = true
        })
        await sleep(5_000)
      },
    })
    const w = worker({ jobs: [short, stubborn], queues: { default: { concurrency: 2 } }, pollMs: 50 })
    const s = await withOrg(db, orgA, (tx) => enqueue(tx, short, {}))
    const l = await withOrg(db, orgA, (tx) => enqueue(tx, stubborn, {}))
    await w.start()
    await waitFor(() => w.running === 2, 5_000, 'both running')
    const waiting = await withOrg(db, orgA, (tx) => enqueue(tx, short, {}))
    const result = await w.stop({ timeoutMs: 400 })
    expect(result).toEqual({ finished: 1, released: 1 })
    expect(aborted).toBe(true)
    expect(await job(s.id)).toMatchObject({ state: 'completed' })
    expect(await job(l.id)).toMatchObject({ state: 'queued', attempts: 0 })
    expect(await job(waiting.id)).toMatchObject({ state: 'queued', attempts: 0 })
  })
})
