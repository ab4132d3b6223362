/**
 * Lead scoring end to end in headless Chromium against the real server (its event dispatcher and job
 * worker included): an admin adds rules in Settings → Scoring (by keyboard), creates a lead that
 * matches on the board, and the drawer shows the score with each rule's contribution — computed in
 * the background (lead.created → rescore job → lead.updated → the open drawer refreshes).
 * Screenshots: screenshots/scoring-*.png (desktop and 390 px phone).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { type E2E, phoneOpts, settled, shot, signUpViaForm, startE2E, uniqueEmail } from './browser'

setDefaultTimeout(120_000)

const DESKTOP = { width: 1440, height: 900 }
let e2e: E2E
let base: string

beforeAll(async () => {
  e2e = await startE2E({ name: 'scoring', viewport: DESKTOP, actionTimeoutMs: 15_000, logPageErrors: true })
  base = e2e.base
}, 120_000)
afterAll(() => e2e?.close(), 60_000)

async function addRule(
  page: Page,
  r: { name: string; points: string; type: string; values: string; decay?: string },
) {
  const form = page.locator('form[action="/settings/scoring/rules"]')
  // Keyboard only: focus the name, then type and tab through the form.
  await form.locator('#new-name').focus()
  await page.keyboard.type(r.name)
  await page.keyboard.press('Tab')
  await page.keyboard.type(r.points)
  await form.locator('#new-condType').focus()
  await form.locator('#new-condType').selectOption(r.type)
  await form.locator('#new-condValues').focus()
  await page.keyboard.type(r.values)
  if (r.decay) {
    await form.locator('#new-decay').selectOption('half_life')
    await form.locator('#new-decayDays').fill(r.decay)
  }
  await form.locator('button[type=submit]').focus()
  await page.keyboard.press('Enter')
  await page.waitForURL(`${base}/settings/scoring`)
  await settled(page)
}

describe('scoring in the browser', () => {
  let leadUrl = ''

  test('an admin adds rules, creates a matching lead, and the drawer explains its score', async () => {
    const page = await e2e.newPage()
    await signUpViaForm(base, page, {
      name: 'Olivia Admin',
      email: uniqueEmail('olivia'),
      org: 'Imobiliária Sol',
    })
    await page.goto(`${base}/settings/scoring`)
    await settled(page)
    await expect(page.locator('h2', { hasText: 'Lead scoring' }).count()).resolves.toBe(1)
    await addRule(page, { name: 'Referral', points: '30', type: 'source', values: 'Indicação, Parceiro' })
    await addRule(page, { name: 'VIP tag', points: '20', type: 'tag', values: 'vip', decay: '14' })
    await addRule(page, { name: 'Cold tag', points: '-15', type: 'tag', values: 'frio' })
    const rules = page.getByTestId('scoring-rules')
    await expect(rules.locator('.rule-row').count()).resolves.toBe(3)
    await expect(rules.textContent()).resolves.toContain('halves every 14 days')
    await shot(page, 'scoring-settings-desktop')

    // A lead that matches two rules, created from the board.
    await page.goto(`${base}/pipeline`)
    await settled(page)
    await page.waitForSelector('[data-board][data-ready]')
    await page.getByTestId('new-lead').click()
    const drawer = page.locator('[data-drawer]')
    await drawer.waitFor()
    await drawer.locator('#f-fullName').fill('Renata Quintela')
    await drawer.locator('#f-company').fill('Quintela Arquitetura')
    await drawer.locator('#f-source').fill('Indicação')
    await drawer.locator('#f-tags').fill('vip')
    await drawer.getByRole('button', { name: 'Create lead' }).click()
    await page.waitForSelector('[data-drawer][data-lead-id]')
    leadUrl = `/pipeline/leads/${await page.locator('[data-drawer]').getAttribute('data-lead-id')}`

    // Scored in the background; the open drawer refreshes itself when the score lands.
    await page.waitForFunction(
      () => document.querySelector('[data-testid="score-total"]')?.textContent?.trim() === '+50',
      undefined,
      { timeout: 20_000 },
    )
    const why = page.getByTestId('score-explain')
    const items = await why
      .locator('.why-item')
      .evaluateAll((els) =>
        els.map((e) => [
          e.querySelector('.why-label')!.textContent!.trim(),
          e.querySelector('.why-points')!.textContent!.trim(),
        ]),
      )
    expect(items).toEqual([
      ['Referral', '+30'],
      ['VIP tag', '+20'],
    ])
    await why.scrollIntoViewIfNeeded()
    await shot(page, 'scoring-drawer-desktop', false)

    // The card on the board shows the new score too.
    await expect(page.locator('.lead-card[data-name="Renata Quintela"]').textContent()).resolves.toContain(
      '50',
    )
  })

  test('at phone width the drawer and the settings page stay usable', async () => {
    const phone = await e2e.newPage(phoneOpts)
    // Log in as a second admin of a fresh org, with the same rules, to keep the test self-contained.
    await signUpViaForm(base, phone, { name: 'Paulo Fone', email: uniqueEmail('paulo'), org: 'Fone Ltda' })
    await phone.goto(`${base}/settings/scoring`)
    await settled(phone)
    await addRule(phone, { name: 'Site', points: '10', type: 'source', values: 'Site' })
    const width = await phone.evaluate(() => document.documentElement.scrollWidth)
    expect(width).toBeLessThanOrEqual(390)
    await shot(phone, 'scoring-settings-phone')
    await phone.goto(`${base}/pipeline`)
    await settled(phone)
    await phone.waitForSelector('[data-board][data-ready]')
    await phone.getByTestId('new-lead').click()
    const drawer = phone.locator('[data-drawer]')
    await drawer.waitFor()
    await drawer.locator('#f-fullName').fill('Sérgio Prado')
    await drawer.locator('#f-source').fill('site')
    await drawer.getByRole('button', { name: 'Create lead' }).click()
    await phone.waitForSelector('[data-drawer][data-lead-id]')
    await phone.waitForFunction(
      () => document.querySelector('[data-testid="score-total"]')?.textContent?.trim() === '+10',
      undefined,
      { timeout: 20_000 },
    )
    await phone.getByTestId('score-explain').scrollIntoViewIfNeeded()
    await shot(phone, 'scoring-drawer-phone', false)
    expect(leadUrl).toMatch(/^\/pipeline\/leads\//)
  })

  test('a rep marks themself away from the profile page and back, by keyboard; the card fits a phone', async () => {
    const page = await e2e.newPage()
    await signUpViaForm(base, page, {
      name: 'Paula Rep',
      email: uniqueEmail('paula'),
      org: 'Imobiliária Lua',
    })
    await page.goto(`${base}/settings/profile`)
    await settled(page)
    const card = page.locator('[data-testid=availability]')
    await expect(card.locator('strong').textContent()).resolves.toBe('Available for new leads')
    await card.locator('button[type=submit]').focus()
    await page.keyboard.press('Enter')
    // The form posts and comes back to the same URL: wait for the new state, not the address.
    await card.locator('strong', { hasText: 'Away: not receiving new leads' }).waitFor()
    await settled(page)
    expect(page.url()).toBe(`${base}/settings/profile`)
    await shot(page, 'availability-away')
    const phone = await e2e.newPage(phoneOpts)
    await phone.context().addCookies(await page.context().cookies())
    await phone.goto(`${base}/settings/profile`)
    await settled(phone)
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    await shot(phone, 'availability-phone')
    await phone.locator('[data-testid=availability] button[type=submit]').tap()
    await phone.locator('[data-testid=availability] strong', { hasText: 'Available for new leads' }).waitFor()
    await phone.context().close()
    await page.context().close()
  })
})
