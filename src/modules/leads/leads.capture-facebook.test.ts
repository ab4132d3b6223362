/**
 * Facebook Lead Ads: the verification handshake, signed deliveries (X-Hub-Signature-256 over the raw
 * body), one stored submission per leadgen_id, and the job fetching the lead from a local fake Graph
 * API (Bun.serve) with the documented payload shapes, retrying on 5xx.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { withSystem } from '../../platform/db/tenancy'
import { getJob } from '../../platform/jobs/jobs.queue'
import { createWorker } from '../../platform/jobs/jobs.worker'
import { silentLogger } from '../../platform/log/logger'
import type { Member } from '../pipeline/pipeline.fixtures'
import { facebookLeadJob } from './leads.capture-facebook'

setDefaultTimeout(60_000)

const APP_SECRET = 'fb-app-secret-123456'
const VERIFY = 'meu-token-de-verificacao'
const PAGE_TOKEN = 'EAAGpagetoken0987654321'

/** The fake Graph API: leads by id; `failures` 5xx answers before the real one. */
const graph = {
  leads: new Map<string, unknown>(),
  failures: new Map<string, number>(),
  calls: [] as string[],
}
let server: ReturnType<typeof Bun.serve>
let t: TestApp
let a: Member
let b: Member
let connId: string

beforeAll(async () => {
  server = Bun.serve({
    port: 0,
    fetch(req) {
      const url = new URL(req.url)
      graph.calls.push(url.pathname + url.search)
      const m = /^\/v21\.0\/([^/]+)$/.exec(url.pathname)
      if (!m) return Response.json({ error: { message: 'Unknown path' } }, { status: 400 })
      if (url.searchParams.get('access_token') !== PAGE_TOKEN)
        return Response.json(
          { error: { message: 'Invalid OAuth access token.', type: 'OAuthException', code: 190 } },
          { status: 400 },
        )
      const left = graph.failures.get(m[1]!) ?? 0
      if (left > 0) {
        graph.failures.set(m[1]!, left - 1)
        return Response.json(
          { error: { message: 'Service temporarily unavailable', code: 2 } },
          { status: 503 },
        )
      }
      const lead = graph.leads.get(m[1]!)
      return lead
        ? Response.json(lead)
        : Response.json({ error: { message: 'Unsupported get request.', code: 100 } }, { status: 400 })
    },
  })
  t = await createTestApp({ FACEBOOK_GRAPH_URL: `http://127.0.0.1:${server.port}` })
  a = await signUpClient(t, { orgName: 'Loja A' })
  b = await signUpClient(t, { orgName: 'Loja B' })
  await a.client.get('/pipeline')
  const res = await a.client.post('/settings/capture/facebook', {
    name: 'Loja A no Facebook',
    appSecret: APP_SECRET,
    verifyToken: VERIFY,
    pageToken: PAGE_TOKEN,
    tags: 'facebook',
  })
  expect(res.status).toBe(303)
  connId = res.headers.get('location')!.split('/').pop()!
})
afterAll(async () => {
  await t.close()
  server.stop(true)
})

const hook = (path: string, init: RequestInit = {}) =>
  t.handle(new Request(`http://localhost:3000/capture/facebook/${path}`, init))
const sign = (body: string, secret = APP_SECRET) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
const delivery = (...leadgenIds: string[]) =>
  JSON.stringify({
    object: 'page',
    entry: [
      {
        id: '153125381133',
        time: 1438292065,
        changes: leadgenIds.map((id) => ({
          field: 'leadgen',
          value: {
            leadgen_id: id,
            page_id: '153125381133',
            form_id: '444',
            ad_id: '555',
            created_time: 1438292065,
          },
        })),
      },
    ],
  })
const post = (body: string, signature: string | null) =>
  hook(connId, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(signature ? { 'x-hub-signature-256': signature } : {}),
    },
    body,
  })
const fbSubs = () =>
  t.db.raw.query<{
    id: string
    status: string
    external_id: string
    lead_id: string | null
    error: string | null
  }>(
    'select id, status, external_id, lead_id, error from capture_submissions where connection_id = $1 order by received_at',
    [connId],
  )
function worker() {
  return createWorker({ db: t.db, log: silentLogger, jobs: [facebookLeadJob] })
}
const graphLead = (id: string, name: string, email: string, phone: string) => ({
  id,
  created_time: '2026-11-27T12:00:00+0000',
  field_data: [
    { name: 'full_name', values: [name] },
    { name: 'email', values: [email] },
    { name: 'phone_number', values: [phone] },
    { name: 'qual_o_seu_orcamento?', values: ['R$ 5 mil'] },
  ],
})

describe('verification handshake', () => {
  test('the right verify token echoes hub.challenge; a wrong one or mode is 403; unknown ids 404', async () => {
    const q = (token: string, mode = 'subscribe') =>
      `${connId}?hub.mode=${mode}&hub.verify_token=${encodeURIComponent(token)}&hub.challenge=1158201444`
    const ok = await hook(q(VERIFY))
    expect(ok.status).toBe(200)
    expect(await ok.text()).toBe('1158201444')
    expect((await hook(q('errado'))).status).toBe(403)
    expect((await hook(q(VERIFY, 'unsubscribe'))).status).toBe(403)
    expect(
      (await hook(`${crypto.randomUUID()}?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=1`))
        .status,
    ).toBe(404)
  })
})

describe('signed deliveries', () => {
  test('a wrong or missing signature is 401 and stores nothing', async () => {
    const body = delivery('999001')
    expect((await post(body, null)).status).toBe(401)
    expect((await post(body, sign(body, 'another-secret'))).status).toBe(401)
    expect((await post(body, 'sha256=zz')).status).toBe(401)
    // Signed over a different body (the raw bytes matter, not the parsed JSON).
    expect((await post(`${body} `, sign(body))).status).toBe(401)
    expect((await fbSubs()).length).toBe(0)
  })

  test('a signed lead is stored, fetched from the Graph API by the job and captured', async () => {
    graph.leads.set('100001', graphLead('100001', 'Marina Costa', 'marina@example.com', '+55 11 91234-5678'))
    const body = delivery('100001')
    const res = await post(body, sign(body))
    expect(res.status).toBe(200)
    expect((await fbSubs()).map((s) => [s.external_id, s.status])).toEqual([['100001', 'accepted']])
    expect(await worker().runDue()).toBe(1)
    const [sub] = await fbSubs()
    expect(sub!.status).toBe('processed')
    const [lead] = await t.db.raw.query<{
      full_name: string
      email: string
      phone: string
      source: string
      tags: string[]
    }>('select full_name, email, phone, source, tags from leads where id = $1', [sub!.lead_id])
    expect(lead).toEqual({
      full_name: 'Marina Costa',
      email: 'marina@example.com',
      phone: '+5511912345678',
      source: 'Facebook Lead Ads',
      tags: ['facebook'],
    })
    expect(graph.calls.some((c) => c === `/v21.0/100001?access_token=${PAGE_TOKEN}`)).toBe(true)
  })

  test('the same leadgen_id delivered twice is stored and processed once', async () => {
    graph.leads.set('100002', graphLead('100002', 'Paulo Dias', 'paulo@example.com', '11 93333-2222'))
    const body = delivery('100002')
    expect((await post(body, sign(body))).status).toBe(200)
    expect((await post(body, sign(body))).status).toBe(200)
    const both = delivery('100002', '100002')
    expect((await post(both, sign(both))).status).toBe(200)
    expect((await fbSubs()).filter((s) => s.external_id === '100002').length).toBe(1)
    await worker().runDue()
    const leads = await t.db.raw.query('select id from leads where full_name = $1', ['Paulo Dias'])
    expect(leads.length).toBe(1)
  })

  test('Graph 5xx: the job retries with backoff and then captures the lead', async () => {
    graph.leads.set('100003', graphLead('100003', 'Sofia Almeida', 'sofia@example.com', '21 98888-7777'))
    graph.failures.set('100003', 2)
    const body = delivery('100003')
    expect((await post(body, sign(body))).status).toBe(200)
    const w = worker()
    await w.runDue()
    let sub = (await fbSubs()).find((s) => s.external_id === '100003')!
    expect(sub.status).toBe('accepted')
    // This submission's own job (earlier tests' jobs may share a creation timestamp).
    const [job] = await t.db.raw.query<{ id: string; state: string; attempts: number }>(
      "select id, state, attempts from jobs where name = 'leads.facebook_lead' and payload->>'submissionId' = $1",
      [sub.id],
    )
    expect(job!.attempts).toBe(1)
    expect(job!.state).toBe('failed') // failed = waiting for its retry
    // Make the retries due now instead of waiting for the backoff.
    for (let i = 0; i < 2; i++) {
      await t.db.raw.query('update jobs set run_at = now() where id = $1', [job!.id])
      await w.runDue()
    }
    sub = (await fbSubs()).find((s) => s.external_id === '100003')!
    expect(sub.status).toBe('processed')
    const done = await withSystem(t.db, (tx) => getJob(tx, job!.id))
    expect(done!.state).toBe('completed')
    expect(done!.attempts).toBe(3)
  })

  test('a Graph 4xx (bad token) marks the submission rejected for review; fixing the token and retrying works', async () => {
    graph.leads.set('100004', graphLead('100004', 'Igor Ramos', 'igor@example.com', '31 97777-1111'))
    await a.client.post(`/settings/capture/facebook/${connId}`, {
      name: 'Loja A no Facebook',
      appSecret: '',
      verifyToken: '',
      pageToken: 'expired-token-xyz',
      tags: 'facebook',
      active: 'on',
    })
    const body = delivery('100004')
    expect((await post(body, sign(body))).status).toBe(200)
    await worker().runDue()
    let sub = (await fbSubs()).find((s) => s.external_id === '100004')!
    expect(sub.status).toBe('rejected')
    expect(JSON.parse(sub.error!).graph).toContain('Invalid OAuth access token')
    const review = await a.client.page(`/settings/capture/facebook/${connId}/submissions`)
    expect(review).toContain('100004')
    // The admin pastes a fresh page token, then asks to fetch again.
    await a.client.post(`/settings/capture/facebook/${connId}`, {
      name: 'Loja A no Facebook',
      appSecret: '',
      verifyToken: '',
      pageToken: PAGE_TOKEN,
      tags: 'facebook',
      active: 'on',
    })
    expect((await a.client.post(`/settings/capture/submissions/${sub.id}/retry`)).status).toBe(303)
    await worker().runDue()
    sub = (await fbSubs()).find((s) => s.external_id === '100004')!
    expect(sub.status).toBe('processed')
  })

  test('secrets are sealed at rest and the verify token is shown to admins only; B gets 404', async () => {
    const [row] = await t.db.raw.query<Record<string, string>>(
      'select app_secret_enc, verify_token_enc, page_token_enc from facebook_connections where id = $1',
      [connId],
    )
    const stored = JSON.stringify(row)
    for (const secret of [APP_SECRET, VERIFY, PAGE_TOKEN]) expect(stored).not.toContain(secret)
    const page = await a.client.page(`/settings/capture/facebook/${connId}`)
    expect(page).toContain(VERIFY)
    expect(page).not.toContain(APP_SECRET)
    expect(page).not.toContain(PAGE_TOKEN)
    expect(page).toContain(`/capture/facebook/${connId}`)
    expect((await b.client.get(`/settings/capture/facebook/${connId}`)).status).toBe(404)
    expect((await b.client.get(`/settings/capture/facebook/${connId}/submissions`)).status).toBe(404)
    expect((await b.client.post(`/settings/capture/facebook/${connId}/delete`)).status).toBe(404)
    const bLeads = await t.db.raw.query('select 1 from leads where organization_id = $1', [b.orgId])
    expect(bLeads.length).toBe(0)
  })
})
