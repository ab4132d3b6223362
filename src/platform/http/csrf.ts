/**
 * CSRF: a state-changing request (anything but GET/HEAD/OPTIONS) is accepted only when the browser
 * says it is same-origin: `Origin` equal to our origin, or, without Origin, `Sec-Fetch-Site:
 * same-origin`. Both htmx requests and plain form posts carry them in every current browser.
 * Paths that authenticate otherwise (provider webhooks with signatures, bearer-token API, public
 * capture forms) are listed as exempt by the module that owns them.
 */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

export function csrfAllowed(
  request: Request,
  allowedOrigins: Set<string>,
  exemptPrefixes: readonly string[],
): boolean {
  if (SAFE.has(request.method)) return true
  const path = new URL(request.url).pathname
  if (exemptPrefixes.some((p) => path.startsWith(p))) return true
  const origin = request.headers.get('origin')
  if (origin && origin !== 'null') return allowedOrigins.has(origin)
  const site = request.headers.get('sec-fetch-site')
  return site === 'same-origin'
}
