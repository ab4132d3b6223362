/**
 * The worker: claims due jobs with `FOR UPDATE SKIP LOCKED` (so several processes on one Postgres
 * never take the same job), runs each handler outside the claiming transaction, and records the
 * outcome. Every claim takes a lease (`locked_until`), renewed by a heartbeat while the handler runs;
 * a job whose process died is found by the sweep once its lease expires and runs again (within
 * lease + sweep interval: 35 s by default). Each claim gets its own token in `locked_by`, and every
 * later write is guarded by it, so a worker that lost its lease cannot overwrite the new run.
 *
 * Failures retry with exponential backoff and jitter until `max_attempts`, then the job is `dead`.
 * Recurring jobs come from cron schedules (croner), fired once per slot across all instances.
 *
 * Shutdown: stop claiming, let running jobs finish for up to `timeoutMs`, then abort and release the
 * rest (back to `queued`, the interrupted attempt not counted).
 */
import { hostname } from 'node:os'
import { Cron } from 'croner'
import { sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { withOrg, withSystem } from '../db/tenancy'
import {
  consoleLogger,
  JOBS_CHANNEL,
  listen,
  query,
  type ServiceLogger,
  toDate,
  toNumber,
} from '../events/events.pg'
import { backoffDelay, DEFAULT_BACKOFF } from './jobs.backoff'
import { type Clock, systemClock } from './jobs.clock'
import { type AnyJob, type JobInfo, PermanentJobError, type SystemJob } from './jobs.define'
import { enqueueSystem } from './jobs.queue'

export interface QueueConfig {
  concurrency: number
}

export interface Schedule<P = unknown> {
  /** Unique and stable: the schedule's identity across restarts and instances. */
  name: string
  /** Cron pattern (5 or 6 fields, croner syntax), e.g. '*\/5 * * * *'. */
  cron: string
  /** IANA zone the pattern is read in. Default UTC. */
  timezone?: string
  job: SystemJob<P>
  payload: P
}

export interface WorkerOptions {
  db: Db
  /** The handlers this process runs; it claims only jobs with these names. */
  jobs: AnyJob[]
  queues?: Record<string, QueueConfig>
  /** Concurrency of a queue not listed in `queues`. Default 2. */
  defaultConcurrency?: number
  schedules?: Schedule<any>[]
  clock?: Clock
  random?: () => number
  instanceId?: string
  /** Lease taken at claim and renewed by heartbeats. Default 30 s. */
  leaseMs?: number
  /** Default leaseMs / 3. */
  heartbeatMs?: number
  /** Look for due jobs this often, besides NOTIFY wake-ups (scheduled and retried jobs). Default 1 s. */
  pollMs?: number
  /** Reclaim expired leases and fire cron schedules this often. Default 5 s. */
  sweepMs?: number
  /** Keep finished jobs this long (ms). Default: completed/cancelled 7 days, dead 30 days. */
  retention?: { completedMs?: number; deadMs?: number }
  log?: ServiceLogger
}

export interface StopResult {
  /** Jobs that finished during the grace period. */
  finished: number
  /** Jobs aborted and handed back to the queue. */
  released: number
}

export interface Worker {
  readonly instanceId: string
  start(): Promise<void>
  stop(opts?: { timeoutMs?: number }): Promise<StopResult>
  /** Claim and run every job due now, until none is left; returns how many ran. Without start(): tests, CLI. */
  runDue(): Promise<number>
  /** Reclaim expired leases, fire due schedules, prune old jobs. */
  sweep(): Promise<void>
  /** Jobs running in this process. */
  readonly running: number
}

interface Claimed extends JobInfo {
  payload: unknown
  token: string
}

interface QueueState {
  name: string
  concurrency: number
  names: string[]
  running: number
  pumping: Promise<void> | null
  again: boolean
}

const ERROR_MAX = 4_000

export function createWorker(opts: WorkerOptions): Worker {
  const { db } = opts
  const clock = opts.clock ?? systemClock
  const random = opts.random ?? Math.random
  const log = opts.log ?? consoleLogger
  const leaseMs = opts.leaseMs ?? 30_000
  const heartbeatMs = opts.heartbeatMs ?? Math.max(50, Math.floor(leaseMs / 3))
  const pollMs = opts.pollMs ?? 1_000
  const sweepMs = opts.sweepMs ?? 5_000
  const completedRetention = opts.retention?.completedMs ?? 7 * 86_400_000
  const deadRetention = opts.retention?.deadMs ?? 30 * 86_400_000
  const instanceId = opts.instanceId ?? `${hostname()}:${process.pid}:${Bun.randomUUIDv7().slice(-6)}`

  const defs = new Map<string, AnyJob>()
  for (const job of opts.jobs) {
    if (defs.has(job.name)) throw new Error(`worker: job "${job.name}" registered twice`)
    defs.set(job.name, job)
  }
  const queues = new Map<string, QueueState>()
  const queueOf = (name: string): QueueState => {
    let q = queues.get(name)
    if (!q) {
      q = {
        name,
        concurrency: opts.queues?.[name]?.concurrency ?? opts.defaultConcurrency ?? 2,
        names: [],
        running: 0,
        pumping: null,
        again: false,
      }
      queues.set(name, q)
    }
    return q
  }
  for (const job of opts.jobs) queueOf(job.queue ?? 'default').names.push(job.name)
  for (const name of Object.keys(opts.queues ?? {})) queueOf(name)

  const schedules = (opts.schedules ?? []).map((s) => {
    if (!defs.has(s.job.name))
      throw new Error(`worker: schedule "${s.name}" uses unregistered job "${s.job.name}"`)
    return { ...s, pattern: new Cron(s.cron, { timezone: s.timezone ?? 'UTC', paused: true }) }
  })

  const active = new Map<string, { job: Claimed; controller: AbortController; done: Promise<void> }>()
  let started = false
  let stopping = false
  let unlisten: (() => Promise<void>) | null = null
  const timers: Array<ReturnType<typeof setInterval>> = []
  let heartbeatTimer: ReturnType<typeof setInterval> | null = null
  let lastPrune = 0

  const iso = (d: Date) => d.toISOString()
  /**
   * "Due" bound for run_at: the end of the clock's current millisecond. The clock has millisecond
   * precision and Postgres microsecond, so a job made due with `run_at = now()` a few microseconds
   * ago would otherwise look a millisecond early to a claim in the same millisecond.
   */
  const dueBound = (d: Date) => new Date(d.getTime() + 1).toISOString()
  const plus = (ms: number) => new Date(clock.now().getTime() + ms)

  async function claim(q: QueueState, limit: number): Promise<Claimed[]> {
    if (limit <= 0 || !q.names.length) return []
    const now = clock.now()
    const rows = await withSystem(db, (tx) =>
      query<Record<string, unknown>>(
        tx,
        sql`with next as (
          select id from jobs
          where queue = ${q.name} and state in ('queued', 'failed') and run_at < ${dueBound(now)}::timestamptz
            and name in (${sql.join(
              q.names.map((n) => sql`${n}`),
              sql`, `,
            )})
          order by priority desc, run_at, id
          limit ${limit}
          for update skip locked
        )
        update jobs j set state = 'running', attempts = j.attempts + 1,
          locked_by = ${instanceId} || '/' || gen_random_uuid()::text,
          locked_until = ${iso(plus(leaseMs))}::timestamptz, started_at = ${iso(now)}::timestamptz,
          updated_at = ${iso(now)}::timestamptz
        from next where j.id = next.id
        returning j.id::text as id, j.organization_id::text as organization_id, j.queue, j.name, j.payload,
          j.attempts, j.max_attempts, j.locked_by, j.priority`,
      ),
    )
    rows.sort((a, b) => toNumber(b.priority) - toNumber(a.priority))
    return rows.map((r) => ({
      id: String(r.id),
      organizationId: (r.organization_id as string | null) ?? null,
      queue: String(r.queue),
      name: String(r.name),
      payload: r.payload,
      attempt: toNumber(r.attempts),
      maxAttempts: toNumber(r.max_attempts),
      token: String(r.locked_by),
    }))
  }

  async function finish(job: Claimed, err: unknown) {
    const now = clock.now()
    const def = defs.get(job.name)
    if (err === null) {
      await withSystem(db, (tx) =>
        tx.execute(sql`update jobs set state = 'completed', finished_at = ${iso(now)}::timestamptz,
          updated_at = ${iso(now)}::timestamptz, locked_by = null, locked_until = null, last_error = null
          where id = ${job.id}::uuid and locked_by = ${job.token} and state = 'running'`),
      )
      return
    }
    const message = (err instanceof Error ? (err.stack ?? err.message) : String(err)).slice(0, ERROR_MAX)
    const dead = err instanceof PermanentJobError || job.attempt >= job.maxAttempts
    const retryAt = new Date(
      now.getTime() + backoffDelay(job.attempt, def?.backoff ?? DEFAULT_BACKOFF, random),
    )
    await withSystem(db, (tx) =>
      tx.execute(sql`update jobs set state = ${dead ? 'dead' : 'failed'},
          run_at = ${iso(dead ? now : retryAt)}::timestamptz,
          finished_at = ${dead ? iso(now) : null}::timestamptz, last_error = ${message},
          updated_at = ${iso(now)}::timestamptz, locked_by = null, locked_until = null
          where id = ${job.id}::uuid and locked_by = ${job.token} and state = 'running'`),
    )
    log.warn(dead ? 'jobs: job is dead' : 'jobs: job failed, will retry', {
      id: job.id,
      name: job.name,
      attempt: job.attempt,
      error: message.split('\n')[0],
    })
  }

  async function execute(job: Claimed): Promise<void> {
    const controller = new AbortController()
    const entry = { job, controller, done: Promise.resolve() }
    active.set(job.token, entry)
    const run = async () => {
      let error: unknown = null
      try {
        const def = defs.get(job.name)
        if (!def) throw new Error(`no handler for job "${job.name}"`)
        const base = { payload: job.payload, job: stripToken(job), signal: controller.signal, clock, db }
        if (def.kind === 'org') {
          const orgId = job.organizationId
          if (!orgId) throw new PermanentJobError(`organization job "${job.name}" has no organization_id`)
          await def.run({ ...base, orgId, tx: (fn) => withOrg(db, { orgId }, fn) })
        } else {
          if (job.organizationId)
            throw new PermanentJobError(`system job "${job.name}" has an organization_id`)
          await def.run({ ...base, tx: (fn) => withSystem(db, fn) })
        }
      } catch (err) {
        error = err ?? new Error('job failed')
      }
      try {
        await finish(job, error)
      } catch (err) {
        // The lease will expire and the job run again: handlers are idempotent.
        log.error('jobs: could not record the outcome', { id: job.id, err: String(err) })
      } finally {
        active.delete(job.token)
      }
    }
    entry.done = run()
    return entry.done
  }

  function stripToken(job: Claimed): JobInfo {
    const { token: _t, payload: _p, ...info } = job
    return info
  }

  /** Keep the queue's concurrency slots filled while there is due work. */
  function pump(q: QueueState): Promise<void> {
    if (!started || stopping) return Promise.resolve()
    if (q.pumping) {
      q.again = true
      return q.pumping
    }
    const loop = async () => {
      do {
        q.again = false
        while (!stopping && q.running < q.concurrency) {
          const want = q.concurrency - q.running
          const jobs = await claim(q, want)
          for (const job of jobs) launch(q, job)
          if (jobs.length < want) break
        }
      } while (q.again && !stopping)
    }
    // `.finally` always runs later than this assignment, even when the loop never awaits.
    const p: Promise<void> = loop()
      .catch((err) => log.error('jobs: claim failed', { queue: q.name, err: String(err) }))
      .finally(() => {
        if (q.pumping === p) q.pumping = null
      })
    q.pumping = p
    return q.pumping
  }

  function launch(q: QueueState, job: Claimed) {
    q.running++
    void execute(job).finally(() => {
      q.running--
      void pump(q)
    })
  }

  async function heartbeat() {
    if (!active.size) return
    const tokens = [...active.keys()]
    const rows = await withSystem(db, (tx) =>
      query<{ locked_by: string }>(
        tx,
        sql`update jobs set locked_until = ${iso(plus(leaseMs))}::timestamptz
          where state = 'running' and locked_by in (${sql.join(
            tokens.map((t) => sql`${t}`),
            sql`, `,
          )})
          returning locked_by`,
      ),
    )
    const kept = new Set(rows.map((r) => r.locked_by))
    for (const t of tokens) {
      const entry = active.get(t)
      if (entry && !kept.has(t)) {
        log.warn('jobs: lease lost, aborting the handler', { id: entry.job.id, name: entry.job.name })
        entry.controller.abort(new Error('lease lost'))
      }
    }
  }

  async function reclaimExpired(): Promise<string[]> {
    const now = iso(clock.now())
    const rows = await withSystem(db, (tx) =>
      query<{ queue: string }>(
        tx,
        sql`update jobs set
            state = case when attempts >= max_attempts then 'dead' else 'failed' end,
            finished_at = case when attempts >= max_attempts then ${now}::timestamptz end,
            run_at = ${now}::timestamptz, locked_by = null, locked_until = null, updated_at = ${now}::timestamptz,
            last_error = 'lease expired: the worker running it stopped (crash, kill or stall)'
          where state = 'running' and locked_until < ${now}::timestamptz
          returning queue`,
      ),
    )
    if (rows.length) log.warn('jobs: reclaimed jobs with expired leases', { count: rows.length })
    return [...new Set(rows.map((r) => r.queue))]
  }

  async function registerSchedules() {
    if (!schedules.length) return
    await withSystem(db, async (tx) => {
      for (const s of schedules) {
        const next = s.pattern.nextRun(clock.now())
        if (!next) throw new Error(`worker: schedule "${s.name}" (${s.cron}) never runs`)
        await tx.execute(sql`insert into job_schedules (name, cron, timezone, job_name, queue, payload, next_run_at)
          values (${s.name}, ${s.cron}, ${s.timezone ?? null}, ${s.job.name}, ${s.job.queue ?? 'default'},
            ${JSON.stringify(s.payload ?? {})}::jsonb, ${iso(next)}::timestamptz)
          on conflict (name) do update set
            next_run_at = case when job_schedules.cron <> excluded.cron
                or job_schedules.timezone is distinct from excluded.timezone
              then excluded.next_run_at else job_schedules.next_run_at end,
            cron = excluded.cron, timezone = excluded.timezone, job_name = excluded.job_name,
            queue = excluded.queue, payload = excluded.payload, updated_at = now()`)
      }
    })
  }

  /** Enqueue one job per due schedule slot; missed slots (process down) collapse into one run. */
  async function fireSchedules(): Promise<boolean> {
    if (!schedules.length) return false
    const now = clock.now()
    return withSystem(db, async (tx) => {
      const due = await query<{ name: string; next_run_at: unknown }>(
        tx,
        sql`select name, next_run_at from job_schedules
          where next_run_at <= ${iso(now)}::timestamptz and name in (${sql.join(
            schedules.map((s) => sql`${s.name}`),
            sql`, `,
          )})
          for update skip locked`,
      )
      for (const row of due) {
        const s = schedules.find((x) => x.name === row.name)!
        const slot = toDate(row.next_run_at)
        await enqueueSystem(tx, s.job, s.payload, {
          runAt: slot,
          idempotencyKey: `cron:${s.name}:${slot.toISOString()}`,
        })
        const next = s.pattern.nextRun(now)
        await tx.execute(sql`update job_schedules set last_run_at = next_run_at,
            next_run_at = ${next ? iso(next) : 'infinity'}::timestamptz, updated_at = now()
          where name = ${s.name}`)
      }
      return due.length > 0
    })
  }

  async function prune() {
    const now = clock.now().getTime()
    if (now - lastPrune < 3_600_000) return
    lastPrune = now
    await withSystem(db, (tx) =>
      tx.execute(sql`delete from jobs where
        (state in ('completed', 'cancelled') and finished_at < ${iso(new Date(now - completedRetention))}::timestamptz)
        or (state = 'dead' and finished_at < ${iso(new Date(now - deadRetention))}::timestamptz)`),
    )
  }

  let schedulesRegistered: Promise<void> | null = null

  async function sweep() {
    schedulesRegistered ??= registerSchedules().catch((err) => {
      schedulesRegistered = null
      throw err
    })
    await schedulesRegistered
    const woken = await reclaimExpired()
    const fired = await fireSchedules()
    await prune()
    if (started) {
      if (fired) for (const q of queues.values()) void pump(q)
      else for (const name of woken) if (queues.has(name)) void pump(queues.get(name)!)
    }
  }

  /** One cheap query for all queues: which have due work (scheduled jobs, retries, missed wake-ups)? */
  let polling = false
  async function pollDue() {
    if (polling || !started || stopping) return
    const idle = [...queues.values()].filter((q) => !q.pumping && q.running < q.concurrency && q.names.length)
    if (!idle.length) return
    polling = true
    try {
      const rows = await withSystem(db, (tx) =>
        query<{ queue: string }>(
          tx,
          sql`select distinct queue from jobs
            where state in ('queued', 'failed') and run_at < ${dueBound(clock.now())}::timestamptz
              and queue in (${sql.join(
                idle.map((q) => sql`${q.name}`),
                sql`, `,
              )})`,
        ),
      )
      for (const r of rows) {
        const q = queues.get(r.queue)
        if (q) void pump(q)
      }
    } finally {
      polling = false
    }
  }

  function safely(label: string, fn: () => Promise<unknown>) {
    return () => {
      fn().catch((err) => log.error(`jobs: ${label} failed`, { err: String(err) }))
    }
  }

  return {
    instanceId,
    get running() {
      return active.size
    },
    async start() {
      if (started) return
      unlisten = await listen(
        db,
        JOBS_CHANNEL,
        (queue) => {
          const q = queues.get(queue)
          if (q) void pump(q)
        },
        () => {
          for (const q of queues.values()) void pump(q)
        },
      )
      started = true
      await sweep()
      for (const q of queues.values()) void pump(q)
      const poll = setInterval(safely('poll', pollDue), pollMs)
      const sweeper = setInterval(safely('sweep', sweep), sweepMs)
      heartbeatTimer = setInterval(safely('heartbeat', heartbeat), heartbeatMs)
      timers.push(poll, sweeper)
    },
    async stop({ timeoutMs = 10_000 } = {}) {
      if (stopping) return { finished: 0, released: 0 }
      stopping = true
      for (const t of timers) clearInterval(t)
      await unlisten?.()
      await Promise.allSettled([...queues.values()].map((q) => q.pumping))
      const running = [...active.values()]
      let timeout: ReturnType<typeof setTimeout> | undefined
      await Promise.race([
        Promise.allSettled(running.map((e) => e.done)),
        new Promise<void>((resolve) => {
          timeout = setTimeout(resolve, timeoutMs)
        }),
      ])
      clearTimeout(timeout)
      const left = [...active.values()]
      let released = 0
      if (left.length) {
        for (const e of left) e.controller.abort(new Error('worker shutting down'))
        const now = iso(clock.now())
        const rows = await withSystem(db, (tx) =>
          query<{ id: string }>(
            tx,
            sql`update jobs set state = 'queued', attempts = greatest(attempts - 1, 0), run_at = ${now}::timestamptz,
                locked_by = null, locked_until = null, updated_at = ${now}::timestamptz
              where state = 'running' and locked_by in (${sql.join(
                left.map((e) => sql`${e.job.token}`),
                sql`, `,
              )})
              returning id::text as id`,
          ),
        )
        released = rows.length
        log.info('jobs: released unfinished jobs at shutdown', { released })
      }
      if (heartbeatTimer) clearInterval(heartbeatTimer)
      started = false
      return { finished: running.length - left.length, released }
    },
    async runDue() {
      let total = 0
      for (;;) {
        const batch: Promise<void>[] = []
        for (const q of queues.values()) {
          for (const job of await claim(q, q.concurrency)) batch.push(execute(job))
        }
        if (!batch.length) return total
        await Promise.all(batch)
        total += batch.length
      }
    },
    sweep,
  }
}
