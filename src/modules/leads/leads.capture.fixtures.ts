/**
 * Test helpers for lead capture (imported by tests and the e2e test only): a source created through
 * the settings form, its token read back from the settings page, and a public post to the endpoint.
 */
import { expect } from 'bun:test'
import type { TestApp, TestClient } from '../../../test/harness'

export async function createSourceViaSettings(
  client: TestClient,
  form: Partial<
    Record<'name' | 'sourceLabel' | 'tags' | 'target' | 'redirectUrl' | 'allowedOrigins', string>
  > = {},
) {
  const res = await client.post('/settings/capture', {
    name: 'Site',
    sourceLabel: '',
    tags: '',
    target: '',
    redirectUrl: '',
    allowedOrigins: '',
    ...form,
  })
  expect(res.status).toBe(303)
  const id = res.headers.get('location')!.split('/').pop()!
  const page = await client.page(`/settings/capture/${id}`)
  const endpoint =
    /data-testid="capture-endpoint"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*data-testid="capture-endpoint"/.exec(
      page,
    )
  const url = endpoint?.[1] ?? endpoint?.[2]
  if (!url) throw new Error('no capture endpoint on the source page')
  const token = url.split('/capture/')[1]!
  return { id, token, page }
}

export function postCapture(
  t: Pick<TestApp, 'handle'>,
  token: string,
  body: BodyInit | Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  const isJson = !(typeof body === 'string' || body instanceof FormData || body instanceof URLSearchParams)
  return t.handle(
    new Request(`http://localhost:3000/capture/${token}`, {
      method: 'POST',
      headers: isJson ? { 'content-type': 'application/json', ...headers } : headers,
      body: isJson ? JSON.stringify(body) : (body as BodyInit),
      redirect: 'manual',
    }),
  )
}
