/**
 * Enqueueing and the admin operations on jobs. Enqueue inside the transaction that makes the job
 * necessary: the job exists if and only if the change committed. The insert also NOTIFYs
 * `loved_jobs` with the queue name, delivered on commit, which wakes the workers of every instance.
 */
import { type SQL, sql } from 'drizzle-orm'
import type { DrizzleTx } from '../db/client'
import type { OrgTx, SystemTx } from '../db/tenancy'
import { JOBS_CHANNEL, query, toDate, toDateOrNull, toNumber } from '../events/events.pg'
import type { JobDefaults, OrgJob, SystemJob } from './jobs.define'
import type { JobState } from './jobs.table'

export interface EnqueueOptions {
  /** Not before this time. Default: now. */
  runAt?: Date
  /** Not before now + delayMs (ignored when runAt is given). */
  delayMs?: number
  priority?: number
  maxAttempts?: number
  queue?: string
  /** Enqueueing the same key again (same organization) returns the existing job instead. */
  idempotencyKey?: string
}

export interface Enqueued {
  id: string
  /** false when the idempotency key matched an existing job. */
  created: boolean
}

const CURRENT_ORG = sql`nullif(current_setting('app.org_id', true), '')::uuid`

/** An organization job, from that organization's transaction. */
export function enqueue<P>(
  tx: OrgTx,
  job: OrgJob<P>,
  payload: P,
  opts: EnqueueOptions = {},
): Promise<Enqueued> {
  return insertJob(tx, CURRENT_ORG, job, payload, opts)
}

/** An organization job from a system transaction (e.g. a cron fanning out to every organization). */
export function enqueueForOrg<P>(
  tx: SystemTx,
  orgId: string,
  job: OrgJob<P>,
  payload: P,
  opts: EnqueueOptions = {},
): Promise<Enqueued> {
  return insertJob(tx, sql`${orgId}::uuid`, job, payload, opts)
}

/** A system job (no organization). */
export function enqueueSystem<P>(
  tx: SystemTx,
  job: SystemJob<P>,
  payload: P,
  opts: EnqueueOptions = {},
): Promise<Enqueued> {
  return insertJob(tx, sql`null::uuid`, job, payload, opts)
}

async function insertJob(
  tx: DrizzleTx,
  org: SQL,
  job: { name: string } & JobDefaults,
  payload: unknown,
  opts: EnqueueOptions,
): Promise<Enqueued> {
  const id = Bun.randomUUIDv7()
  const queue = opts.queue ?? job.queue ?? 'default'
  const runAt = opts.runAt
    ? sql`${opts.runAt.toISOString()}::timestamptz`
    : opts.delayMs
      ? sql`now() + ${opts.delayMs} * interval '1 millisecond'`
      : sql`now()`
  const key = opts.idempotencyKey ?? null
  const rows = await query<{ id: string; n: unknown }>(
    tx,
    sql`with ins as (
      insert into jobs (id, organization_id, queue, name, payload, priority, run_at, max_attempts, idempotency_key)
      values (${id}::uuid, ${org}, ${queue}, ${job.name}, ${JSON.stringify(payload ?? {})}::jsonb,
        ${opts.priority ?? job.priority ?? 0}, ${runAt}, ${opts.maxAttempts ?? job.maxAttempts ?? 5}, ${key})
      on conflict (organization_id, idempotency_key) where idempotency_key is not null do nothing
      returning id, queue, run_at
    )
    select ins.id::text as id, (select pg_notify(${JOBS_CHANNEL}, ins.queue) where ins.run_at <= now()) as n
    from ins`,
  )
  if (rows[0]) return { id: rows[0].id, created: true }
  const existing = await query<{ id: string }>(
    tx,
    sql`select id::text as id from jobs
      where organization_id is not distinct from ${org} and idempotency_key = ${key}`,
  )
  if (!existing[0]) throw new Error(`enqueue: job with idempotency key "${key}" neither inserted nor found`)
  return { id: existing[0].id, created: false }
}

// Admin ------------------------------------------------------------------------------------------

export interface JobView {
  id: string
  organizationId: string | null
  queue: string
  name: string
  payload: unknown
  state: JobState
  priority: number
  runAt: Date
  attempts: number
  maxAttempts: number
  idempotencyKey: string | null
  lastError: string | null
  createdAt: Date
  updatedAt: Date
  startedAt: Date | null
  finishedAt: Date | null
}

export interface ListJobsFilter {
  states?: JobState[]
  limit?: number
  offset?: number
}

type JobRow = Record<string, unknown>

export function toJobView(r: JobRow): JobView {
  return {
    id: String(r.id),
    organizationId: (r.organization_id as string | null) ?? null,
    queue: String(r.queue),
    name: String(r.name),
    payload: r.payload,
    state: r.state as JobState,
    priority: toNumber(r.priority),
    runAt: toDate(r.run_at),
    attempts: toNumber(r.attempts),
    maxAttempts: toNumber(r.max_attempts),
    idempotencyKey: (r.idempotency_key as string | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
    startedAt: toDateOrNull(r.started_at),
    finishedAt: toDateOrNull(r.finished_at),
  }
}

const JOB_COLUMNS = sql`id::text as id, organization_id::text as organization_id, queue, name, payload, state,
  priority, run_at, attempts, max_attempts, idempotency_key, last_error, created_at, updated_at, started_at,
  finished_at`

function scopeOf(scope: 'org' | 'system'): SQL {
  return scope === 'org' ? sql`organization_id = ${CURRENT_ORG}` : sql`organization_id is null`
}

async function list(tx: DrizzleTx, scope: 'org' | 'system', f: ListJobsFilter): Promise<JobView[]> {
  const states = f.states?.length
    ? sql`and state in (${sql.join(
        f.states.map((s) => sql`${s}`),
        sql`, `,
      )})`
    : sql``
  const rows = await query<JobRow>(
    tx,
    sql`select ${JOB_COLUMNS} from jobs where ${scopeOf(scope)} ${states}
      order by created_at desc, id desc limit ${Math.min(f.limit ?? 50, 500)} offset ${f.offset ?? 0}`,
  )
  return rows.map(toJobView)
}

async function counts(tx: DrizzleTx, scope: 'org' | 'system'): Promise<Record<JobState, number>> {
  const rows = await query<{ state: JobState; n: unknown }>(
    tx,
    sql`select state, count(*) as n from jobs where ${scopeOf(scope)} group by state`,
  )
  const out: Record<JobState, number> = {
    queued: 0,
    running: 0,
    failed: 0,
    completed: 0,
    dead: 0,
    cancelled: 0,
  }
  for (const r of rows) out[r.state] = toNumber(r.n)
  return out
}

/** Failed, dead or cancelled job -> queued now, with a fresh attempt budget. */
async function retry(tx: DrizzleTx, scope: 'org' | 'system', id: string): Promise<boolean> {
  const rows = await query<{ id: string; n: unknown }>(
    tx,
    sql`with u as (
      update jobs set state = 'queued', run_at = now(), attempts = 0, last_error = null, finished_at = null,
        updated_at = now()
      where id = ${id}::uuid and ${scopeOf(scope)} and state in ('failed', 'dead', 'cancelled')
      returning id, queue
    ) select u.id::text as id, pg_notify(${JOBS_CHANNEL}, u.queue) as n from u`,
  )
  return rows.length > 0
}

/** Queued, failed or dead job -> cancelled (kept for the record, never run). */
async function discard(tx: DrizzleTx, scope: 'org' | 'system', id: string): Promise<boolean> {
  const rows = await query<{ id: string }>(
    tx,
    sql`update jobs set state = 'cancelled', finished_at = now(), updated_at = now()
      where id = ${id}::uuid and ${scopeOf(scope)} and state in ('queued', 'failed', 'dead')
      returning id::text as id`,
  )
  return rows.length > 0
}

export const listJobs = (tx: OrgTx, f: ListJobsFilter = {}) => list(tx, 'org', f)
export const countJobs = (tx: OrgTx) => counts(tx, 'org')
export const retryJob = (tx: OrgTx, id: string) => retry(tx, 'org', id)
export const discardJob = (tx: OrgTx, id: string) => discard(tx, 'org', id)

/** Instance admins: the system jobs (no organization). */
export const listSystemJobs = (tx: SystemTx, f: ListJobsFilter = {}) => list(tx, 'system', f)
export const countSystemJobs = (tx: SystemTx) => counts(tx, 'system')
export const retrySystemJob = (tx: SystemTx, id: string) => retry(tx, 'system', id)
export const discardSystemJob = (tx: SystemTx, id: string) => discard(tx, 'system', id)

export async function getJob(tx: OrgTx | SystemTx, id: string): Promise<JobView | null> {
  const rows = await query<JobRow>(tx, sql`select ${JOB_COLUMNS} from jobs where id = ${id}::uuid`)
  return rows[0] ? toJobView(rows[0]) : null
}
