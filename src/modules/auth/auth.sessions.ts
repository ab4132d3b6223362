/**
 * Sessions after the Lucia design (https://lucia-auth.com/sessions/basic): a random token goes to
 * the cookie, only its SHA-256 is stored. Sliding expiry (extended when less than half is left, so a
 * busy user costs one write per half-window, not per request) under an absolute cap.
 */
import { and, eq, lt, ne, or, sql } from 'drizzle-orm'
import { generateToken, hashToken } from '../../platform/crypto/tokens'
import { type Db, type DrizzleTx, rowsOf } from '../../platform/db/client'
import { readAsSystem, type SystemTx, tenantBinding, withSystem } from '../../platform/db/tenancy'
import { latestVersionFor } from '../../platform/events/events.outbox'
import { unreadCountFor } from '../notifications/notifications.usecases'
import { organizationMembers, organizations, type Role } from '../orgs/orgs.table'
import { sessions } from './auth.table'

const DAY = 24 * 60 * 60 * 1000
export const SESSION_POLICY = {
  /** "Remember me": 30 days sliding, 90 days at most. */
  remember: { idle: 30 * DAY, absolute: 90 * DAY },
  /** Otherwise a browser-session cookie, and the server forgets it after 12 idle hours. */
  browser: { idle: DAY / 2, absolute: 7 * DAY },
}

export interface SessionUser {
  id: string
  email: string
  name: string
  locale: string | null
  isInstanceAdmin: boolean
}

export interface Membership {
  orgId: string
  name: string
  displayName: string | null
  slug: string
  role: Role
  locale: string
  timezone: string
  logoUrl: string | null
  primaryColor: string | null
}

export interface AuthState {
  sessionId: string
  remember: boolean
  expiresAt: Date
  user: SessionUser
  memberships: Membership[]
  /** The active organization: always one the user is a member of, or null when they have none. */
  org: Membership | null
  /** The session's expiry moved: the cookie must be re-sent. */
  refreshed: boolean
  /** Unread notifications in the active organization (top bar badge). */
  unread: number
  /** The active organization's last event version: pages render it so the live socket resumes there. */
  rtVersion: number
}

export async function createSession(
  db: Db,
  input: {
    userId: string
    orgId: string | null
    remember: boolean
    ip?: string | null
    userAgent?: string | null
  },
  now = new Date(),
): Promise<{ token: string; expiresAt: Date }> {
  const token = generateToken()
  const policy = input.remember ? SESSION_POLICY.remember : SESSION_POLICY.browser
  const expiresAt = new Date(now.getTime() + policy.idle)
  await withSystem(db, async (tx) => {
    await tx.insert(sessions).values({
      id: hashToken(token),
      userId: input.userId,
      activeOrgId: input.orgId,
      remember: input.remember,
      createdAt: now,
      expiresAt,
      absoluteExpiresAt: new Date(now.getTime() + policy.absolute),
      ip: input.ip ?? null,
      userAgent: input.userAgent?.slice(0, 300) ?? null,
    })
  })
  return { token, expiresAt }
}

interface SessionRow {
  active_org_id: string | null
  remember: boolean
  expires_at: string | Date
  absolute_expires_at: string | Date
  user_id: string
  email: string
  name: string
  locale: string | null
  is_instance_admin: boolean
  memberships: Membership[] | string
  unread: number | string
  rt_version: number | string | null
}

/** What a session row says on its own, before any write. */
type SessionReading =
  | { kind: 'gone' }
  | { kind: 'expired' }
  | {
      kind: 'valid'
      auth: AuthState
      /** The active organization was replaced (the user left it): the row must say so. */
      activeChanged: boolean
    }

/** The pure part of a lookup: expiry, sliding refresh and the active organization, decided from the row. */
function readSession(id: string, row: SessionRow | undefined, now: Date): SessionReading {
  if (!row?.user_id) return { kind: 'gone' }
  const expiresAtNow = new Date(row.expires_at)
  const absolute = new Date(row.absolute_expires_at)
  if (now >= expiresAtNow || now >= absolute) return { kind: 'expired' }
  const policy = row.remember ? SESSION_POLICY.remember : SESSION_POLICY.browser
  let expiresAt = expiresAtNow
  let refreshed = false
  if (expiresAtNow.getTime() - now.getTime() < policy.idle / 2) {
    expiresAt = new Date(Math.min(now.getTime() + policy.idle, absolute.getTime()))
    refreshed = true
  }
  const memberships: Membership[] =
    typeof row.memberships === 'string' ? JSON.parse(row.memberships) : row.memberships
  // Active org gone (removed, left, org deleted): fall back to another membership.
  const org = memberships.find((m) => m.orgId === row.active_org_id) ?? memberships[0] ?? null
  const activeChanged = (org?.orgId ?? null) !== row.active_org_id
  return {
    kind: 'valid',
    activeChanged,
    auth: {
      sessionId: id,
      remember: row.remember,
      expiresAt,
      user: {
        id: row.user_id,
        email: row.email,
        name: row.name,
        locale: row.locale,
        isInstanceAdmin: row.is_instance_admin,
      },
      memberships,
      org,
      refreshed,
      unread: Number(row.unread ?? 0),
      rtVersion: Number(row.rt_version ?? 0),
    },
  }
}

const TOKEN_RE = /^[a-z2-7]{32}$/

/**
 * Every request's session lookup. One statement, outside a transaction, brings the session, its
 * user, their memberships, and the active organization's unread notifications and event version
 * (STACK-NOTES: each PGlite statement costs about a millisecond, and this runs on every page). The
 * statement lives in `loved_session_lookup` (migrations/0016_session_lookup.sql) so its plan is
 * kept per connection instead of being made again on every request.
 * Writes (expiry slide, a vanished active organization) happen only when needed.
 * The hot tenant routes skip this separate statement: see `openSessionInTx`.
 */
export async function validateSession(db: Db, token: string, now = new Date()): Promise<AuthState | null> {
  if (!TOKEN_RE.test(token)) return null
  const id = hashToken(token)
  const [row] = await readAsSystem<SessionRow>(db, sql`select * from loved_session_lookup(${id})`)
  const reading = readSession(id, row, now)
  if (reading.kind === 'gone') return null
  if (reading.kind === 'expired') {
    await withSystem(db, (tx) => tx.delete(sessions).where(eq(sessions.id, id)))
    return null
  }
  const { auth } = reading
  // The row is updated when its expiry slid or its active organization was replaced.
  if (auth.refreshed || reading.activeChanged) {
    await withSystem(db, async (tx) => {
      await tx
        .update(sessions)
        .set({ expiresAt: auth.expiresAt, activeOrgId: auth.org?.orgId ?? null })
        .where(eq(sessions.id, id))
      if (reading.activeChanged) {
        auth.unread = auth.org ? await unreadCountFor(tx, auth.org.orgId, auth.user.id) : 0
        auth.rtVersion = auth.org ? await latestVersionFor(tx, auth.org.orgId) : 0
      }
    })
  }
  return auth
}

/**
 * The session lookup as the first statement of a tenant transaction: the same lookup, and in the
 * same statement the transaction is bound to the session's active organization and switched to the
 * app role (`tenantBinding`), so a tenant request costs one statement less (a board request is
 * 2 statements, a move 2).
 * The binding is computed from the row, after the lookup (it runs as the connection's own role,
 * which can read sessions). The role switch does not depend on the row: with no session the
 * transaction is still the app role's, bound to no organization, so it can read no tenant row.
 * Returns the session only when it can be used as it is: valid, not due for its expiry slide, and
 * with an active organization the user still belongs to. Any other case returns null, and the caller
 * must roll back and take the ordinary path (`validateSession`, which does the writes).
 */
export async function openSessionInTx(
  tx: DrizzleTx,
  appRole: string,
  token: string,
  now = new Date(),
): Promise<(AuthState & { org: Membership }) | null> {
  if (!TOKEN_RE.test(token)) return null
  const id = hashToken(token)
  const [row] = rowsOf<SessionRow>(
    await tx.execute(
      sql`select l.*, ${tenantBinding(
        sql`coalesce(l.active_org_id::text, '')`,
        sql`coalesce(l.user_id::text, '')`,
        appRole,
      )} from (select 1) one left join loved_session_lookup(${id}) l on true`,
    ),
  )
  const reading = readSession(id, row, now)
  if (reading.kind !== 'valid' || reading.auth.refreshed || reading.activeChanged || !reading.auth.org)
    return null
  return reading.auth as AuthState & { org: Membership }
}

export async function listMemberships(tx: SystemTx, userId: string): Promise<Membership[]> {
  return tx
    .select({
      orgId: organizations.id,
      name: organizations.name,
      displayName: organizations.displayName,
      slug: organizations.slug,
      role: organizationMembers.role,
      locale: organizations.locale,
      timezone: organizations.timezone,
      logoUrl: organizations.logoUrl,
      primaryColor: organizations.primaryColor,
    })
    .from(organizationMembers)
    .innerJoin(organizations, eq(organizations.id, organizationMembers.organizationId))
    .where(eq(organizationMembers.userId, userId))
    .orderBy(organizations.name)
}

/** Switching organization: the target comes from the user's memberships, never from the form alone. */
export async function switchOrganization(db: Db, sessionId: string, userId: string, orgId: string) {
  return withSystem(db, async (tx) => {
    const memberships = await listMemberships(tx, userId)
    const target = memberships.find((m) => m.orgId === orgId)
    if (!target) return null
    await tx.update(sessions).set({ activeOrgId: orgId }).where(eq(sessions.id, sessionId))
    return target
  })
}

export async function invalidateSession(db: Db, sessionId: string) {
  await withSystem(db, (tx) => tx.delete(sessions).where(eq(sessions.id, sessionId)))
}

export async function invalidateOtherSessions(tx: SystemTx, userId: string, keepSessionId: string | null) {
  await tx
    .delete(sessions)
    .where(
      keepSessionId
        ? and(eq(sessions.userId, userId), ne(sessions.id, keepSessionId))
        : eq(sessions.userId, userId),
    )
}

export async function purgeExpiredSessions(db: Db, now = new Date()) {
  await withSystem(db, (tx) =>
    tx.delete(sessions).where(or(lt(sessions.expiresAt, now), lt(sessions.absoluteExpiresAt, now))),
  )
}
