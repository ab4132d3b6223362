import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { withOrg } from '../../platform/db/tenancy'
import { AppError } from '../../platform/http/errors'
import { actorOf, type Member, seedLeads } from '../pipeline/pipeline.fixtures'
import { SendError } from '../whatsapp/whatsapp.types'
import { createChannel, fakeProvider, inbound, inboxWorker, receive } from './inbox.fixtures'
import { applyStatus } from './inbox.inbound'
import { beginProviderSwitch, resumeChannel, sendMessage } from './inbox.usecases'

let t: TestApp
let a: Member
let channel: string
let fake: ReturnType<typeof fakeProvider>

beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Inbox Org' })
  channel = await createChannel(t, a.orgId)
  fake = fakeProvider(t.db)
}, 300_000)
afterAll(() => t.close())

const q = <T>(text: string, params: unknown[] = []) => t.db.raw.query<T>(text, params)
const asA = <T>(fn: Parameters<typeof withOrg<T>>[2]) =>
  withOrg(t.db, { orgId: a.orgId, userId: a.userId }, fn)
const msg = async (id: string) =>
  (
    await q<{
      status: string
      provider_message_id: string | null
      error: any
      delivered_at: unknown
      read_at: unknown
    }>('select status, provider_message_id, error, delivered_at, read_at from messages where id = $1', [id])
  )[0]!
let phoneSeq = 0
const newPhone = () => `+55119${String(87000000 + ++phoneSeq * 7919).padStart(8, '0')}`

async function conversationFor(phone: string) {
  const [c] = await q<{ id: string; lead_id: string; unread_count: number; status: string }>(
    'select id, lead_id, unread_count, status from conversations where contact_phone = $1',
    [phone],
  )
  return c!
}

describe('inbound messages', () => {
  test('a message from an unknown number creates the lead, the conversation, the message and a timeline entry', async () => {
    const phone = newPhone()
    const r = await receive(t.db, a.orgId, channel, [
      inbound(phone, 'Oi, quero um orçamento', { contactName: 'Júlia Prado' }),
    ])
    expect(r.stored.length).toBe(1)
    const c = await conversationFor(phone)
    expect(c.unread_count).toBe(1)
    const [lead] = await q<{ full_name: string; phone: string; source: string }>(
      'select full_name, phone, source from leads where id = $1',
      [c.lead_id],
    )
    expect(lead).toEqual({ full_name: 'Júlia Prado', phone, source: 'WhatsApp' })
    const [m] = await q<{ body: string; direction: string }>(
      'select body, direction from messages where conversation_id = $1',
      [c.id],
    )
    expect(m).toEqual({ body: 'Oi, quero um orçamento', direction: 'in' })
    const acts = await q<{ kind: string; data: any }>(
      'select kind, data from lead_activities where lead_id = $1 and kind = $2',
      [c.lead_id, 'message.inbound'],
    )
    expect(acts.length).toBe(1)
    expect(acts[0]!.data.channelId).toBe(channel)
    const events = await q<{ payload: any }>(
      "select payload from outbox_events where organization_id = $1 and type = 'inbox.message' order by version desc limit 1",
      [a.orgId],
    )
    expect(events[0]!.payload.conversationId).toBe(c.id)
  })

  test('a message from a known lead phone goes to that lead, not a new one', async () => {
    const phone = newPhone()
    const [leadId] = await seedLeads(t, a, 1, () => ({ fullName: 'Carlos Lima', phone }))
    const before = (
      await q<{ n: number }>('select count(*)::int as n from leads where organization_id = $1', [a.orgId])
    )[0]!.n
    await receive(t.db, a.orgId, channel, [inbound(phone, 'Bom dia')])
    const after = (
      await q<{ n: number }>('select count(*)::int as n from leads where organization_id = $1', [a.orgId])
    )[0]!.n
    expect(after).toBe(before)
    expect((await conversationFor(phone)).lead_id).toBe(leadId!)
  })

  test('the same provider message id is processed once, even when delivered twice', async () => {
    const phone = newPhone()
    const m = inbound(phone, 'duplicado')
    await receive(t.db, a.orgId, channel, [m, m])
    const again = await receive(t.db, a.orgId, channel, [m])
    expect(again.duplicates).toBe(1)
    const c = await conversationFor(phone)
    expect(c.unread_count).toBe(1)
    expect((await q('select 1 from messages where conversation_id = $1', [c.id])).length).toBe(1)
  })

  test('a closed conversation reopens when the contact writes again', async () => {
    const phone = newPhone()
    await receive(t.db, a.orgId, channel, [inbound(phone, 'primeira')])
    const c = await conversationFor(phone)
    expect((await a.client.post(`/inbox/c/${c.id}/close`)).status).toBe(303)
    expect((await conversationFor(phone)).status).toBe('closed')
    await receive(t.db, a.orgId, channel, [inbound(phone, 'voltei')])
    expect((await conversationFor(phone)).status).toBe('open')
  })
})

describe('sending', () => {
  async function thread() {
    const phone = newPhone()
    await receive(t.db, a.orgId, channel, [inbound(phone, 'olá')])
    return (await conversationFor(phone)).id
  }

  test('a sent message gets the provider id and "sent"; receipts out of order end at "read"', async () => {
    const conv = await thread()
    fake.set(async () => ({ providerMessageId: 'wamid.order.1' }))
    const { messageId } = await asA((tx) => sendMessage(tx, actorOf(a), conv, { body: 'Segue a proposta' }))
    expect((await msg(messageId)).status).toBe('pending')
    const { worker } = inboxWorker(t.db)
    expect(await worker.runDue()).toBeGreaterThanOrEqual(1)
    expect(await msg(messageId)).toMatchObject({ status: 'sent', provider_message_id: 'wamid.order.1' })
    expect(fake.sent.at(-1)!.req).toMatchObject({ kind: 'text', text: 'Segue a proposta' })
    const read = await asA((tx) =>
      applyStatus(tx, channel, { providerMessageId: 'wamid.order.1', status: 'read', timestamp: Date.now() }),
    )
    const late = await asA((tx) =>
      applyStatus(tx, channel, {
        providerMessageId: 'wamid.order.1',
        status: 'delivered',
        timestamp: Date.now() - 1000,
      }),
    )
    expect([read, late]).toEqual([true, false])
    const m = await msg(messageId)
    expect(m.status).toBe('read')
    expect(m.delivered_at).not.toBeNull()
  })

  test('a transient provider error retries with backoff and then sends', async () => {
    const conv = await thread()
    let calls = 0
    fake.set(async () => {
      calls++
      if (calls === 1) throw new SendError(false, '130429', 'Rate limit hit')
      return { providerMessageId: 'wamid.retry.1' }
    })
    const { messageId } = await asA((tx) => sendMessage(tx, actorOf(a), conv, { body: 'tentativa' }))
    const { worker, clock } = inboxWorker(t.db)
    await worker.runDue()
    expect((await msg(messageId)).status).toBe('pending')
    const [job] = await q<{ state: string }>(
      "select state from jobs where name = 'inbox.send' and payload->>'messageId' = $1",
      [messageId],
    )
    expect(job!.state).toBe('failed')
    clock.advance(5 * 60_000)
    await worker.runDue()
    expect(await msg(messageId)).toMatchObject({ status: 'sent', provider_message_id: 'wamid.retry.1' })
    expect(calls).toBe(2)
  })

  test('a permanent provider error fails the message with the reason, shown in the chat', async () => {
    const conv = await thread()
    fake.set(async () => {
      throw new SendError(true, '131026', 'Message undeliverable: número sem WhatsApp')
    })
    const { messageId } = await asA((tx) => sendMessage(tx, actorOf(a), conv, { body: 'não vai chegar' }))
    const { worker } = inboxWorker(t.db)
    await worker.runDue()
    const m = await msg(messageId)
    expect(m.status).toBe('failed')
    expect(m.error).toMatchObject({ code: '131026' })
    const page = await a.client.page(`/inbox/c/${conv}`)
    expect(page).toContain('número sem WhatsApp')
    expect(page).toContain('data-status="failed"')
  })

  test('a worker dying between accepting and sending loses nothing: another worker sends after the lease expires', async () => {
    const conv = await thread()
    let hang: (() => void) | null = null
    fake.set(
      () =>
        new Promise((resolve) => {
          hang = () => resolve({ providerMessageId: 'wamid.never' })
        }),
    )
    const { messageId } = await asA((tx) => sendMessage(tx, actorOf(a), conv, { body: 'sobrevive' }))
    const dying = inboxWorker(t.db, { leaseMs: 1_000 })
    void dying.worker.runDue()
    for (let i = 0; i < 100 && !hang; i++) await Bun.sleep(20)
    expect(hang).not.toBeNull() // the first worker is inside the provider call: then it "dies"
    fake.set(async () => ({ providerMessageId: 'wamid.second' }))
    const next = inboxWorker(t.db)
    next.clock.advance(60_000) // its clock is past the dead worker's lease
    await next.worker.sweep()
    await next.worker.runDue()
    expect(await msg(messageId)).toMatchObject({ status: 'sent', provider_message_id: 'wamid.second' })
    // The dead worker's late answer (if it ever came) changes nothing.
    ;(hang as unknown as () => void)()
    await Bun.sleep(50)
    expect((await msg(messageId)).provider_message_id).toBe('wamid.second')
  })

  test('an internal note is stored, never sent', async () => {
    const conv = await thread()
    const before = fake.sent.length
    const { messageId, jobId } = await asA((tx) =>
      sendMessage(tx, actorOf(a), conv, { body: 'cliente VIP', note: true }),
    )
    expect(jobId).toBeNull()
    const { worker } = inboxWorker(t.db)
    await worker.runDue()
    expect(fake.sent.length).toBe(before)
    expect((await q<{ type: string }>('select type from messages where id = $1', [messageId]))[0]!.type).toBe(
      'note',
    )
  })

  test('an empty message is refused with a field error and nothing is stored', async () => {
    const conv = await thread()
    const res = await a.client.post(`/inbox/c/${conv}/send`, { body: '   ' })
    expect(res.status).toBe(422)
    const body = await res.text()
    expect(body).toContain('Escreva uma mensagem primeiro.')
    expect(
      (await q("select 1 from messages where conversation_id = $1 and direction = 'out'", [conv])).length,
    ).toBe(0)
  })
})

describe('24-hour window (Cloud API)', () => {
  test('outside the window only a template may be sent; inside it text goes out', async () => {
    const cloud = await createChannel(t, a.orgId, 'cloud-api', 'Oficial')
    const phone = newPhone()
    await receive(t.db, a.orgId, cloud, [inbound(phone, 'oi', { timestamp: Date.now() - 25 * 3600_000 })])
    const conv = (await q<{ id: string }>('select id from conversations where channel_id = $1', [cloud]))[0]!
      .id
    const err = await asA((tx) => sendMessage(tx, actorOf(a), conv, { body: 'texto livre' })).catch((e) => e)
    expect(err).toBeInstanceOf(AppError)
    expect(err.code).toBe('inbox.window_closed')
    const page = await a.client.page(`/inbox/c/${conv}`)
    expect(page).toContain('data-testid="window-closed"')
    const tpl = await asA((tx) =>
      sendMessage(tx, actorOf(a), conv, {
        body: '',
        template: { name: 'retomada_contato', language: 'pt_BR' },
      }),
    )
    expect((await msg(tpl.messageId)).status).toBe('pending')
    const note = await asA((tx) => sendMessage(tx, actorOf(a), conv, { body: 'ligar amanhã', note: true }))
    expect(note.jobId).toBeNull()
    await receive(t.db, a.orgId, cloud, [inbound(phone, 'voltei')])
    const ok = await asA((tx) => sendMessage(tx, actorOf(a), conv, { body: 'agora pode' }))
    expect(ok.jobId).not.toBeNull()
  })
})

describe('provider switch', () => {
  test('queued messages wait while the channel is paused and go out through the new provider; the thread continues', async () => {
    const ch = await createChannel(t, a.orgId, 'sandbox', 'Troca')
    const phone = newPhone()
    await receive(t.db, a.orgId, ch, [inbound(phone, 'antes da troca')])
    const conv = (await q<{ id: string }>('select id from conversations where channel_id = $1', [ch]))[0]!.id
    fake.set(async (_req, provider) => ({ providerMessageId: `wamid.${provider}.${Bun.randomUUIDv7()}` }))
    await asA((tx) => beginProviderSwitch(tx, actorOf(a), ch, { provider: 'baileys' }))
    const { messageId } = await asA((tx) => sendMessage(tx, actorOf(a), conv, { body: 'durante a troca' }))
    const { worker, clock } = inboxWorker(t.db)
    await worker.runDue()
    expect((await msg(messageId)).status).toBe('pending')
    await asA((tx) => resumeChannel(tx, ch))
    clock.advance(1_000) // the worker's frozen clock catches up with the database's now()
    await worker.runDue()
    const m = await msg(messageId)
    expect(m.status).toBe('sent')
    expect(m.provider_message_id).toStartWith('wamid.baileys.')
    await receive(t.db, a.orgId, ch, [inbound(phone, 'depois da troca')])
    const convs = await q<{ id: string }>('select id from conversations where channel_id = $1', [ch])
    expect(convs.map((c) => c.id)).toEqual([conv])
    expect((await q('select 1 from messages where conversation_id = $1', [conv])).length).toBe(3)
    const audit = await q<{ before: any; after: any }>(
      "select before, after from audit_log where action = 'whatsapp_channel.provider_switched' and target_id = $1",
      [ch],
    )
    expect(audit[0]).toMatchObject({ before: { provider: 'sandbox' }, after: { provider: 'baileys' } })
  })
})

describe('pages', () => {
  test('the inbox lists conversations with filters, opens one, and sends from the form', async () => {
    const phone = newPhone()
    await receive(t.db, a.orgId, channel, [
      inbound(phone, 'Quero <b>saber</b> o preço', { contactName: '<script>x</script>Ana' }),
    ])
    const c = await conversationFor(phone)
    const list = await a.client.page('/inbox?filter=unread')
    expect(list).toContain(`/inbox/c/${c.id}`)
    expect(list).not.toContain('<script>x</script>')
    expect(list).toContain('&lt;script&gt;')
    const mine = await a.client.page('/inbox?filter=mine')
    expect(mine).not.toContain(`/inbox/c/${c.id}`)
    const chat = await a.client.page(`/inbox/c/${c.id}`)
    expect(chat).toContain('Quero &lt;b&gt;saber&lt;/b&gt; o preço')
    expect((await conversationFor(phone)).unread_count).toBe(0)
    const res = await a.client.post(`/inbox/c/${c.id}/send`, { body: 'Claro! Te mando já.' })
    expect(res.status).toBe(303)
    expect(await a.client.page('/inbox?filter=mine')).toContain(`/inbox/c/${c.id}`)
    const drawer = await a.client.page(`/inbox/lead/${c.lead_id}`)
    expect(drawer).toContain(`/inbox/c/${c.id}`)
  })

  test('quick replies: admins add and delete them, a bad shortcut is refused with the input kept', async () => {
    const bad = await a.client.post('/settings/quick-replies', { shortcut: 'Com Espaço', body: 'Olá!' })
    expect(bad.status).toBe(422)
    expect(await bad.text()).toContain('Olá!')
    expect(
      (await a.client.post('/settings/quick-replies', { shortcut: '/precos', body: 'Nossos preços: …' }))
        .status,
    ).toBe(303)
    const page = await a.client.page('/settings/quick-replies')
    expect(page).toContain('/precos')
    const [qr] = await q<{ id: string }>('select id from quick_replies where organization_id = $1', [a.orgId])
    const chat = await a.client.page('/inbox')
    expect(chat).toContain('data-testid="inbox"')
    expect((await a.client.post(`/settings/quick-replies/${qr!.id}/delete`)).status).toBe(303)
    expect((await q('select 1 from quick_replies where organization_id = $1', [a.orgId])).length).toBe(0)
  })
})
