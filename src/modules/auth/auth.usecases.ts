import { and, eq, gt, isNull } from 'drizzle-orm'
import { generateToken, hashToken } from '../../platform/crypto/tokens'
import type { Db } from '../../platform/db/client'
import { type SystemTx, withSystem } from '../../platform/db/tenancy'
import { AppError, Check } from '../../platform/http/errors'
import type { Mailer } from '../../platform/mail/mailer'
import { EMAIL_RE, normalizeEmail } from '../../shared/email'
import { type Locale, translator } from '../../shared/i18n'
import { recordAudit } from '../orgs/orgs.audit'
import { createOrganizationTx } from '../orgs/orgs.usecases'
import { invalidateOtherSessions } from './auth.sessions'
import { passwordResets, users } from './auth.table'
import { clearFailures, recordFailure, throttledFor, throttleKeys } from './auth.throttle'

export const PASSWORD_MIN = 8
const PASSWORD_MAX = 200
const RESET_TTL_MS = 60 * 60 * 1000

export const hashPassword = (password: string) => Bun.password.hash(password, { algorithm: 'argon2id' })

export function checkPassword(check: Check, field: string, password: string) {
  if (!password) check.add(field, 'error.required')
  else if (password.length < PASSWORD_MIN) check.add(field, 'error.password_short')
  else if (password.length > PASSWORD_MAX) check.add(field, 'error.password_long')
}

export function checkEmail(check: Check, field: string, email: string) {
  if (!email) check.add(field, 'error.required')
  else if (!EMAIL_RE.test(email) || email.length > 254) check.add(field, 'error.email')
}

export function checkName(check: Check, field: string, name: string, max = 120) {
  if (!name) check.add(field, 'error.required')
  else if (name.length > max) check.add(field, 'error.too_long', { max })
}

export interface SignupInput {
  name: string
  email: string
  password: string
  orgName: string
  locale: Locale
  timezone?: string
}

/** Sign-up: user + organization + owner membership, one transaction. */
export async function signUp(
  db: Db,
  input: SignupInput,
  opts: { instanceAdmin?: boolean; ip?: string | null } = {},
) {
  const email = normalizeEmail(input.email)
  const name = input.name.trim()
  const orgName = input.orgName.trim()
  const check = new Check()
  checkName(check, 'name', name)
  checkEmail(check, 'email', email)
  checkPassword(check, 'password', input.password)
  checkName(check, 'orgName', orgName)
  check.throwIfAny()
  const passwordHash = await hashPassword(input.password)
  return withSystem(db, async (tx) => {
    const [exists] = await tx.select({ id: users.id }).from(users).where(eq(users.email, email))
    if (exists) new Check().add('email', 'error.email_taken').throwIfAny()
    // The first account of an instance administers it (dev outbox, system jobs).
    const [anyUser] = await tx.select({ id: users.id }).from(users).limit(1)
    const [user] = await tx
      .insert(users)
      .values({ email, name, passwordHash, locale: null, isInstanceAdmin: opts.instanceAdmin ?? !anyUser })
      .returning({ id: users.id, email: users.email, name: users.name })
    const org = await createOrganizationTx(tx, {
      name: orgName,
      ownerId: user!.id,
      locale: input.locale,
      timezone: input.timezone,
      ip: opts.ip,
    })
    return { user: user!, org }
  })
}

/** Verifies credentials under throttling. Returns the user, or throws a coded error. */
export async function logIn(
  db: Db,
  input: { email: string; password: string; ip: string | null },
  now = new Date(),
) {
  const email = normalizeEmail(input.email)
  const keys = throttleKeys(email, input.ip)
  const wait = await throttledFor(db, keys, now)
  if (wait > 0)
    throw new AppError('auth.throttled', 429, 'auth.login.throttled', { minutes: Math.ceil(wait / 60000) })
  const [user] = await withSystem(db, (tx) =>
    tx.select({ id: users.id, passwordHash: users.passwordHash }).from(users).where(eq(users.email, email)),
  )
  // Verify against a dummy hash when the user does not exist, so timing does not reveal accounts.
  const ok = await Bun.password.verify(input.password || ' ', user?.passwordHash ?? (await dummyHash()))
  if (!user || !ok) {
    await recordFailure(db, keys, now)
    throw new AppError('auth.invalid_credentials', 401, 'auth.login.invalid')
  }
  await clearFailures(db, keys[0]!.key)
  return { userId: user.id }
}

let dummy: Promise<string> | undefined
const dummyHash = () => {
  dummy ??= hashPassword('not-a-real-password-used-for-timing')
  return dummy
}

/** Always answers the same way (no account enumeration); emails a link only when the account exists. */
export async function requestPasswordReset(
  db: Db,
  mailer: Mailer,
  input: { email: string; baseUrl: URL; instanceName: string; locale: Locale },
) {
  const email = normalizeEmail(input.email)
  const check = new Check()
  checkEmail(check, 'email', email)
  check.throwIfAny()
  await withSystem(db, async (tx) => {
    const [user] = await tx
      .select({ id: users.id, name: users.name, locale: users.locale })
      .from(users)
      .where(eq(users.email, email))
    if (!user) return
    const token = generateToken()
    await tx.insert(passwordResets).values({
      tokenHash: hashToken(token),
      userId: user.id,
      expiresAt: new Date(Date.now() + RESET_TTL_MS),
    })
    const t = translator((user.locale as Locale) ?? input.locale)
    const link = new URL(`/reset-password/${token}`, input.baseUrl).toString()
    await mailer.queue(tx, {
      to: email,
      subject: t('auth.reset.email_subject', { instance: input.instanceName }),
      text: t('auth.reset.email_body', { name: user.name, link }),
    })
  })
  await mailer.flush()
}

async function findReset(tx: SystemTx, token: string) {
  const [row] = await tx
    .select()
    .from(passwordResets)
    .where(
      and(
        eq(passwordResets.tokenHash, hashToken(token)),
        isNull(passwordResets.usedAt),
        gt(passwordResets.expiresAt, new Date()),
      ),
    )
  return row
}

export async function resetTokenValid(db: Db, token: string) {
  return withSystem(db, async (tx) => !!(await findReset(tx, token)))
}

/** Sets the new password, burns the token and logs out every session of that user. */
export async function resetPassword(db: Db, input: { token: string; password: string }) {
  const check = new Check()
  checkPassword(check, 'password', input.password)
  check.throwIfAny()
  const passwordHash = await hashPassword(input.password)
  return withSystem(db, async (tx) => {
    const reset = await findReset(tx, input.token)
    if (!reset) throw new AppError('auth.reset_invalid', 400, 'auth.reset.invalid')
    await tx
      .update(passwordResets)
      .set({ usedAt: new Date() })
      .where(eq(passwordResets.tokenHash, reset.tokenHash))
    await tx.update(users).set({ passwordHash, updatedAt: new Date() }).where(eq(users.id, reset.userId))
    await invalidateOtherSessions(tx, reset.userId, null)
    return { userId: reset.userId }
  })
}

export async function changePassword(
  db: Db,
  input: {
    userId: string
    sessionId: string
    orgId: string | null
    current: string
    password: string
    ip?: string | null
  },
) {
  const check = new Check()
  if (!input.current) check.add('current', 'error.required')
  checkPassword(check, 'password', input.password)
  check.throwIfAny()
  const [user] = await withSystem(db, (tx) =>
    tx.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, input.userId)),
  )
  if (!user || !(await Bun.password.verify(input.current, user.passwordHash)))
    new Check().add('current', 'error.wrong_password').throwIfAny()
  const passwordHash = await hashPassword(input.password)
  await withSystem(db, async (tx) => {
    await tx.update(users).set({ passwordHash, updatedAt: new Date() }).where(eq(users.id, input.userId))
    await invalidateOtherSessions(tx, input.userId, input.sessionId)
    if (input.orgId)
      await recordAudit(tx, {
        orgId: input.orgId,
        actorId: input.userId,
        action: 'user.password_changed',
        targetType: 'user',
        targetId: input.userId,
        ip: input.ip,
      })
  })
}
