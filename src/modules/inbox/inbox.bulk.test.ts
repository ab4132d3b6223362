/**
 * Bulk-send warnings on WhatsApp Web (Baileys) channels, through the composer's route: many new
 * recipients or the same text to several conversations within ten minutes ask for a confirmation
 * first (409 with the warning; "Send anyway" sends); replies to people who just wrote, short texts,
 * internal notes, old messages and other providers never do.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { BULK_LIMITS } from './inbox.bulk'
import { createChannel, fakeProvider, inbound, receive } from './inbox.fixtures'

let t: TestApp
let a: Awaited<ReturnType<typeof signUpClient>>
const q = <T>(text: string, params: unknown[] = []) => t.db.raw.query<T>(text, params)
const HTMX = { 'hx-request': 'true' }

beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Disparos' })
  fakeProvider(t.db)
}, 300_000)
afterAll(() => t.close())

let seq = 0
/** Conversations on the channel; `cold`: the contact last wrote two days ago. */
async function conversations(channel: string, n: number, cold: boolean) {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const phone = `+55119${String(81000000 + ++seq * 7919).padStart(8, '0')}`
    const at = cold ? Date.now() - 48 * 3600_000 : Date.now() - 3600_000
    await receive(t.db, a.orgId, channel, [inbound(phone, 'Oi', { timestamp: at })])
    ids.push(
      (await q<{ id: string }>('select id from conversations where contact_phone = $1', [phone]))[0]!.id,
    )
  }
  return ids
}
const outCount = async (conv: string) =>
  (await q("select 1 from messages where conversation_id = $1 and direction = 'out'", [conv])).length

describe('WhatsApp Web channels', () => {
  test('the sixth contact who has not written in 24 hours within ten minutes needs a confirmation; "Send anyway" sends it', async () => {
    expect(BULK_LIMITS).toMatchObject({ windowMs: 600_000, maxNewRecipients: 5, maxSameText: 3 })
    const ch = await createChannel(t, a.orgId, 'baileys', 'Celular')
    const cold = await conversations(ch, 6, true)
    for (const [i, c] of cold.slice(0, 5).entries())
      expect(
        (await a.client.post(`/inbox/c/${c}/send`, { body: `Olá, tudo bem? (${i})` }, HTMX)).status,
      ).toBe(200)
    const sixth = cold[5]!
    // The composer (fetch): 409 with the warning to show, nothing stored.
    const res = await a.client.post(`/inbox/c/${sixth}/send`, { body: 'Oi! Vi seu cadastro.' }, HTMX)
    expect(res.status).toBe(409)
    const warning = await res.text()
    expect(warning).toContain('data-testid="bulk-warning"')
    expect(warning).toContain('escreveu para 6 contatos que não escrevem há 24 horas, em 10 minutos')
    expect(warning).toContain('uma mensagem a cada 2.5–4.5 s')
    expect(warning).toContain('name="bulkConfirmed" value="1"')
    expect(await outCount(sixth)).toBe(0)
    // Without JavaScript: the page keeps the text and shows the same warning and button.
    const page = await a.client.post(`/inbox/c/${sixth}/send`, { body: 'Oi! Vi seu cadastro.' })
    expect(page.status).toBe(409)
    const html = await page.text()
    expect(html).toContain('Enviar mesmo assim')
    expect(html).toMatch(/<textarea[^>]*id="composer-body"[^>]*>Oi! Vi seu cadastro.<\/textarea>/)
    // An internal note is never a send: no warning.
    expect(
      (await a.client.post(`/inbox/c/${sixth}/send`, { body: 'ligar amanhã', note: '1' }, HTMX)).status,
    ).toBe(200)
    // Confirmed: it goes.
    const ok = await a.client.post(
      `/inbox/c/${sixth}/send`,
      { body: 'Oi! Vi seu cadastro.', bulkConfirmed: '1' },
      HTMX,
    )
    expect(ok.status).toBe(200)
    expect(await outCount(sixth)).toBe(2)
    // Answering someone who just wrote is what WhatsApp expects: never warned.
    const [warm] = await conversations(ch, 1, false)
    expect(
      (await a.client.post(`/inbox/c/${warm}/send`, { body: 'Claro, te ajudo sim.' }, HTMX)).status,
    ).toBe(200)
  })

  test('the same text to a third conversation within ten minutes needs a confirmation; short texts and older sends do not count', async () => {
    const ch = await createChannel(t, a.orgId, 'baileys', 'Celular 2')
    const [c1, c2, c3, c4] = await conversations(ch, 4, false)
    const promo = 'Promoção de Black Friday: 30% off hoje!'
    expect((await a.client.post(`/inbox/c/${c1}/send`, { body: promo }, HTMX)).status).toBe(200)
    // Case and spacing do not make it another text.
    expect(
      (
        await a.client.post(
          `/inbox/c/${c2}/send`,
          { body: '  promoção de black friday:   30% OFF hoje! ' },
          HTMX,
        )
      ).status,
    ).toBe(200)
    const third = await a.client.post(`/inbox/c/${c3}/send`, { body: promo }, HTMX)
    expect(third.status).toBe(409)
    expect(await third.text()).toContain('O mesmo texto para 3 conversas em 10 minutos')
    // Short texts ("obrigado!") are everyday answers, never a broadcast.
    for (const c of [c1, c2, c3, c4])
      expect((await a.client.post(`/inbox/c/${c}/send`, { body: 'Obrigado!' }, HTMX)).status).toBe(200)
    // Ten minutes later the earlier sends no longer count.
    await q(
      `update messages set created_at = created_at - interval '11 minutes' where channel_id = $1 and direction = 'out'`,
      [ch],
    )
    expect((await a.client.post(`/inbox/c/${c3}/send`, { body: promo }, HTMX)).status).toBe(200)
  })
})

describe('other providers', () => {
  test('sandbox and Cloud API channels are never warned (no ban risk from an official or simulated number)', async () => {
    const sandbox = await createChannel(t, a.orgId, 'sandbox', 'Sandbox')
    for (const c of await conversations(sandbox, 7, true))
      expect(
        (await a.client.post(`/inbox/c/${c}/send`, { body: 'Mensagem igual para todo mundo' }, HTMX)).status,
      ).toBe(200)
    const cloud = await createChannel(t, a.orgId, 'cloud-api', 'Oficial')
    for (const c of await conversations(cloud, 4, false))
      expect(
        (await a.client.post(`/inbox/c/${c}/send`, { body: 'Mensagem igual para todo mundo' }, HTMX)).status,
      ).toBe(200)
  })
})
