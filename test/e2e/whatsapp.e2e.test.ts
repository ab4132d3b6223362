/**
 * Settings → WhatsApp end to end in headless Chromium against the real server: an admin creates a
 * sandbox channel by keyboard alone, a Cloud API channel (the webhook URL to paste into Meta shows),
 * and a WhatsApp Web channel (its pairing panel); at desktop and phone width.
 * Screenshots: screenshots/whatsapp-*.png.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { type E2E, phoneOpts, settled, shot, signUpViaForm, startE2E, uniqueEmail } from './browser'

setDefaultTimeout(90_000)

let e2e: E2E
beforeAll(async () => {
  e2e = await startE2E({
    name: 'whatsapp',
    viewport: { width: 1280, height: 900 },
    actionTimeoutMs: 15_000,
    logPageErrors: true,
  })
}, 120_000)
afterAll(() => e2e?.close(), 60_000)

async function admin(opts = {}): Promise<Page> {
  const page = await e2e.newPage(opts)
  await signUpViaForm(e2e.base, page, { name: 'Ana Admin', email: uniqueEmail('ana'), org: 'Loja da Ana' })
  return page
}

test('an admin creates a sandbox channel with the keyboard alone, then a Cloud API channel shows its webhook URL', async () => {
  const page = await admin()
  await page.goto(`${e2e.base}/settings/channels`)
  await settled(page)
  await shot(page, 'whatsapp-empty')
  await page.locator('#f-name').focus()
  await page.keyboard.type('Vendas (teste)')
  // Tab into the provider radios; the sandbox is preselected.
  await page.keyboard.press('Tab')
  expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).value)).toBe('sandbox')
  // The Cloud API fields stay hidden for the sandbox.
  expect(await page.locator('.wa-cloud-fields').isVisible()).toBe(false)
  await page.keyboard.press('Enter')
  await page.waitForURL(/\/settings\/channels\/[0-9a-f-]{36}$/)
  await settled(page)
  expect(await page.locator('#wa-status [data-status]').getAttribute('data-status')).toBe('open')
  await shot(page, 'whatsapp-sandbox-channel')

  await page.goto(`${e2e.base}/settings/channels`)
  await settled(page)
  await page.locator('#f-name').fill('Atendimento')
  await page.locator('input[name=provider][value="cloud-api"]').check()
  // Alpine's x-show reveals on a later task (setTimeout, so a click-away cannot fire on the same click).
  await page.locator('.wa-cloud-fields').waitFor({ state: 'visible', timeout: 5_000 })
  await page.locator('#f-phoneNumber').fill('(11) 98765-0000')
  await page.locator('#f-phoneNumberId').fill('106540352242922')
  await page.locator('#f-wabaId').fill('102290129340398')
  await page.locator('#f-accessToken').fill('EAAG-e2e-access-token-123')
  await page.locator('#f-appSecret').fill('e2e-app-secret')
  await shot(page, 'whatsapp-new-cloud')
  await page.locator('form[data-testid=wa-new-form] button[type=submit]').click()
  await page.waitForURL(/\/settings\/channels\/[0-9a-f-]{36}$/)
  await settled(page)
  const id = page.url().split('/').pop()
  expect(await page.locator('#wa-webhook-url').inputValue()).toBe(`${e2e.base}/webhooks/whatsapp/${id}`)
  expect((await page.locator('#wa-verify-token').inputValue()).length).toBeGreaterThan(16)
  await shot(page, 'whatsapp-cloud-channel')

  await page.goto(`${e2e.base}/settings/channels`)
  await settled(page)
  expect(await page.locator('[data-testid=wa-channels] .wa-item').count()).toBe(2)
  await shot(page, 'whatsapp-list')
})

test('a WhatsApp Web channel shows its pairing panel, and the pages work at phone width', async () => {
  const page = await admin(phoneOpts)
  await page.goto(`${e2e.base}/settings/channels`)
  await settled(page)
  await page.locator('#f-name').fill('Celular da loja')
  await page.locator('input[name=provider][value="baileys"]').check()
  await shot(page, 'whatsapp-phone-new', true)
  await page.locator('form[data-testid=wa-new-form] button[type=submit]').click()
  await page.waitForURL(/\/settings\/channels\/[0-9a-f-]{36}$/)
  await settled(page)
  await expect(page.locator('[data-testid=wa-pairing]').isVisible()).resolves.toBe(true)
  // No horizontal scrolling at 390 px.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
  await shot(page, 'whatsapp-phone-pairing', true)
  // Disconnect stops the socket (no WhatsApp here: it would only keep retrying).
  await page.locator('form[action$="/disconnect"] button').click()
  await settled(page)
  expect(await page.locator('#wa-status [data-status]').getAttribute('data-status')).toBe('paused')
})
