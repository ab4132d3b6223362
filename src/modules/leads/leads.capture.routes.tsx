/**
 * Lead capture routes.
 *
 * Public (CSRF-exempt by the `/capture/` prefix in src/app.ts; they authenticate by token/signature):
 *   OPTIONS/POST /capture/:token          website forms and JSON callers (CORS, honeypot, redirect)
 *   GET/POST     /capture/facebook/:id    Facebook Lead Ads webhook (handshake, signed deliveries)
 * Settings (owners and admins): /settings/capture...
 *
 * The token (or connection id) is the only thing resolved as the system; everything else runs in
 * the organization's withOrg. Unknown tokens store nothing anywhere.
 */
import { Elysia } from 'elysia'
import captureCss from '../../../public/leads-capture.css' with { type: 'file' }
import { CaptureRefusedPage, CaptureThanksPage } from '../../../views/leads/capture-public'
import {
  CapturePage,
  FacebookPage,
  NewFacebookPage,
  SourcePage,
  SubmissionsPage,
} from '../../../views/leads/capture-settings'
import type { Ui } from '../../../views/ui'
import { withOrg } from '../../platform/db/tenancy'
import { registerAsset } from '../../platform/http/assets'
import { type AppDeps, type OrgCtx, requestMeta, requireOrg, setFlash } from '../../platform/http/context'
import { renderError } from '../../platform/http/error-response'
import { AppError, type FormError } from '../../platform/http/errors'
import { fields, html, redirect, uiOf, withForm } from '../../platform/http/respond'
import { type MessageKey, resolveLocale, type T, translator } from '../../shared/i18n'
import {
  CONNECTION_FIELDS,
  type ConnectionForm,
  configureFacebookCapture,
  connectionVerifyToken,
  createConnection,
  deleteConnection,
  getConnection,
  leadgenChanges,
  listConnections,
  MAX_WEBHOOK_BYTES,
  newVerifyToken,
  resolveConnection,
  storeLeadgen,
  updateConnection,
  verifyHandshake,
  verifySignature,
} from './leads.capture-facebook'
import { MAX_CAPTURE_BYTES, mediaType, parseBody, readLimited } from './leads.capture-fields'
import {
  type Arrival,
  originAllowed,
  type ResolvedSource,
  receiveSubmission,
  resolveToken,
} from './leads.capture-intake'
import { retrySubmission } from './leads.capture-review'
import {
  createSource,
  decodeReasons,
  deleteSource,
  getSource,
  getSubmission,
  listSources,
  listSubmissions,
  originOf,
  type RejectReasons,
  rotateToken,
  SOURCE_FIELDS,
  type SourceForm,
  sourceForm,
  sourceToken,
  TOKEN_RE,
  targetOptions,
  updateSource,
} from './leads.capture-sources'

registerAsset('leads-capture.css', captureCss, 'text/css; charset=utf-8')

const ADMINS = ['owner', 'admin'] as const

export function captureRoutes(deps: AppDeps) {
  const { db, config, log } = deps
  configureFacebookCapture(db, config)
  const scope = (r: OrgCtx) => ({ orgId: r.org.orgId, userId: r.auth.user.id })
  const admin = (request: Request) => requireOrg(deps, request, [...ADMINS])
  const endpointOf = (token: string) => new URL(`/capture/${token}`, config.baseUrl).toString()

  // Public: helpers ------------------------------------------------------------------------------

  const publicUi = (request: Request): Ui => {
    const locale = resolveLocale(null, null, request.headers.get('accept-language'))
    return { t: translator(locale), locale, instanceName: config.instanceName, path: '/capture', flash: null }
  }
  const reqId = (request: Request) => requestMeta.get(request)?.id ?? ''
  const ipOf = (request: Request) => requestMeta.get(request)?.ip ?? null

  /** Answer JSON to fetch/API callers; a page or a redirect to plain form posts. */
  const wantsJson = (request: Request) => {
    const type = mediaType(request.headers.get('content-type'))
    if (type === 'application/json' || type.endsWith('+json')) return true
    const accept = request.headers.get('accept') ?? ''
    return accept.includes('application/json') && !accept.includes('text/html')
  }

  const corsHeaders = (src: ResolvedSource | null, origin: string | null): Record<string, string> =>
    src && origin && originAllowed(src, origin)
      ? { 'access-control-allow-origin': origin, vary: 'Origin' }
      : { vary: 'Origin' }

  const jsonReply = (data: unknown, status: number, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(data), {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    })

  const pageReply = async (body: JSX.Element, status: number, headers: Record<string, string> = {}) =>
    new Response(await body, {
      status,
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers },
    })

  const localizedReasons = (t: T, reasons: RejectReasons) =>
    Object.fromEntries(
      Object.entries(reasons).map(([f, k]) => [f, t(k as MessageKey) ?? String(k)]),
    ) as Record<string, string>

  /** Where a successful form post goes: `_redirect` only on an allowed origin, else the source's URL. */
  const redirectFor = (src: ResolvedSource, fieldsIn: Record<string, unknown> | null): string | null => {
    const asked = typeof fieldsIn?._redirect === 'string' ? fieldsIn._redirect : ''
    const askedOrigin = asked ? originOf(asked) : null
    if (askedOrigin) {
      const ownOrigin = src.redirectUrl ? originOf(src.redirectUrl) : null
      if (src.allowedOrigins.includes(askedOrigin) || askedOrigin === ownOrigin) return asked
    }
    return src.redirectUrl
  }
  /** The page the visitor came from, for a "back" link (http(s) only). */
  const backLink = (request: Request) => {
    const ref = request.headers.get('referer')
    return ref && originOf(ref) ? ref : null
  }

  const notFoundReply = (request: Request) =>
    wantsJson(request) ? jsonReply({ ok: false, error: 'not_found' }, 404) : renderError(deps, request, 404)

  return (
    new Elysia({ name: 'leads.capture.routes' })
      // Facebook first: its static segment wins over /capture/:token.
      .get('/capture/facebook/:id', async ({ request, params }) => {
        const conn = await resolveConnection(db, params.id)
        if (!conn) return new Response('Not found', { status: 404 })
        const challenge = verifyHandshake(conn, config.secretKey, new URL(request.url).searchParams)
        if (challenge === null) {
          log.warn('capture.facebook.handshake_refused', { reqId: reqId(request), connectionId: conn.id })
          return new Response('Forbidden', { status: 403 })
        }
        return new Response(challenge, {
          status: 200,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
        })
      })
      .post(
        '/capture/facebook/:id',
        async ({ request, params }) => {
          const conn = await resolveConnection(db, params.id)
          if (!conn) return new Response('Not found', { status: 404 })
          const raw = await readLimited(request, MAX_WEBHOOK_BYTES)
          if (!raw) return new Response('Payload too large', { status: 413 })
          if (!verifySignature(conn, config.secretKey, raw, request.headers.get('x-hub-signature-256'))) {
            log.warn('capture.facebook.bad_signature', {
              reqId: reqId(request),
              connectionId: conn.id,
              ip: ipOf(request),
              present: request.headers.has('x-hub-signature-256'),
            })
            return new Response('Invalid signature', { status: 401 })
          }
          let body: unknown
          try {
            body = JSON.parse(new TextDecoder().decode(raw))
          } catch {
            return new Response('Bad JSON', { status: 400 })
          }
          const changes = leadgenChanges(body)
          const stored = changes.length
            ? await withOrg(db, conn.organizationId, (tx) =>
                storeLeadgen(tx, conn, changes, {
                  contentType: request.headers.get('content-type'),
                  remoteIp: ipOf(request),
                }),
              )
            : 0
          log.info('capture.facebook.received', {
            reqId: reqId(request),
            connectionId: conn.id,
            leads: changes.length,
            stored,
          })
          return new Response('EVENT_RECEIVED', { status: 200, headers: { 'content-type': 'text/plain' } })
        },
        { parse: 'none' },
      )
      .options('/capture/:token', async ({ request, params }) => {
        if (!TOKEN_RE.test(params.token)) return new Response(null, { status: 404 })
        const src = await resolveToken(db, params.token, { count: false })
        if (!src) return new Response(null, { status: 404 })
        const origin = request.headers.get('origin')
        if (!originAllowed(src, origin))
          return new Response(null, { status: 403, headers: { vary: 'Origin' } })
        return new Response(null, {
          status: 204,
          headers: {
            ...corsHeaders(src, origin),
            'access-control-allow-methods': 'POST, OPTIONS',
            'access-control-allow-headers': 'content-type, accept',
            'access-control-max-age': '600',
          },
        })
      })
      .post(
        '/capture/:token',
        async ({ request, params }) => {
          if (!TOKEN_RE.test(params.token)) return notFoundReply(request)
          const src = await resolveToken(db, params.token, { count: true })
          if (!src) return notFoundReply(request)
          const origin = request.headers.get('origin')
          const cors = corsHeaders(src, origin)
          const ui = publicUi(request)
          const json = wantsJson(request)
          if (src.rateCount > config.captureRateLimit) {
            log.warn('capture.rate_limited', { reqId: reqId(request), sourceId: src.id })
            const headers = { ...cors, 'retry-after': String(src.retryAfter) }
            const message = ui.t('capture.error.rate_limited')
            return json
              ? jsonReply({ ok: false, error: 'rate_limited', message }, 429, headers)
              : pageReply(
                  <CaptureRefusedPage ui={ui} reasons={[message]} back={backLink(request)} />,
                  429,
                  headers,
                )
          }
          const contentType = request.headers.get('content-type')
          const parsed = await parseBody(await readLimited(request, MAX_CAPTURE_BYTES), contentType)
          let body: Arrival['body'] = parsed.ok
            ? { ok: true, fields: parsed.fields }
            : { ok: false, reason: parsed.reason, summary: parsed.summary }
          if (!originAllowed(src, origin))
            body = {
              ok: false,
              reason: 'origin',
              summary: { _origin: origin, ...(parsed.ok ? parsed.fields : parsed.summary) },
            }
          const result = await withOrg(db, src.organizationId, (tx) =>
            receiveSubmission(tx, src, { contentType, remoteIp: ipOf(request), body }),
          )
          const fieldsIn = parsed.ok ? parsed.fields : null
          if (result.kind === 'rejected') {
            const reasons = localizedReasons(ui.t, result.reasons)
            if (json)
              return jsonReply(
                {
                  ok: false,
                  error: result.status === 422 ? 'invalid' : (Object.values(result.reasons)[0] ?? 'invalid'),
                  message: Object.values(reasons).join(' '),
                  fields: reasons,
                },
                result.status,
                cors,
              )
            return pageReply(
              <CaptureRefusedPage ui={ui} reasons={Object.values(reasons)} back={backLink(request)} />,
              result.status,
              cors,
            )
          }
          // A bot (honeypot filled) gets the same answer as a person, minus the lead id.
          const leadId = result.kind === 'accepted' ? result.leadId : undefined
          if (json) return jsonReply({ ok: true, ...(leadId ? { leadId } : {}) }, 200, cors)
          const to = redirectFor(src, fieldsIn)
          if (to) return new Response(null, { status: 303, headers: { ...cors, location: to } })
          return pageReply(<CaptureThanksPage ui={ui} back={backLink(request)} />, 200, cors)
        },
        { parse: 'none' },
      )

      // Settings: sources ----------------------------------------------------------------------------
      .get('/settings/capture', async ({ request }) => {
        const r = await admin(request)
        return overview(r, { values: { active: 'on' }, errors: null })
      })
      .post('/settings/capture', async ({ request, body }) => {
        const r = await admin(request)
        const input = fields(body, SOURCE_FIELDS) as unknown as SourceForm
        const res = await withForm(
          () => withOrg(db, scope(r), (tx) => createSource(tx, r.actor, input, config.secretKey)),
          (e) => overview(r, formOf(input, e), 422),
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('capture.created'))
        return redirect(r, `/settings/capture/${res.value.id}`)
      })
      .post('/settings/capture/facebook', async ({ request, body }) => {
        const r = await admin(request)
        const input = fields(body, CONNECTION_FIELDS) as unknown as ConnectionForm
        const res = await withForm(
          () => withOrg(db, scope(r), (tx) => createConnection(tx, r.actor, input, config.secretKey)),
          (e) => html(r, <NewFacebookPage ui={uiOf(r)} form={formOf(secretless(input), e)} />, 422),
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('capture.fb.created'))
        return redirect(r, `/settings/capture/facebook/${res.value}`)
      })
      .get('/settings/capture/facebook/new', async ({ request }) => {
        const r = await admin(request)
        return html(
          r,
          <NewFacebookPage ui={uiOf(r)} form={{ values: { verifyToken: newVerifyToken() }, errors: null }} />,
        )
      })
      .get('/settings/capture/facebook/:id', async ({ request, params }) => {
        const r = await admin(request)
        return facebookPage(r, params.id)
      })
      .post('/settings/capture/facebook/:id', async ({ request, params, body }) => {
        const r = await admin(request)
        const input = fields(body, CONNECTION_FIELDS) as unknown as ConnectionForm
        const res = await withForm(
          () =>
            withOrg(db, scope(r), (tx) => updateConnection(tx, r.actor, params.id, input, config.secretKey)),
          (e) => facebookPage(r, params.id, formOf(secretless(input), e), 422),
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('capture.saved'))
        return redirect(r, `/settings/capture/facebook/${params.id}`)
      })
      .post('/settings/capture/facebook/:id/delete', async ({ request, params }) => {
        const r = await admin(request)
        await withOrg(db, scope(r), (tx) => deleteConnection(tx, r.actor, params.id))
        setFlash(r, 'success', r.t('capture.deleted'))
        return redirect(r, '/settings/capture')
      })
      .get('/settings/capture/facebook/:id/submissions', async ({ request, params }) => {
        const r = await admin(request)
        const filter = r.url.searchParams.get('status') === 'all' ? 'all' : 'review'
        const data = await withOrg(db, scope(r), async (tx) => ({
          conn: await getConnection(tx, params.id),
          rows: await listSubmissions(tx, { connectionId: params.id }, filter),
        }))
        return html(
          r,
          <SubmissionsPage
            ui={uiOf(r)}
            title={data.conn.name}
            backHref={`/settings/capture/facebook/${params.id}`}
            baseHref={`/settings/capture/facebook/${params.id}/submissions`}
            filter={filter}
            rows={data.rows.map((x) => ({ ...x, reasons: decodeReasons(x.error) as Record<string, string> }))}
          />,
        )
      })
      .post('/settings/capture/submissions/:id/retry', async ({ request, params }) => {
        const r = await admin(request)
        const { result, sub } = await withOrg(db, scope(r), async (tx) => {
          const s = await getSubmission(tx, params.id)
          try {
            return { result: await retrySubmission(tx, r.actor, params.id), sub: s }
          } catch (err) {
            if (err instanceof AppError && err.status === 409) return { result: null, sub: s }
            throw err
          }
        })
        const back = sub.connectionId
          ? `/settings/capture/facebook/${sub.connectionId}/submissions`
          : `/settings/capture/${sub.sourceId}/submissions`
        if (!result) setFlash(r, 'info', r.t('capture.error.already_processed'))
        else if (result.kind === 'created') setFlash(r, 'success', r.t('capture.retry_done'))
        else if (result.kind === 'queued') setFlash(r, 'info', r.t('capture.retry_queued'))
        else
          setFlash(
            r,
            'error',
            `${r.t('capture.retry_refused')} ${Object.values(localizedReasons(r.t, result.reasons)).join(' ')}`,
          )
        return redirect(r, back)
      })
      .get('/settings/capture/:id', async ({ request, params }) => {
        const r = await admin(request)
        return sourcePage(r, params.id)
      })
      .post('/settings/capture/:id', async ({ request, params, body }) => {
        const r = await admin(request)
        const input = fields(body, SOURCE_FIELDS) as unknown as SourceForm
        const res = await withForm(
          () => withOrg(db, scope(r), (tx) => updateSource(tx, r.actor, params.id, input)),
          (e) => sourcePage(r, params.id, formOf(input, e), 422),
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('capture.saved'))
        return redirect(r, `/settings/capture/${params.id}`)
      })
      .post('/settings/capture/:id/rotate', async ({ request, params }) => {
        const r = await admin(request)
        await withOrg(db, scope(r), (tx) => rotateToken(tx, r.actor, params.id, config.secretKey))
        setFlash(r, 'success', r.t('capture.rotated'))
        return redirect(r, `/settings/capture/${params.id}`)
      })
      .post('/settings/capture/:id/delete', async ({ request, params }) => {
        const r = await admin(request)
        await withOrg(db, scope(r), (tx) => deleteSource(tx, r.actor, params.id))
        setFlash(r, 'success', r.t('capture.deleted'))
        return redirect(r, '/settings/capture')
      })
      .get('/settings/capture/:id/submissions', async ({ request, params }) => {
        const r = await admin(request)
        const filter = r.url.searchParams.get('status') === 'all' ? 'all' : 'review'
        const data = await withOrg(db, scope(r), async (tx) => ({
          source: await getSource(tx, params.id),
          rows: await listSubmissions(tx, { sourceId: params.id }, filter),
        }))
        return html(
          r,
          <SubmissionsPage
            ui={uiOf(r)}
            title={data.source.name}
            backHref={`/settings/capture/${params.id}`}
            baseHref={`/settings/capture/${params.id}/submissions`}
            filter={filter}
            rows={data.rows.map((x) => ({ ...x, reasons: decodeReasons(x.error) as Record<string, string> }))}
          />,
        )
      })
  )

  // Settings: pages --------------------------------------------------------------------------------

  async function overview(
    r: OrgCtx,
    form: { values: Record<string, string>; errors: FormError | null },
    status = 200,
  ) {
    const data = await withOrg(db, scope(r), async (tx) => ({
      sources: await listSources(tx),
      connections: await listConnections(tx),
      targets: await targetOptions(tx),
    }))
    return html(r, <CapturePage ui={uiOf(r)} {...data} form={form} />, status)
  }

  async function sourcePage(
    r: OrgCtx,
    id: string,
    form?: { values: Record<string, string>; errors: FormError | null },
    status = 200,
  ) {
    const data = await withOrg(db, scope(r), async (tx) => {
      const source = await getSource(tx, id)
      const review = (await listSubmissions(tx, { sourceId: id }, 'review')).length
      return { source, review, targets: await targetOptions(tx) }
    })
    return html(
      r,
      <SourcePage
        ui={uiOf(r)}
        source={data.source}
        endpoint={endpointOf(sourceToken(data.source, config.secretKey))}
        targets={data.targets}
        review={data.review}
        form={form ?? { values: { ...sourceForm(data.source) }, errors: null }}
      />,
      status,
    )
  }

  async function facebookPage(
    r: OrgCtx,
    id: string,
    form?: { values: Record<string, string>; errors: FormError | null },
    status = 200,
  ) {
    const data = await withOrg(db, scope(r), async (tx) => {
      const connection = await getConnection(tx, id)
      const review = (await listSubmissions(tx, { connectionId: id }, 'review')).length
      return { connection, review }
    })
    const c = data.connection
    return html(
      r,
      <FacebookPage
        ui={uiOf(r)}
        connection={c}
        webhookUrl={new URL(`/capture/facebook/${c.id}`, config.baseUrl).toString()}
        verifyToken={connectionVerifyToken(c, config.secretKey)}
        review={data.review}
        form={
          form ?? {
            values: { name: c.name, tags: c.tags.join(', '), active: c.active ? 'on' : '' },
            errors: null,
          }
        }
      />,
      status,
    )
  }
}

const formOf = (input: object, errors: FormError) => ({
  values: input as unknown as Record<string, string>,
  errors,
})
/** A refused form never echoes secrets back into the page. */
const secretless = (input: ConnectionForm): ConnectionForm => ({ ...input, appSecret: '', pageToken: '' })
