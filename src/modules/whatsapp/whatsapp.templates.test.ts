/**
 * Message templates of Cloud API channels: synced from a local fake Graph API answering with Meta's
 * documented template list (positional and named parameters, a media header, a URL button variable,
 * a rejected one), shown on the channel page, offered in the composer's picker (approved and
 * fillable only) and sent with their parameters in the Graph API's component shape. The daily
 * schedule fans out to every Cloud API channel; another organization sees and sends none of them.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { META_TEMPLATES, startFakeGraph } from '../../../test/fake-graph'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { rowsOf } from '../../platform/db/client'
import { withOrg, withSystem } from '../../platform/db/tenancy'
import { enqueueSystem } from '../../platform/jobs/jobs.queue'
import { createWorker } from '../../platform/jobs/jobs.worker'
import { inbound, inboxWorker, receive } from '../inbox/inbox.fixtures'
import { cloudChannelForm } from './whatsapp.fixtures'
import {
  paramField,
  parseTemplate,
  syncTemplatesDailyJob,
  syncTemplatesSchedule,
  TEMPLATE_JOBS,
} from './whatsapp.templates'

const graph = startFakeGraph()
let t: TestApp
type Member = Awaited<ReturnType<typeof signUpClient>>
let a: Member
let b: Member
let cloud: string
let conv: string

const q = <T>(text: string, params: unknown[] = []) => t.db.raw.query<T>(text, params)
const syncJobs = () => createWorker({ db: t.db, jobs: TEMPLATE_JOBS }).runDue()
const templateId = async (name: string, channelId = cloud) =>
  (
    await q<{ id: string }>('select id from whatsapp_templates where channel_id = $1 and name = $2', [
      channelId,
      name,
    ])
  )[0]!.id

const cloudForm = (name: string) =>
  cloudChannelForm({ name, accessToken: 'EAAG-templates-token-0001', appSecret: 'templates-app-secret' })

beforeAll(async () => {
  t = await createTestApp({ FACEBOOK_GRAPH_URL: graph.url })
  a = await signUpClient(t, { orgName: 'Loja Aurora' })
  b = await signUpClient(t, { orgName: 'Outra Loja' })
  const res = await a.client.post('/settings/channels', cloudForm('Oficial'))
  expect(res.status).toBe(303)
  cloud = res.headers.get('location')!.split('/').pop()!
  // The contact wrote two days ago: the 24-hour window is closed.
  await receive(t.db, a.orgId, cloud, [
    inbound('+5511987652001', 'Oi', { timestamp: Date.now() - 48 * 3600_000, contactName: 'Ana Lima' }),
  ])
  conv = (await q<{ id: string }>('select id from conversations where channel_id = $1', [cloud]))[0]!.id
}, 300_000)
afterAll(async () => {
  await t.close()
  graph.stop()
})

describe('parsing Meta’s template list', () => {
  test('positional and named parameters are found in order; media headers, URL variables and rejected ones are not offered', () => {
    const by = Object.fromEntries(
      META_TEMPLATES.map((x) => [
        x.name,
        parseTemplate({ ...x, parameterFormat: x.parameter_format, components: x.components }),
      ]),
    )
    expect(by.boas_vindas).toMatchObject({
      parameterFormat: 'POSITIONAL',
      params: ['1', '2'],
      sendable: true,
      status: 'APPROVED',
      body: 'Olá {{1}}, obrigado pelo contato com a {{2}}. Posso ajudar?',
    })
    expect(by.order_update).toMatchObject({
      parameterFormat: 'NAMED',
      params: ['first_name', 'order_number'],
      sendable: true,
    })
    expect(by.retomada).toMatchObject({ params: [], sendable: true })
    expect(by.promo_imagem!.sendable).toBe(false)
    expect(by.rastreio!.sendable).toBe(false)
    expect(by.cupom_rejeitado).toMatchObject({ status: 'REJECTED', sendable: true })
    // {{10}} sorts after {{2}}.
    expect(
      parseTemplate({
        name: 'x',
        language: 'pt_BR',
        status: 'APPROVED',
        components: [{ type: 'BODY', text: '{{10}} {{2}} {{1}} {{2}}' }],
      }).params,
    ).toEqual(['1', '2', '10'])
  })
})

describe('syncing', () => {
  test('creating a Cloud API channel syncs its templates: the channel page lists them with their status', async () => {
    await syncJobs()
    const call = graph.calls.find((c) => c.path === '/v21.0/102290129340398/message_templates')!
    expect(call.token).toBe('EAAG-templates-token-0001')
    expect(new URLSearchParams(call.search).get('fields')).toContain('parameter_format')
    const rows = await q<{ name: string; status: string; sendable: boolean; params: string[] }>(
      'select name, status, sendable, params from whatsapp_templates where channel_id = $1 order by name',
      [cloud],
    )
    expect(rows.map((r) => `${r.name}:${r.status}:${r.sendable}`)).toEqual([
      'boas_vindas:APPROVED:true',
      'cupom_rejeitado:REJECTED:true',
      'order_update:APPROVED:true',
      'promo_imagem:APPROVED:false',
      'rastreio:APPROVED:false',
      'retomada:APPROVED:true',
    ])
    const page = await a.client.page(`/settings/channels/${cloud}`)
    expect(page).toContain('data-testid="wa-templates"')
    expect(page).toContain('boas_vindas')
    expect(page).toContain('Rejeitado')
    expect(page).toContain('Precisa de um cabeçalho de mídia')
    expect(
      (
        await q<{ t: unknown }>('select templates_synced_at as t from whatsapp_channels where id = $1', [
          cloud,
        ])
      )[0]!.t,
    ).not.toBeNull()
  })

  test('"Sync now" replaces the list (a template deleted at Meta goes); a refusal is kept and shown', async () => {
    graph.setTemplates(META_TEMPLATES.filter((x) => x.name !== 'retomada'))
    expect((await a.client.post(`/settings/channels/${cloud}/templates/sync`)).status).toBe(303)
    await syncJobs()
    expect(
      await q('select 1 from whatsapp_templates where channel_id = $1 and name = $2', [cloud, 'retomada']),
    ).toEqual([])
    graph.failNext.push({
      status: 400,
      body: { error: { message: 'Unsupported get request.', type: 'GraphMethodException', code: 100 } },
    })
    await a.client.post(`/settings/channels/${cloud}/templates/sync`)
    await syncJobs()
    const [c] = await q<{ templates_error: string }>(
      'select templates_error from whatsapp_channels where id = $1',
      [cloud],
    )
    expect(c!.templates_error).toBe('Unsupported get request. (100)')
    expect(await a.client.page(`/settings/channels/${cloud}`)).toContain('A última sincronização falhou')
    // The last good list stays usable.
    expect((await q('select 1 from whatsapp_templates where channel_id = $1', [cloud])).length).toBe(5)
    graph.setTemplates(META_TEMPLATES)
    await a.client.post(`/settings/channels/${cloud}/templates/sync`)
    await syncJobs()
    expect((await q('select 1 from whatsapp_templates where channel_id = $1', [cloud])).length).toBe(6)
  })

  test('the daily schedule syncs every Cloud API channel of every organization, and nothing else', async () => {
    const other = await b.client.post('/settings/channels', cloudForm('Oficial B'))
    const bCloud = other.headers.get('location')!.split('/').pop()!
    await b.client.post('/settings/channels', { name: 'Sandbox B', provider: 'sandbox' })
    await syncJobs()
    // The cron slot's job, as the scheduler enqueues it.
    expect(syncTemplatesSchedule).toMatchObject({ cron: '41 5 * * *', job: syncTemplatesDailyJob })
    await withSystem(t.db, (tx) => enqueueSystem(tx, syncTemplatesDailyJob, {}))
    await createWorker({ db: t.db, jobs: [syncTemplatesDailyJob] }).runDue()
    const queued = await q<{ org: string; channel: string }>(
      `select organization_id::text as org, payload->>'channelId' as channel from jobs
        where name = 'whatsapp.sync_templates' and state = 'queued' order by organization_id`,
    )
    expect(queued.map((j) => j.channel).sort()).toEqual([cloud, bCloud].sort())
    expect(new Set(queued.map((j) => j.org))).toEqual(new Set([a.orgId, b.orgId]))
    await syncJobs()
  })
})

describe('the composer’s template picker', () => {
  test('outside the window the picker offers the approved, fillable templates with a preview; the free-text form is gone', async () => {
    const page = await a.client.page(`/inbox/c/${conv}`)
    expect(page).toContain('data-testid="window-closed"')
    expect(page).toContain('data-testid="tpl-picker"')
    expect(page).not.toContain('data-testid="tpl-free-form"')
    const select = page.slice(
      page.indexOf('id="tpl-id"'),
      page.indexOf('</select>', page.indexOf('id="tpl-id"')),
    )
    const options = [...select.matchAll(/<option value="[0-9a-f-]{36}"[^>]*>([^<]+)</g)].map((m) => m[1])
    expect(options).toEqual(['boas_vindas · pt_BR', 'order_update · en_US', 'retomada · pt_BR'])
    expect(page).toContain('Valor de {{1}}')
    expect(page).toContain('Valor de {{first_name}}')
    expect(page).toContain('Olá {{1}}, obrigado pelo contato com a {{2}}. Posso ajudar?')
  })

  test('a positional template goes out with its parameters in Graph’s component shape; the bubble shows the filled text', async () => {
    const id = await templateId('boas_vindas')
    const res = await a.client.post(`/inbox/c/${conv}/send`, {
      templateId: id,
      [paramField(id, '1')]: 'Ana',
      [paramField(id, '2')]: 'Loja Aurora',
    })
    expect(res.status).toBe(303)
    const [m] = await q<{ id: string; type: string; body: string; template: any }>(
      `select id, type, body, template from messages where conversation_id = $1 and direction = 'out' order by created_at desc limit 1`,
      [conv],
    )
    expect(m).toMatchObject({
      type: 'template',
      body: 'Olá Ana, obrigado pelo contato com a Loja Aurora. Posso ajudar?',
    })
    const { worker } = inboxWorker(t.db)
    await worker.runDue()
    expect(graph.sent().at(-1)).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '5511987652001',
      type: 'template',
      template: {
        name: 'boas_vindas',
        language: { code: 'pt_BR' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Ana' },
              { type: 'text', text: 'Loja Aurora' },
            ],
          },
        ],
      },
    })
    const [sent] = await q<{ status: string }>('select status from messages where id = $1', [m!.id])
    expect(sent!.status).toBe('sent')
  })

  test('a named template sends parameter_name with each value; one without variables sends no components', async () => {
    const named = await templateId('order_update')
    await a.client.post(`/inbox/c/${conv}/send`, {
      templateId: named,
      [paramField(named, 'first_name')]: 'Jessica',
      [paramField(named, 'order_number')]: 'SKBUP2-4CPIG9',
    })
    const plain = await templateId('retomada')
    await a.client.post(`/inbox/c/${conv}/send`, { templateId: plain })
    const { worker } = inboxWorker(t.db)
    await worker.runDue()
    // The two jobs may run in either order.
    const byName = (n: string) => graph.sent().findLast((m) => m.template?.name === n)
    expect(byName('order_update').template).toEqual({
      name: 'order_update',
      language: { code: 'en_US' },
      components: [
        {
          type: 'body',
          parameters: [
            { type: 'text', parameter_name: 'first_name', text: 'Jessica' },
            { type: 'text', parameter_name: 'order_number', text: 'SKBUP2-4CPIG9' },
          ],
        },
      ],
    })
    expect(byName('retomada').template).toEqual({ name: 'retomada', language: { code: 'pt_BR' } })
  })

  test('a missing or malformed value is a 422 that keeps the choice and what was typed; an unknown or unfillable template is refused', async () => {
    const before = await q("select 1 from messages where conversation_id = $1 and direction = 'out'", [conv])
    const id = await templateId('boas_vindas')
    const res = await a.client.post(`/inbox/c/${conv}/send`, {
      templateId: id,
      [paramField(id, '1')]: 'Bruno',
      [paramField(id, '2')]: '',
    })
    expect(res.status).toBe(422)
    const html = await res.text()
    expect(html).toContain('Preencha {{2}}.')
    expect(html).toContain('value="Bruno"')
    expect(html).toContain(`<option value="${id}" selected`)
    const tabs = await a.client.post(`/inbox/c/${conv}/send`, {
      templateId: id,
      [paramField(id, '1')]: 'linha\nquebrada',
      [paramField(id, '2')]: 'X',
    })
    expect(tabs.status).toBe(422)
    expect(await tabs.text()).toContain('Sem quebras de linha')
    for (const other of [await templateId('promo_imagem'), await templateId('cupom_rejeitado'), 'nope']) {
      const r = await a.client.post(`/inbox/c/${conv}/send`, { templateId: other })
      expect(r.status).toBe(422)
      expect(await r.text()).toContain('Escolha um dos modelos aprovados deste canal.')
    }
    expect(
      await q("select 1 from messages where conversation_id = $1 and direction = 'out'", [conv]),
    ).toEqual(before)
  })

  test('a Cloud API channel with no synced templates keeps the free-text template form', async () => {
    const res = await a.client.post('/settings/channels', {
      ...cloudForm('Sem modelos'),
      phoneNumberId: '106540352242999',
    })
    const bare = res.headers.get('location')!.split('/').pop()!
    await q("delete from jobs where name = 'whatsapp.sync_templates'")
    await receive(t.db, a.orgId, bare, [
      inbound('+5511987652002', 'Oi', { timestamp: Date.now() - 48 * 3600_000 }),
    ])
    const c = (await q<{ id: string }>('select id from conversations where channel_id = $1', [bare]))[0]!.id
    const page = await a.client.page(`/inbox/c/${c}`)
    expect(page).toContain('data-testid="tpl-free-form"')
    expect(page).toContain('Nenhum modelo sincronizado para este canal')
  })
})

describe('another organization', () => {
  test('sees none of A’s templates (routes and SQL as the app role) and cannot send one', async () => {
    const aTemplate = await templateId('boas_vindas')
    expect((await b.client.post(`/settings/channels/${cloud}/templates/sync`)).status).toBe(404)
    expect(
      (await b.client.get(`/settings/channels/${cloud}/templates`, { 'hx-request': 'true' })).status,
    ).toBe(404)
    const seen = await withOrg(t.db, { orgId: b.orgId, userId: b.userId }, async (tx) =>
      rowsOf<{ n: number }>(
        await tx.execute(
          sql`select count(*)::int as n from whatsapp_templates where organization_id = ${a.orgId}::uuid`,
        ),
      ),
    )
    expect(seen[0]!.n).toBe(0)
    const changed = await withOrg(t.db, { orgId: b.orgId, userId: b.userId }, async (tx) =>
      rowsOf(
        await tx.execute(
          sql`update whatsapp_templates set status = 'APPROVED', sendable = true returning id`,
        ),
      ),
    )
    expect(changed.every((r: any) => r.id !== aTemplate)).toBe(true)
    // A's rejected and unfillable templates stay as Meta listed them.
    const mine = await q<{ name: string; status: string; sendable: boolean }>(
      "select name, status, sendable from whatsapp_templates where channel_id = $1 and name in ('cupom_rejeitado', 'promo_imagem') order by name",
      [cloud],
    )
    expect(mine).toEqual([
      { name: 'cupom_rejeitado', status: 'REJECTED', sendable: true },
      { name: 'promo_imagem', status: 'APPROVED', sendable: false },
    ])
    // B's own conversation, A's template id: refused.
    const [bChannel] = await q<{ id: string }>(
      "select id from whatsapp_channels where organization_id = $1 and provider = 'cloud-api'",
      [b.orgId],
    )
    await receive(t.db, b.orgId, bChannel!.id, [
      inbound('+5511987652003', 'Oi', { timestamp: Date.now() - 48 * 3600_000 }),
    ])
    const bConv = (
      await q<{ id: string }>('select id from conversations where channel_id = $1', [bChannel!.id])
    )[0]!.id
    const res = await b.client.post(`/inbox/c/${bConv}/send`, {
      templateId: aTemplate,
      [paramField(aTemplate, '1')]: 'x',
      [paramField(aTemplate, '2')]: 'y',
    })
    expect(res.status).toBe(422)
    expect((await b.client.get(`/inbox/c/${conv}`)).status).toBe(404)
  })
})
