/**
 * Switching a channel's provider from its settings page, through the routes, against the real
 * providers: the Cloud API pointed at a local fake Graph API, WhatsApp Web with a fake transport
 * emitting Baileys' event shapes, the sandbox. Messages sent during a switch wait and go out through
 * the new provider; the thread continues by phone number; a refused check keeps the switch in
 * progress; cancel goes back; bad input is a 422; members get 403 and another organization 404.
 * Away from WhatsApp Web, completing logs the old device out of the phone through a short-lived
 * socket with the kept credentials (or, when the phone is out of reach, says to remove it there).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { startFakeGraph } from '../../../test/fake-graph'
import { BASE, createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { rowsOf } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { createWorker } from '../../platform/jobs/jobs.worker'
import { inbound, inboxWorker, receive } from '../inbox/inbox.fixtures'
import { createBaileysSupervisor, waMessageId } from './whatsapp.baileys'
import { cloudApiFields, cloudInboundText, FakeTransport } from './whatsapp.fixtures'
import { processInboundJob } from './whatsapp.inbound'
import { configureWhatsApp, deliverTo, whatsappRuntime } from './whatsapp.runtime'

const graph = startFakeGraph()
let t: TestApp
type Member = Awaited<ReturnType<typeof signUpClient>>
let a: Member
let b: Member
const transports: FakeTransport[] = []
/** Runs once on the next fake socket (e.g. the phone answers: the socket opens). */
let onNextTransport: ((tr: FakeTransport) => void) | null = null
const phoneAnswers = () => {
  onNextTransport = (tr) => setTimeout(() => tr.emit('connection.update', { connection: 'open' }), 0)
}
/** How long the tests let a logout of the old device take. */
const UNLINK_TIMEOUT_MS = 400

const q = <T>(text: string, params: unknown[] = []) => t.db.raw.query<T>(text, params)
const idFrom = (res: Response) => res.headers.get('location')!.split('/').pop()!
const sup = () => whatsappRuntime(t.db).baileys

beforeAll(async () => {
  t = await createTestApp({ FACEBOOK_GRAPH_URL: graph.url })
  a = await signUpClient(t, { orgName: 'Loja Aurora' })
  b = await signUpClient(t, { orgName: 'Outra Loja' })
  configureWhatsApp(t.db, {
    config: t.config,
    supervisor: createBaileysSupervisor({
      db: t.db,
      secretKey: t.config.secretKey,
      deliver: deliverTo(t.db),
      transport: async ({ auth }) => {
        const tr = new FakeTransport(auth)
        transports.push(tr)
        const hook = onNextTransport
        onNextTransport = null
        hook?.(tr)
        return tr
      },
      unlinkTimeoutMs: UNLINK_TIMEOUT_MS,
      pacing: { minGapMs: 0, jitterMs: 0, typingMsPerChar: 0, maxTypingMs: 0 },
      sleep: async () => {},
    }),
    // Sandbox receipts and replies are not part of these tests.
    sandboxClock: { setTimeout: () => 0 },
  })
}, 300_000)
afterAll(async () => {
  await sup().stopAll()
  await t.close()
  graph.stop()
})

/**
 * A customer's answer as Meta delivers it to the channel's webhook, signed with the app secret the
 * switch set (`switch-app-secret`); returns the route's status.
 */
async function postSignedWebhook(
  channelId: string,
  m: { from: string; name: string; id: string; body: string },
): Promise<number> {
  const payload = JSON.stringify(
    cloudInboundText({
      displayPhone: '5511987650000',
      ...m,
      timestamp: String(Math.floor(Date.now() / 1000) + 2),
    }),
  )
  const signature = createHmac('sha256', 'switch-app-secret').update(payload).digest('hex')
  const res = await t.handle(
    new Request(`${BASE}/webhooks/whatsapp/${channelId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${signature}` },
      body: payload,
    }),
  )
  return res.status
}

async function sandboxChannel(client = a.client, name = 'Vendas') {
  const res = await client.post('/settings/channels', { name, provider: 'sandbox' })
  expect(res.status).toBe(303)
  return idFrom(res)
}
const cloudForm = (token: string, extra: Record<string, string> = {}) => ({
  ...cloudApiFields({ accessToken: token, appSecret: 'switch-app-secret' }),
  confirm: '1',
  ...extra,
})
const channel = async (id: string) =>
  (
    await q<{
      provider: string
      paused: boolean
      status: string
      status_detail: string | null
      switch_from: any
      config: any
      secrets_enc: string | null
      phone_number: string | null
    }>(
      'select provider, paused, status, status_detail, switch_from, config, secrets_enc, phone_number from whatsapp_channels where id = $1',
      [id],
    )
  )[0]!
const conversationsOf = (channelId: string) =>
  q<{ id: string }>('select id from conversations where channel_id = $1 order by created_at', [channelId])
const lastOut = async (conv: string) =>
  (
    await q<{ id: string; status: string; provider_message_id: string | null; body: string }>(
      `select id, status, provider_message_id, body from messages where conversation_id = $1 and direction = 'out'
        order by created_at desc, id desc limit 1`,
      [conv],
    )
  )[0]!
const auditOf = (id: string) =>
  q<{ action: string; before: any; after: any; actor_user_id: string | null }>(
    'select action, before, after, actor_user_id from audit_log where target_id = $1 order by created_at, id',
    [id],
  )
const switchEvents = async (id: string) =>
  (
    await q<{ payload: any }>(
      `select payload from outbox_events where type = 'whatsapp.channel.switch' and payload->>'channelId' = $1 order by version`,
      [id],
    )
  ).map((e) => `${e.payload.phase} ${e.payload.from}→${e.payload.to}`)

async function thread(channelId: string, phone: string, text: string) {
  await receive(t.db, a.orgId, channelId, [inbound(phone, text, { contactName: 'Marina Costa' })])
  return (await conversationsOf(channelId))[0]!.id
}

describe('switching to the Cloud API', () => {
  test('a message sent during the switch waits, goes out through Graph once the check passes, and new inbound continues the same thread', async () => {
    const id = await sandboxChannel()
    const conv = await thread(id, '+5511987651234', 'Oi, antes da troca')
    // Meta is down for the first check: the switch stays in progress.
    graph.failNext.push({
      status: 503,
      body: { error: { message: 'Service temporarily unavailable', type: 'OAuthException', code: 2 } },
    })
    const res = await a.client.post(`/settings/channels/${id}/switch`, cloudForm('EAAG-switch-token-0001'))
    expect(res.status).toBe(303)
    expect(await channel(id)).toMatchObject({
      provider: 'cloud-api',
      paused: true,
      status: 'error',
      config: { phoneNumberId: '106540352242922', wabaId: '102290129340398' },
      phone_number: '+5511987650000',
    })
    expect((await channel(id)).switch_from).toMatchObject({ provider: 'sandbox', paused: false })
    const settings = await a.client.page(`/settings/channels/${id}`)
    expect(settings).toContain('data-state="switching"')
    expect(settings).toContain('Service temporarily unavailable')
    // The composer says sending is paused; a message sent now waits.
    const chat = await a.client.page(`/inbox/c/${conv}`)
    expect(chat).toContain('data-state="switching"')
    expect(chat).toContain('Envios pausados enquanto o novo provedor se conecta')
    expect((await a.client.post(`/inbox/c/${conv}/send`, { body: 'Durante a troca' })).status).toBe(303)
    const waiting = await lastOut(conv)
    const { worker, clock } = inboxWorker(t.db)
    await worker.runDue()
    expect((await lastOut(conv)).status).toBe('pending')
    expect(graph.sent()).toHaveLength(0)
    // Parked: the job completed and left a follow-up for later (no attempt used up).
    const jobs = await q<{ state: string; attempts: number }>(
      `select state, attempts from jobs where name = 'inbox.send' and payload->>'messageId' = $1 order by created_at`,
      [waiting.id],
    )
    expect(jobs.map((j) => j.state)).toEqual(['completed', 'queued'])

    // Meta answers now: "Check again" connects, and the queued message goes out through Graph.
    expect((await a.client.post(`/settings/channels/${id}/switch/check`)).status).toBe(303)
    expect(await channel(id)).toMatchObject({ paused: false, status: 'open', switch_from: null })
    const check = graph.calls.filter((c) => c.method === 'GET' && c.path === '/v21.0/106540352242922')
    expect(check.length).toBe(2)
    expect(check[1]!.token).toBe('EAAG-switch-token-0001')
    clock.advance(1_000)
    await worker.runDue()
    const sent = await lastOut(conv)
    expect(sent.status).toBe('sent')
    expect(sent.provider_message_id).toStartWith('wamid.')
    expect(graph.sent().at(-1)).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '5511987651234',
      type: 'text',
      text: { preview_url: false, body: 'Durante a troca' },
    })

    // Meta's webhook for the contact's answer, signed with the NEW app secret: the same thread.
    expect(
      await postSignedWebhook(id, {
        from: '5511987651234',
        name: 'Marina Costa',
        id: 'wamid.HBgLNTUxMTk4NzY1MTIzNBUCABIYFjNFQjBDMDI0',
        body: 'Depois da troca, pela API oficial',
      }),
    ).toBe(200)
    await createWorker({ db: t.db, jobs: [processInboundJob] }).runDue()
    expect((await conversationsOf(id)).map((c) => c.id)).toEqual([conv])
    const history = await q<{ direction: string; body: string }>(
      'select direction, body from messages where conversation_id = $1 order by created_at, id',
      [conv],
    )
    expect(history).toEqual([
      { direction: 'in', body: 'Oi, antes da troca' },
      { direction: 'out', body: 'Durante a troca' },
      { direction: 'in', body: 'Depois da troca, pela API oficial' },
    ])

    const audit = await auditOf(id)
    expect(audit.map((x) => x.action)).toEqual([
      'whatsapp_channel.created',
      'whatsapp_channel.provider_switched',
      'whatsapp_channel.provider_switch_completed',
    ])
    expect(audit[1]).toMatchObject({
      before: { provider: 'sandbox' },
      after: { provider: 'cloud-api' },
      actor_user_id: a.userId,
    })
    expect(audit[2]).toMatchObject({ actor_user_id: null, after: { provider: 'cloud-api', queued: 1 } })
    expect(await switchEvents(id)).toEqual(['started sandbox→cloud-api', 'completed sandbox→cloud-api'])
    // The audit page reads it in the admin's language.
    expect(await a.client.page('/settings/audit')).toContain(
      'trocou o provedor de um canal de WhatsApp de Sandbox (sem credenciais) para WhatsApp Cloud API (oficial)',
    )
    expect(await a.client.page('/settings/audit')).toContain('adicionou o canal de WhatsApp')
    // The Cloud API page: the webhook to paste into Meta, and no switch in progress.
    const after = await a.client.page(`/settings/channels/${id}`)
    expect(after).toContain(`/webhooks/whatsapp/${id}`)
    expect(after).toContain('data-state="idle"')
  })

  test('a refused check keeps the switch in progress with Meta’s reason; cancel puts the sandbox back and the queued message goes out through it', async () => {
    const id = await sandboxChannel(a.client, 'Suporte')
    const conv = await thread(id, '+5511987651299', 'Bom dia')
    graph.badTokens.add('EAAG-revoked-token-0002')
    expect(
      (await a.client.post(`/settings/channels/${id}/switch`, cloudForm('EAAG-revoked-token-0002'))).status,
    ).toBe(303)
    const during = await channel(id)
    expect(during).toMatchObject({ provider: 'cloud-api', paused: true, status: 'error' })
    expect(during.status_detail).toBe(
      'check_failed:Invalid OAuth access token - Cannot parse access token (190)',
    )
    const page = await a.client.page(`/settings/channels/${id}`)
    expect(page).toContain('A Meta recusou as novas credenciais')
    expect(page).toContain('data-testid="wa-switch-cancel"')
    // Live: a page drawn before the switch reloads itself; one drawn during it gets the fresh card.
    const stale = await a.client.get(`/settings/channels/${id}/switch?state=idle`, { 'hx-request': 'true' })
    expect(stale.headers.get('hx-refresh')).toBe('true')
    const live = await a.client.get(`/settings/channels/${id}/switch?state=switching`, {
      'hx-request': 'true',
    })
    expect(live.headers.get('hx-refresh')).toBeNull()
    expect(await live.text()).toContain('data-testid="wa-switch-failed"')
    const note = await a.client.get(`/inbox/c/${conv}/channel-note`, { 'hx-request': 'true' })
    expect(await note.text()).toContain('data-state="switching"')
    // Disconnect, reconnect and a second switch would fight this one: 409.
    for (const path of ['disconnect', 'reconnect', 'switch'])
      expect(
        (await a.client.post(`/settings/channels/${id}/${path}`, cloudForm('EAAG-other-token-0009'))).status,
      ).toBe(409)
    await a.client.post(`/inbox/c/${conv}/send`, { body: 'Mensagem na fila' })
    const { worker, clock } = inboxWorker(t.db)
    await worker.runDue()
    expect((await lastOut(conv)).status).toBe('pending')

    expect((await a.client.post(`/settings/channels/${id}/switch/cancel`)).status).toBe(303)
    expect(await channel(id)).toMatchObject({
      provider: 'sandbox',
      paused: false,
      status: 'open',
      switch_from: null,
      config: {},
      secrets_enc: null,
      phone_number: null,
    })
    clock.advance(1_000)
    await worker.runDue()
    const m = await lastOut(conv)
    expect(m.status).toBe('sent')
    expect(m.provider_message_id).toStartWith('sandbox.out.')
    expect((await auditOf(id)).at(-1)).toMatchObject({
      action: 'whatsapp_channel.provider_switch_cancelled',
      before: { provider: 'cloud-api' },
      after: { provider: 'sandbox' },
    })
    expect(await switchEvents(id)).toEqual(['started sandbox→cloud-api', 'cancelled sandbox→cloud-api'])
    // Nothing left to cancel.
    expect((await a.client.post(`/settings/channels/${id}/switch/cancel`)).status).toBe(409)
  })
})

describe('switching to WhatsApp Web and back', () => {
  test('the QR appears, linking the phone completes the switch, the queued message goes out with an id derived from ours; back to the sandbox the socket closes and its credentials go', async () => {
    const id = await sandboxChannel(a.client, 'Celular')
    const phone = '+5511987651277'
    const conv = await thread(id, phone, 'Olá!')
    const before = transports.length
    expect(
      (await a.client.post(`/settings/channels/${id}/switch`, { provider: 'baileys', confirm: '1' })).status,
    ).toBe(303)
    expect(transports.length).toBe(before + 1)
    const tr = transports.at(-1)!
    expect(await channel(id)).toMatchObject({ provider: 'baileys', paused: true, phone_number: null })
    tr.emit('connection.update', { qr: '2@switch-qr,abc,def' })
    await sup().settled()
    const page = await a.client.page(`/settings/channels/${id}`)
    expect(page).toContain('data-testid="wa-qr"')
    expect(page).toContain('data-state="switching"')
    expect(page).toContain('Conecte o celular abaixo para concluir a troca.')

    await a.client.post(`/inbox/c/${conv}/send`, { body: 'Enviada durante o pareamento' })
    const { worker, clock } = inboxWorker(t.db)
    await worker.runDue()
    const waiting = await lastOut(conv)
    expect(waiting.status).toBe('pending')
    expect(tr.sent).toHaveLength(0)

    tr.emit('creds.update', {})
    await sup().settled()
    tr.user = { id: '5511987650000:7@s.whatsapp.net' }
    tr.emit('connection.update', { connection: 'open' })
    await sup().settled()
    expect(await channel(id)).toMatchObject({
      provider: 'baileys',
      paused: false,
      status: 'open',
      switch_from: null,
      phone_number: '+5511987650000',
    })
    clock.advance(1_000)
    await worker.runDue()
    const sent = await lastOut(conv)
    expect(tr.sent).toEqual([
      {
        jid: '5511987651277@s.whatsapp.net',
        content: { text: 'Enviada durante o pareamento' },
        messageId: waMessageId(waiting.id),
      },
    ])
    expect(sent).toMatchObject({ status: 'sent', provider_message_id: waMessageId(waiting.id) })
    // WhatsApp's receipt carries that id: it matches our message.
    tr.emit('messages.update', [
      {
        key: { remoteJid: '5511987651277@s.whatsapp.net', id: waMessageId(waiting.id), fromMe: true },
        update: { status: 3 },
      },
    ])
    // The socket hands the receipt to webhook_inbox in the background; its job applies it.
    const inboundJobs = createWorker({ db: t.db, jobs: [processInboundJob] })
    for (let i = 0; i < 300 && (await lastOut(conv)).status !== 'delivered'; i++) {
      await inboundJobs.runDue()
      await Bun.sleep(10)
    }
    expect((await lastOut(conv)).status).toBe('delivered')
    const creds = await q('select 1 from whatsapp_auth_state where channel_id = $1', [id])
    expect(creds.length).toBeGreaterThan(0)

    // Back to the sandbox: connected at once; the WhatsApp Web socket closes, a short-lived one
    // with the same credentials logs the device out of the phone, and the credentials go.
    tr.auth.creds.me = { id: '5511987650000:7@s.whatsapp.net' }
    tr.emit('creds.update', { me: tr.auth.creds.me })
    await sup().settled()
    phoneAnswers()
    const count = transports.length
    expect(
      (await a.client.post(`/settings/channels/${id}/switch`, { provider: 'sandbox', confirm: '1' })).status,
    ).toBe(303)
    expect(tr.ended).toBe(true)
    expect(tr.loggedOut).toBe(false) // the long-lived socket only closed
    expect(transports.length).toBe(count + 1)
    const unlinker = transports.at(-1)!
    expect(unlinker.auth.creds.me?.id).toBe('5511987650000:7@s.whatsapp.net')
    expect([unlinker.loggedOut, unlinker.ended]).toEqual([true, true])
    expect(sup().sockets).toBe(0)
    expect((await auditOf(id)).at(-1)).toMatchObject({
      action: 'whatsapp_channel.provider_switch_completed',
      after: { provider: 'sandbox', oldDevice: 'unlinked' },
    })
    expect(sup().isRunning(id)).toBe(false)
    expect(await channel(id)).toMatchObject({
      provider: 'sandbox',
      paused: false,
      status: 'open',
      switch_from: null,
    })
    expect(await q('select 1 from whatsapp_auth_state where channel_id = $1', [id])).toEqual([])
    expect((await conversationsOf(id)).map((c) => c.id)).toEqual([conv])
  })
})

describe('cancelling a switch away from WhatsApp Web', () => {
  test('the old socket closes during the switch but keeps its credentials; cancel reconnects it without a new QR', async () => {
    const res = await a.client.post('/settings/channels', { name: 'Celular antigo', provider: 'baileys' })
    const id = idFrom(res)
    const old = transports.at(-1)!
    old.auth.creds.me = { id: '5511987650011:2@s.whatsapp.net' }
    old.emit('creds.update', { me: old.auth.creds.me })
    old.user = { id: '5511987650011:2@s.whatsapp.net' }
    old.emit('connection.update', { connection: 'open' })
    await sup().settled()
    const creds = async () =>
      (await q('select 1 from whatsapp_auth_state where channel_id = $1', [id])).length
    const kept = await creds()
    expect(kept).toBeGreaterThan(0)
    graph.badTokens.add('EAAG-revoked-token-0005')
    expect(
      (await a.client.post(`/settings/channels/${id}/switch`, cloudForm('EAAG-revoked-token-0005'))).status,
    ).toBe(303)
    expect(old.ended).toBe(true)
    expect(sup().isRunning(id)).toBe(false)
    expect(await channel(id)).toMatchObject({ provider: 'cloud-api', status: 'error' })
    expect(await creds()).toBe(kept)
    const count = transports.length
    expect((await a.client.post(`/settings/channels/${id}/switch/cancel`)).status).toBe(303)
    expect(transports.length).toBe(count + 1)
    expect(sup().isRunning(id)).toBe(true)
    // Nothing logged the device out of the phone: the restored socket runs on the same link.
    expect(old.loggedOut).toBe(false)
    expect(transports.at(-1)!.loggedOut).toBe(false)
    expect(transports.at(-1)!.auth.creds.me?.id).toBe(old.auth.creds.me?.id)
    expect(await channel(id)).toMatchObject({
      provider: 'baileys',
      paused: false,
      switch_from: null,
      phone_number: '+5511987650011',
      secrets_enc: null,
    })
    expect(await creds()).toBe(kept)
    await sup().stop(id)
  })
})

/** A linked WhatsApp Web channel (creds saved, socket open) created through the routes. */
async function linkedWebChannel(name: string, own: string) {
  const id = idFrom(await a.client.post('/settings/channels', { name, provider: 'baileys' }))
  const web = transports.at(-1)!
  web.auth.creds.me = { id: `${own}:3@s.whatsapp.net` }
  web.emit('creds.update', { me: web.auth.creds.me })
  web.user = { id: `${own}:3@s.whatsapp.net` }
  web.emit('connection.update', { connection: 'open' })
  await sup().settled()
  return { id, web }
}
const credsOf = async (id: string) =>
  (await q('select 1 from whatsapp_auth_state where channel_id = $1', [id])).length

describe('switching WhatsApp Web to the Cloud API (the headline)', () => {
  test('conversations, messages and leads stay; the old device is logged out of the phone; the message queued during the switch goes out through Graph; Meta’s webhook for the same phone continues the thread', async () => {
    const { id, web } = await linkedWebChannel('Loja no celular', '5511987650000')
    // A customer writes over WhatsApp Web: a lead and a thread; the rep answers through the socket.
    web.emit('messages.upsert', {
      type: 'notify',
      messages: [
        {
          key: { remoteJid: '5511987651301@s.whatsapp.net', id: 'WEB-IN-0001', fromMe: false },
          message: { conversation: 'Oi, pelo WhatsApp Web' },
          messageTimestamp: Math.floor(Date.now() / 1000) - 60,
          pushName: 'Paula Reis',
        },
      ],
    })
    await sup().settled()
    await createWorker({ db: t.db, jobs: [processInboundJob] }).runDue()
    const [conversation] = await conversationsOf(id)
    const conv = conversation!.id
    const leadOf = async () =>
      (
        await q<{ lead_id: string }>('select lead_id::text as lead_id from conversations where id = $1', [
          conv,
        ])
      )[0]!.lead_id
    const lead = await leadOf()
    expect((await a.client.post(`/inbox/c/${conv}/send`, { body: 'Resposta pelo celular' })).status).toBe(303)
    const { worker, clock } = inboxWorker(t.db)
    await worker.runDue()
    expect(web.sent.map((m) => m.content)).toEqual([{ text: 'Resposta pelo celular' }])

    // The switch starts; Meta is down for the first check, so it waits (the old device still linked).
    graph.failNext.push({
      status: 503,
      body: { error: { message: 'Service temporarily unavailable', type: 'OAuthException', code: 2 } },
    })
    const before = transports.length
    expect(
      (await a.client.post(`/settings/channels/${id}/switch`, cloudForm('EAAG-web-to-cloud-0006'))).status,
    ).toBe(303)
    expect(web.ended).toBe(true)
    expect(transports.length).toBe(before) // nothing logged out before the switch completes
    expect(await channel(id)).toMatchObject({ provider: 'cloud-api', paused: true, status: 'error' })
    expect(await credsOf(id)).toBeGreaterThan(0) // kept: a cancel would need them
    expect(
      (await a.client.post(`/inbox/c/${conv}/send`, { body: 'Durante a troca para a API oficial' })).status,
    ).toBe(303)
    const graphSends = graph.sent().length
    await worker.runDue()
    expect((await lastOut(conv)).status).toBe('pending')
    expect(graph.sent()).toHaveLength(graphSends)

    // Check again: Meta answers; on the way the kept credentials log the old device out of the phone.
    phoneAnswers()
    expect((await a.client.post(`/settings/channels/${id}/switch/check`)).status).toBe(303)
    expect(transports.length).toBe(before + 1)
    const unlinker = transports.at(-1)!
    expect(unlinker.auth.creds.me?.id).toBe('5511987650000:3@s.whatsapp.net')
    expect([unlinker.loggedOut, unlinker.ended]).toEqual([true, true])
    expect(await credsOf(id)).toBe(0)
    expect(await channel(id)).toMatchObject({
      provider: 'cloud-api',
      paused: false,
      status: 'open',
      status_detail: null,
      switch_from: null,
      phone_number: '+5511987650000',
    })
    expect(sup().isRunning(id)).toBe(false)

    // The message that waited goes out through the Cloud API (the fake Graph API), not the old socket.
    clock.advance(1_000)
    await worker.runDue()
    const queued = await lastOut(conv)
    expect(queued).toMatchObject({ status: 'sent', body: 'Durante a troca para a API oficial' })
    expect(queued.provider_message_id).toStartWith('wamid.')
    expect(graph.sent().at(-1)).toMatchObject({
      to: '5511987651301',
      type: 'text',
      text: { body: 'Durante a troca para a API oficial' },
    })
    expect(web.sent).toHaveLength(1)

    // The customer answers; Meta's webhook (signed with the new app secret) continues the same thread.
    expect(
      await postSignedWebhook(id, {
        from: '5511987651301',
        name: 'Paula Reis',
        id: 'wamid.HBgLNTUxMTk4NzY1MTMwMRUCABIYFjNFQjBDMDI5',
        body: 'Agora pela API oficial',
      }),
    ).toBe(200)
    await createWorker({ db: t.db, jobs: [processInboundJob] }).runDue()
    expect((await conversationsOf(id)).map((c) => c.id)).toEqual([conv])
    expect(await leadOf()).toBe(lead)
    expect(
      await q<{ n: number }>('select count(*)::int as n from leads where organization_id = $1 and id = $2', [
        a.orgId,
        lead,
      ]),
    ).toEqual([{ n: 1 }])
    const history = await q<{ direction: string; body: string }>(
      'select direction, body from messages where conversation_id = $1 order by created_at, id',
      [conv],
    )
    expect(history).toEqual([
      { direction: 'in', body: 'Oi, pelo WhatsApp Web' },
      { direction: 'out', body: 'Resposta pelo celular' },
      { direction: 'out', body: 'Durante a troca para a API oficial' },
      { direction: 'in', body: 'Agora pela API oficial' },
    ])
    expect((await auditOf(id)).at(-1)).toMatchObject({
      action: 'whatsapp_channel.provider_switch_completed',
      actor_user_id: null,
      before: { provider: 'baileys' },
      after: { provider: 'cloud-api', queued: 1, oldDevice: 'unlinked' },
    })
    expect(await a.client.page('/settings/audit')).toContain(
      'o aparelho antigo do WhatsApp Web foi desconectado do celular',
    )
    expect(await switchEvents(id)).toEqual(['started baileys→cloud-api', 'completed baileys→cloud-api'])
  })

  test('when the phone cannot be reached the switch still completes after the timeout, the credentials go, and the audit entry and the channel page say to remove the device on the phone', async () => {
    const { id, web } = await linkedWebChannel('Celular desligado', '5511987650022')
    const before = transports.length
    const started = performance.now()
    // The phone is off: the short-lived socket never opens.
    expect(
      (await a.client.post(`/settings/channels/${id}/switch`, { provider: 'sandbox', confirm: '1' })).status,
    ).toBe(303)
    expect(performance.now() - started).toBeGreaterThanOrEqual(UNLINK_TIMEOUT_MS - 5)
    expect(web.ended).toBe(true)
    expect(transports.length).toBe(before + 1)
    const unlinker = transports.at(-1)!
    expect([unlinker.loggedOut, unlinker.ended]).toEqual([false, true])
    expect(sup().sockets).toBe(0)
    expect(await credsOf(id)).toBe(0)
    expect(await channel(id)).toMatchObject({
      provider: 'sandbox',
      paused: false,
      status: 'open',
      status_detail: 'old_device_linked',
      switch_from: null,
    })
    expect((await auditOf(id)).at(-1)).toMatchObject({
      action: 'whatsapp_channel.provider_switch_completed',
      after: { provider: 'sandbox', oldDevice: 'remove_on_phone' },
    })
    expect(await a.client.page('/settings/audit')).toContain(
      'não pôde ser desconectado e precisa ser removido no celular',
    )
    expect(await a.client.page(`/settings/channels/${id}`)).toContain(
      'Não foi possível desconectar o antigo aparelho do WhatsApp Web: remova-o no celular (WhatsApp → Dispositivos conectados).',
    )
    // A socket that answers after the deadline changes nothing (it is closed, not used).
    unlinker.emit('connection.update', { connection: 'open' })
    await sup().settled()
    expect(unlinker.loggedOut).toBe(false)
  })
})

describe('deleting a WhatsApp Web channel whose socket is not running here', () => {
  test('a disconnected channel is still logged out of the phone, through a short-lived socket with its credentials', async () => {
    const { id, web } = await linkedWebChannel('Celular antigo', '5511987650031')
    expect((await a.client.post(`/settings/channels/${id}/disconnect`)).status).toBe(303)
    expect(web.ended).toBe(true)
    expect(sup().isRunning(id)).toBe(false)
    const before = transports.length
    phoneAnswers()
    expect((await a.client.post(`/settings/channels/${id}/delete`)).status).toBe(303)
    expect(transports.length).toBe(before + 1)
    const unlinker = transports.at(-1)!
    expect([unlinker.loggedOut, unlinker.ended]).toEqual([true, true])
    expect(sup().sockets).toBe(0)
    expect(await q('select 1 from whatsapp_channels where id = $1', [id])).toEqual([])
    expect(await credsOf(id)).toBe(0)
    expect(await a.client.page('/settings/channels')).toContain('Canal &quot;Celular antigo&quot; excluído.')
  })

  test('when the phone cannot be reached the channel is still deleted, and the admin is told to remove the device on the phone', async () => {
    const { id } = await linkedWebChannel('Celular sem sinal', '5511987650032')
    expect((await a.client.post(`/settings/channels/${id}/disconnect`)).status).toBe(303)
    const before = transports.length
    expect((await a.client.post(`/settings/channels/${id}/delete`)).status).toBe(303)
    expect(transports.length).toBe(before + 1)
    expect([transports.at(-1)!.loggedOut, transports.at(-1)!.ended]).toEqual([false, true])
    expect(sup().sockets).toBe(0)
    expect(await q('select 1 from whatsapp_channels where id = $1', [id])).toEqual([])
    expect(await credsOf(id)).toBe(0)
    expect(await a.client.page('/settings/channels')).toContain(
      'não foi possível desconectar o WhatsApp Web: remova o aparelho no celular',
    )
  })
})

describe('refusals', () => {
  test('bad input is a 422 that keeps what was typed (never the secrets) and changes nothing', async () => {
    const id = await sandboxChannel(a.client, 'Validação')
    const res = await a.client.post(`/settings/channels/${id}/switch`, {
      provider: 'cloud-api',
      phoneNumber: 'abc',
      phoneNumberId: 'not-digits',
      wabaId: '',
      accessToken: 'EAAG-typed-secret-0003',
      appSecret: 'short',
      verifyToken: '',
      confirm: '',
    })
    expect(res.status).toBe(422)
    const html = await res.text()
    for (const f of ['phoneNumber', 'phoneNumberId', 'wabaId', 'appSecret', 'confirm'])
      expect(html).toContain(`id="f-${f}-err"`)
    expect(html).toContain('Confirme que os envios ficam pausados durante a troca.')
    expect(html).toContain('value="not-digits"')
    expect(html).not.toContain('EAAG-typed-secret-0003')
    expect(await channel(id)).toMatchObject({ provider: 'sandbox', paused: false, switch_from: null })
    const same = await a.client.post(`/settings/channels/${id}/switch`, { provider: 'sandbox', confirm: '1' })
    expect(same.status).toBe(422)
    expect(await same.text()).toContain('O canal já usa este provedor.')
    expect((await auditOf(id)).map((x) => x.action)).toEqual(['whatsapp_channel.created'])
  })

  test('members cannot switch a channel', async () => {
    const m = await signUpClient(t, { orgName: 'Equipe' })
    const id = await sandboxChannel(m.client, 'Deles')
    await q(`update organization_members set role = 'member' where user_id = $1`, [m.userId])
    expect(
      (await m.client.post(`/settings/channels/${id}/switch`, { provider: 'baileys', confirm: '1' })).status,
    ).toBe(403)
    expect((await channel(id)).provider).toBe('sandbox')
  })

  test('another organization gets 404 on every switch route of the channel and changes nothing, also as the app role in SQL', async () => {
    const id = await sandboxChannel(a.client, 'Só de A')
    const gets = [`/settings/channels/${id}/switch`, `/settings/channels/${id}/templates`]
    for (const path of gets) expect((await b.client.get(path, { 'hx-request': 'true' })).status).toBe(404)
    for (const path of ['switch', 'switch/check', 'switch/cancel', 'templates/sync'])
      expect(
        (await b.client.post(`/settings/channels/${id}/${path}`, cloudForm('EAAG-intruder-token-0004')))
          .status,
      ).toBe(404)
    expect(await channel(id)).toMatchObject({ provider: 'sandbox', paused: false, switch_from: null })
    const changed = await withOrg(t.db, { orgId: b.orgId, userId: b.userId }, async (tx) =>
      rowsOf(
        await tx.execute(
          sql`update whatsapp_channels set provider = 'baileys', paused = true, switch_from = '{}'::jsonb
            where id = ${id}::uuid returning id`,
        ),
      ),
    )
    expect(changed).toEqual([])
    expect(await channel(id)).toMatchObject({ provider: 'sandbox', paused: false, switch_from: null })
    expect(graph.calls.some((c) => c.token === 'EAAG-intruder-token-0004')).toBe(false)
  })
})
