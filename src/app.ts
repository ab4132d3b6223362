/**
 * createApp(deps): the root Elysia app. No listen() here: main.ts serves it, tests call app.handle().
 */
import { Elysia, ElysiaCustomStatusResponse } from 'elysia'
import { authRoutes } from './modules/auth/auth.routes'
import { inboxRoutes } from './modules/inbox/inbox.routes'
import { captureRoutes } from './modules/leads/leads.capture.routes'
import { dedupRoutes } from './modules/leads/leads.dedup.routes'
import { leadsImportRoutes } from './modules/leads/leads.import.routes'
import { leadListRoutes } from './modules/leads/leads.list.routes'
import { leadsScoringRoutes } from './modules/leads/leads.scoring.routes'
import { notificationRoutes } from './modules/notifications/notifications.routes'
import { orgRoutes } from './modules/orgs/orgs.routes'
import { pipelineRoutes } from './modules/pipeline/pipeline.routes'
import { systemRoutes } from './modules/system/system.routes'
import { whatsappRoutes } from './modules/whatsapp/whatsapp.routes'
import { pendingMigrations } from './platform/db/migrate'
import { registerAsset, serveAsset } from './platform/http/assets'
import { type AppDeps, Redirect, reqCtx, requestMeta } from './platform/http/context'
import { csrfAllowed } from './platform/http/csrf'
import { renderError } from './platform/http/error-response'
import { AppError } from './platform/http/errors'
import { realtimeClient } from './platform/realtime/realtime.client'

export type { AppDeps }

// The live-update client rides on every page; it connects only where <body> carries data-rt-org.
registerAsset(realtimeClient.name, realtimeClient.path, realtimeClient.type, { global: true })

/** Paths that authenticate by other means than the session cookie (signatures, tokens). */
export const CSRF_EXEMPT: string[] = ['/webhooks/', '/capture/', '/api/']

export function createApp(deps: AppDeps) {
  const { config, log } = deps

  return new Elysia()
    .onRequest(({ request, server, set }) => {
      const id = request.headers.get('x-request-id')?.slice(0, 64) || Bun.randomUUIDv7()
      const forwarded = config.trustProxy
        ? request.headers.get('x-forwarded-for')?.split(',')[0]?.trim()
        : undefined
      const ip = forwarded || server?.requestIP(request)?.address || null
      requestMeta.set(request, { id, start: performance.now(), ip })
      set.headers['x-request-id'] = id
      set.headers['x-content-type-options'] = 'nosniff'
      set.headers['referrer-policy'] = 'strict-origin-when-cross-origin'
      set.headers['x-frame-options'] = 'DENY'
      const url = new URL(request.url)
      const origins = new Set([config.baseUrl.origin, url.origin])
      if (!csrfAllowed(request, origins, CSRF_EXEMPT)) {
        log.warn('csrf.refused', { reqId: id, path: url.pathname, origin: request.headers.get('origin') })
        return new Response('Request refused: it did not come from this site (CSRF check).', {
          status: 403,
          headers: { 'content-type': 'text/plain; charset=utf-8', 'x-request-id': id },
        })
      }
    })
    .onAfterResponse(({ request, set, responseValue }) => {
      const meta = requestMeta.get(request)
      if (!meta) return
      const path = new URL(request.url).pathname
      if (path.startsWith('/assets/')) return
      log.info('http', {
        reqId: meta.id,
        method: request.method,
        path,
        status: responseValue instanceof Response ? responseValue.status : set.status,
        ms: Math.round((performance.now() - meta.start) * 10) / 10,
      })
    })
    .onError(async ({ request, error, code }) => {
      if (error instanceof Redirect) {
        const r = error.ctx ?? (await reqCtx(deps, request))
        const h = new Headers({ location: error.location, 'x-request-id': r.reqId })
        for (const c of r.cookies) h.append('set-cookie', c)
        return new Response(null, { status: 303, headers: h })
      }
      if (error instanceof AppError) return renderError(deps, request, error.status, error)
      // `throw status(401, ...)` from a plugin (the WebSocket upgrade): answer exactly that.
      if (error instanceof ElysiaCustomStatusResponse)
        return new Response(String(error.response), { status: Number(error.code) })
      if (code === 'NOT_FOUND') return renderError(deps, request, 404)
      if (code === 'PARSE' || code === 'VALIDATION') return renderError(deps, request, 400)
      const meta = requestMeta.get(request)
      log.error('http.unhandled', { reqId: meta?.id, path: new URL(request.url).pathname, err: error })
      return renderError(deps, request, 500)
    })
    .get('/healthz', () => Response.json({ status: 'ok' }))
    .get('/readyz', async () => {
      try {
        const pending = await pendingMigrations(deps.db)
        if (pending.length) return Response.json({ status: 'migrating', pending }, { status: 503 })
        await deps.db.raw.query('select 1')
        return Response.json({ status: 'ready', database: deps.db.kind })
      } catch (err) {
        log.warn('readyz.failed', { err })
        return Response.json({ status: 'unavailable' }, { status: 503 })
      }
    })
    .get(
      '/assets/:name',
      ({ params, query }) => serveAsset(params.name, !!query.v) ?? renderError(deps, undefined, 404),
    )
    .use(authRoutes(deps))
    .use(orgRoutes(deps))
    .use(notificationRoutes(deps))
    .use(systemRoutes(deps))
    .use(deps.realtime ? deps.realtime.plugin() : new Elysia())
    .use(pipelineRoutes(deps))
    .use(dedupRoutes(deps))
    .use(leadsImportRoutes(deps))
    .use(leadListRoutes(deps))
    .use(leadsScoringRoutes(deps))
    .use(captureRoutes(deps))
    .use(inboxRoutes(deps))
    .use(whatsappRoutes(deps))
}
