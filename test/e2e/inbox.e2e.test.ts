/**
 * The unified inbox end to end, in headless Chromium against the real server (its hub, its worker
 * and the real WhatsApp sandbox provider): a rep creates a sandbox channel, a customer message
 * arrives (sandbox "write as a customer"), the rep answers with Enter, watches the ticks go to read
 * and the scripted reply arrive live while a half-typed message stays in the composer, opens the
 * lead and sees the conversation. Another organization sees nothing. Screenshots: screenshots/inbox-*.png.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { type E2E, PHONE, settled, shot, signUpViaForm, startE2E, uniqueEmail } from './browser'

setDefaultTimeout(120_000)

const DESKTOP = { width: 1440, height: 900 }
let e2e: E2E
let base: string

beforeAll(async () => {
  e2e = await startE2E({ name: 'inbox', viewport: DESKTOP, actionTimeoutMs: 20_000, logPageErrors: true })
  base = e2e.base
}, 180_000)
afterAll(() => e2e?.close(), 60_000)

async function createSandboxChannel(page: Page) {
  await page.goto(`${base}/settings/channels`)
  await settled(page)
  await page.locator('[data-testid="wa-new-form"] #f-name').fill('WhatsApp Sandbox')
  await page.locator('[data-testid="wa-new-form"] input[name="provider"][value="sandbox"]').check()
  await page.locator('[data-testid="wa-new-form"] button[type="submit"]').click()
  await page.waitForURL(/\/settings\/channels\/[0-9a-f-]{36}$/)
}

describe('inbox', () => {
  let conversationUrl = ''

  test('a rep receives a message, answers with Enter, sees the ticks go to read and the reply arrive live', async () => {
    const page = await e2e.newPage({ locale: 'pt-BR' })
    await signUpViaForm(base, page, {
      name: 'Rita Vendas',
      email: uniqueEmail('rita'),
      org: 'Agência Aurora',
    })
    await createSandboxChannel(page)

    await page.goto(`${base}/inbox`)
    await settled(page)
    await page.locator('[data-testid="sandbox-try"] summary').click()
    await page.locator('#sandbox-name').fill('Marina Costa')
    await page.locator('#sandbox-text').fill('Olá! Quero saber dos planos para a minha loja.')
    await page.locator('[data-testid="sandbox-send"]').click()
    await page.waitForURL(`${base}/inbox`)
    await settled(page)
    // Processed by the job, then the list refreshes itself from the hub's event.
    const conv = page.locator('[data-testid="conv"]', { hasText: 'Marina Costa' })
    await conv.waitFor()
    await conv.locator('.conv-unread').waitFor()
    await conv.click()
    await page.waitForURL(/\/inbox\/c\/[0-9a-f-]{36}/)
    await settled(page)
    conversationUrl = page.url()
    await page.locator('.bubble.in', { hasText: 'Quero saber dos planos' }).waitFor()

    // Enter sends; the bubble shows the clock, then ✓, ✓✓ and the blue ✓✓ as sandbox receipts arrive.
    const composer = page.locator('#composer-body')
    await composer.fill('Oi, Marina! Temos três planos.')
    await composer.press('Shift+Enter')
    await composer.type('Posso te mandar a tabela?')
    expect(await composer.inputValue()).toBe('Oi, Marina! Temos três planos.\nPosso te mandar a tabela?')
    await composer.press('Enter')
    const mine = page.locator('.bubble.out', { hasText: 'Temos três planos' })
    await mine.waitFor()
    expect(await composer.inputValue()).toBe('')
    // Start typing the next message: live refreshes must not touch it.
    await composer.type('Rascunho que não pode sumir')
    await page
      .locator('.bubble.out[data-status="read"]', { hasText: 'Temos três planos' })
      .waitFor({ timeout: 30_000 })
    expect(await mine.locator('.tick-read').count()).toBe(1)
    // The sandbox's scripted reply, live.
    await page.locator('.bubble.in').nth(1).waitFor({ timeout: 30_000 })
    expect(await composer.inputValue()).toBe('Rascunho que não pode sumir')
    await shot(page, 'inbox-desktop', false)

    // Internal note: toggled, sent with Enter, never goes to the provider (no ticks).
    await composer.fill('')
    await page.locator('[data-note-toggle]').check()
    await composer.fill('Cliente pediu desconto, falar com gerente')
    await composer.press('Enter')
    const note = page.locator('.bubble.note', { hasText: 'falar com gerente' })
    await note.waitFor()
    expect(await note.locator('.tick').count()).toBe(0)

    // The lead's drawer shows the conversation, with a link back into the inbox.
    await page.locator('[data-testid="open-lead"]').click()
    await page.waitForURL(/\/pipeline\/leads\//)
    await settled(page)
    const link = page.locator('[data-testid="lead-conv"]')
    await link.waitFor()
    expect(await link.getAttribute('href')).toBe(new URL(conversationUrl).pathname)
    await shot(page, 'inbox-lead-drawer', false)

    // Phone width: the list and the chat are two screens.
    await page.setViewportSize(PHONE)
    await page.goto(`${base}/inbox`)
    await settled(page)
    expect(await page.locator('.inbox-chat').isVisible()).toBe(false)
    await shot(page, 'inbox-phone-list', false)
    await page.locator('[data-testid="conv"]').first().click()
    await page.waitForURL(/\/inbox\/c\//)
    await settled(page)
    expect(await page.locator('.inbox-list').isVisible()).toBe(false)
    expect(await page.locator('#composer-body').isVisible()).toBe(true)
    await shot(page, 'inbox-phone-chat', false)
  })

  test('another organization sees nothing of it', async () => {
    expect(conversationUrl).not.toBe('')
    const page = await e2e.newPage()
    await signUpViaForm(base, page, { name: 'Outro', email: uniqueEmail('outro'), org: 'Outra Empresa' })
    await page.goto(`${base}/inbox`)
    await settled(page)
    expect(await page.locator('[data-testid="conv"]').count()).toBe(0)
    const res = await page.goto(conversationUrl)
    expect(res?.status()).toBe(404)
  })
})
