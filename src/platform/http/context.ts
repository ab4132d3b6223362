/**
 * Per-request context, computed once and memoised on the Request: request id, client IP, session,
 * locale and translator, flash message, and the cookies the response must carry. Route handlers ask
 * for it explicitly (`requireOrg(deps, c)`), which keeps types honest without plugin-scope tricks.
 */
import type { Config } from '../../config/config'
import { type AuthState, type Membership, validateSession } from '../../modules/auth/auth.sessions'
import type { Role } from '../../modules/orgs/orgs.table'
import type { Actor } from '../../modules/orgs/orgs.usecases'
import { type Locale, resolveLocale, type T, translator } from '../../shared/i18n'
import type { Db } from '../db/client'
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
  const { config, db } = deps
  const meta = requestMeta.get(request)
  const reqId = meta?.id ?? crypto.randomUUID()
  const cookies = parseCookies(request.headers.get('cookie'))
  const token = cookies[sessionCookieName(config)]
  const auth = token ? await validateSession(db, token) : null
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
  const r = await requireUser(deps, request)
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
