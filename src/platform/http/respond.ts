import type { Ui } from '../../../views/ui'
import type { ReqCtx } from './context'
import { FormError } from './errors'

/** The view props every page gets, from the request context. */
export function uiOf(r: ReqCtx): Ui {
  const { config, mailer } = r.deps
  return {
    t: r.t,
    locale: r.locale,
    instanceName: config.instanceName,
    path: r.url.pathname,
    flash: r.flash,
    user: r.auth?.user,
    org: r.auth?.org ?? null,
    memberships: r.auth?.memberships ?? [],
    devOutbox: !mailer.configured && !!r.auth?.user.isInstanceAdmin,
    unread: r.auth?.unread ?? 0,
    rtVersion: r.auth?.rtVersion ?? 0,
  }
}

function baseHeaders(r: ReqCtx, contentType?: string): Headers {
  const h = new Headers()
  if (contentType) h.set('content-type', contentType)
  h.set('x-request-id', r.reqId)
  for (const c of r.cookies) h.append('set-cookie', c)
  return h
}

export async function html(r: ReqCtx, body: JSX.Element, status = 200): Promise<Response> {
  const h = baseHeaders(r, 'text/html; charset=utf-8')
  h.set('cache-control', 'no-store')
  // Pages vary by session: never let a proxy or the browser's bfcache show one user's page to another.
  return new Response(await body, { status, headers: h })
}

export function redirect(r: ReqCtx, location: string): Response {
  const h = baseHeaders(r)
  h.set('location', location)
  return new Response(null, { status: 303, headers: h })
}

export function json(r: ReqCtx, data: unknown, status = 200): Response {
  return new Response(JSON.stringify(data), { status, headers: baseHeaders(r, 'application/json') })
}

/** Reads a form field as a string (first value when repeated), '' when absent. */
export function field(body: unknown, name: string): string {
  if (!body || typeof body !== 'object') return ''
  const v = (body as Record<string, unknown>)[name]
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : ''
  return typeof v === 'string' ? v : v == null ? '' : String(v)
}

export function fields(body: unknown, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, field(body, n)]))
}

/** Runs a use case; on field errors re-renders the form (422) with the user's input kept. */
export async function withForm<T>(
  run: () => Promise<T>,
  onError: (err: FormError) => Promise<Response>,
): Promise<{ ok: true; value: T } | { ok: false; response: Response }> {
  try {
    return { ok: true, value: await run() }
  } catch (err) {
    if (err instanceof FormError) return { ok: false, response: await onError(err) }
    throw err
  }
}

/** Only same-site relative paths after login: never an open redirect. */
export function safeNext(next: string | undefined | null, fallback = '/dashboard'): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback
  return next
}
