import { and, asc, count, eq, gt, isNull, sql } from 'drizzle-orm'
import { generateToken, hashToken } from '../../platform/crypto/tokens'
import type { Db } from '../../platform/db/client'
import { type OrgTx, type SystemTx, withOrg, withSystem } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { AppError, Check, forbidden, notFound } from '../../platform/http/errors'
import type { Mailer } from '../../platform/mail/mailer'
import { EMAIL_RE, normalizeEmail } from '../../shared/email'
import { isLocale, type Locale, translator } from '../../shared/i18n'
import { slugify } from '../../shared/ids'
import { users } from '../auth/auth.table'
import { notify } from '../notifications/notifications.usecases'
import { createDefaultPipeline } from '../pipeline/pipeline.usecases'
import { recordAudit } from './orgs.audit'
import './orgs.events'
import { invitations, organizationMembers, organizations, ROLES, type Role } from './orgs.table'

export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000
const TIMEZONES = new Set(Intl.supportedValuesOf('timeZone'))
export const isTimezone = (tz: string) => TIMEZONES.has(tz) || tz === 'UTC'

/** Who is acting, in which organization, with which role: built from the session, never from input. */
export interface Actor {
  orgId: string
  userId: string
  role: Role
  ip?: string | null
}

const canManageMembers = (role: Role) => role === 'owner' || role === 'admin'

// Organizations ---------------------------------------------------------------------------------

export async function createOrganizationTx(
  tx: SystemTx,
  input: { name: string; ownerId: string; locale?: Locale; timezone?: string; ip?: string | null },
) {
  const base = slugify(input.name) || 'org'
  const padded = base.length < 2 ? `${base}-org` : base
  // Free slug: "acme", then "acme-2", "acme-3"...
  const taken = await tx
    .select({ slug: organizations.slug })
    .from(organizations)
    .where(sql`${organizations.slug} = ${padded} or ${organizations.slug} like ${`${padded}-%`}`)
  const used = new Set(taken.map((r) => r.slug))
  let slug = padded
  for (let i = 2; used.has(slug); i++) slug = `${padded}-${i}`
  const [org] = await tx
    .insert(organizations)
    .values({
      name: input.name,
      slug,
      locale: input.locale ?? 'pt-BR',
      timezone: input.timezone && isTimezone(input.timezone) ? input.timezone : 'America/Sao_Paulo',
    })
    .returning()
  await tx
    .insert(organizationMembers)
    .values({ organizationId: org!.id, userId: input.ownerId, role: 'owner' })
  await createDefaultPipeline(tx, org!.id, input.locale ?? 'pt-BR')
  await recordAudit(tx, {
    orgId: org!.id,
    actorId: input.ownerId,
    action: 'org.created',
    targetType: 'organization',
    targetId: org!.id,
    after: { name: org!.name, slug: org!.slug },
    ip: input.ip,
  })
  return org!
}

export async function createOrganization(
  db: Db,
  input: { name: string; ownerId: string; locale?: Locale; ip?: string | null },
) {
  const name = input.name.trim()
  const check = new Check()
  if (!name) check.add('name', 'error.required')
  else if (name.length > 120) check.add('name', 'error.too_long', { max: 120 })
  check.throwIfAny()
  return withSystem(db, (tx) => createOrganizationTx(tx, { ...input, name }))
}

export async function getOrganization(tx: OrgTx) {
  const [org] = await tx.select().from(organizations)
  if (!org) throw notFound()
  return org
}

export interface OrgSettingsInput {
  name: string
  slug: string
  displayName: string
  logoUrl: string
  primaryColor: string
  locale: string
  timezone: string
}

export async function updateOrganization(db: Db, actor: Actor, input: OrgSettingsInput) {
  if (!canManageMembers(actor.role)) throw forbidden()
  const v = {
    name: input.name.trim(),
    slug: input.slug.trim().toLowerCase(),
    displayName: input.displayName.trim() || null,
    logoUrl: input.logoUrl.trim() || null,
    primaryColor: input.primaryColor.trim() || null,
    locale: input.locale,
    timezone: input.timezone,
  }
  const check = new Check()
  if (!v.name) check.add('name', 'error.required')
  else if (v.name.length > 120) check.add('name', 'error.too_long', { max: 120 })
  if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(v.slug)) check.add('slug', 'error.slug')
  if (v.displayName && v.displayName.length > 60) check.add('displayName', 'error.too_long', { max: 60 })
  if (v.logoUrl && (!/^https:\/\/\S+$/.test(v.logoUrl) || v.logoUrl.length > 500))
    check.add('logoUrl', 'error.url')
  if (v.primaryColor && !/^#[0-9a-fA-F]{6}$/.test(v.primaryColor)) check.add('primaryColor', 'error.color')
  if (!isLocale(v.locale)) check.add('locale', 'error.locale')
  if (!isTimezone(v.timezone)) check.add('timezone', 'error.timezone')
  check.throwIfAny()
  // Slugs are unique across the instance, which the app role cannot see: ask as the system.
  const slugOwner = await withSystem(db, async (tx) => {
    const [row] = await tx
      .select({ id: organizations.id })
      .from(organizations)
      .where(eq(organizations.slug, v.slug))
    return row?.id
  })
  if (slugOwner && slugOwner !== actor.orgId) new Check().add('slug', 'error.slug_taken').throwIfAny()
  return withOrg(db, { orgId: actor.orgId, userId: actor.userId }, async (tx) => {
    const before = await getOrganization(tx)
    const [after] = await tx
      .update(organizations)
      .set({ ...v, updatedAt: new Date() })
      .where(eq(organizations.id, actor.orgId))
      .returning()
    const changed = (Object.keys(v) as (keyof typeof v)[]).filter((k) => before[k] !== after![k])
    if (changed.length) await recordEvent(tx, { type: 'org.updated', payload: { fields: changed } })
    if (changed.length)
      await recordAudit(tx, {
        orgId: actor.orgId,
        actorId: actor.userId,
        action: 'org.updated',
        targetType: 'organization',
        targetId: actor.orgId,
        before: Object.fromEntries(changed.map((k) => [k, before[k]])),
        after: Object.fromEntries(changed.map((k) => [k, after![k]])),
        ip: actor.ip,
      })
    return after!
  })
}

// Members ---------------------------------------------------------------------------------------

export async function listMembers(tx: OrgTx) {
  return tx
    .select({
      userId: organizationMembers.userId,
      role: organizationMembers.role,
      joinedAt: organizationMembers.createdAt,
      name: users.name,
      email: users.email,
    })
    .from(organizationMembers)
    .innerJoin(users, eq(users.id, organizationMembers.userId))
    .orderBy(asc(users.name))
}

/** Locks the organization's owner rows so two concurrent demotions cannot remove the last owner. */
async function lockOwners(tx: OrgTx) {
  const rows = await tx
    .select({ userId: organizationMembers.userId })
    .from(organizationMembers)
    .where(eq(organizationMembers.role, 'owner'))
    .for('update')
  return rows.map((r) => r.userId)
}

async function memberOrThrow(tx: OrgTx, userId: string) {
  const [m] = await tx
    .select({ role: organizationMembers.role, name: users.name, email: users.email, locale: users.locale })
    .from(organizationMembers)
    .innerJoin(users, eq(users.id, organizationMembers.userId))
    .where(eq(organizationMembers.userId, userId))
  if (!m) throw notFound()
  return m
}

export async function changeRole(db: Db, actor: Actor, targetUserId: string, role: string) {
  if (!ROLES.includes(role as Role)) new Check().add('role', 'error.required').throwIfAny()
  const next = role as Role
  if (!canManageMembers(actor.role)) throw forbidden()
  if (targetUserId === actor.userId) throw forbidden('error.self_promote')
  return withOrg(db, { orgId: actor.orgId, userId: actor.userId }, async (tx) => {
    const owners = await lockOwners(tx)
    const target = await memberOrThrow(tx, targetUserId)
    if ((next === 'owner' || target.role === 'owner') && actor.role !== 'owner')
      throw forbidden('error.owner_only')
    if (target.role === 'owner' && next !== 'owner' && owners.length <= 1) throw forbidden('error.last_owner')
    if (target.role === next) return target
    await tx
      .update(organizationMembers)
      .set({ role: next })
      .where(eq(organizationMembers.userId, targetUserId))
    await recordEvent(tx, {
      type: 'member.role_changed',
      payload: { userId: targetUserId, from: target.role, to: next },
    })
    const [org] = await tx.select({ locale: organizations.locale }).from(organizations)
    const [me] = await tx.select({ name: users.name }).from(users).where(eq(users.id, actor.userId))
    const locale = target.locale ?? org?.locale
    await notify(tx, {
      orgId: actor.orgId,
      userId: targetUserId,
      kind: 'member.role_changed',
      params: {
        actor: me?.name ?? '',
        role: translator(isLocale(locale) ? locale : 'pt-BR')(`org.role.${next}`),
      },
      link: '/settings/members',
      actorId: actor.userId,
      locale,
    })
    await recordAudit(tx, {
      orgId: actor.orgId,
      actorId: actor.userId,
      action: 'member.role_changed',
      targetType: 'user',
      targetId: targetUserId,
      before: { role: target.role },
      after: { role: next },
      ip: actor.ip,
    })
    return { ...target, role: next }
  })
}

export async function removeMember(db: Db, actor: Actor, targetUserId: string) {
  const self = targetUserId === actor.userId
  if (!self && !canManageMembers(actor.role)) throw forbidden()
  return withOrg(db, { orgId: actor.orgId, userId: actor.userId }, async (tx) => {
    const owners = await lockOwners(tx)
    const target = await memberOrThrow(tx, targetUserId)
    if (!self && target.role === 'owner' && actor.role !== 'owner') throw forbidden('error.owner_only')
    if (target.role === 'owner' && owners.length <= 1) throw forbidden('error.last_owner')
    await tx.delete(organizationMembers).where(eq(organizationMembers.userId, targetUserId))
    await recordEvent(tx, { type: 'member.removed', payload: { userId: targetUserId, left: self } })
    await recordAudit(tx, {
      orgId: actor.orgId,
      actorId: actor.userId,
      action: self ? 'member.left' : 'member.removed',
      targetType: 'user',
      targetId: targetUserId,
      before: { role: target.role, name: target.name, email: target.email },
      ip: actor.ip,
    })
    return target
  })
}

// Invitations -----------------------------------------------------------------------------------

export async function listPendingInvitations(tx: OrgTx, now = new Date()) {
  return tx
    .select({
      id: invitations.id,
      email: invitations.email,
      role: invitations.role,
      createdAt: invitations.createdAt,
      expiresAt: invitations.expiresAt,
    })
    .from(invitations)
    .where(and(isNull(invitations.acceptedAt), isNull(invitations.revokedAt), gt(invitations.expiresAt, now)))
    .orderBy(asc(invitations.createdAt))
}

export interface InviteContext {
  baseUrl: URL
  instanceName: string
  orgName: string
  inviterName: string
  locale: Locale
}

/** Creates an invitation; returns the link (shown to the inviter, since email may not be configured). */
export async function invite(
  db: Db,
  mailer: Mailer,
  actor: Actor,
  input: { email: string; role: string },
  ctx: InviteContext,
) {
  if (!canManageMembers(actor.role)) throw forbidden()
  const email = normalizeEmail(input.email)
  const check = new Check()
  if (!email) check.add('email', 'error.required')
  else if (!EMAIL_RE.test(email) || email.length > 254) check.add('email', 'error.email')
  if (!ROLES.includes(input.role as Role)) check.add('role', 'error.required')
  check.throwIfAny()
  const role = input.role as Role
  if (role === 'owner' && actor.role !== 'owner') throw forbidden('error.owner_only')
  const token = generateToken()
  await withOrg(db, { orgId: actor.orgId, userId: actor.userId }, async (tx) => {
    const [member] = await tx
      .select({ id: users.id })
      .from(organizationMembers)
      .innerJoin(users, eq(users.id, organizationMembers.userId))
      .where(eq(users.email, email))
    if (member) new Check().add('email', 'error.already_member').throwIfAny()
    const [pending] = await tx
      .select({ id: invitations.id })
      .from(invitations)
      .where(
        and(
          eq(invitations.email, email),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
          gt(invitations.expiresAt, new Date()),
        ),
      )
    if (pending) new Check().add('email', 'error.already_invited').throwIfAny()
    const [inv] = await tx
      .insert(invitations)
      .values({
        organizationId: actor.orgId,
        email,
        role,
        tokenHash: hashToken(token),
        invitedBy: actor.userId,
        expiresAt: new Date(Date.now() + INVITE_TTL_MS),
      })
      .returning({ id: invitations.id })
    await recordEvent(tx, { type: 'member.invited', payload: { invitationId: inv!.id, role } })
    await recordAudit(tx, {
      orgId: actor.orgId,
      actorId: actor.userId,
      action: 'member.invited',
      targetType: 'invitation',
      targetId: inv!.id,
      after: { email, role },
      ip: actor.ip,
    })
  })
  const link = new URL(`/invite/${token}`, ctx.baseUrl).toString()
  const t = translator(ctx.locale)
  await withSystem(db, (tx) =>
    mailer.queue(tx, {
      to: email,
      subject: t('invite.email_subject', {
        inviter: ctx.inviterName,
        org: ctx.orgName,
        instance: ctx.instanceName,
      }),
      text: t('invite.email_body', {
        inviter: ctx.inviterName,
        org: ctx.orgName,
        instance: ctx.instanceName,
        role: t(`org.role.${role}`),
        link,
      }),
    }),
  )
  void mailer.flush()
  return { link, email }
}

export async function revokeInvitation(db: Db, actor: Actor, invitationId: string) {
  if (!canManageMembers(actor.role)) throw forbidden()
  await withOrg(db, { orgId: actor.orgId, userId: actor.userId }, async (tx) => {
    const [inv] = await tx
      .update(invitations)
      .set({ revokedAt: new Date() })
      .where(
        and(eq(invitations.id, invitationId), isNull(invitations.acceptedAt), isNull(invitations.revokedAt)),
      )
      .returning({ email: invitations.email, role: invitations.role })
    if (!inv) throw notFound()
    await recordAudit(tx, {
      orgId: actor.orgId,
      actorId: actor.userId,
      action: 'invitation.revoked',
      targetType: 'invitation',
      targetId: invitationId,
      before: inv,
      ip: actor.ip,
    })
  })
}

/** Looks an invitation up by its token (system: the visitor is not in the organization yet). */
export async function findInvitation(db: Db, token: string, now = new Date()) {
  if (!/^[a-z2-7]{32}$/.test(token)) return null
  return withSystem(db, async (tx) => {
    const [row] = await tx
      .select({
        id: invitations.id,
        orgId: invitations.organizationId,
        email: invitations.email,
        role: invitations.role,
        orgName: organizations.name,
        orgDisplayName: organizations.displayName,
        orgLocale: organizations.locale,
        inviterName: users.name,
        invitedBy: invitations.invitedBy,
        inviterLocale: users.locale,
      })
      .from(invitations)
      .innerJoin(organizations, eq(organizations.id, invitations.organizationId))
      .leftJoin(users, eq(users.id, invitations.invitedBy))
      .where(
        and(
          eq(invitations.tokenHash, hashToken(token)),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
          gt(invitations.expiresAt, now),
        ),
      )
    return row ?? null
  })
}

export type Invitation = NonNullable<Awaited<ReturnType<typeof findInvitation>>>

/** Accepting joins the organization with the invited role (idempotent for an existing member). */
export async function acceptInvitation(
  db: Db,
  inv: Invitation,
  user: { id: string; email: string },
  ip?: string | null,
) {
  if (user.email !== inv.email)
    throw new AppError('invite.wrong_account', 403, 'invite.wrong_account', { email: inv.email })
  await withOrg(db, { orgId: inv.orgId, userId: user.id }, async (tx) => {
    const [marked] = await tx
      .update(invitations)
      .set({ acceptedAt: new Date(), acceptedBy: user.id })
      .where(and(eq(invitations.id, inv.id), isNull(invitations.acceptedAt), isNull(invitations.revokedAt)))
      .returning({ id: invitations.id })
    if (!marked) throw new AppError('invite.invalid', 410, 'invite.invalid')
    const [joined] = await tx
      .insert(organizationMembers)
      .values({ organizationId: inv.orgId, userId: user.id, role: inv.role })
      .onConflictDoNothing()
      .returning({ userId: organizationMembers.userId })
    if (joined) {
      await recordEvent(tx, { type: 'member.joined', payload: { userId: user.id, role: inv.role } })
      const [inviter] = inv.invitedBy
        ? await tx
            .select({ id: organizationMembers.userId })
            .from(organizationMembers)
            .where(eq(organizationMembers.userId, inv.invitedBy))
        : []
      if (inviter && inviter.id !== user.id) {
        const [me] = await tx.select({ name: users.name }).from(users).where(eq(users.id, user.id))
        await notify(tx, {
          orgId: inv.orgId,
          userId: inviter.id,
          kind: 'member.joined',
          params: { name: me?.name ?? inv.email, org: inv.orgDisplayName || inv.orgName },
          link: '/settings/members',
          actorId: user.id,
          locale: inv.inviterLocale ?? inv.orgLocale,
        })
      }
    }
    await recordAudit(tx, {
      orgId: inv.orgId,
      actorId: user.id,
      action: 'invitation.accepted',
      targetType: 'invitation',
      targetId: inv.id,
      after: { email: inv.email, role: inv.role },
      ip,
    })
  })
}

export async function dashboardStats(tx: OrgTx) {
  const [members] = await tx.select({ n: count() }).from(organizationMembers)
  const pending = await listPendingInvitations(tx)
  return { members: members?.n ?? 0, pendingInvites: pending.length }
}

/** Whether the member takes new leads (assignment skips members who are away); null if not a member. */
export async function memberAvailable(tx: OrgTx, userId: string): Promise<boolean | null> {
  const [m] = await tx
    .select({ available: organizationMembers.available })
    .from(organizationMembers)
    .where(eq(organizationMembers.userId, userId))
  return m?.available ?? null
}
