/**
 * Sessions after the Lucia design (https://lucia-auth.com/sessions/basic): a random token goes to
 * the cookie, only its SHA-256 is stored. Sliding expiry (extended when less than half is left, so a
 * busy user costs one write per half-window, not per request) under an absolute cap.
 */
import { and, eq, lt, ne, or } from 'drizzle-orm'
import { generateToken, hashToken } from '../../platform/crypto/tokens'
import type { Db } from '../../platform/db/client'
import { type SystemTx, withSystem } from '../../platform/db/tenancy'
import { latestVersionFor } from '../../platform/events/events.outbox'
import { unreadCountFor } from '../notifications/notifications.usecases'
import { organizationMembers, organizations, type Role } from '../orgs/orgs.table'
import { sessions, users } from './auth.table'

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

export async function validateSession(db: Db, token: string, now = new Date()): Promise<AuthState | null> {
  if (!/^[a-z2-7]{32}$/.test(token)) return null
  const id = hashToken(token)
  return withSystem(db, async (tx) => {
    const [row] = await tx
      .select({
        session: sessions,
        user: {
          id: users.id,
          email: users.email,
          name: users.name,
          locale: users.locale,
          isInstanceAdmin: users.isInstanceAdmin,
        },
      })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(eq(sessions.id, id))
    if (!row) return null
    const s = row.session
    if (now >= s.expiresAt || now >= s.absoluteExpiresAt) {
      await tx.delete(sessions).where(eq(sessions.id, id))
      return null
    }
    const policy = s.remember ? SESSION_POLICY.remember : SESSION_POLICY.browser
    let expiresAt = s.expiresAt
    let refreshed = false
    if (s.expiresAt.getTime() - now.getTime() < policy.idle / 2) {
      expiresAt = new Date(Math.min(now.getTime() + policy.idle, s.absoluteExpiresAt.getTime()))
      refreshed = true
    }
    const memberships = await listMemberships(tx, row.user.id)
    let org = memberships.find((m) => m.orgId === s.activeOrgId) ?? null
    // Active org gone (removed, left, org deleted): fall back to another membership.
    if (!org && memberships.length) org = memberships[0]!
    if (refreshed || (org?.orgId ?? null) !== s.activeOrgId) {
      await tx
        .update(sessions)
        .set({ expiresAt, activeOrgId: org?.orgId ?? null })
        .where(eq(sessions.id, id))
    }
    const unread = org ? await unreadCountFor(tx, org.orgId, row.user.id) : 0
    const rtVersion = org ? await latestVersionFor(tx, org.orgId) : 0
    return {
      sessionId: id,
      remember: s.remember,
      expiresAt,
      user: row.user,
      memberships,
      org,
      refreshed,
      unread,
      rtVersion,
    }
  })
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
