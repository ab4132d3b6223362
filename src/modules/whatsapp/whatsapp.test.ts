/**
 * Channel settings through the routes (create, validation, live pairing fragment, disconnect /
 * reconnect / delete), the sandbox provider's receipts and replies, and cross-tenant isolation:
 * organization B gets 404 for A's channels and, as the app role with raw SQL, sees none of A's
 * channels, auth state or raw webhook events.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { rowsOf } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { createWorker } from '../../platform/jobs/jobs.worker'
import { createBaileysSupervisor } from './whatsapp.baileys'
import { getChannel } from './whatsapp.channels'
import { FakeTransport } from './whatsapp.fixtures'
import { processInboundJob, simulateInbound } from './whatsapp.inbound'
import { configureWhatsApp, deliverTo, providerFor, whatsappRuntime } from './whatsapp.runtime'
import { SANDBOX_GREETING, SANDBOX_TIMING } from './whatsapp.sandbox'

let t: TestApp
type Member = Awaited<ReturnType<typeof signUpClient>>
let a: Member
let b: Member
const transports: FakeTransport[] = []
const timers: Array<{ fn: () => void; ms: number }> = []

const idFrom = (res: Response) => res.headers.get('location')!.split('/').pop()!
const q = <T>(text: string, params: unknown[] = []) => t.db.raw.query<T>(text, params)

beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Tenant A' })
  b = await signUpClient(t, { orgName: 'Tenant B' })
  configureWhatsApp(t.db, {
    config: t.config,
    supervisor: createBaileysSupervisor({
      db: t.db,
      secretKey: t.config.secretKey,
      deliver: deliverTo(t.db),
      transport: async ({ auth }) => {
        const tr = new FakeTransport(auth, { pairingCode: 'WXYZ9876' })
        transports.push(tr)
        return tr
      },
    }),
    sandboxClock: { setTimeout: (fn, ms) => timers.push({ fn, ms }) },
  })
})
afterAll(async () => {
  await whatsappRuntime(t.db).baileys.stopAll()
  await t.close()
})

describe('channel settings', () => {
  test('an admin creates a sandbox channel: it is listed, usable at once and labelled', async () => {
    const res = await a.client.post('/settings/channels', { name: 'Teste', provider: 'sandbox' })
    expect(res.status).toBe(303)
    const id = idFrom(res)
    const list = await a.client.page('/settings/channels')
    expect(list).toContain('Teste')
    expect(list).toContain('data-status="open"')
    expect(list).toContain('wa-sandbox')
    const audit = await q<{ action: string }>(
      `select action from audit_log where organization_id = $1 and target_id = $2`,
      [a.orgId, id],
    )
    expect(audit.map((r) => r.action)).toEqual(['whatsapp_channel.created'])
  })

  test('bad input is a 422 with messages, keeps what was typed (never the secrets) and creates nothing', async () => {
    const before = await q('select id from whatsapp_channels')
    const res = await a.client.post('/settings/channels', {
      name: '',
      provider: 'cloud-api',
      phoneNumber: 'abc',
      phoneNumberId: 'not-digits',
      wabaId: '',
      accessToken: 'tok-that-is-long-enough-123',
      appSecret: 'short',
      verifyToken: '',
    })
    expect(res.status).toBe(422)
    const html = await res.text()
    expect(html).toContain('Somente dígitos') // the pt-BR message of the numeric id check
    for (const f of ['name', 'phoneNumber', 'phoneNumberId', 'wabaId', 'appSecret'])
      expect(html).toContain(`id="f-${f}-err"`)
    expect(html).toContain('value="not-digits"')
    expect(html).not.toContain('tok-that-is-long-enough-123')
    expect(await q('select id from whatsapp_channels')).toEqual(before)
    const unknown = await a.client.post('/settings/channels', { name: 'X', provider: 'telegram' })
    expect(unknown.status).toBe(422)
  })

  test('members cannot reach the channel settings', async () => {
    const m = await signUpClient(t, { orgName: 'Solo' })
    await q(`update organization_members set role = 'member' where user_id = $1`, [m.userId])
    expect((await m.client.get('/settings/channels')).status).toBe(403)
  })

  test('a Baileys channel: the QR appears in the live fragment, rotates, then the number shows once linked', async () => {
    const res = await a.client.post('/settings/channels', { name: 'Celular', provider: 'baileys' })
    expect(res.status).toBe(303)
    const id = idFrom(res)
    expect(transports).toHaveLength(1)
    const page = await a.client.page(`/settings/channels/${id}`)
    expect(page).toContain('data-testid="wa-pairing"')
    expect(page).toContain(`rt:whatsapp.channel.qr[detail.data.channelId=='${id}'] from:body`)
    expect(page).not.toContain('<svg xmlns="http://www.w3.org/2000/svg" viewBox')
    const fragment = () =>
      a.client.get(`/settings/channels/${id}/pairing`, { 'hx-request': 'true' }).then((r) => r.text())
    transports[0]!.emit('connection.update', { qr: '2@AAAA,BBBB,CCCC' })
    await whatsappRuntime(t.db).baileys.settled()
    const first = await fragment()
    expect(first).toContain('data-testid="wa-qr"')
    transports[0]!.emit('connection.update', { qr: '2@DDDD,EEEE,FFFF' })
    await whatsappRuntime(t.db).baileys.settled()
    const second = await fragment()
    expect(second).toContain('data-testid="wa-qr"')
    expect(second).not.toBe(first)
    transports[0]!.emit('creds.update', {})
    await whatsappRuntime(t.db).baileys.settled()
    transports[0]!.user = { id: '5511987654321:3@s.whatsapp.net' }
    transports[0]!.emit('connection.update', { connection: 'open' })
    await whatsappRuntime(t.db).baileys.settled()
    const linked = await fragment()
    expect(linked).not.toContain('data-testid="wa-qr"')
    expect(linked).toContain('(11) 98765-4321')
    expect(await a.client.page('/settings/channels')).toContain('data-status="open"')
  })

  test('disconnect pauses and closes the socket; reconnect opens a new one; delete unlinks and forgets it', async () => {
    const res = await a.client.post('/settings/channels', { name: 'Outro celular', provider: 'baileys' })
    const id = idFrom(res)
    const tr = transports.at(-1)!
    tr.emit('creds.update', {})
    await whatsappRuntime(t.db).baileys.settled()
    expect((await a.client.post(`/settings/channels/${id}/disconnect`)).status).toBe(303)
    expect(tr.ended).toBe(true)
    expect(whatsappRuntime(t.db).baileys.isRunning(id)).toBe(false)
    expect(
      (
        await q<{ paused: boolean; status: string }>(
          'select paused, status from whatsapp_channels where id = $1',
          [id],
        )
      )[0],
    ).toEqual({
      paused: true,
      status: 'disconnected',
    })
    expect(await a.client.page(`/settings/channels/${id}`)).toContain('data-status="paused"')
    const count = transports.length
    expect((await a.client.post(`/settings/channels/${id}/reconnect`)).status).toBe(303)
    expect(transports.length).toBe(count + 1)
    expect(whatsappRuntime(t.db).baileys.isRunning(id)).toBe(true)
    const last = transports.at(-1)!
    expect((await a.client.post(`/settings/channels/${id}/delete`)).status).toBe(303)
    expect(last.loggedOut).toBe(true)
    expect(await q('select 1 from whatsapp_channels where id = $1', [id])).toEqual([])
    expect(await q('select 1 from whatsapp_auth_state where channel_id = $1', [id])).toEqual([])
  })

  test('a pairing code for a bad number is a 422 on the form; a good one is shown', async () => {
    const res = await a.client.post('/settings/channels', { name: 'Código', provider: 'baileys' })
    const id = idFrom(res)
    const bad = await a.client.post(`/settings/channels/${id}/pairing-code`, { phone: '12' })
    expect(bad.status).toBe(422)
    expect(await bad.text()).toContain('id="f-phone-err"')
    transports.at(-1)!.emit('connection.update', { qr: '2@QR' })
    const ok = await a.client.post(`/settings/channels/${id}/pairing-code`, { phone: '(11) 98765-4321' })
    expect(ok.status).toBe(303)
    expect(await a.client.page(`/settings/channels/${id}`)).toContain('WXYZ-9876')
  })
})

describe('the sandbox provider', () => {
  test('a send is accepted, then sent → delivered → read and a scripted reply arrive as stored inbound events', async () => {
    const res = await a.client.post('/settings/channels', { name: 'Sandbox 2', provider: 'sandbox' })
    const id = idFrom(res)
    const channel = await withOrg(t.db, a.orgId, (tx) => getChannel(tx, id))
    const provider = providerFor(whatsappRuntime(t.db), channel)
    timers.length = 0
    const sent = await provider.sendText({ kind: 'text', to: '+5511987654321', text: 'Olá, tudo bem?' })
    expect(sent.providerMessageId).toStartWith('sandbox.out.')
    expect(timers.map((x) => x.ms)).toEqual([
      SANDBOX_TIMING.sent,
      SANDBOX_TIMING.delivered,
      SANDBOX_TIMING.read,
      SANDBOX_TIMING.reply,
    ])
    // The timers fire one after another (as they would, seconds apart): each stores one row.
    for (const [k, x] of timers.entries()) {
      x.fn()
      for (let i = 0; i < 400; i++) {
        const [n] = await q<{ n: number }>(
          'select count(*)::int as n from webhook_inbox where channel_id = $1',
          [id],
        )
        if (n!.n > k) break
        await Bun.sleep(10)
      }
    }
    expect(await createWorker({ db: t.db, jobs: [processInboundJob] }).runDue()).toBe(4)
    const ev = await q<{ payload: any }>(
      `select payload from outbox_events where type = 'whatsapp.inbound' and payload->>'channelId' = $1 order by version`,
      [id],
    )
    // Rows are stored in the order the receipts happened; jobs may process them in any order (the
    // inbox keeps a status from moving backwards).
    const stored = await q<{ body: string }>(
      'select body from webhook_inbox where channel_id = $1 order by received_at, id',
      [id],
    )
    expect(stored.flatMap((r) => JSON.parse(r.body).statuses.map((s: any) => s.status))).toEqual([
      'sent',
      'delivered',
      'read',
    ])
    expect(
      ev.flatMap((e) => e.payload.statuses.map((s: any) => `${s.providerMessageId} ${s.status}`)).sort(),
    ).toEqual([
      `${sent.providerMessageId} delivered`,
      `${sent.providerMessageId} read`,
      `${sent.providerMessageId} sent`,
    ])
    const reply = ev.flatMap((e) => e.payload.messages)[0]
    expect(reply).toMatchObject({
      from: '+5511987654321',
      text: SANDBOX_GREETING,
      replyToProviderId: sent.providerMessageId,
    })
    await expect(provider.sendText({ kind: 'text', to: '+5511900000000', text: 'x' })).rejects.toMatchObject({
      permanent: true,
      code: 'sandbox.unreachable',
    })
  })

  test('a user can type an "inbound" message as the contact; bad input is refused', async () => {
    const [c] = await q<{ id: string }>(
      `select id from whatsapp_channels where organization_id = $1 and provider = 'sandbox' limit 1`,
      [a.orgId],
    )
    const m = await withOrg(t.db, a.orgId, (tx) =>
      simulateInbound(tx, c!.id, { from: '(21) 99876-5432', text: 'Oi, vi o anúncio', contactName: 'Bruno' }),
    )
    expect(m).toMatchObject({
      from: '+5521998765432',
      text: 'Oi, vi o anúncio',
      contactName: 'Bruno',
      type: 'text',
    })
    const rows = await q<{ body: string }>(
      `select body from webhook_inbox where channel_id = $1 order by received_at desc limit 1`,
      [c!.id],
    )
    expect(JSON.parse(rows[0]!.body).messages[0].text).toBe('Oi, vi o anúncio')
    await expect(
      withOrg(t.db, a.orgId, (tx) => simulateInbound(tx, c!.id, { from: 'abc', text: 'x' })),
    ).rejects.toMatchObject({
      code: 'whatsapp.invalid_inbound',
    })
    const [cloud] = await q<{ id: string }>(
      `select id from whatsapp_channels where organization_id = $1 and provider = 'baileys' limit 1`,
      [a.orgId],
    )
    await expect(
      withOrg(t.db, a.orgId, (tx) => simulateInbound(tx, cloud!.id, { from: '+5521998765432', text: 'x' })),
    ).rejects.toMatchObject({
      code: 'whatsapp.wrong_provider',
    })
  })
})

describe('cross-tenant isolation', () => {
  let aChannel: string
  beforeAll(async () => {
    const [r] = await q<{ id: string }>(
      `select c.id from whatsapp_channels c where c.organization_id = $1 and exists (select 1 from whatsapp_auth_state s where s.channel_id = c.id) limit 1`,
      [a.orgId],
    )
    aChannel = r!.id
  })

  test("B gets 404 for every route of A's channel, and B's list shows none of A's", async () => {
    expect((await b.client.get(`/settings/channels/${aChannel}`)).status).toBe(404)
    expect(
      (await b.client.get(`/settings/channels/${aChannel}/pairing`, { 'hx-request': 'true' })).status,
    ).toBe(404)
    expect(
      (await b.client.get(`/settings/channels/${aChannel}/status`, { 'hx-request': 'true' })).status,
    ).toBe(404)
    for (const action of ['disconnect', 'reconnect', 'delete', 'pairing-code'])
      expect(
        (await b.client.post(`/settings/channels/${aChannel}/${action}`, { phone: '+5511987654321' })).status,
      ).toBe(404)
    expect(await b.client.page('/settings/channels')).not.toContain('Celular')
    expect(
      (await q<{ paused: boolean }>('select paused from whatsapp_channels where id = $1', [aChannel]))[0]!
        .paused,
    ).toBe(false)
    expect((await a.client.get(`/settings/channels/${aChannel}`)).status).toBe(200)
  })

  test("as the app role, B reads, changes and deletes none of A's channels, auth state or webhook events", async () => {
    for (const table of ['whatsapp_channels', 'whatsapp_auth_state', 'webhook_inbox']) {
      const [own] = await q<{ n: number }>(
        `select count(*)::int as n from ${table} where organization_id = $1`,
        [a.orgId],
      )
      expect({ table, n: own!.n > 0 }).toEqual({ table, n: true })
      const seen = await withOrg(t.db, b.orgId, async (tx) =>
        rowsOf<{ n: number }>(
          await tx.execute(
            sql.raw(`select count(*)::int as n from ${table} where organization_id = '${a.orgId}'`),
          ),
        ),
      )
      expect({ table, n: seen[0]!.n }).toEqual({ table, n: 0 })
    }
    const changed = await withOrg(t.db, b.orgId, async (tx) =>
      rowsOf(
        await tx.execute(sql`delete from whatsapp_auth_state where channel_id = ${aChannel} returning 1`),
      ),
    )
    expect(changed).toEqual([])
    const forged = await withOrg(t.db, b.orgId, (tx) =>
      tx.execute(
        sql`insert into whatsapp_auth_state (organization_id, channel_id, key, value_enc) values (${b.orgId}, ${aChannel}, 'creds', 'v1.x')`,
      ),
    ).then(
      () => null,
      (e: any) => `${e.message} ${e.cause?.message ?? ''}`,
    )
    expect(forged).toMatch(/foreign key|violates/)
  })
})
