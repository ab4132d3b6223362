/**
 * The lead list end to end in headless Chromium against the real server (PGlite, or Postgres with
 * TEST_DATABASE_URL): accent-free search, sort by a column header, filters from the URL, the back
 * button, the column chooser, a bulk tag on rows picked with the keyboard, and the drawer opened
 * with Enter. Screenshots: screenshots/leads-list-*.png (desktop and phone).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { type E2E, settled, shot, signUpViaForm, startE2E, uniqueEmail } from './browser'

setDefaultTimeout(90_000)

let e2e: E2E
let page: Page

const LEADS: Record<string, string>[] = [
  { fullName: 'Bruno Ávila', score: '90', company: 'Ávila Engenharia', tags: 'vip', value: '12.000' },
  {
    fullName: 'João da Silva',
    score: '80',
    company: 'Padaria Pão Quente',
    phone: '(11) 98765-4321',
    tags: 'vip',
  },
  { fullName: 'Maria Conceição', score: '30', email: 'maria@example.com', source: 'Site' },
  { fullName: 'Ana Souza', score: '55', company: 'Souza & Filhos', source: 'Indicação' },
  { fullName: 'Carla Dias', score: '12', phone: '21 99876 5432' },
  { fullName: 'Diego Martins', score: '65', company: 'Martins Ltda', tags: 'evento' },
]

const rowNames = (p: Page) =>
  p.locator('[data-row] [data-row-link]').evaluateAll((els) => els.map((e) => e.textContent?.trim()))
async function waitRows(p: Page, names: string[]) {
  await p.waitForFunction(
    (want) =>
      JSON.stringify(
        Array.from(document.querySelectorAll('[data-row] [data-row-link]')).map((e) => e.textContent?.trim()),
      ) === JSON.stringify(want),
    names,
  )
}

beforeAll(async () => {
  e2e = await startE2E({
    name: 'leads-list',
    viewport: { width: 1440, height: 900 },
    actionTimeoutMs: 15_000,
    logPageErrors: true,
  })
  page = await e2e.newPage()
  await signUpViaForm(e2e.base, page, { name: 'Lia Lista', email: uniqueEmail('lia'), org: 'Lista Viva' })
  await page.goto(`${e2e.base}/pipeline`)
  await settled(page)
  const pipelineId = await page.locator('[data-board-page]').getAttribute('data-pipeline-id')
  for (const l of LEADS) {
    const res = await page.request.post(`${e2e.base}/pipeline/leads`, {
      form: { pipelineId: pipelineId!, ...l },
      headers: { origin: e2e.base },
      maxRedirects: 0,
    })
    expect(res.status()).toBe(303)
  }
}, 180_000)
afterAll(() => e2e?.close(), 60_000)

describe('the lead list in a browser', () => {
  test('search ignores accents; sort by a header; the URL holds it and the back button undoes it', async () => {
    await page.goto(`${e2e.base}/leads`)
    await settled(page)
    expect((await rowNames(page)).length).toBe(6)
    await shot(page, 'leads-list-desktop', false)
    const search = page.locator('[data-testid="list-search"]')
    await search.fill('joao')
    await page.waitForURL(/\/leads\?q=joao$/)
    await waitRows(page, ['João da Silva'])
    await search.fill('conceicao')
    await page.waitForURL(/q=conceicao/)
    await waitRows(page, ['Maria Conceição'])
    await search.fill('')
    await page.waitForURL((u) => u.pathname === '/leads' && !u.search)
    await page.locator('th.col-score a').click()
    await page.waitForURL(/sort=-score/)
    await waitRows(page, [
      'Bruno Ávila',
      'João da Silva',
      'Diego Martins',
      'Ana Souza',
      'Maria Conceição',
      'Carla Dias',
    ])
    expect(await page.locator('th.col-score').getAttribute('aria-sort')).toBe('descending')
    await page.locator('th.col-score a').click()
    await page.waitForURL(/sort=score/)
    await waitRows(page, [
      'Carla Dias',
      'Maria Conceição',
      'Ana Souza',
      'Diego Martins',
      'João da Silva',
      'Bruno Ávila',
    ])
    await page.goBack()
    await page.waitForURL(/sort=-score/)
    await settled(page)
    expect((await rowNames(page))[0]).toBe('Bruno Ávila')
  })

  test('filters from a shared URL; chips show them', async () => {
    await page.goto(`${e2e.base}/leads?tag=vip&sort=name`)
    await settled(page)
    expect(await rowNames(page)).toEqual(['Bruno Ávila', 'João da Silva'])
    await expect(page.locator('[data-testid="list-chips"]').textContent()).resolves.toContain('vip')
    expect(await page.locator('#flt-tag').inputValue()).toBe('vip')
  })

  test('choose columns: the choice is saved and survives a reload', async () => {
    await page.goto(`${e2e.base}/leads`)
    await settled(page)
    await page.locator('[data-testid="columns-toggle"]').click()
    await page.locator('[data-testid="col-email"]').check()
    await page.locator('[data-testid="col-tags"]').check()
    await page.locator('[data-testid="col-company"]').uncheck()
    await page.locator('[data-testid="columns-save"]').click()
    await page.waitForSelector('th.col-email')
    await page.reload()
    await settled(page)
    expect(await page.locator('th.col-email').count()).toBe(1)
    expect(await page.locator('th.col-tags').count()).toBe(1)
    expect(await page.locator('th.col-company').count()).toBe(0)
    expect(await page.locator('td', { hasText: 'maria@example.com' }).count()).toBe(1)
  })

  test('keyboard: J/K move, X selects, bulk tag the selection; Enter opens the drawer, Escape closes it', async () => {
    await page.goto(`${e2e.base}/leads?sort=name`)
    await settled(page)
    await page.locator('body').click({ position: { x: 5, y: 300 } })
    await page.keyboard.press('j')
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Ana Souza')
    await page.keyboard.press('x')
    await page.keyboard.press('j')
    await page.keyboard.press('j')
    await page.keyboard.press('k')
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Bruno Ávila')
    await page.keyboard.press('x')
    await page.waitForSelector('[data-bulk-bar]:not([hidden])')
    expect(await page.locator('[data-bulk-count]').textContent()).toMatch(/2/)
    await shot(page, 'leads-list-selection', false)
    await page.locator('#bulk-tag').fill('Quente')
    await page.locator('[data-testid="bulk-tag"]').click()
    await page.waitForSelector('.alert-success')
    expect(await page.locator('.alert-success').textContent()).toMatch(/2/)
    await page.goto(`${e2e.base}/leads?tag=quente&sort=name`)
    await settled(page)
    expect(await rowNames(page)).toEqual(['Ana Souza', 'Bruno Ávila'])
    // Enter on a focused row opens its drawer over the list; Escape closes it and returns.
    await page.locator('body').click({ position: { x: 5, y: 300 } })
    await page.keyboard.press('j')
    await page.keyboard.press('Enter')
    await page.waitForSelector('#drawer-root [data-drawer]')
    expect(new URL(page.url()).pathname).toMatch(/^\/pipeline\/leads\//)
    await shot(page, 'leads-list-drawer', false)
    await page.keyboard.press('Escape')
    await page.waitForSelector('#drawer-root [data-drawer]', { state: 'detached' })
    expect(new URL(page.url()).pathname).toBe('/leads')
  })

  test('phone width: the table scrolls sideways with the name column pinned', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    await page.goto(`${e2e.base}/leads`)
    await settled(page)
    const name = page.locator('[data-row] th.col-name').first()
    const before = (await name.boundingBox())!
    await page.locator('.table-scroll').evaluate((el) => el.scrollBy(300, 0))
    const after = (await name.boundingBox())!
    expect(Math.abs(after.x - before.x)).toBeLessThan(2)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(1)
    await page.locator('.table-scroll').evaluate((el) => el.scrollTo(0, 0))
    await shot(page, 'leads-list-phone', false)
    await page.setViewportSize({ width: 1440, height: 900 })
  })
})
