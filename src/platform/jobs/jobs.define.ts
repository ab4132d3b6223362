/**
 * Job definitions: a name, a typed payload and a handler. The same object is used to enqueue
 * (`enqueue(tx, sendInvite, { invitationId })`, payload type-checked) and to register the handler
 * with the worker.
 *
 * Handlers are idempotent: a job runs at least once (again after a crash, or when its lease was
 * lost). Keep network I/O outside database transactions: `ctx.tx(fn)` opens a short transaction
 * (withOrg for organization jobs, withSystem for system jobs) each time it is called, so a handler
 * reads in one, calls the provider, and records the result in another.
 */
import type { Db } from '../db/client'
import type { OrgTx, SystemTx } from '../db/tenancy'
import type { BackoffOptions } from './jobs.backoff'
import type { Clock } from './jobs.clock'

export interface JobInfo {
  id: string
  name: string
  queue: string
  organizationId: string | null
  /** 1 on the first run. */
  attempt: number
  maxAttempts: number
}

interface BaseContext<P> {
  payload: P
  job: JobInfo
  /**
   * The database the job came from: for handlers that need this database's process services (a
   * provider runtime keyed by it), never for queries (use `tx`, which applies the tenancy rules).
   */
  db: Db
  /** Aborted when the worker shuts down or loses the job's lease: stop early if you can. */
  signal: AbortSignal
  clock: Clock
}

export interface OrgJobContext<P> extends BaseContext<P> {
  orgId: string
  tx<T>(fn: (tx: OrgTx) => Promise<T>): Promise<T>
}

export interface SystemJobContext<P> extends BaseContext<P> {
  tx<T>(fn: (tx: SystemTx) => Promise<T>): Promise<T>
}

export interface JobDefaults {
  /** Named queue (its own concurrency in the worker). Default 'default'. */
  queue?: string
  /** Runs before this many failures mean `dead`. Default 5. */
  maxAttempts?: number
  /** Higher runs first. Default 0. */
  priority?: number
  backoff?: BackoffOptions
}

export interface OrgJob<P> extends JobDefaults {
  readonly kind: 'org'
  readonly name: string
  run(ctx: OrgJobContext<P>): Promise<void>
}

export interface SystemJob<P> extends JobDefaults {
  readonly kind: 'system'
  readonly name: string
  run(ctx: SystemJobContext<P>): Promise<void>
}

export type AnyJob = OrgJob<any> | SystemJob<any>

/** A job of one organization: enqueued from its OrgTx, run inside withOrg. */
export function defineOrgJob<P>(def: Omit<OrgJob<P>, 'kind'>): OrgJob<P> {
  return { ...def, kind: 'org' }
}

/** A cross-organization job (maintenance, cron): run inside withSystem. */
export function defineSystemJob<P>(def: Omit<SystemJob<P>, 'kind'>): SystemJob<P> {
  return { ...def, kind: 'system' }
}

/** Throw it from a handler when retrying cannot help: the job goes straight to `dead`. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError'
}
