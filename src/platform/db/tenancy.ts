/**
 * Tenancy: every request touches tenant data inside `withOrg`, one transaction that
 *   1. binds `app.org_id` (and `app.user_id`) with parameters, never string-built SQL, and
 *   2. switches to the non-superuser app role so row-level security applies
 * in a single statement. Superusers and BYPASSRLS roles skip RLS even when it is forced, which is
 * why the app role exists and why `assertAppRoleIsolated` refuses to serve when it is not.
 */
import { type SQL, sql } from 'drizzle-orm'
import { UUID_RE as UUID } from '../../shared/ids'
import type { Db, DrizzleTx } from './client'
import { rowsOf } from './client'

declare const orgTxBrand: unique symbol
declare const systemTxBrand: unique symbol
/** A transaction scoped to one organization under RLS. Repositories accept only this. */
export type OrgTx = DrizzleTx & { readonly [orgTxBrand]: string }
/** A transaction that runs as the connection's own role: cross-organization, rare, explicit. */
export type SystemTx = DrizzleTx & { readonly [systemTxBrand]: true }

export interface OrgScope {
  orgId: string
  userId?: string | null
}

export async function withOrg<T>(
  db: Db,
  scope: OrgScope | string,
  fn: (tx: OrgTx) => Promise<T>,
): Promise<T> {
  const { orgId, userId } = typeof scope === 'string' ? { orgId: scope, userId: null } : scope
  if (!UUID.test(orgId)) throw new Error(`withOrg: organization id is not a uuid: ${orgId}`)
  // plan_cache_mode: statements of a tenant transaction are planned for the organization at hand.
  // postgres.js prepares statements, and after five runs Postgres may switch to a generic plan made
  // without knowing the organization: with organizations of very different sizes that plan is poor
  // (the board at 1,000 organizations x 1,000 leads: p50 11.3 -> 7.6 ms with custom plans). No
  // effect on PGlite, whose statements are unnamed (always planned for their parameters).
  return db.drizzle.transaction(async (tx) => {
    await tx.execute(sql`select ${tenantBinding(sql`${orgId}`, sql`${userId ?? ''}`, db.appRole)}`)
    return fn(tx as OrgTx)
  })
}

/**
 * The select-list that binds a transaction to an organization and switches it to the app role (the
 * first statement of every tenant transaction, alone in `withOrg` or after the session lookup in
 * `openSessionInTx`). Values are bound as parameters or come from columns, never spliced as text.
 */
export function tenantBinding(orgId: SQL, userId: SQL, appRole: string): SQL {
  return sql`set_config('app.org_id', ${orgId}, true), set_config('app.user_id', ${userId}, true), set_config('role', ${appRole}, true), set_config('plan_cache_mode', 'force_custom_plan', true)`
}

export async function withSystem<T>(db: Db, fn: (tx: SystemTx) => Promise<T>): Promise<T> {
  return db.drizzle.transaction(async (tx) => fn(tx as SystemTx))
}

/**
 * One read as the connection's own role, outside any transaction: for the per-request hot path
 * (session lookup) where a single statement needs no BEGIN/COMMIT round trips.
 */
export async function readAsSystem<T>(db: Db, statement: SQL): Promise<T[]> {
  return rowsOf<T>(await db.drizzle.execute(statement))
}

/**
 * Refuse to serve when the tenant role could read across organizations: a superuser or BYPASSRLS
 * role ignores every policy, so isolation would silently be gone.
 */
export async function assertAppRoleIsolated(db: Db): Promise<void> {
  const rows = rowsOf<{ rolsuper: boolean; rolbypassrls: boolean }>(
    await db.drizzle.execute(sql`select rolsuper, rolbypassrls from pg_roles where rolname = ${db.appRole}`),
  )
  const role = rows[0]
  if (!role)
    throw new TenancyError(
      `The tenant role "${db.appRole}" does not exist: run "loved migrate" with a user allowed to create roles.`,
    )
  if (role.rolsuper || role.rolbypassrls)
    throw new TenancyError(
      `The tenant role "${db.appRole}" is ${role.rolsuper ? 'a superuser' : 'BYPASSRLS'}: row-level security would not isolate organizations. Run "ALTER ROLE ${db.appRole} NOSUPERUSER NOBYPASSRLS" and start again.`,
    )
  // The connection's own role does the rare cross-organization work (sign-up, session lookup, the job
  // worker, the event dispatcher): on forced-RLS tables it must bypass RLS, or that work silently sees
  // nothing (no jobs would ever run).
  const self = rowsOf<{ rolname: string; rolsuper: boolean; rolbypassrls: boolean }>(
    await db.drizzle.execute(
      sql`select rolname, rolsuper, rolbypassrls from pg_roles where rolname = current_user`,
    ),
  )[0]
  if (self && !self.rolsuper && !self.rolbypassrls)
    throw new TenancyError(
      `The database user "${self.rolname}" (DATABASE_URL) must be able to bypass row-level security for system work (sign-up, background jobs, events): run "ALTER ROLE ${self.rolname} BYPASSRLS". Tenant requests still run as "${db.appRole}", which must not.`,
    )
  // The role switch must actually take effect inside a tenant transaction.
  const who = await withOrg(db, '00000000-0000-0000-0000-000000000000', async (tx) =>
    rowsOf<{ current_user: string }>(await tx.execute(sql`select current_user`)),
  )
  if (who[0]?.current_user !== db.appRole)
    throw new TenancyError(`Tenant transactions run as "${who[0]?.current_user}", expected "${db.appRole}".`)
}

export class TenancyError extends Error {}
