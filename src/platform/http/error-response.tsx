import { ErrorPage } from '../../../views/errors/error-page'
import { DEFAULT_LOCALE, translator } from '../../shared/i18n'
import { type AppDeps, reqCtx, requestMeta } from './context'
import type { AppError } from './errors'
import { html, json, uiOf } from './respond'

/** Errors answer in the client's language and format: an HTML page for browsers, JSON for API clients. */
export async function renderError(
  deps: AppDeps,
  request: Request | undefined,
  status: number,
  err?: AppError,
): Promise<Response> {
  if (!request) return new Response('Not found', { status })
  let r: Awaited<ReturnType<typeof reqCtx>>
  try {
    r = await reqCtx(deps, request)
  } catch {
    // The database may be the reason we are here: answer without a session.
    const t = translator(DEFAULT_LOCALE)
    return new Response(t('error.server.title'), {
      status: 500,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    })
  }
  const { t } = r
  const reqId = requestMeta.get(request)?.id ?? r.reqId
  const title =
    status === 404
      ? t('error.not_found.title')
      : status >= 500
        ? t('error.server.title')
        : err?.messageKey
          ? t(err.messageKey, err.params)
          : t('error.forbidden')
  const body =
    status === 404
      ? t('error.not_found.body')
      : status >= 500
        ? t('error.server.body', { id: reqId })
        : status === 400
          ? t('error.form')
          : ''
  const wantsJson = (request.headers.get('accept') ?? '').includes('application/json') && !r.isHtmx
  if (wantsJson) return json(r, { error: { code: err?.code ?? String(status), message: title } }, status)
  const res = await html(r, <ErrorPage ui={uiOf(r)} status={status} title={title} body={body} />, status)
  if (status === 429 && err?.params?.minutes)
    res.headers.set('retry-after', String(Number(err.params.minutes) * 60))
  return res
}
