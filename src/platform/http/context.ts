/**
 * Per-request context, computed once and memoised on the Request: request id, client IP, session,
 * locale and translator, flash message, and the cookies the response must carry. Route handlers ask
 * for it explicitly (`requireOrg(deps, c)`), which keeps types honest without plugin-scope tricks.
 */
import type { Config } from '../../config/config'
import {
  type AuthState,
  type Membership,
  openSessionInTx,
  validateSession,
} from '../../modules/auth/auth.sessions'
import type { Role } from '../../modules/orgs/orgs.table'
import type { Actor } from '../../modules/orgs/orgs.usecases'
import { type Locale, resolveLocale, type T, translator } from '../../shared/i18n'
import type { Db } from '../db/client'
import { type OrgTx, withOrg } from '../db/tenancy'
import type { Logger } from '../log/logger'
import type { Mailer } from '../mail/mailer'
import type { RealtimeHub } from '../realtime/realtime.hub'
import { parseCookies, serializeCookie } from './cookies'
import { forbidden } from './errors'

export interface AppDeps {
  config: Config
  db: Db
  log: Logger
  mailer: Mailer
  /** The WebSocket hub (absent in HTTP-only tests): routes close sockets on logout or org switch. */
  realtime?: RealtimeHub
}

export interface Flash {
  kind: 'success' | 'error' | 'info'
  text: string
}

export interface ReqCtx {
  request: Request
  url: URL
  reqId: string
  ip: string | null
  log: Logger
  auth: AuthState | null
  locale: Locale
  t: T
  flash: Flash | null
  isHtmx: boolean
  /** Set-Cookie values the response must carry. */
  cookies: string[]
  deps: AppDeps
}

export interface OrgCtx extends ReqCtx {
  auth: AuthState & { org: Membership }
  org: Membership
  actor: Actor
}

/** Thrown to send the browser elsewhere (303, or HX-Location for htmx). */
export class Redirect extends Error {
  constructor(
    public readonly location: string,
    public readonly ctx?: ReqCtx,
  ) {
    super(`redirect ${location}`)
  }
}

export const sessionCookieName = (config: Config) =>
  config.baseUrl.protocol === 'https:' ? '__Host-loved_session' : 'loved_session'
const FLASH_COOKIE = 'loved_flash'

export interface RequestMeta {
  id: string
  start: number
  ip: string | null
}
export const requestMeta = new WeakMap<Request, RequestMeta>()
const cache = new WeakMap<Request, Promise<ReqCtx>>()

export function reqCtx(deps: AppDeps, request: Request): Promise<ReqCtx> {
  let p = cache.get(request)
  if (!p) {
    p = build(deps, request)
    cache.set(request, p)
  }
  return p
}

async function build(deps: AppDeps, request: Request): Promise<ReqCtx> {
  const cookies = parseCookies(request.headers.get('cookie'))
  const token = cookies[sessionCookieName(deps.config)]
  return buildCtx(deps, request, cookies, token, token ? await validateSession(deps.db, token) : null)
}

/** The request context around a session already looked up (or none). Pure: no database. */
function buildCtx(
  deps: AppDeps,
  request: Request,
  cookies: Record<string, string>,
  token: string | undefined,
  auth: AuthState | null,
): ReqCtx {
  const { config } = deps
  const meta = requestMeta.get(request)
  const reqId = meta?.id ?? crypto.randomUUID()
  const out: string[] = []
  if (token && !auth) out.push(clearSessionCookie(config))
  if (auth?.refreshed) out.push(sessionCookie(config, token!, auth.remember ? auth.expiresAt : null))
  let flash: Flash | null = null
  if (cookies[FLASH_COOKIE]) {
    try {
      flash = JSON.parse(Buffer.from(cookies[FLASH_COOKIE], 'base64url').toString('utf8'))
    } catch {
      flash = null
    }
    out.push(serializeCookie(FLASH_COOKIE, '', { maxAge: 0, secure: config.baseUrl.protocol === 'https:' }))
  }
  const locale = resolveLocale(auth?.user.locale, auth?.org?.locale, request.headers.get('accept-language'))
  return {
    request,
    url: new URL(request.url),
    reqId,
    ip: meta?.ip ?? null,
    log: deps.log.child({ reqId }),
    auth,
    locale,
    t: translator(locale),
    flash,
    isHtmx: request.headers.get('hx-request') === 'true',
    cookies: out,
    deps,
  }
}

export function sessionCookie(config: Config, token: string, expires: Date | null) {
  return serializeCookie(sessionCookieName(config), token, {
    httpOnly: true,
    sameSite: 'Lax',
    secure: config.baseUrl.protocol === 'https:',
    path: '/',
    // "remember me": a persistent cookie; otherwise it dies with the browser session.
    ...(expires ? { expires } : {}),
  })
}

export const clearSessionCookie = (config: Config) =>
  serializeCookie(sessionCookieName(config), '', { maxAge: 0, secure: config.baseUrl.protocol === 'https:' })

export function setFlash(r: ReqCtx, kind: Flash['kind'], text: string) {
  const value = Buffer.from(JSON.stringify({ kind, text }), 'utf8').toString('base64url')
  r.cookies.push(
    serializeCookie(FLASH_COOKIE, value, { secure: r.deps.config.baseUrl.protocol === 'https:' }),
  )
}

export async function requireUser(deps: AppDeps, request: Request): Promise<ReqCtx & { auth: AuthState }> {
  const r = await reqCtx(deps, request)
  if (!r.auth) {
    const next = r.url.pathname + r.url.search
    throw new Redirect(next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`, r)
  }
  return r as ReqCtx & { auth: AuthState }
}

/** Logged in and in an organization; optionally with one of `roles`. */
export async function requireOrg(deps: AppDeps, request: Request, roles?: Role[]): Promise<OrgCtx> {
  return orgCtxOf(await requireUser(deps, request), roles)
}

function orgCtxOf(r: ReqCtx & { auth: AuthState }, roles?: Role[]): OrgCtx {
  const org = r.auth.org
  if (!org) throw new Redirect('/orgs/new', r)
  if (roles && !roles.includes(org.role)) throw forbidden()
  return {
    ...r,
    auth: r.auth as AuthState & { org: Membership },
    org,
    actor: { orgId: org.orgId, userId: r.auth.user.id, role: org.role, ip: r.ip },
  }
}

/**
 * `requireOrg` and then `withOrg`, with the session lookup as the tenant transaction's first
 * statement (`openSessionInTx`) instead of a statement of its own: for the hot routes (the board, a
 * move, a card). `fn` runs inside the transaction with the request context and sees the same
 * organization `requireOrg` would have chosen. When the session needs a write (expiry slide, active
 * organization gone), is missing or has expired, or the request was already authenticated, the
 * transaction is rolled back before any tenant statement and the ordinary path runs instead, so
 * redirects, cookies and 403s are exactly `requireOrg`'s.
 */
export async function withOrgRequest<T>(
  deps: AppDeps,
  request: Request,
  roles: Role[] | undefined,
  fn: (r: OrgCtx, tx: OrgTx) => Promise<T>,
): Promise<{ r: OrgCtx; value: T }> {
  const cookies = cache.has(request) ? {} : parseCookies(request.headers.get('cookie'))
  const token = cookies[sessionCookieName(deps.config)]
  if (token) {
    const fast = await deps.db.drizzle
      .transaction(async (tx) => {
        const auth = await openSessionInTx(tx, deps.db.appRole, token)
        if (!auth) throw ORDINARY_PATH
        const ctx = buildCtx(deps, request, cookies, token, auth)
        cache.set(request, Promise.resolve(ctx))
        const r = orgCtxOf(ctx as ReqCtx & { auth: AuthState }, roles)
        return { r, value: await fn(r, tx as OrgTx) }
      })
      .catch((err) => {
        if (err === ORDINARY_PATH) return null
        throw err
      })
    if (fast) return fast
  }
  const r = await requireOrg(deps, request, roles)
  const value = await withOrg(deps.db, { orgId: r.org.orgId, userId: r.auth.user.id }, (tx) => fn(r, tx))
  return { r, value }
}

const ORDINARY_PATH = Symbol('ordinary session path')
