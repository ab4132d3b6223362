/**
 * Idempotent WhatsApp Web sends: the send job passes our message id, the Baileys provider derives
 * the WhatsApp message id from it (`waMessageId`, the shape of Baileys' generateMessageIDV2), so a
 * send retried after a crash — WhatsApp had the message, we had not recorded it — goes out with
 * the SAME id: one message on the phone, and its receipts match our row.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { withOrg } from '../../platform/db/tenancy'
import { createWorker } from '../../platform/jobs/jobs.worker'
import { createChannel, inbound, inboxWorker, receive } from '../inbox/inbox.fixtures'
import { sendMessage } from '../inbox/inbox.usecases'
import { actorOf } from '../pipeline/pipeline.fixtures'
import { type BaileysSupervisor, createBaileysSupervisor, waMessageId } from './whatsapp.baileys'
import { FakeTransport } from './whatsapp.fixtures'
import { processInboundJob } from './whatsapp.inbound'
import { configureWhatsApp, deliverTo } from './whatsapp.runtime'

/** What WhatsApp's servers received, across process restarts. */
const whatsapp: Array<{ jid: string; id: string; text: string }> = []

let t: TestApp
let a: Awaited<ReturnType<typeof signUpClient>>
const supervisors: BaileysSupervisor[] = []

function boot(dieAfterSend: boolean) {
  const transports: FakeTransport[] = []
  const sup = createBaileysSupervisor({
    db: t.db,
    secretKey: t.config.secretKey,
    deliver: deliverTo(t.db),
    transport: async ({ auth }) => {
      const tr = new FakeTransport(auth, {
        user: '5511987650000:3@s.whatsapp.net',
        onSend: ({ jid, content }, id) => whatsapp.push({ jid, id, text: content.text }),
        hangSends: dieAfterSend,
      })
      transports.push(tr)
      return tr
    },
    pacing: { minGapMs: 0, jitterMs: 0, typingMsPerChar: 0, maxTypingMs: 0 },
    sleep: async () => {},
  })
  supervisors.push(sup)
  configureWhatsApp(t.db, { config: t.config, supervisor: sup, sandboxClock: { setTimeout: () => 0 } })
  return { sup, transports }
}

beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Idempotente' })
}, 300_000)
afterAll(async () => {
  for (const s of supervisors) await s.stopAll().catch(() => {})
  await t.close()
})

describe('the WhatsApp message id', () => {
  test('is derived from our message id: same key, same id; Baileys’ shape (3EB0 + 18 hex digits)', () => {
    const id = Bun.randomUUIDv7()
    expect(waMessageId(id)).toMatch(/^3EB0[0-9A-F]{18}$/)
    expect(waMessageId(id)).toBe(waMessageId(id))
    expect(waMessageId(id)).not.toBe(waMessageId(Bun.randomUUIDv7()))
  })
})

describe('a crash after WhatsApp accepted the message', () => {
  test('the retried send after the restart reuses the same id: WhatsApp keeps one message and the receipt matches', async () => {
    const channelId = await createChannel(t, a.orgId, 'baileys', 'Celular')
    const ref = { orgId: a.orgId, channelId }
    const phone = '+5511987653001'
    await receive(t.db, a.orgId, channelId, [inbound(phone, 'Oi')])
    const [conv] = await t.db.raw.query<{ id: string }>(
      'select id from conversations where channel_id = $1',
      [channelId],
    )

    // Process 1: the socket is open; the send reaches WhatsApp, then the process dies.
    const first = boot(true)
    await first.sup.start(ref)
    first.transports[0]!.emit('connection.update', { connection: 'open' })
    await first.sup.settled()
    const { messageId } = await withOrg(t.db, { orgId: a.orgId, userId: a.userId }, (tx) =>
      sendMessage(tx, actorOf(a), conv!.id, { body: 'Proposta em anexo' }),
    )
    const dying = inboxWorker(t.db, { leaseMs: 1_000 })
    void dying.worker.runDue()
    for (let i = 0; i < 200 && !whatsapp.length; i++) await Bun.sleep(10)
    expect(whatsapp).toHaveLength(1)
    const [row] = await t.db.raw.query<{ status: string; provider_message_id: string | null }>(
      'select status, provider_message_id from messages where id = $1',
      [messageId],
    )
    expect(row).toEqual({ status: 'pending', provider_message_id: null })

    // Process 2: a new supervisor and socket; the job's lease expired, another worker retries it.
    const second = boot(false)
    await second.sup.start(ref)
    second.transports[0]!.emit('connection.update', { connection: 'open' })
    await second.sup.settled()
    const next = inboxWorker(t.db)
    next.clock.advance(60_000)
    await next.worker.sweep()
    await next.worker.runDue()

    expect(whatsapp.map((m) => m.id)).toEqual([waMessageId(messageId), waMessageId(messageId)])
    expect(new Set(whatsapp.map((m) => `${m.jid} ${m.id} ${m.text}`)).size).toBe(1)
    const [sent] = await t.db.raw.query<{ status: string; provider_message_id: string }>(
      'select status, provider_message_id from messages where id = $1',
      [messageId],
    )
    expect(sent).toEqual({ status: 'sent', provider_message_id: waMessageId(messageId) })

    // WhatsApp's "delivered" names that id: it lands on our message.
    second.transports[0]!.emit('messages.update', [
      {
        key: { remoteJid: '5511987653001@s.whatsapp.net', id: waMessageId(messageId), fromMe: true },
        update: { status: 3 },
      },
    ])
    // The socket hands the receipt to webhook_inbox in the background; its job applies it.
    const status = async () =>
      (await t.db.raw.query<{ status: string }>('select status from messages where id = $1', [messageId]))[0]!
        .status
    const inboundJobs = createWorker({ db: t.db, jobs: [processInboundJob] })
    for (let i = 0; i < 300 && (await status()) !== 'delivered'; i++) {
      await inboundJobs.runDue()
      await Bun.sleep(10)
    }
    expect(await status()).toBe('delivered')
  })
})
