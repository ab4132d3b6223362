/**
 * POST /capture/TOKEN end to end through app.handle(): JSON, form posts (redirect / thank-you page),
 * invalid input kept as rejected, the honeypot, unknown tokens, CORS, the per-token rate limit, dedup
 * on this path, the review page's "create lead anyway", and cross-tenant isolation of it all.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { firstPipeline, type Member, stagesOf } from '../pipeline/pipeline.fixtures'
import { createSourceViaSettings, postCapture } from './leads.capture.fixtures'

setDefaultTimeout(60_000)

let t: TestApp
let a: Member
let b: Member
let src: Awaited<ReturnType<typeof createSourceViaSettings>>

const subs = (orgId: string) =>
  t.db.raw.query<{
    id: string
    status: string
    error: string | null
    lead_id: string | null
    payload: Record<string, unknown>
    content_type: string | null
  }>('select * from capture_submissions where organization_id = $1 order by received_at, id', [orgId])
const leadsOf = (orgId: string) =>
  t.db.raw.query<{
    id: string
    full_name: string
    email: string | null
    phone: string | null
    source: string | null
    tags: string[]
    stage_id: string
    created_by: string | null
  }>('select * from leads where organization_id = $1 order by created_at, id', [orgId])
const countAll = async (table: string) =>
  Number((await t.db.raw.query<{ n: number }>(`select count(*)::int as n from ${table}`))[0]!.n)

beforeAll(async () => {
  t = await createTestApp({ CAPTURE_RATE_LIMIT: '1000' })
  a = await signUpClient(t, { orgName: 'Agência A' })
  b = await signUpClient(t, { orgName: 'Agência B' })
  await a.client.get('/pipeline') // the default pipeline
  await b.client.get('/pipeline')
  src = await createSourceViaSettings(a.client, {
    name: 'Landing Black Friday',
    sourceLabel: 'Landing BF',
    tags: 'black friday, site',
    redirectUrl: 'https://www.agencia-a.com.br/obrigado',
    allowedOrigins: 'https://www.agencia-a.com.br\nhttps://lp.agencia-a.com.br/promo',
  })
})
afterAll(() => t.close())

describe('a valid submission', () => {
  test('JSON (pt-BR field names) creates a lead with the source label, tags, E.164 phone and a note', async () => {
    const res = await postCapture(t, src.token, {
      nome: 'Joana Prado',
      email: 'joana.prado@example.com',
      telefone: '(11) 98765-4321',
      empresa: 'Prado & Filhos',
      mensagem: 'Quero uma proposta',
      utm_campaign: 'bf2026',
    })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { ok: boolean; leadId: string }
    expect(body.ok).toBe(true)
    const lead = (await leadsOf(a.orgId)).find((l) => l.id === body.leadId)!
    expect(lead).toMatchObject({
      full_name: 'Joana Prado',
      email: 'joana.prado@example.com',
      phone: '+5511987654321',
      source: 'Landing BF',
      created_by: null,
    })
    expect([...lead.tags].sort()).toEqual(['black friday', 'site'])
    const [note] = await t.db.raw.query<{ data: { body: string } }>(
      "select data from lead_activities where lead_id = $1 and kind = 'note'",
      [body.leadId],
    )
    expect(note!.data.body).toContain('Quero uma proposta')
    expect(note!.data.body).toContain('utm_campaign: bf2026')
    const sub = (await subs(a.orgId)).at(-1)!
    expect(sub).toMatchObject({ status: 'processed', lead_id: body.leadId, content_type: 'application/json' })
    expect(sub.payload.nome).toBe('Joana Prado')
  })

  test('a plain form post is redirected (303) to the source redirect URL', async () => {
    const res = await postCapture(
      t,
      src.token,
      new URLSearchParams({ name: 'Rafael Lima', 'e-mail': 'rafael@example.com', _hp: '' }),
      {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'text/html',
        origin: 'https://www.agencia-a.com.br',
      },
    )
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('https://www.agencia-a.com.br/obrigado')
    expect(res.headers.get('access-control-allow-origin')).toBe('https://www.agencia-a.com.br')
    expect((await leadsOf(a.orgId)).some((l) => l.full_name === 'Rafael Lima')).toBe(true)
  })

  test('_redirect is followed only on an allowed origin (no open redirect)', async () => {
    const post = (to: string) =>
      postCapture(
        t,
        src.token,
        new URLSearchParams({
          nome: `Cliente ${to.length}`,
          email: `c${to.length}@example.com`,
          _redirect: to,
        }),
        {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'text/html',
        },
      )
    expect((await post('https://lp.agencia-a.com.br/valeu')).headers.get('location')).toBe(
      'https://lp.agencia-a.com.br/valeu',
    )
    expect((await post('https://evil.example/phish')).headers.get('location')).toBe(
      'https://www.agencia-a.com.br/obrigado',
    )
  })

  test('multipart form data without a redirect URL gets a localized thank-you page', async () => {
    const other = await createSourceViaSettings(a.client, { name: 'Sem redirect' })
    const fd = new FormData()
    fd.set('nome', 'Beatriz Nunes')
    fd.set('whatsapp', '21 99876-5432')
    const res = await postCapture(t, other.token, fd, { accept: 'text/html', 'accept-language': 'pt-BR' })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('Obrigado!')
    const lead = (await leadsOf(a.orgId)).find((l) => l.full_name === 'Beatriz Nunes')!
    expect(lead.phone).toBe('+5521998765432')
    expect(lead.source).toBe('Sem redirect')
  })

  test('a configured target stage receives the leads', async () => {
    const pipeline = await firstPipeline(t.db, a.orgId)
    const stage = (await stagesOf(t.db, a.orgId, pipeline.id))[1]!
    const s = await createSourceViaSettings(a.client, {
      name: 'Qualificados',
      target: `${pipeline.id}/${stage.id}`,
    })
    const res = await postCapture(t, s.token, { name: 'Caio Reis', email: 'caio@example.com' })
    const { leadId } = (await res.json()) as { leadId: string }
    expect((await leadsOf(a.orgId)).find((l) => l.id === leadId)!.stage_id).toBe(stage.id)
  })
})

describe('bad input is refused with a reason and kept for review', () => {
  test('an invalid email and phone: 422 with field messages, stored rejected, no lead', async () => {
    const before = (await leadsOf(a.orgId)).length
    const res = await postCapture(
      t,
      src.token,
      { nome: 'Teste', email: 'not-an-email', telefone: '123' },
      {
        'accept-language': 'en',
      },
    )
    expect(res.status).toBe(422)
    const body = (await res.json()) as { ok: boolean; fields: Record<string, string> }
    expect(body.ok).toBe(false)
    expect(body.fields.email).toBe('Enter a valid email address.')
    expect(body.fields.phone).toBe('Enter a valid phone number with area code.')
    expect((await leadsOf(a.orgId)).length).toBe(before)
    const sub = (await subs(a.orgId)).at(-1)!
    expect(sub.status).toBe('rejected')
    expect(sub.payload).toEqual({ nome: 'Teste', email: 'not-an-email', telefone: '123' })
    expect(JSON.parse(sub.error!)).toEqual({ email: 'error.email', phone: 'capture.error.phone' })
  })

  test('neither a name nor a contact: 422; a form post gets the reasons on a localized page', async () => {
    const res = await postCapture(t, src.token, new URLSearchParams({ mensagem: 'oi' }), {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'text/html',
      'accept-language': 'pt-BR',
    })
    expect(res.status).toBe(422)
    const html = await res.text()
    expect(html).toContain('Preencha um nome, um e-mail ou um telefone.')
    expect((await subs(a.orgId)).at(-1)!.status).toBe('rejected')
  })

  test('an oversize body (413), a wrong content type (415) and broken JSON (400) are kept as rejected', async () => {
    const big = await postCapture(t, src.token, JSON.stringify({ nome: 'x'.repeat(70 * 1024) }), {
      'content-type': 'application/json',
    })
    expect(big.status).toBe(413)
    expect(((await big.json()) as { error: string }).error).toBe('capture.error.too_large')
    const xml = await postCapture(t, src.token, '<lead/>', { 'content-type': 'text/xml' })
    expect(xml.status).toBe(415)
    const broken = await postCapture(t, src.token, '{"nome":', { 'content-type': 'application/json' })
    expect(broken.status).toBe(400)
    const last = (await subs(a.orgId)).slice(-3)
    expect(last.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected'])
    expect(last.map((s) => JSON.parse(s.error!)._)).toEqual([
      'capture.error.too_large',
      'capture.error.content_type',
      'capture.error.bad_json',
    ])
    expect(last[1]!.payload._body).toBe('<lead/>')
  })
})

describe('bots, tokens, CORS and the rate limit', () => {
  test('a filled honeypot looks accepted but is stored as spam and creates nothing', async () => {
    const before = (await leadsOf(a.orgId)).length
    const res = await postCapture(t, src.token, {
      nome: 'Bot',
      email: 'bot@spam.example',
      website: 'http://spam',
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true })
    expect((await leadsOf(a.orgId)).length).toBe(before)
    expect((await subs(a.orgId)).at(-1)!.status).toBe('spam')
  })

  test('an unknown, malformed, rotated or paused token is 404 and stores nothing anywhere', async () => {
    const s = await createSourceViaSettings(a.client, { name: 'Temporária' })
    const before = await countAll('capture_submissions')
    const unknown = 'A'.repeat(43)
    expect((await postCapture(t, unknown, { nome: 'X', email: 'x@example.com' })).status).toBe(404)
    expect((await postCapture(t, 'short', { nome: 'X', email: 'x@example.com' })).status).toBe(404)
    expect((await a.client.post(`/settings/capture/${s.id}/rotate`)).status).toBe(303)
    expect((await postCapture(t, s.token, { nome: 'X', email: 'x@example.com' })).status).toBe(404)
    const fresh = await a.client.page(`/settings/capture/${s.id}`)
    expect(fresh).not.toContain(s.token)
    // Paused: the form on the source page saves without "active".
    expect(
      (
        await a.client.post(`/settings/capture/${s.id}`, {
          name: 'Temporária',
          sourceLabel: '',
          tags: '',
          target: '',
          redirectUrl: '',
          allowedOrigins: '',
        })
      ).status,
    ).toBe(303)
    const newToken = /\/capture\/([A-Za-z0-9_-]{43})/.exec(fresh)![1]!
    expect((await postCapture(t, newToken, { nome: 'X', email: 'x@example.com' })).status).toBe(404)
    expect(await countAll('capture_submissions')).toBe(before)
  })

  test('the token is stored only as a hash and a sealed copy', async () => {
    const rows = await t.db.raw.query<{ token_hash: string; token_enc: string }>(
      'select token_hash, token_enc from capture_sources where id = $1',
      [src.id],
    )
    expect(rows[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/)
    expect(rows[0]!.token_enc).toStartWith('v1.')
    expect(JSON.stringify(rows)).not.toContain(src.token)
  })

  test('CORS: preflight answers allowed origins only; a post from another site is refused and kept', async () => {
    const preflight = (origin: string) =>
      t.handle(
        new Request(`http://localhost:3000/capture/${src.token}`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        }),
      )
    const ok = await preflight('https://lp.agencia-a.com.br')
    expect(ok.status).toBe(204)
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://lp.agencia-a.com.br')
    expect(ok.headers.get('access-control-allow-methods')).toContain('POST')
    expect(ok.headers.get('access-control-allow-headers')).toContain('content-type')
    const bad = await preflight('https://evil.example')
    expect(bad.status).toBe(403)
    expect(bad.headers.get('access-control-allow-origin')).toBeNull()
    const res = await postCapture(
      t,
      src.token,
      { nome: 'Via outro site', email: 'o@example.com' },
      { origin: 'https://evil.example' },
    )
    expect(res.status).toBe(403)
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    const sub = (await subs(a.orgId)).at(-1)!
    expect(sub.status).toBe('rejected')
    expect(sub.payload._origin).toBe('https://evil.example')
    // A source without an origin list accepts any site (and says so to the browser).
    const open = await createSourceViaSettings(a.client, { name: 'Aberta' })
    const any = await postCapture(
      t,
      open.token,
      { nome: 'De qualquer site', email: 'q@example.com' },
      { origin: 'https://qualquer.example' },
    )
    expect(any.status).toBe(200)
    expect(any.headers.get('access-control-allow-origin')).toBe('https://qualquer.example')
  })

  test('past the per-token limit: 429 with Retry-After, other tokens unaffected', async () => {
    const t2 = await createTestApp({ CAPTURE_RATE_LIMIT: '3' })
    try {
      const m = await signUpClient(t2)
      const s1 = await createSourceViaSettings(m.client, { name: 'Um' })
      const s2 = await createSourceViaSettings(m.client, { name: 'Dois' })
      const statuses: number[] = []
      for (let i = 0; i < 4; i++)
        statuses.push(
          (await postCapture(t2, s1.token, { nome: `P ${i}`, email: `p${i}@example.com` })).status,
        )
      expect(statuses).toEqual([200, 200, 200, 429])
      const limited = await postCapture(t2, s1.token, { nome: 'P x', email: 'px@example.com' })
      expect(limited.status).toBe(429)
      const retry = Number(limited.headers.get('retry-after'))
      expect(retry).toBeGreaterThanOrEqual(1)
      expect(retry).toBeLessThanOrEqual(60)
      expect((await postCapture(t2, s2.token, { nome: 'Q', email: 'q@example.com' })).status).toBe(200)
    } finally {
      await t2.close()
    }
  })
})

describe('deduplication on the capture path', () => {
  test('the same person posting twice (other phone format, email case) gives one lead', async () => {
    const s = await createSourceViaSettings(a.client, { name: 'Dedup' })
    const first = (await (
      await postCapture(t, s.token, {
        nome: 'Helena Duarte',
        email: 'Helena.Duarte@Example.com',
        telefone: '11 97777-6666',
      })
    ).json()) as { leadId: string }
    const second = (await (
      await postCapture(t, s.token, {
        name: 'helena duarte',
        email: 'helena.duarte@example.com',
        phone: '+55 11 9 7777 6666',
      })
    ).json()) as { leadId: string }
    expect(second.leadId).toBe(first.leadId)
    expect((await leadsOf(a.orgId)).filter((l) => l.full_name.toLowerCase() === 'helena duarte').length).toBe(
      1,
    )
    const processed = (await subs(a.orgId)).filter((x) => x.lead_id === first.leadId)
    expect(processed.length).toBe(2)
  })
})

describe('review: create lead anyway', () => {
  test('a rejected submission becomes a lead, its invalid field moved into the note', async () => {
    await postCapture(t, src.token, { nome: 'Otávio Reviewed', email: 'otavio@@example' })
    const sub = (await subs(a.orgId)).at(-1)!
    expect(sub.status).toBe('rejected')
    const page = await a.client.page(`/settings/capture/${src.id}/submissions`)
    expect(page).toContain('Otávio Reviewed')
    expect(page).toContain(`/settings/capture/submissions/${sub.id}/retry`)
    const res = await a.client.post(`/settings/capture/submissions/${sub.id}/retry`)
    expect(res.status).toBe(303)
    const after = (await subs(a.orgId)).find((x) => x.id === sub.id)!
    expect(after.status).toBe('processed')
    const lead = (await leadsOf(a.orgId)).find((l) => l.id === after.lead_id)!
    expect(lead.full_name).toBe('Otávio Reviewed')
    expect(lead.email).toBeNull()
    expect(lead.created_by).toBe(a.userId)
    const [note] = await t.db.raw.query<{ data: { body: string } }>(
      "select data from lead_activities where lead_id = $1 and kind = 'note'",
      [lead.id],
    )
    expect(note!.data.body).toContain('otavio@@example')
    // Done once: a second click changes nothing.
    await a.client.post(`/settings/capture/submissions/${sub.id}/retry`)
    expect((await leadsOf(a.orgId)).filter((l) => l.full_name === 'Otávio Reviewed').length).toBe(1)
  })

  test('members (not admins) cannot open capture settings', async () => {
    const c = await signUpClient(t, { orgName: 'Agência C' })
    await t.db.raw.query("update organization_members set role = 'member' where user_id = $1", [c.userId])
    expect((await c.client.get('/settings/capture')).status).toBe(403)
    expect((await c.client.post('/settings/capture', { name: 'x' })).status).toBe(403)
  })
})

describe('cross-tenant', () => {
  test("A's token creates leads only in A; B's routes give 404 for A's sources and submissions", async () => {
    const bBefore = (await leadsOf(b.orgId)).length
    const res = await postCapture(t, src.token, { nome: 'Só da A', email: 'soda@example.com' })
    expect(res.status).toBe(200)
    expect((await leadsOf(b.orgId)).length).toBe(bBefore)
    expect((await subs(b.orgId)).length).toBe(0)
    const aSub = (await subs(a.orgId)).at(-1)!
    for (const path of [`/settings/capture/${src.id}`, `/settings/capture/${src.id}/submissions`])
      expect((await b.client.get(path)).status).toBe(404)
    for (const path of [
      `/settings/capture/${src.id}/rotate`,
      `/settings/capture/${src.id}/delete`,
      `/settings/capture/submissions/${aSub.id}/retry`,
    ])
      expect((await b.client.post(path)).status).toBe(404)
    expect(
      (
        await b.client.post(`/settings/capture/${src.id}`, {
          name: 'Hack',
          sourceLabel: '',
          tags: '',
          target: '',
          redirectUrl: '',
          allowedOrigins: '',
        })
      ).status,
    ).toBe(404)
    // B cannot point its own source at A's stage either.
    const aStage = (await stagesOf(t.db, a.orgId))[0]!
    const own = await b.client.post('/settings/capture', {
      name: 'B',
      sourceLabel: '',
      tags: '',
      target: `${aStage.pipeline_id}/${aStage.id}`,
      redirectUrl: '',
      allowedOrigins: '',
    })
    expect(own.status).toBe(422)
    // A's source page still shows its token; B's overview lists nothing of A's.
    expect(await a.client.page(`/settings/capture/${src.id}`)).toContain(src.token)
    const bPage = await b.client.page('/settings/capture')
    expect(bPage).not.toContain('Landing Black Friday')
    expect(bPage).not.toContain(src.token)
  })
})
