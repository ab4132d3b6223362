import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { withOrg } from '../../platform/db/tenancy'
import { AppError } from '../../platform/http/errors'
import { addMember } from '../leads/leads.scoring.fixtures'
import { actorOf, type Member, seedLeads } from '../pipeline/pipeline.fixtures'
import { setChannelStatus } from '../whatsapp/whatsapp.channels'
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

  test('a new lead from WhatsApp goes to the member the assignment rules pick; without a matching rule it stays unassigned', async () => {
    // An organization of its own, so its rule touches no other test's leads.
    const o = await signUpClient(t, { orgName: 'Regras de distribuição' })
    const ch = await createChannel(t, o.orgId, 'sandbox', 'Atendimento')
    const caio = await addMember(t.db, o.orgId, 'Caio Vendas')
    const rule = await o.client.request('POST', '/settings/assignment/rules', {
      form: {
        name: 'Vindos do WhatsApp',
        condType: 'source',
        condValues: 'WhatsApp',
        strategy: 'round_robin',
        members: caio,
      },
    })
    expect(rule.status).toBe(303)
    const phone = newPhone()
    await receive(t.db, o.orgId, ch, [
      inbound(phone, 'Oi! Quero falar com vendas', { contactName: 'Rui Lima' }),
    ])
    const c = await conversationFor(phone)
    const [lead] = await q<{ owner_id: string | null; source: string }>(
      'select owner_id, source from leads where id = $1',
      [c.lead_id],
    )
    expect(lead).toEqual({ owner_id: caio, source: 'WhatsApp' })
    // Organization A has no rule: its new WhatsApp leads have no owner.
    const other = newPhone()
    await receive(t.db, a.orgId, channel, [inbound(other, 'olá')])
    const [free] = await q<{ owner_id: string | null }>('select owner_id from leads where id = $1', [
      (await conversationFor(other)).lead_id,
    ])
    expect(free!.owner_id).toBeNull()
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

  test('a pending conversation (waiting on the contact) is open again when the contact writes', async () => {
    const phone = newPhone()
    await receive(t.db, a.orgId, channel, [inbound(phone, 'vou ver com meu sócio')])
    const c = await conversationFor(phone)
    expect((await a.client.post(`/inbox/c/${c.id}/pending`)).status).toBe(303)
    expect((await conversationFor(phone)).status).toBe('pending')
    await receive(t.db, a.orgId, channel, [inbound(phone, 'fechado, pode mandar')])
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

describe('a WhatsApp Web session that waits for an admin', () => {
  test('sends wait in the queue without using up attempts, the composer says why, and they go out when the session opens again', async () => {
    const ch = await createChannel(t, a.orgId, 'baileys', 'Celular da loja')
    const phone = newPhone()
    await receive(t.db, a.orgId, ch, [inbound(phone, 'oi, ainda estão aí?')])
    const conv = (await q<{ id: string }>('select id from conversations where channel_id = $1', [ch]))[0]!.id
    // The phone logged the device out: the supervisor wrote the status (whatsapp.baileys.ts).
    await asA((tx) => setChannelStatus(tx, ch, { status: 'logged_out' }))
    const page = await a.client.page(`/inbox/c/${conv}`)
    expect(page).toContain('data-state="waiting-logged_out"')
    expect(page).toContain('O WhatsApp Web foi desconectado no celular')
    const sentBefore = fake.sent.length
    fake.set(async (_req, provider) => ({ providerMessageId: `wamid.${provider}.${Bun.randomUUIDv7()}` }))
    const { messageId } = await asA((tx) => sendMessage(tx, actorOf(a), conv, { body: 'estamos sim!' }))
    const { worker, clock } = inboxWorker(t.db)
    await worker.runDue()
    expect((await msg(messageId)).status).toBe('pending')
    expect(fake.sent.length).toBe(sentBefore)
    // Parked: the job completed and left a follow-up for later, no attempt spent.
    const jobs = await q<{ state: string; attempts: number; parks: number | null }>(
      `select state, attempts, (payload->>'parks')::int as parks from jobs
        where name = 'inbox.send' and payload->>'messageId' = $1 order by created_at`,
      [messageId],
    )
    expect(jobs.map((j) => [j.state, j.parks])).toEqual([
      ['completed', null],
      ['queued', 1],
    ])
    // Blocked or stopped by the loop guard: still waiting, and the composer says what happened.
    for (const [status, text] of [
      ['forbidden', 'O WhatsApp bloqueou este número'],
      ['error', 'Este canal parou depois de falhas repetidas de conexão'],
    ] as const) {
      await asA((tx) => setChannelStatus(tx, ch, { status }))
      expect(
        await a.client.get(`/inbox/c/${conv}/channel-note`, { 'hx-request': 'true' }).then((r) => r.text()),
      ).toContain(text)
    }
    // A new QR scanned: the session opens, and the parked message goes out at once.
    await asA((tx) => setChannelStatus(tx, ch, { status: 'open' }))
    clock.advance(1_000) // the worker's frozen clock catches up with the database's now()
    await worker.runDue()
    const m = await msg(messageId)
    expect(m.status).toBe('sent')
    expect(m.provider_message_id).toStartWith('wamid.baileys.')
    expect(fake.sent.length).toBe(sentBefore + 1)
    expect(await a.client.page(`/inbox/c/${conv}`)).toContain('data-state="sending"')
  })

  test('a transient close (reconnecting) does not park: the send retries with backoff as usual', async () => {
    const ch = await createChannel(t, a.orgId, 'baileys', 'Celular reconectando')
    const phone = newPhone()
    await receive(t.db, a.orgId, ch, [inbound(phone, 'olá')])
    const conv = (await q<{ id: string }>('select id from conversations where channel_id = $1', [ch]))[0]!.id
    await asA((tx) => setChannelStatus(tx, ch, { status: 'connecting' }))
    fake.set(async () => {
      throw new SendError(false, 'not_connected', 'WhatsApp Web is not connected')
    })
    const { messageId } = await asA((tx) => sendMessage(tx, actorOf(a), conv, { body: 'tentando' }))
    const { worker } = inboxWorker(t.db)
    await worker.runDue()
    const [job] = await q<{ state: string; attempts: number }>(
      "select state, attempts from jobs where name = 'inbox.send' and payload->>'messageId' = $1",
      [messageId],
    )
    expect(job).toMatchObject({ state: 'failed', attempts: 1 })
    expect(await a.client.page(`/inbox/c/${conv}`)).toContain('data-state="sending"')
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

describe('status, assignment and filters', () => {
  const hx = { 'hx-request': 'true' }
  async function thread(text = 'olá') {
    const phone = newPhone()
    await receive(t.db, a.orgId, channel, [inbound(phone, text)])
    return { ...(await conversationFor(phone)), phone }
  }
  const audits = (id: string) =>
    q<{ action: string; before: any; after: any; actor_user_id: string }>(
      'select action, before, after, actor_user_id from audit_log where target_id = $1 order by created_at, id',
      [id],
    )
  const listHas = async (query: string, id: string) =>
    (await a.client.page(`/inbox${query}`)).includes(`/inbox/c/${id}`)

  test('"Mark pending", close and reopen change the status, each audited with before and after', async () => {
    const c = await thread()
    expect((await a.client.post(`/inbox/c/${c.id}/pending`)).status).toBe(303)
    const head = await a.client.page(`/inbox/c/${c.id}`)
    expect(head).toContain('data-status="pending"')
    expect(head).toContain(`action="/inbox/c/${c.id}/reopen"`)
    expect((await a.client.post(`/inbox/c/${c.id}/close`)).status).toBe(303)
    expect(await conversationFor(c.phone)).toMatchObject({ status: 'closed', unread_count: 0 })
    expect((await a.client.post(`/inbox/c/${c.id}/reopen`)).status).toBe(303)
    // Reopening an open conversation again changes nothing and writes nothing.
    expect((await a.client.post(`/inbox/c/${c.id}/reopen`)).status).toBe(303)
    const rows = await audits(c.id)
    expect(rows.map((r) => [r.action, r.before.status, r.after.status])).toEqual([
      ['conversation.status_changed', 'open', 'pending'],
      ['conversation.status_changed', 'pending', 'closed'],
      ['conversation.status_changed', 'closed', 'open'],
    ])
    expect(rows.every((r) => r.actor_user_id === a.userId)).toBe(true)
    expect((await conversationFor(c.phone)).status).toBe('open')
    expect(await a.client.page('/settings/audit')).toContain(
      'mudou a situação de uma conversa de pendente para encerrada',
    )
  })

  test('the status filter lists open, pending, closed or all conversations', async () => {
    const open = await thread()
    const pending = await thread()
    const closed = await thread()
    await a.client.post(`/inbox/c/${pending.id}/pending`)
    await a.client.post(`/inbox/c/${closed.id}/close`)
    const seen = (query: string) => Promise.all([open, pending, closed].map((c) => listHas(query, c.id)))
    expect(await seen('')).toEqual([true, false, false])
    expect(await seen('?status=pending')).toEqual([false, true, false])
    expect(await seen('?status=closed')).toEqual([false, false, true])
    expect(await seen('?status=all')).toEqual([true, true, true])
    const page = await a.client.page('/inbox?status=pending')
    expect(page).toContain('<option value="pending" selected')
    expect(page).toContain('data-testid="status-pill"')
  })

  test('the unassigned filter lists only conversations nobody has; answering takes one out of it', async () => {
    const c = await thread()
    expect(await listHas('?filter=unassigned', c.id)).toBe(true)
    expect(await listHas('?filter=mine', c.id)).toBe(false)
    await asA((tx) => sendMessage(tx, actorOf(a), c.id, { body: 'Oi! Já te respondo.' }))
    expect(await listHas('?filter=unassigned', c.id)).toBe(false)
    expect(await listHas('?filter=mine', c.id)).toBe(true)
  })

  test('a conversation can be assigned to another member of the organization, and unassigned', async () => {
    const c = await thread()
    const bia = await addMember(t.db, a.orgId, 'Bia Atendimento')
    expect((await a.client.post(`/inbox/c/${c.id}/assign`, { assigneeId: bia })).status).toBe(303)
    const [row] = await q<{ assignee_id: string | null }>(
      'select assignee_id from conversations where id = $1',
      [c.id],
    )
    expect(row!.assignee_id).toBe(bia)
    const head = await (await a.client.get(`/inbox/c/${c.id}/head`, hx)).text()
    expect(head).toContain(`<option value="${bia}" selected`)
    expect(await listHas('?filter=unassigned', c.id)).toBe(false)
    expect(await listHas('?filter=mine', c.id)).toBe(false)
    const [ev] = await q<{ payload: any }>(
      "select payload from outbox_events where organization_id = $1 and type = 'inbox.conversation' order by version desc limit 1",
      [a.orgId],
    )
    expect(ev!.payload.conversationId).toBe(c.id)
    expect((await a.client.post(`/inbox/c/${c.id}/assign`, { assigneeId: '' })).status).toBe(303)
    expect(await listHas('?filter=unassigned', c.id)).toBe(true)
  })

  test('assigning to someone who is not a member is refused (422, with the reason) and changes nothing', async () => {
    const c = await thread()
    await a.client.post(`/inbox/c/${c.id}/assign`, { assigneeId: a.userId })
    const stranger = await signUpClient(t, { orgName: 'Outra Org' })
    for (const assigneeId of [stranger.userId, Bun.randomUUIDv7(), 'not-a-uuid']) {
      const res = await a.client.post(`/inbox/c/${c.id}/assign`, { assigneeId })
      expect(res.status).toBe(422)
      expect(await res.text()).toContain('Escolha um membro desta organização.')
    }
    const res = await a.client.post(`/inbox/c/${c.id}/assign`, { assigneeId: stranger.userId }, hx)
    expect(res.status).toBe(422)
    expect(await res.text()).toBe('Escolha um membro desta organização.')
    const [row] = await q<{ assignee_id: string | null }>(
      'select assignee_id from conversations where id = $1',
      [c.id],
    )
    expect(row!.assignee_id).toBe(a.userId)
  })

  test('the header fragment follows the conversation: the assignee after an answer, the status', async () => {
    const c = await thread()
    const before = await (await a.client.get(`/inbox/c/${c.id}/head?status=all`, hx)).text()
    expect(before).toStartWith('<header')
    expect(before).toContain('data-status="open"')
    expect(before).not.toContain(`<option value="${a.userId}" selected`)
    expect(before).toContain('href="/inbox?status=all"')
    await a.client.post(`/inbox/c/${c.id}/send`, { body: 'Bom dia!' }, hx)
    const after = await (await a.client.get(`/inbox/c/${c.id}/head`, hx)).text()
    expect(after).toContain(`<option value="${a.userId}" selected`)
    await a.client.post(`/inbox/c/${c.id}/pending`)
    expect(await (await a.client.get(`/inbox/c/${c.id}/head`, hx)).text()).toContain('data-status="pending"')
    // Without htmx: the conversation's page; another organization's conversation: 404.
    expect((await a.client.get(`/inbox/c/${c.id}/head`)).status).toBe(303)
    const other = await signUpClient(t, { orgName: 'Curiosa' })
    expect((await other.client.get(`/inbox/c/${c.id}/head`, hx)).status).toBe(404)
    expect((await other.client.get(`/inbox/c/${c.id}/window`, hx)).status).toBe(404)
  })

  test('the window fragment says when the contact writes again on a Cloud API channel', async () => {
    const cloud = await createChannel(t, a.orgId, 'cloud-api', 'Oficial 2')
    const phone = newPhone()
    await receive(t.db, a.orgId, cloud, [inbound(phone, 'oi', { timestamp: Date.now() - 26 * 3600_000 })])
    const [c] = await q<{ id: string }>('select id from conversations where channel_id = $1', [cloud])
    const closed = await (await a.client.get(`/inbox/c/${c!.id}/window`, hx)).text()
    expect(closed).toContain('data-window-open="false"')
    expect(closed).toContain('data-testid="window-closed"')
    await receive(t.db, a.orgId, cloud, [inbound(phone, 'voltei')])
    const open = await (await a.client.get(`/inbox/c/${c!.id}/window`, hx)).text()
    expect(open).toContain('data-window-open="true"')
    expect(open).not.toContain('window-closed')
  })
})

describe('reply-to', () => {
  const hx = { 'hx-request': 'true' }
  async function thread(text: string) {
    const phone = newPhone()
    await receive(t.db, a.orgId, channel, [inbound(phone, text)])
    const c = await conversationFor(phone)
    const [m] = await q<{ id: string }>('select id from messages where conversation_id = $1', [c.id])
    return { ...c, messageId: m!.id }
  }
  const outbound = (id: string) =>
    q<{ body: string; reply_to_id: string | null }>(
      "select body, reply_to_id from messages where conversation_id = $1 and direction = 'out'",
      [id],
    )

  test('a reply quotes a message of the conversation; the sent bubble shows the quote', async () => {
    const c = await thread('Vocês entregam em Campinas?')
    const res = await a.client.post(
      `/inbox/c/${c.id}/send`,
      { body: 'Entregamos sim!', replyToId: c.messageId },
      hx,
    )
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toMatch(
      /class="bubble out[^"]*"[^>]*>\s*<div class="reply-quote">.*Vocês entregam em Campinas\?/s,
    )
    expect(await outbound(c.id)).toEqual([{ body: 'Entregamos sim!', reply_to_id: c.messageId }])
    // Every bubble but notes offers "Reply", carrying the id and the quote for the composer's chip.
    expect(html).toContain(`data-reply="${c.messageId}"`)
    expect(html).toContain('data-quote="Vocês entregam em Campinas?"')
  })

  test("another conversation's or organization's message, a note or a malformed id is refused with 422", async () => {
    const c = await thread('primeira conversa')
    const elsewhere = await thread('outra conversa')
    const { messageId: noteId } = await asA((tx) =>
      sendMessage(tx, actorOf(a), c.id, { body: 'nota', note: true }),
    )
    const b = await signUpClient(t, { orgName: 'Org Vizinha' })
    const bChannel = await createChannel(t, b.orgId)
    const bPhone = newPhone()
    await receive(t.db, b.orgId, bChannel, [inbound(bPhone, 'de outra org')])
    const [bMsg] = await q<{ id: string }>(
      'select m.id from messages m join conversations c on c.id = m.conversation_id where c.organization_id = $1',
      [b.orgId],
    )
    for (const replyToId of [elsewhere.messageId, bMsg!.id, noteId, 'abc']) {
      const res = await a.client.post(`/inbox/c/${c.id}/send`, { body: 'resposta', replyToId }, hx)
      expect(res.status).toBe(422)
      expect(await res.text()).toBe('A mensagem que você está respondendo não é desta conversa.')
      const page = await a.client.post(`/inbox/c/${c.id}/send`, { body: 'resposta', replyToId })
      expect(page.status).toBe(422)
      expect(await page.text()).toContain('A mensagem que você está respondendo não é desta conversa.')
    }
    expect(await outbound(c.id)).toEqual([{ body: 'nota', reply_to_id: null }])
  })
})

describe('lead timeline', () => {
  test("an outbound message writes its preview on the lead's activity; a note writes none", async () => {
    const phone = newPhone()
    await receive(t.db, a.orgId, channel, [inbound(phone, 'oi')])
    const c = await conversationFor(phone)
    const { messageId } = await asA((tx) =>
      sendMessage(tx, actorOf(a), c.id, { body: '  Segue   a proposta\ncom desconto  ' }),
    )
    await asA((tx) => sendMessage(tx, actorOf(a), c.id, { body: 'só para a equipe', note: true }))
    const acts = await q<{ data: any }>(
      "select data from lead_activities where lead_id = $1 and kind = 'message.outbound'",
      [c.lead_id],
    )
    expect(acts.map((x) => x.data)).toEqual([
      expect.objectContaining({ messageId, type: 'text', preview: 'Segue a proposta com desconto' }),
    ])
    const [conv] = await q<{ last_message_preview: string }>(
      'select last_message_preview from conversations where id = $1',
      [c.id],
    )
    expect(conv!.last_message_preview).toBe(acts[0]!.data.preview)
  })
})
