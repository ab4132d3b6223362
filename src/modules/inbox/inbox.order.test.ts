/**
 * Out-of-order and duplicated Cloud API webhooks, through the real path: Meta's signed payload
 * posted to the webhook route, stored in webhook_inbox, processed by `whatsapp.process_inbound`
 * into the inbox (receipts not matched yet retried by `inbox.receipts`). Statuses only move forward
 * and keep the time each one really happened; an older message processed late does not move the
 * conversation backwards; the same message in one body or two is stored once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import { BASE, createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { withOrg } from '../../platform/db/tenancy'
import { createFakeClock } from '../../platform/jobs/jobs.clock'
import { createWorker } from '../../platform/jobs/jobs.worker'
import { silentLogger } from '../../platform/log/logger'
import { actorOf, type Member } from '../pipeline/pipeline.fixtures'
import { cloudChannelForm, cloudDelivery, cloudInboundText, newChannel } from '../whatsapp/whatsapp.fixtures'
import { processInboundJob } from '../whatsapp/whatsapp.inbound'
import { fakeProvider } from './inbox.fixtures'
import { INBOX_JOBS } from './inbox.jobs'
import { sendMessage } from './inbox.usecases'

const APP_SECRET = 'order-app-secret'
let t: TestApp
let a: Member
let channel: string
let fake: ReturnType<typeof fakeProvider>
const clock = createFakeClock()
let worker: ReturnType<typeof createWorker>

beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Ordem Imóveis' })
  channel = (
    await newChannel(
      t.db,
      { ...actorOf(a), ip: null },
      cloudChannelForm({ appSecret: APP_SECRET }),
      t.config.secretKey,
    )
  ).id
  fake = fakeProvider(t.db)
  worker = createWorker({ db: t.db, jobs: [processInboundJob, ...INBOX_JOBS], clock, log: silentLogger })
}, 300_000)
afterAll(() => t.close())

const q = <T>(text: string, params: unknown[] = []) => t.db.raw.query<T>(text, params)
/** Unix seconds, `s` seconds from now (Meta's timestamps). */
const secs = (s = 0) => String(Math.floor(Date.now() / 1000) + s)
const iso = (unixSeconds: string) => new Date(Number(unixSeconds) * 1000).toISOString()
let seq = 0
const newWaId = () => `55119876${String(40000 + ++seq).padStart(5, '0')}`

/** Meta posts a body, signed with the app secret; the route stores it and answers 200. */
async function post(payload: unknown) {
  const body = JSON.stringify(payload)
  const res = await t.handle(
    new Request(`${BASE}/webhooks/whatsapp/${channel}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': `sha256=${createHmac('sha256', APP_SECRET).update(body).digest('hex')}`,
      },
      body,
    }),
  )
  expect([res.status, await res.text()]).toEqual([200, 'EVENT_RECEIVED'])
}

/** Runs every job due `aheadMs` from now (the worker's clock is frozen between calls). */
async function drain(aheadMs = 500) {
  clock.set(Date.now() + aheadMs)
  return worker.runDue()
}

const status = (id: string, tsSeconds: string, s: string, waId: string) =>
  cloudDelivery({ statuses: [{ id, status: s, timestamp: tsSeconds, recipient_id: waId }] })

async function conversationOf(waId: string) {
  const [c] = await q<{
    id: string
    lead_id: string
    last_message_at: Date
    last_inbound_at: Date
    last_message_preview: string
    unread_count: number
  }>(
    `select id, lead_id, last_message_at, last_inbound_at, last_message_preview, unread_count
      from conversations where contact_phone = $1`,
    [`+${waId}`],
  )
  return c!
}

const message = async (id: string) =>
  (
    await q<{
      status: string
      provider_message_id: string | null
      sent_at: Date | null
      delivered_at: Date | null
      read_at: Date | null
    }>('select status, provider_message_id, sent_at, delivered_at, read_at from messages where id = $1', [id])
  )[0]!
const isoOf = (d: Date | null) => (d ? new Date(d).toISOString() : null)

/** The contact writes first (the Cloud API's 24-hour window), then the rep answers. */
async function threadWithReply(waId: string, providerId: string, opts: { runSend: boolean }) {
  await post(cloudInboundText({ from: waId, name: 'Beatriz Ordem', id: `wamid.in.${waId}`, body: 'Olá' }))
  await drain()
  const conv = await conversationOf(waId)
  fake.set(async () => ({ providerMessageId: providerId }))
  const { messageId } = await withOrg(t.db, { orgId: a.orgId, userId: a.userId }, (tx) =>
    sendMessage(tx, { ...actorOf(a), ip: null }, conv.id, { body: 'Segue a proposta' }),
  )
  if (opts.runSend) await drain()
  return { conv, messageId }
}

describe('receipts out of order, through the webhook', () => {
  test('"read" before "delivered", "sent" last: the message ends read, each time as Meta reported it', async () => {
    const waId = newWaId()
    const { messageId } = await threadWithReply(waId, 'wamid.out.order.a', { runSend: true })
    expect(await message(messageId)).toMatchObject({
      status: 'sent',
      provider_message_id: 'wamid.out.order.a',
    })
    const [sentAt, deliveredAt, readAt] = [secs(-30), secs(-20), secs(-10)]
    await post(status('wamid.out.order.a', readAt, 'read', waId))
    await drain()
    expect((await message(messageId)).status).toBe('read')
    await post(status('wamid.out.order.a', deliveredAt, 'delivered', waId))
    await post(status('wamid.out.order.a', sentAt, 'sent', waId))
    await drain()
    const m = await message(messageId)
    expect(m.status).toBe('read')
    expect(isoOf(m.read_at)).toBe(iso(readAt))
    // Filled from "read" when it came first, then put back to when the message really was delivered.
    expect(isoOf(m.delivered_at)).toBe(iso(deliveredAt))
    expect(isoOf(m.sent_at)).toBe(iso(sentAt))
    expect(
      await q<{ status: string }>('select status from webhook_inbox where channel_id = $1 and status <> $2', [
        channel,
        'processed',
      ]),
    ).toEqual([])
    // The chat shows the read ticks on the bubble.
    const [c] = await q<{ conversation_id: string }>('select conversation_id from messages where id = $1', [
      messageId,
    ])
    const chat = await a.client.page(`/inbox/c/${c!.conversation_id}/messages`)
    expect(chat.slice(chat.indexOf('Segue a proposta'))).toContain('class="tick tick-read"')
  })

  test('a receipt for an id the send job has not recorded yet is retried by inbox.receipts and applied', async () => {
    const waId = newWaId()
    const { messageId } = await threadWithReply(waId, 'wamid.out.order.b', { runSend: false })
    // Meta's "delivered" arrives while our send job has not written the id yet.
    await post(status('wamid.out.order.b', secs(), 'delivered', waId))
    const processOnly = createWorker({ db: t.db, jobs: [processInboundJob], clock, log: silentLogger })
    clock.set(Date.now() + 500)
    expect(await processOnly.runDue()).toBe(1)
    expect(await message(messageId)).toMatchObject({ status: 'pending', provider_message_id: null })
    const [retry] = await q<{ payload: any; state: string }>(
      `select payload, state from jobs where name = 'inbox.receipts' and payload->>'channelId' = $1
        and payload->'statuses'->0->>'providerMessageId' = 'wamid.out.order.b'`,
      [channel],
    )
    expect(retry).toMatchObject({ state: 'queued', payload: { tries: 1 } })
    // The send job records the id (and "sent"); the retried receipt then moves it to delivered.
    await drain(0)
    expect(await message(messageId)).toMatchObject({
      status: 'sent',
      provider_message_id: 'wamid.out.order.b',
    })
    await drain(1_500)
    const m = await message(messageId)
    expect(m.status).toBe('delivered')
    expect(m.delivered_at).not.toBeNull()
  })
})

describe('inbound messages out of order and twice', () => {
  test('an older message processed after a newer one moves nothing backwards and is shown in its place', async () => {
    const waId = newWaId()
    const [older, newer] = [secs(-120), secs(-60)]
    await post(
      cloudInboundText({
        from: waId,
        name: 'Caio Tardio',
        id: 'wamid.in.newer',
        body: 'Segunda mensagem',
        timestamp: newer,
      }),
    )
    await drain()
    await post(
      cloudInboundText({
        from: waId,
        name: 'Caio Tardio',
        id: 'wamid.in.older',
        body: 'Primeira mensagem',
        timestamp: older,
      }),
    )
    await drain()
    const c = await conversationOf(waId)
    expect(c.last_message_preview).toBe('Segunda mensagem')
    expect(isoOf(c.last_message_at)).toBe(iso(newer))
    expect(isoOf(c.last_inbound_at)).toBe(iso(newer))
    expect(c.unread_count).toBe(2)
    const bodies = await q<{ body: string }>(
      'select body from messages where conversation_id = $1 order by created_at, id',
      [c.id],
    )
    expect(bodies.map((m) => m.body)).toEqual(['Primeira mensagem', 'Segunda mensagem'])
    // The chat and the list, as the rep sees them.
    const list = await a.client.page('/inbox/list?status=all')
    expect(list).toContain('Segunda mensagem')
    expect(list).not.toContain('Primeira mensagem')
    const chat = await a.client.page(`/inbox/c/${c.id}/messages`)
    expect(chat.indexOf('Primeira mensagem')).toBeGreaterThan(-1)
    expect(chat.indexOf('Primeira mensagem')).toBeLessThan(chat.indexOf('Segunda mensagem'))
  })

  test('the same body delivered twice, and the same message id in two different bodies, store one message', async () => {
    const waId = newWaId()
    const first = cloudInboundText({
      from: waId,
      name: 'Duda Dupla',
      id: 'wamid.in.twice',
      body: 'Só uma vez',
      timestamp: secs(-5),
    })
    await post(first)
    await post(first) // Meta retries until it gets a 200: the same bytes
    expect(
      (
        await q('select 1 from webhook_inbox where channel_id = $1 and body = $2', [
          channel,
          JSON.stringify(first),
        ])
      ).length,
    ).toBe(1)
    await drain()
    // A later delivery carrying the same message again, next to a new one, in another envelope.
    await post(
      cloudDelivery({
        contacts: [{ profile: { name: 'Duda Dupla' }, wa_id: waId }],
        messages: [
          {
            from: waId,
            id: 'wamid.in.twice',
            timestamp: secs(-5),
            type: 'text',
            text: { body: 'Só uma vez' },
          },
          { from: waId, id: 'wamid.in.other', timestamp: secs(-4), type: 'text', text: { body: 'E outra' } },
        ],
      }),
    )
    await drain()
    const c = await conversationOf(waId)
    const rows = await q<{ body: string; provider_message_id: string }>(
      'select body, provider_message_id from messages where conversation_id = $1 order by created_at, id',
      [c.id],
    )
    expect(rows).toEqual([
      { body: 'Só uma vez', provider_message_id: 'wamid.in.twice' },
      { body: 'E outra', provider_message_id: 'wamid.in.other' },
    ])
    expect(c.unread_count).toBe(2)
    const activities = await q<{ n: number }>(
      "select count(*)::int as n from lead_activities where lead_id = $1 and kind = 'message.inbound'",
      [c.lead_id],
    )
    expect(activities[0]!.n).toBe(2)
  })
})
