/**
 * WhatsApp Web pairing live in headless Chromium, against the real server with its hub and worker:
 * the running server's Baileys supervisor is replaced by the real one on a fake transport
 * (`FakeTransport`, Baileys' real event shapes), so no WhatsApp is needed. An admin (pt-BR) creates
 * a WhatsApp Web channel by keyboard; as the "socket" sends a QR, rotates it, pairs and is logged
 * out on the phone, the channel page follows through the hub — never reloaded — with the QR, the
 * pairing code, the number once linked, and the logged-out state with its alert on the bell. Then
 * the same page at phone width. Screenshots: screenshots/whatsapp-pairing-*.png.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { createBaileysSupervisor } from '../../src/modules/whatsapp/whatsapp.baileys'
import { FakeTransport } from '../../src/modules/whatsapp/whatsapp.fixtures'
import { configureWhatsApp, deliverTo, whatsappRuntime } from '../../src/modules/whatsapp/whatsapp.runtime'
import { type E2E, PHONE, phoneOpts, settled, shot, signUpViaForm, startE2E, uniqueEmail } from './browser'

setDefaultTimeout(120_000)

let e2e: E2E
/** Every socket the supervisor opened, in order, with its channel. */
const sockets: Array<{ channelId: string; tr: FakeTransport }> = []

beforeAll(async () => {
  e2e = await startE2E({
    name: 'whatsapp-pairing',
    viewport: { width: 1280, height: 900 },
    actionTimeoutMs: 15_000,
    logPageErrors: true,
  })
  const { db } = e2e.server
  // The server started the real supervisor (no channels yet): replace it with one on the fake
  // transport. Routes, jobs and providers look the runtime up on each use, so they all get this one.
  const real = whatsappRuntime(db).baileys
  configureWhatsApp(db, {
    config: e2e.config,
    supervisor: createBaileysSupervisor({
      db,
      secretKey: e2e.config.secretKey,
      deliver: deliverTo(db),
      transport: async ({ auth, channelId }) => {
        const tr = new FakeTransport(auth, { pairingCode: 'WXYZ9876' })
        sockets.push({ channelId, tr })
        return tr
      },
    }),
  })
  await real.settled()
  await real.stopAll()
}, 120_000)

afterAll(async () => {
  // The server stops the supervisor it started with; this one is the test's to stop.
  if (e2e) await whatsappRuntime(e2e.server.db).baileys.stopAll()
  await e2e?.close()
}, 60_000)

/** The channel's current fake socket, once the supervisor opened its `n`th one. */
async function socketOf(channelId: string, n = 1): Promise<FakeTransport> {
  for (let i = 0; i < 500; i++) {
    const mine = sockets.filter((s) => s.channelId === channelId)
    if (mine.length >= n) return mine.at(-1)!.tr
    await Bun.sleep(20)
  }
  throw new Error(`socket #${n} of channel ${channelId} never opened`)
}

/** Marks the current document; `sameDocument` is true only while no reload or navigation replaced it. */
const markDocument = (page: Page) =>
  page.evaluate(() => {
    ;(window as unknown as { __pairingMark: boolean }).__pairingMark = true
    document.querySelector<HTMLElement>('.back-link')!.dataset.mark = '1'
  })
const sameDocument = (page: Page) =>
  page.evaluate(
    () =>
      (window as unknown as { __pairingMark?: boolean }).__pairingMark === true &&
      document.querySelector<HTMLElement>('.back-link')?.dataset.mark === '1',
  )

/** Waits until the page shows a QR other than `before` (the markup of the previous one). */
const qrChanged = (page: Page, before: string) =>
  page.waitForFunction(
    (prev) => {
      const fig = document.querySelector('[data-testid="wa-qr"]')
      return !!fig?.querySelector('svg') && fig.innerHTML !== prev
    },
    before,
    { timeout: 10_000 },
  )
const statusOf = (page: Page) => page.locator('#wa-status [data-status]').getAttribute('data-status')
const waitStatus = (page: Page, status: string) =>
  page.locator(`#wa-status [data-status="${status}"]`).waitFor({ timeout: 10_000 })
const qrMarkup = (page: Page) => page.locator('[data-testid="wa-qr"]').innerHTML()

describe('WhatsApp Web pairing, live', () => {
  let channelUrl = ''
  let channelId = ''

  test('an admin pairs a channel by QR, asks for a pairing code, sees it linked and then logged out — never reloading', async () => {
    const page = await e2e.newPage({ locale: 'pt-BR' })
    await signUpViaForm(e2e.base, page, {
      name: 'Paula Dona',
      email: uniqueEmail('paula'),
      org: 'Ótica Paulista',
    })

    // 1. Settings → WhatsApp, by keyboard: name, then the provider radios (sandbox preselected; the
    // arrow key moves to WhatsApp Web), Enter submits.
    await page.goto(`${e2e.base}/settings/channels`)
    await settled(page)
    await page.locator('#f-name').focus()
    await page.keyboard.type('Celular da loja')
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).value)).toBe('sandbox')
    await page.keyboard.press('ArrowUp')
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).value)).toBe('baileys')
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/settings\/channels\/[0-9a-f-]{36}$/)
    await settled(page)
    channelUrl = page.url()
    channelId = channelUrl.split('/').pop()!
    expect(await statusOf(page)).toBe('connecting')
    expect(await page.locator('#wa-status').textContent()).toContain('Conectando…')
    const pairing = page.locator('[data-testid="wa-pairing"]')
    await pairing.locator('.wa-qr-wait').waitFor()
    expect(await pairing.textContent()).toContain('Aguardando o WhatsApp enviar um código…')
    expect(await pairing.locator('[data-testid="wa-qr"]').count()).toBe(0)
    const tr = await socketOf(channelId)
    await markDocument(page)

    // 2. WhatsApp sends the first QR: it appears through the hub, and the badge follows.
    tr.emit('connection.update', {
      qr: '2@Ym9vdHN0cmFwLXFyLW9uZQ==,d2hhdHNhcHAta2V5LTE=,aWRlbnRpdHktMQ==,YWR2LTE=',
    })
    const qr = page.locator('[data-testid="wa-qr"] svg')
    await qr.waitFor({ timeout: 10_000 })
    await waitStatus(page, 'qr')
    expect(await page.locator('#wa-status').textContent()).toContain('Aguardando pareamento')
    expect(await pairing.textContent()).toContain('O código muda a cada poucos segundos')
    expect(await sameDocument(page)).toBe(true)
    const first = await qrMarkup(page)
    await shot(page, 'whatsapp-pairing-qr', false)

    // 3. It rotates: another QR replaces the first, still without a reload.
    tr.emit('connection.update', {
      qr: '2@c2Vjb25kLXJvdGF0aW9uLXF4,d2hhdHNhcHAta2V5LTI=,aWRlbnRpdHktMg==,YWR2LTI=',
    })
    await qrChanged(page, first)
    expect(await qr.count()).toBe(1)
    expect(await sameDocument(page)).toBe(true)

    // 4. "Use a pairing code instead", by keyboard: the summary opens the form, Tab reaches the phone.
    const summary = pairing.locator('summary')
    expect(await summary.textContent()).toBe('Usar um código de pareamento')
    await summary.focus()
    await page.keyboard.press('Enter')
    await pairing.locator('details[open]').waitFor()
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-phone')
    await page.keyboard.type('(11) 98765-4321')
    await page.keyboard.press('Enter')
    const code = page.locator('[data-testid="wa-pairing-code"] .wa-code-value')
    await code.waitFor({ timeout: 10_000 })
    expect(await code.textContent()).toBe('WXYZ-9876')
    expect(tr.pairing).toEqual(['5511987654321'])
    await settled(page)
    await shot(page, 'whatsapp-pairing-code', false)
    // The form posted (a boosted navigation): mark the document it left behind.
    await markDocument(page)

    // 5. The phone links: credentials saved, then the socket opens as the account's number.
    tr.emit('creds.update', {})
    tr.user = { id: '5511987654321:7@s.whatsapp.net' }
    tr.emit('connection.update', { connection: 'open' })
    await waitStatus(page, 'open')
    expect(await page.locator('#wa-status').textContent()).toContain('Conectado')
    await page.locator('[data-testid="wa-pairing"][data-status="open"]').waitFor({ timeout: 10_000 })
    expect(await pairing.textContent()).toContain('Conectado a (11) 98765-4321.')
    expect(await pairing.locator('[data-testid="wa-qr"]').count()).toBe(0)
    expect(await pairing.locator('[data-testid="wa-pairing-code"]').count()).toBe(0)
    expect(await pairing.locator('h3').textContent()).toBe('Celular conectado')
    // The details card follows too: the linked number, and no "Reconnect" on a connected channel.
    await page
      .locator('[data-testid="wa-number"]', { hasText: '(11) 98765-4321' })
      .waitFor({ timeout: 10_000 })
    expect(await page.locator('#wa-reconnect').count()).toBe(0)
    expect(await page.locator('#wa-disconnect').isVisible()).toBe(true)
    expect(await sameDocument(page)).toBe(true)
    await shot(page, 'whatsapp-pairing-open', false)

    // 6. The phone logs this device out (DisconnectReason.loggedOut = 401): credentials wiped, a fresh
    // socket, and the page says so — the detail, the waiting panel, then the new QR; the owner's bell
    // shows the alert.
    expect(await page.locator('[data-testid="bell"] .bell-count').count()).toBe(0)
    tr.close(401)
    const fresh = await socketOf(channelId, 2)
    expect(tr.ended).toBe(true)
    await page.locator('[data-testid="wa-pairing"]:not([data-status="open"]) .wa-qr-wait').waitFor({
      timeout: 10_000,
    })
    await page
      .locator('#wa-status .wa-detail', { hasText: 'O celular desconectou este aparelho' })
      .waitFor({ timeout: 10_000 })
    expect(['logged_out', 'connecting']).toContain((await statusOf(page))!)
    await page.locator('[data-testid="bell"] .bell-count').waitFor({ timeout: 10_000 })
    expect(await page.locator('[data-testid="bell"] .bell-count').textContent()).toBe('1')
    fresh.emit('connection.update', {
      qr: '2@dGhpcmQtYWZ0ZXItbG9nb3V0,d2hhdHNhcHAta2V5LTM=,aWRlbnRpdHktMw==,YWR2LTM=',
    })
    await qr.waitFor({ timeout: 10_000 })
    await waitStatus(page, 'qr')
    expect(await page.locator('#wa-status .wa-detail').textContent()).toContain(
      'O celular desconectou este aparelho',
    )
    // Why a new code is needed is said where the admin looks: above the QR.
    expect(await pairing.locator('[data-testid="wa-logged-out"]').textContent()).toContain(
      'O celular desconectou este aparelho',
    )
    expect(await sameDocument(page)).toBe(true)
    await shot(page, 'whatsapp-pairing-logged-out', false)
    // Owners and admins are notified once, in their language, linking to the channel.
    await page.goto(`${e2e.base}/notifications`)
    await settled(page)
    const alert = page.locator('[data-testid="notifications"] li', { hasText: 'Celular da loja' })
    expect(await alert.count()).toBe(1)
    expect(await alert.locator(`a[href="/settings/channels/${channelId}"]`).count()).toBe(1)
  })

  test('at phone width the pairing panel fits, and the QR still follows the rotation live', async () => {
    expect(channelId).not.toBe('')
    const desktop = e2e.browser.contexts()[0]!
    const page = await e2e.newPage({ ...phoneOpts, locale: 'pt-BR' })
    await page.context().addCookies(await desktop.cookies())
    await page.goto(channelUrl)
    await settled(page)
    const qr = page.locator('[data-testid="wa-qr"] svg')
    await qr.waitFor()
    await markDocument(page)
    const before = await qrMarkup(page)
    const tr = await socketOf(channelId, 2)
    tr.emit('connection.update', {
      qr: '2@cGhvbmUtd2lkdGgtcm90YXRpb24=,d2hhdHNhcHAta2V5LTQ=,aWRlbnRpdHktNA==,YWR2LTQ=',
    })
    await qrChanged(page, before)
    expect(await sameDocument(page)).toBe(true)
    // The QR is large enough to scan and the page does not scroll sideways at 390 px.
    const box = (await page.locator('[data-testid="wa-qr"]').boundingBox())!
    expect(box.width).toBeGreaterThanOrEqual(180)
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width)
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width)
    await shot(page, 'whatsapp-pairing-phone', false)
  })
})
