/**
 * The unified inbox end to end, in headless Chromium against the real server (its hub, its worker
 * and the real WhatsApp sandbox provider): a rep creates a sandbox channel, a customer message
 * arrives (sandbox "write as a customer"), the rep answers with Enter, watches the ticks go to read
 * and the scripted reply arrive live while a half-typed message stays in the composer, sees the
 * header follow the auto-assign and a status change made in another tab, inserts a quick reply
 * ("/") and an emoji and replies to a message by keyboard, opens the lead and sees the
 * conversation. Another organization sees nothing. Screenshots: screenshots/inbox-*.png.
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
    // A quick reply, through Settings → Quick replies.
    await page.goto(`${base}/settings/quick-replies`)
    await settled(page)
    await page.locator('[data-testid="qr-form"] [name="shortcut"]').fill('planos')
    await page
      .locator('[data-testid="qr-form"] [name="body"]')
      .fill('Nossos planos: Essencial, Pro e Agência.')
    await page.locator('[data-testid="qr-form"] button[type="submit"]').click()
    await page.waitForURL(`${base}/settings/quick-replies`)

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
    const assignee = page.locator('[data-testid="assignee"] option:checked')
    expect(await assignee.textContent()).toBe('Sem responsável')

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
    // Answering assigned the conversation to Rita: the open chat's header says so at once.
    await page.waitForFunction(
      () =>
        document.querySelector<HTMLSelectElement>('[data-testid="assignee"]')?.selectedOptions[0]
          ?.textContent === 'Rita Vendas',
    )
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

    // A colleague's change (here: another tab marks it pending) reaches the header live, draft kept.
    const other = await page.context().newPage()
    await other.goto(conversationUrl)
    await settled(other)
    await other.locator('[data-testid="pending"]').click()
    await other.waitForURL(/\/inbox\/c\//)
    await other.close()
    await page.locator('#chat-head[data-status="pending"] [data-testid="status-pill"]').waitFor()
    expect(await composer.inputValue()).toBe('Rascunho que não pode sumir')
    // Reopened from this tab (a plain form post): the header is back to "open".
    await page.locator('#chat-head [data-testid="close-toggle"]', { hasText: 'Reabrir' }).click()
    await page.locator('#chat-head[data-status="open"]').waitFor()

    // "/" opens the quick replies; ArrowDown/Enter inserts one, all by keyboard.
    await composer.fill('')
    await composer.focus()
    await page.keyboard.type('/plan')
    await page.locator('#qr-pop:not([hidden]) .qr-item', { hasText: '/planos' }).waitFor()
    await page.keyboard.press('Enter')
    expect(await composer.inputValue()).toBe('Nossos planos: Essencial, Pro e Agência.')
    expect(await page.locator('#qr-pop').isHidden()).toBe(true)

    // The emoji picker by keyboard: Enter on its button, Enter on the first emoji inserts it.
    await composer.fill('Combinado ')
    await page.locator('[data-emoji-toggle]').focus()
    await page.keyboard.press('Enter')
    await page.locator('#emoji-pop:not([hidden])').waitFor()
    await page.keyboard.press('Enter')
    expect(await composer.inputValue()).toBe('Combinado 😀')
    expect(await page.locator('#emoji-pop').isHidden()).toBe(true)

    // Reply by keyboard: the bubble's Reply button (shown on focus), the chip, Escape cancels it.
    await composer.fill('')
    const first = page.locator('.bubble.in', { hasText: 'Quero saber dos planos' })
    const replyBtn = first.locator('[data-testid="reply"]')
    await replyBtn.focus()
    await page.waitForFunction(
      (b) => b && getComputedStyle(b).opacity === '1',
      await replyBtn.elementHandle(),
    )
    await page.keyboard.press('Enter')
    const chip = page.locator('[data-testid="reply-chip"]')
    await chip.waitFor()
    expect(await chip.textContent()).toContain('Quero saber dos planos')
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('composer-body')
    await page.keyboard.press('Escape')
    expect(await chip.isHidden()).toBe(true)
    await replyBtn.focus()
    await page.keyboard.press('Space')
    await chip.waitFor()
    await page.keyboard.type('Para a sua loja, o Pro é o ideal.')
    await first.hover() // at desktop the Reply button shows on hover (and on focus)
    await shot(page, 'inbox-reply', false)
    await page.keyboard.press('Enter')
    const answer = page.locator('.bubble.out', { hasText: 'o Pro é o ideal' })
    await answer.waitFor()
    expect(await answer.locator('.reply-quote').textContent()).toContain('Quero saber dos planos')
    expect(await chip.isHidden()).toBe(true)

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
    // No hover on a phone: every bubble's Reply button is there to tap.
    const phoneReply = page.locator('.bubble.in [data-testid="reply"]').first()
    expect(await phoneReply.evaluate((b) => getComputedStyle(b).opacity)).toBe('1')
    await phoneReply.click()
    await page.locator('[data-testid="reply-chip"]').waitFor()
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
