/**
 * Provider switch and template picker end to end, in headless Chromium against the real server
 * (hub, worker, providers) with the Cloud API pointed at a local fake Graph API: a rep talks to a
 * customer on a sandbox channel; the admin switches it to the Cloud API — a refused token keeps the
 * switch in progress and "Cancel" goes back — then with good credentials; the templates sync and the
 * rep sends one from the picker with its parameters and a live preview; the channel goes back to the
 * sandbox; the whole history is still there (also at phone width).
 * Screenshots: /tmp/shots/switch-*.png.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdirSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { startFakeGraph } from '../fake-graph'
import { type E2E, PHONE, settled, signUpViaForm, startE2E, uniqueEmail } from './browser'

setDefaultTimeout(180_000)
const graph = startFakeGraph()
let e2e: E2E
let base: string
const SHOTS = '/tmp/shots'

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true })
  e2e = await startE2E({
    name: 'switch',
    viewport: { width: 1366, height: 900 },
    actionTimeoutMs: 20_000,
    logPageErrors: true,
    env: { FACEBOOK_GRAPH_URL: graph.url },
  })
  base = e2e.base
}, 180_000)
afterAll(async () => {
  await e2e?.close()
  graph.stop()
}, 60_000)

const shot = (page: Page, name: string, fullPage = false) =>
  page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage, animations: 'disabled' })

/** A live event of the previous action may reload the page (HX-Refresh) as we navigate: go again. */
async function goto(page: Page, url: string) {
  try {
    await page.goto(url)
  } catch (err) {
    if (!/ERR_ABORTED|interrupted/.test(String(err))) throw err
    await page.goto(url)
  }
  await settled(page)
  await page.waitForLoadState('networkidle')
}

async function openSwitchForm(page: Page, channelUrl: string) {
  await goto(page, channelUrl)
  await page.locator('[data-testid=wa-switch-open]').click()
  return page.locator('[data-testid=wa-switch-form]')
}

async function fillCloud(page: Page, token: string) {
  const form = page.locator('[data-testid=wa-switch-form]')
  await form.locator('input[name=provider][value="cloud-api"]').check()
  await form.locator('#f-phoneNumber').fill('(11) 98765-0000')
  await form.locator('#f-phoneNumberId').fill('106540352242922')
  await form.locator('#f-wabaId').fill('102290129340398')
  await form.locator('#f-accessToken').fill(token)
  await form.locator('#f-appSecret').fill('e2e-switch-app-secret')
  await form.locator('#f-confirm').check()
}

describe('switching a channel’s provider', () => {
  test('sandbox → Cloud API (after a refused token and a cancel) → a template from the picker → back to the sandbox, history kept', async () => {
    const page = await e2e.newPage({ locale: 'pt-BR' })
    await signUpViaForm(base, page, { name: 'Ana Admin', email: uniqueEmail('ana'), org: 'Loja Aurora' })

    // A sandbox channel and a conversation on it.
    await page.goto(`${base}/settings/channels`)
    await settled(page)
    await page.locator('[data-testid="wa-new-form"] #f-name').fill('Vendas')
    await page.locator('[data-testid="wa-new-form"] button[type="submit"]').click()
    await page.waitForURL(/\/settings\/channels\/[0-9a-f-]{36}$/)
    const channelUrl = page.url()
    await page.goto(`${base}/inbox`)
    await settled(page)
    await page.locator('[data-testid="sandbox-try"] summary').click()
    await page.locator('#sandbox-from').fill('(11) 98765-4321')
    await page.locator('#sandbox-text').fill('Olá! Quero saber dos planos.')
    await page.locator('[data-testid="sandbox-send"]').click()
    await page.waitForURL(`${base}/inbox`)
    await settled(page)
    const conv = page.locator('[data-testid="conv"]').first()
    await conv.waitFor()
    // No profile name: the number, formatted.
    expect(await conv.locator('.conv-name').textContent()).toBe('(11) 98765-4321')
    await conv.click()
    await page.waitForURL(/\/inbox\/c\/[0-9a-f-]{36}/)
    await settled(page)
    const conversationUrl = page.url()
    expect(await page.locator('.chat-who .subtle').first().textContent()).toContain('(11) 98765-4321')
    await page.locator('#composer-body').fill('Oi! Temos três planos.')
    await page.locator('#composer-body').press('Enter')
    await page.locator('.bubble.out', { hasText: 'Temos três planos' }).waitFor()

    // A revoked token: the switch stays in progress with Meta's reason; Cancel goes back.
    graph.badTokens.add('EAAG-e2e-revoked-token-01')
    await openSwitchForm(page, channelUrl)
    await fillCloud(page, 'EAAG-e2e-revoked-token-01')
    await shot(page, 'switch-form', true)
    await page.locator('[data-testid=wa-switch-submit]').click()
    await page.locator('[data-testid=wa-switch-failed]').waitFor()
    expect(await page.locator('[data-testid=wa-switch-failed]').textContent()).toContain(
      'Invalid OAuth access token',
    )
    await page.evaluate(() => window.scrollTo(0, 0))
    await shot(page, 'switch-failed')
    page.once('dialog', (d) => d.accept())
    await page.locator('[data-testid=wa-switch-cancel]').click()
    await page.locator('.wa-details dd', { hasText: 'Sandbox' }).waitFor()
    await page.locator('[data-testid=wa-switch][data-state=idle]').waitFor()

    // Good credentials: the check call passes, the switch completes, the templates sync live.
    await openSwitchForm(page, channelUrl)
    await fillCloud(page, 'EAAG-e2e-good-token-0001')
    await page.locator('[data-testid=wa-switch-submit]').click()
    await page.locator('.wa-details dd', { hasText: 'Cloud API' }).waitFor()
    await page.locator('[data-testid=wa-switch][data-state=idle]').waitFor()
    expect(await page.locator('#wa-webhook-url').inputValue()).toBe(
      `${base}/webhooks/whatsapp/${channelUrl.split('/').pop()}`,
    )
    await page.locator('[data-testid=wa-template]').first().waitFor({ timeout: 30_000 })
    expect(await page.locator('[data-testid=wa-template]').count()).toBe(6)
    await shot(page, 'switch-cloud-channel', true)
    expect(
      graph.calls.some((c) => c.path === '/v21.0/106540352242922' && c.token === 'EAAG-e2e-good-token-0001'),
    ).toBe(true)

    // The same conversation, now on the Cloud API: the template picker with a live preview.
    await goto(page, conversationUrl)
    await page.locator('.bubble.in', { hasText: 'Quero saber dos planos' }).waitFor()
    await page.locator('[data-testid=tpl-open]').click()
    await page.locator('[data-testid=tpl-select]').selectOption({ label: 'boas_vindas · pt_BR' })
    const fields = page.locator('fieldset.tpl-fields:visible')
    await fields.locator('input').nth(0).fill('Marina')
    await fields.locator('input').nth(1).fill('Loja Aurora')
    await expect(fields.locator('.tpl-preview-text').textContent()).resolves.toBe(
      'Olá Marina, obrigado pelo contato com a Loja Aurora. Posso ajudar?',
    )
    await shot(page, 'switch-template-picker')
    await page.locator('[data-testid=tpl-send]').click()
    await page.locator('.bubble.out', { hasText: 'Olá Marina, obrigado pelo contato' }).waitFor()
    await page
      .locator('.bubble.out[data-status="sent"]', { hasText: 'Olá Marina' })
      .waitFor({ timeout: 30_000 })
    expect(graph.sent().at(-1)?.template).toEqual({
      name: 'boas_vindas',
      language: { code: 'pt_BR' },
      components: [
        {
          type: 'body',
          parameters: [
            { type: 'text', text: 'Marina' },
            { type: 'text', text: 'Loja Aurora' },
          ],
        },
      ],
    })

    // Back to the sandbox: connected at once; the history is all there.
    await openSwitchForm(page, channelUrl)
    await page.locator('[data-testid=wa-switch-form] input[name=provider][value="sandbox"]').check()
    await page.locator('[data-testid=wa-switch-form] #f-confirm').check()
    await page.locator('[data-testid=wa-switch-submit]').click()
    await page.locator('.wa-details dd', { hasText: 'Sandbox' }).waitFor()
    await page.locator('[data-testid=wa-switch][data-state=idle]').waitFor()
    await page.setViewportSize(PHONE)
    await goto(page, conversationUrl)
    await page.locator('.bubble.in', { hasText: 'Quero saber dos planos' }).waitFor()
    for (const text of ['Oi! Temos três planos.', 'Olá Marina, obrigado pelo contato'])
      await page.locator('.bubble.out .bubble-text', { hasText: text }).waitFor()
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width)
    await shot(page, 'switch-phone-history')
  })

  test('on a WhatsApp Web channel the same text to a third conversation asks for a confirmation; "Send anyway" sends it', async () => {
    const page = await e2e.newPage({ locale: 'pt-BR' })
    await signUpViaForm(base, page, { name: 'Bia Vendas', email: uniqueEmail('bia'), org: 'Disparos SA' })
    await page.goto(`${base}/settings/channels`)
    await settled(page)
    await page.locator('[data-testid="wa-new-form"] #f-name').fill('Celular da loja')
    await page.locator('[data-testid="wa-new-form"] button[type="submit"]').click()
    await page.waitForURL(/\/settings\/channels\/[0-9a-f-]{36}$/)
    const channelUrl = page.url()
    for (const [i, name] of ['Carla', 'Diego', 'Elisa'].entries()) {
      await page.goto(`${base}/inbox`)
      await settled(page)
      await page.locator('[data-testid="sandbox-try"] summary').click()
      await page.locator('#sandbox-from').fill(`(21) 99876-000${i + 1}`)
      await page.locator('#sandbox-name').fill(name)
      await page.locator('#sandbox-text').fill('Oi, tenho interesse')
      await page.locator('[data-testid="sandbox-send"]').click()
      await page.waitForURL(`${base}/inbox`)
      await page.locator('[data-testid="conv"]', { hasText: name }).waitFor()
    }
    // The number moves to WhatsApp Web (it pairs later: its sends wait meanwhile).
    await openSwitchForm(page, channelUrl)
    await page.locator('[data-testid=wa-switch-form] input[name=provider][value="baileys"]').check()
    await page.locator('[data-testid=wa-switch-form] #f-confirm').check()
    await page.locator('[data-testid=wa-switch-submit]').click()
    await page.locator('[data-testid=wa-pairing]').waitFor()
    // The switch in progress at phone width: no horizontal scrolling.
    await page.setViewportSize(PHONE)
    await page.evaluate(() => window.scrollTo(0, 0))
    expect(await page.locator('[data-testid=wa-switch]').getAttribute('data-state')).toBe('switching')
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width)
    await shot(page, 'switch-phone-pairing')
    await page.setViewportSize({ width: 1366, height: 900 })

    const promo = 'Promoção de inverno: 20% off até sexta!'
    for (const name of ['Carla', 'Diego', 'Elisa']) {
      await page.goto(`${base}/inbox`)
      await settled(page)
      await page.locator('[data-testid="conv"]', { hasText: name }).click()
      await page.waitForURL(/\/inbox\/c\//)
      await settled(page)
      // The channel is pairing: the composer says sending is paused.
      expect(await page.locator('[data-testid=channel-note]').getAttribute('data-state')).toBe('switching')
      await page.locator('#composer-body').fill(promo)
      await page.locator('#composer-body').press('Enter')
      if (name !== 'Elisa') await page.locator('.bubble.out', { hasText: promo }).waitFor()
    }
    const warning = page.locator('[data-testid=bulk-warning]')
    await warning.waitFor()
    expect(await warning.textContent()).toContain('O mesmo texto para 3 conversas em 10 minutos')
    expect(await page.locator('#composer-body').inputValue()).toBe(promo)
    expect(await page.locator('.bubble.out', { hasText: promo }).count()).toBe(0)
    await shot(page, 'switch-bulk-warning')
    await page.locator('[data-testid=bulk-confirm]').click()
    await page.locator('.bubble.out', { hasText: promo }).waitFor()
    expect(await page.locator('[data-testid=bulk-warning]').count()).toBe(0)
    expect(await page.locator('#composer-body').inputValue()).toBe('')
  })
})
