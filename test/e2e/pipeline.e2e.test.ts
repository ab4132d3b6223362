/**
 * The pipeline board end to end, in headless Chromium (playwright-core, /usr/bin/chromium) against the
 * real server: PGlite in a temp DATA_DIR, or a fresh database on the real Postgres when
 * TEST_DATABASE_URL is set. Drags use SortableJS's fallback mode with stepped mouse moves (native HTML5
 * drag is flaky under automation). Screenshots land in screenshots/pipeline-*.png.
 * The server is `startServer`, with its WebSocket hub (the teammate's board updates live through it).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { BrowserContextOptions, Locator, Page } from 'playwright-core'
import { TEST_DATABASE_URL } from '../db'
import {
  type E2E,
  PASSWORD,
  phoneOpts,
  shot as saveShot,
  settled,
  signUpViaForm,
  startE2E,
  uniqueEmail,
} from './browser'

setDefaultTimeout(90_000)

const DESKTOP = { width: 1440, height: 900 }

let e2e: E2E
let base: string
let serverDbKind: string

beforeAll(async () => {
  e2e = await startE2E({ name: 'pipeline', viewport: DESKTOP, actionTimeoutMs: 15_000, logPageErrors: true })
  base = e2e.base
  serverDbKind = e2e.dbKind
}, 120_000)

afterAll(() => e2e?.close(), 60_000)

const newPage = (opts: BrowserContextOptions = {}): Promise<Page> => e2e.newPage(opts)
const signUp = (page: Page, who: { name: string; email: string; org: string }) =>
  signUpViaForm(base, page, who)

/** The board, with its live connection up. */
async function openBoard(page: Page, path = '/pipeline') {
  await page.goto(`${base}${path}`)
  await settled(page)
  await page.waitForSelector('[data-board][data-ready]')
  await page.waitForSelector('[data-live-badge][data-state="on"]')
}

async function shot(page: Page, name: string, fullPage = false) {
  await saveShot(page, `pipeline-${name}`, fullPage)
}

const column = (page: Page, name: string) => page.locator(`.col[data-name="${name}"]`)
const card = (page: Page, name: string) => page.locator(`.lead-card[data-name="${name}"]`)
/** A card's lead id (its element id is `card-<id>`). */
const leadIdOf = async (c: Locator) => (await c.getAttribute('id'))!.replace(/^card-/, '')
const namesIn = (page: Page, col: string) =>
  column(page, col)
    .locator('.lead-card')
    .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.name))

/** A SortableJS (fallback mode) drag: press, small first step, stepped travel, settle, release. */
async function drag(page: Page, from: Locator, to: Locator, at: 'top' | 'center' = 'center') {
  await from.scrollIntoViewIfNeeded()
  const a = (await from.boundingBox())!
  const b = (await to.boundingBox())!
  const x0 = a.x + a.width / 2
  const y0 = a.y + 16
  const x1 = b.x + b.width / 2
  const y1 = at === 'top' ? b.y + 6 : b.y + b.height / 2
  await page.mouse.move(x0, y0)
  await page.mouse.down()
  await page.mouse.move(x0 + 6, y0 + 6, { steps: 3 })
  await page.mouse.move(x1, y1, { steps: 25 })
  await page.waitForTimeout(150)
  await page.mouse.move(x1, y1 + 1, { steps: 2 })
  await page.waitForTimeout(100)
  await page.mouse.up()
}

/** Creates leads over HTTP with the page's session (the form itself is tested once below). */
async function createLeads(page: Page, pipelineId: string, leads: Record<string, string>[]) {
  for (const l of leads) {
    const res = await page.request.post(`${base}/pipeline/leads`, {
      form: { pipelineId, ...l },
      headers: { origin: base },
      maxRedirects: 0,
    })
    expect(res.status()).toBe(303)
  }
}

const owner = { name: 'Ana Souza', email: uniqueEmail('ana'), org: 'Acme Imóveis' }
const mateUser = { name: 'Bruno Lima', email: uniqueEmail('bruno') }
let ownerPage: Page
let matePage: Page
let pipelineId: string
let firstLeadUrl: string

describe('the pipeline board in a real browser', () => {
  test('the owner creates a lead from the board with the form, and sees it on top of "New"', async () => {
    expect(serverDbKind).toBe(TEST_DATABASE_URL ? 'postgres' : 'pglite')
    ownerPage = await newPage()
    await signUp(ownerPage, owner)
    await ownerPage.locator('.sidebar a[href="/pipeline"]').click()
    await ownerPage.waitForURL(`${base}/pipeline`)
    await openBoard(ownerPage)
    pipelineId = (await ownerPage.locator('[data-board-page]').getAttribute('data-pipeline-id'))!
    expect(await ownerPage.locator('.col h2').allTextContents()).toEqual([
      'New',
      'Qualified',
      'Proposal',
      'Negotiation',
      'Won',
      'Lost',
    ])
    await ownerPage.getByTestId('new-lead').click()
    const drawer = ownerPage.locator('[data-drawer]')
    await drawer.waitFor()
    await drawer.locator('#f-fullName').fill('Maria Silva')
    await drawer.locator('#f-company').fill('Construtora Horizonte')
    await drawer.locator('#f-value').fill('48.500,00')
    await drawer.locator('#f-tags').fill('vip, investidor')
    await drawer.getByRole('button', { name: 'Create lead' }).click()
    await ownerPage.waitForSelector('[data-drawer][data-lead-id]')
    await card(ownerPage, 'Maria Silva').waitFor()
    expect(await namesIn(ownerPage, 'New')).toEqual(['Maria Silva'])
    expect(await column(ownerPage, 'New').getAttribute('data-count')).toBe('1')
    firstLeadUrl = `${base}/pipeline/leads/${await leadIdOf(card(ownerPage, 'Maria Silva'))}`

    const names = [
      ['João Pereira', 'Imobiliária Central', '12.000'],
      ['Fernanda Rocha', 'Loft Interiores', '8.900'],
      ['Ricardo Alves', 'Casa & Cia', '31.250'],
      ['Juliana Martins', 'Ribeiro Advogados', '6.400'],
      ['Paulo Souza', 'Grupo Vila Nova', '77.000'],
      ['Camila Ribeiro', '', '15.800'],
    ]
    await createLeads(
      ownerPage,
      pipelineId,
      names.map(([fullName, company, value], i) => ({
        fullName: fullName!,
        company: company!,
        value: value!,
        phone: i % 2 ? '(11) 98765-4321' : '',
        email: i % 3 ? `lead${i}@example.com` : '',
        tags: ['indicação', 'urgente', '', 'primeiro imóvel'][i % 4]!,
        score: String((i * 29) % 100),
      })),
    )
  })

  test('a teammate joins and opens the same board', async () => {
    await ownerPage.goto(`${base}/settings/members`)
    await ownerPage.locator('#f-email').fill(mateUser.email)
    await ownerPage.locator('form[action="/settings/members/invite"] button[type=submit]').click()
    const link = (await ownerPage.getByTestId('invite-link').textContent())!.trim()
    matePage = await newPage()
    await matePage.goto(link)
    await matePage.locator('#f-name').fill(mateUser.name)
    await matePage.locator('#f-password').fill(PASSWORD)
    await matePage.locator('form button[type=submit]').last().click()
    await matePage.waitForURL(`${base}/dashboard`)
    await openBoard(matePage)
    await openBoard(ownerPage)
    expect((await namesIn(matePage, 'New')).length).toBe(7)
    await shot(ownerPage, 'desktop-board')
  })

  test('dragging a card to another column saves it there, and the teammate sees it move live', async () => {
    const target = column(ownerPage, 'Qualified').locator('[data-cards]')
    const moved = ownerPage.waitForResponse(
      (r) => r.url().includes('/move') && r.request().method() === 'POST',
    )
    await drag(ownerPage, card(ownerPage, 'Ricardo Alves'), target)
    const res = await moved
    expect(res.status()).toBe(200)
    expect(await namesIn(ownerPage, 'Qualified')).toEqual(['Ricardo Alves'])
    expect(await column(ownerPage, 'Qualified').getAttribute('data-count')).toBe('1')
    // The teammate's board: no reload.
    await column(matePage, 'Qualified')
      .locator('.lead-card[data-name="Ricardo Alves"]')
      .waitFor({ timeout: 5_000 })
    expect(await column(matePage, 'New').getAttribute('data-count')).toBe('6')
    // The drawer did not open by the drop.
    expect(await ownerPage.locator('[data-drawer]').count()).toBe(0)
    await ownerPage.reload()
    await settled(ownerPage)
    expect(await namesIn(ownerPage, 'Qualified')).toEqual(['Ricardo Alves'])
  })

  test('dragging a card within its column reorders it, and the order survives a reload', async () => {
    await openBoard(ownerPage)
    const before = await namesIn(ownerPage, 'New')
    // The third card to the top (both in view: the column scrolls on its own).
    const third = before[2]!
    const saved = ownerPage.waitForResponse((r) => r.url().includes('/move'))
    await drag(ownerPage, card(ownerPage, third), card(ownerPage, before[0]!), 'top')
    expect((await saved).status()).toBe(200)
    const expected = [third, ...before.filter((n) => n !== third)]
    expect(await namesIn(ownerPage, 'New')).toEqual(expected)
    await ownerPage.reload()
    await settled(ownerPage)
    expect(await namesIn(ownerPage, 'New')).toEqual(expected)
    // The teammate's board converges on the same order.
    await matePage.waitForFunction(
      (want) =>
        JSON.stringify(
          Array.from(document.querySelectorAll('.col[data-name="New"] .lead-card')).map(
            (e) => (e as HTMLElement).dataset.name,
          ),
        ) === want,
      JSON.stringify(expected),
    )
  })

  test('keyboard only: focus a card, move it with Shift+Arrow and with the "Move to…" menu, hear it announced', async () => {
    await openBoard(ownerPage)
    // Tab from the search field reaches the board's one tab stop (roving tabindex) through the toolbar.
    await ownerPage.locator('.search-box input').focus()
    for (let i = 0; i < 12; i++) {
      await ownerPage.keyboard.press('Tab')
      if (await ownerPage.evaluate(() => !!document.activeElement?.matches('[data-card-link]'))) break
    }
    const focusedName = () =>
      ownerPage.evaluate(
        () => (document.activeElement?.closest('.lead-card') as HTMLElement | null)?.dataset.name,
      )
    expect(await focusedName()).toBe((await namesIn(ownerPage, 'New'))[0])
    await ownerPage.keyboard.press('ArrowDown')
    const name = (await focusedName())!
    expect(name).toBe((await namesIn(ownerPage, 'New'))[1]!)
    // Shift+ArrowRight: to the next stage (top); announced; saved.
    const saved = ownerPage.waitForResponse((r) => r.url().includes('/move'))
    await ownerPage.keyboard.press('Shift+ArrowRight')
    expect((await saved).status()).toBe(200)
    expect((await namesIn(ownerPage, 'Qualified'))[0]).toBe(name)
    expect(await focusedName()).toBe(name)
    await ownerPage.waitForFunction(
      (n) => document.getElementById('board-live')?.textContent?.includes(`${n} moved to Qualified`),
      name,
    )
    // Shift+ArrowDown: one place down inside the stage.
    const saved2 = ownerPage.waitForResponse((r) => r.url().includes('/move'))
    await ownerPage.keyboard.press('Shift+ArrowDown')
    await saved2
    expect((await namesIn(ownerPage, 'Qualified'))[1]).toBe(name)
    // M: the "Move to…" menu; arrows/Tab to "Proposal", Enter.
    await ownerPage.keyboard.press('m')
    const dialog = ownerPage.locator('#move-dialog')
    await dialog.waitFor()
    await shot(ownerPage, 'desktop-move-menu')
    await dialog.locator('button[data-stage-id]', { hasText: 'Proposal' }).focus()
    const saved3 = ownerPage.waitForResponse((r) => r.url().includes('/move'))
    await ownerPage.keyboard.press('Enter')
    await saved3
    expect(await namesIn(ownerPage, 'Proposal')).toEqual([name])
    expect(await focusedName()).toBe(name)
    await ownerPage.reload()
    await settled(ownerPage)
    expect(await namesIn(ownerPage, 'Proposal')).toEqual([name])
  })

  test('dropping into "Lost" asks for the reason; cancelling puts the card back', async () => {
    await openBoard(ownerPage)
    const lostList = column(ownerPage, 'Lost').locator('[data-cards]')
    await drag(ownerPage, card(ownerPage, 'Juliana Martins'), lostList)
    const dialog = ownerPage.locator('#lost-dialog')
    await dialog.waitFor()
    await ownerPage.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    await column(ownerPage, 'New').locator('.lead-card[data-name="Juliana Martins"]').waitFor()
    expect(await column(ownerPage, 'Lost').locator('.lead-card').count()).toBe(0)
    await drag(ownerPage, card(ownerPage, 'Juliana Martins'), lostList)
    await dialog.waitFor()
    await dialog.getByLabel('No budget').check()
    await dialog.locator('#lost-detail').fill('back in March')
    await shot(ownerPage, 'desktop-lost-dialog')
    const saved = ownerPage.waitForResponse((r) => r.url().includes('/move'))
    await dialog.getByRole('button', { name: 'Mark as lost' }).click()
    expect((await saved).status()).toBe(200)
    await column(ownerPage, 'Lost').locator('.lead-card.is-lost[data-name="Juliana Martins"]').waitFor()
    await card(ownerPage, 'Juliana Martins').locator('[data-card-link]').click()
    const drawer = ownerPage.locator('[data-drawer]')
    await drawer.waitFor()
    expect(await drawer.locator('.status-lost').textContent()).toContain('No budget — back in March')
    expect(new URL(ownerPage.url()).pathname).toStartWith('/pipeline/leads/')
    await shot(ownerPage, 'desktop-drawer')
    await ownerPage.keyboard.press('Escape')
    await drawer.waitFor({ state: 'detached' })
    expect(new URL(ownerPage.url()).pathname).toBe(`/pipeline/${pipelineId}`)
  })

  test('filters live in the URL: the board narrows, the back button restores it', async () => {
    await openBoard(ownerPage)
    await ownerPage.locator('.search-box input').fill('Maria')
    await ownerPage.waitForURL(/q=Maria/)
    await ownerPage.waitForFunction(() => document.querySelectorAll('.lead-card').length === 1)
    expect(await ownerPage.locator('[data-board]').getAttribute('data-query')).toBe('q=Maria')
    await ownerPage.getByTestId('filters-toggle').click()
    await ownerPage.locator('#filter-panel').waitFor()
    await shot(ownerPage, 'desktop-filtered')
    await ownerPage.goBack()
    await ownerPage.waitForURL((u) => !u.search.includes('q='))
    await settled(ownerPage)
    await ownerPage.waitForFunction(() => document.querySelectorAll('.lead-card').length > 1)
  })

  test('a user of another organization gets 404 for the card URL and no live events', async () => {
    const other = await newPage()
    await signUp(other, { name: 'Eva Outra', email: uniqueEmail('eva'), org: 'Outra Org' })
    const res = await other.goto(firstLeadUrl)
    expect(res!.status()).toBe(404)
    expect(await other.content()).not.toContain('Maria Silva')
    await openBoard(other)
    const seen: string[] = []
    other.on('websocket', (ws) => ws.on('framereceived', (f) => seen.push(String(f.payload))))
    await other.reload()
    await settled(other)
    await other.waitForSelector('[data-live-badge][data-state="on"]')
    // The owner moves a card; the other organization's board hears nothing about it.
    await openBoard(ownerPage)
    const saved = ownerPage.waitForResponse((r) => r.url().includes('/move'))
    await drag(
      ownerPage,
      card(ownerPage, 'Camila Ribeiro'),
      column(ownerPage, 'Negotiation').locator('[data-cards]'),
    )
    await saved
    await matePage.locator('.col[data-name="Negotiation"] .lead-card[data-name="Camila Ribeiro"]').waitFor()
    await other.waitForTimeout(500)
    expect(seen.filter((f) => f.includes('"t":"event"'))).toEqual([])
  })

  test("keyboard moves back and forth each reach the teammate's board, in order", async () => {
    // The latency of this path is measured by bench/pipeline-live.bench.ts, not here.
    await openBoard(ownerPage)
    await openBoard(matePage)
    const id = await leadIdOf(card(ownerPage, 'Paulo Souza'))
    await card(ownerPage, 'Paulo Souza').locator('[data-card-link]').focus()
    for (let i = 0; i < 6; i++) {
      // Shift+ArrowRight to "Qualified", Shift+ArrowLeft back to "New": the board's real move path.
      const [key, to] = i % 2 ? ['Shift+ArrowLeft', 'New'] : ['Shift+ArrowRight', 'Qualified']
      const saved = ownerPage.waitForResponse((r) => r.url().includes('/move'))
      await ownerPage.keyboard.press(key)
      await matePage.waitForSelector(`.col[data-name="${to}"] #card-${id}`, { timeout: 5_000 })
      expect((await saved).status()).toBe(200)
    }
    expect(await namesIn(matePage, 'New')).toEqual(await namesIn(ownerPage, 'New'))
    await openBoard(ownerPage)
    await shot(ownerPage, 'desktop-board-in-use')
  })

  test('on a phone the board scrolls sideways and a card moves with the tap menu', async () => {
    const phone = await newPage(phoneOpts)
    await phone.context().addCookies(await ownerPage.context().cookies())
    await openBoard(phone)
    const o = await phone.evaluate(() => ({
      page: document.documentElement.scrollWidth <= document.documentElement.clientWidth,
      board: (() => {
        const b = document.querySelector('[data-board]') as HTMLElement
        return b.scrollWidth > b.clientWidth
      })(),
    }))
    expect(o).toEqual({ page: true, board: true })
    await shot(phone, 'phone-board')
    const name = (await namesIn(phone, 'New'))[0]!
    await card(phone, name).locator('[data-move-menu]').tap()
    const dialog = phone.locator('#move-dialog')
    await dialog.waitFor()
    await shot(phone, 'phone-move-menu')
    const saved = phone.waitForResponse((r) => r.url().includes('/move'))
    await dialog.locator('button[data-stage-id]', { hasText: 'Qualified' }).tap()
    expect((await saved).status()).toBe(200)
    expect(await namesIn(phone, 'Qualified')).toContain(name)
    await card(phone, name).locator('[data-card-link]').tap()
    await phone.locator('[data-drawer]').waitFor()
    await shot(phone, 'phone-drawer')
  })

  test('stage admin: add a stage, reorder by drag, delete one with leads choosing where they go', async () => {
    await ownerPage.goto(`${base}/pipeline/${pipelineId}/settings`)
    await settled(ownerPage)
    await ownerPage.locator('.add-stage #f-name').fill('Site visit')
    await ownerPage.getByTestId('add-stage').click()
    await ownerPage.waitForSelector('.stage-row input[value="Site visit"]')
    const rowNames = () =>
      ownerPage
        .locator('.stage-row .stage-name')
        .evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value))
    expect(await rowNames()).toEqual([
      'New',
      'Qualified',
      'Proposal',
      'Negotiation',
      'Site visit',
      'Won',
      'Lost',
    ])
    // Drag "Site visit" above "Proposal" by its handle.
    const rows = ownerPage.locator('.stage-row')
    const saved = ownerPage.waitForResponse((r) => r.url().endsWith('/stages/order'))
    await drag(ownerPage, rows.nth(4).locator('.drag-handle'), rows.nth(2), 'top')
    expect((await saved).status()).toBe(200)
    await ownerPage.reload()
    await settled(ownerPage)
    expect(await rowNames()).toEqual([
      'New',
      'Qualified',
      'Site visit',
      'Proposal',
      'Negotiation',
      'Won',
      'Lost',
    ])
    await shot(ownerPage, 'desktop-settings', true)
    // Delete "Negotiation" (Camila Ribeiro was dragged there): its leads go to "Qualified".
    await ownerPage
      .locator('.stage-row', { has: ownerPage.locator('input[value="Negotiation"]') })
      .locator('a.danger')
      .click()
    await ownerPage.waitForURL(/\/delete$/)
    await settled(ownerPage)
    expect(await ownerPage.locator('main').textContent()).toContain('One lead is in this stage')
    await ownerPage.locator('#f-target').selectOption({ label: 'Qualified' })
    await shot(ownerPage, 'desktop-delete-stage')
    await ownerPage.getByTestId('confirm-delete-stage').click()
    await ownerPage.waitForURL(`${base}/pipeline/${pipelineId}/settings`)
    await openBoard(ownerPage)
    expect(await ownerPage.locator('.col h2').allTextContents()).toEqual([
      'New',
      'Qualified',
      'Site visit',
      'Proposal',
      'Won',
      'Lost',
    ])
    expect(await namesIn(ownerPage, 'Qualified')).toContain('Camila Ribeiro')
    // The teammate's open board re-rendered with the new stages (pipeline.updated).
    await matePage.waitForFunction(() => !document.querySelector('.col[data-name="Negotiation"]'))
  })
  // More than one page in a stage: 30 leads in "Site visit" (the first page is 25 cards).
  const LOT = Array.from({ length: 30 }, (_, i) => `Lote ${String(i + 1).padStart(2, '0')}`)

  test('a column with more than one page of leads loads the rest as it is scrolled', async () => {
    await openBoard(ownerPage)
    const stageId = (await column(ownerPage, 'Site visit').getAttribute('data-stage-id'))!
    // One after another: each new lead goes to the top, so the column is LOT newest first.
    await createLeads(
      ownerPage,
      pipelineId,
      LOT.map((fullName) => ({ fullName, stageId })),
    )
    await openBoard(ownerPage)
    const col = column(ownerPage, 'Site visit')
    expect(await col.getAttribute('data-count')).toBe('30')
    expect(await col.locator('.lead-card').count()).toBe(25)
    expect(await col.locator('[data-more]').count()).toBe(1)
    const page2 = ownerPage.waitForResponse((r) => r.url().includes(`/stages/${stageId}/cards?`))
    await col.locator('[data-cards]').evaluate((el) => {
      el.scrollTop = el.scrollHeight
    })
    expect((await page2).status()).toBe(200)
    await ownerPage.waitForFunction(
      () => document.querySelectorAll('.col[data-name="Site visit"] .lead-card').length === 30,
    )
    expect(await col.locator('[data-more]').count()).toBe(0)
    // Newest first, no card twice, none missing.
    expect(await namesIn(ownerPage, 'Site visit')).toEqual([...LOT].reverse())
    // A card that came with "load more" opens the drawer like the others (at its own URL).
    const loaded = card(ownerPage, 'Lote 01')
    const loadedId = await leadIdOf(loaded)
    await loaded.locator('[data-card-link]').click()
    await ownerPage.locator(`[data-drawer][data-lead-id="${loadedId}"]`).waitFor()
    expect(new URL(ownerPage.url()).pathname).toBe(`/pipeline/leads/${loadedId}`)
    expect(await col.locator('.lead-card').count()).toBe(30)
    await ownerPage.keyboard.press('Escape')
    await ownerPage.locator('[data-drawer]').waitFor({ state: 'detached' })
  })

  test('saved views: save the current filters, open the view from the menu, same URL and cards', async () => {
    await openBoard(ownerPage)
    await ownerPage.locator('.search-box input').fill('Lote 0')
    await ownerPage.waitForURL(/q=Lote\+0/)
    await ownerPage.waitForFunction(() => document.querySelectorAll('.lead-card').length === 9)
    const filteredUrl = ownerPage.url()
    const expected = await namesIn(ownerPage, 'Site visit')
    expect(expected).toEqual(LOT.slice(0, 9).reverse())
    await ownerPage.getByTestId('views-toggle').click()
    await ownerPage.locator('#view-name').fill('Primeiro lote')
    await ownerPage.locator('form[data-save-view] button[type=submit]').click()
    await ownerPage.locator('.views-menu a', { hasText: 'Primeiro lote' }).waitFor({ state: 'attached' })
    // Back to the whole board, then the view from the menu.
    await openBoard(ownerPage)
    expect(await ownerPage.locator('.lead-card').count()).toBeGreaterThan(9)
    await ownerPage.getByTestId('views-toggle').click()
    await ownerPage.locator('.views-menu a', { hasText: 'Primeiro lote' }).click()
    await ownerPage.waitForURL(filteredUrl)
    await settled(ownerPage)
    await ownerPage.waitForFunction(() => document.querySelectorAll('.lead-card').length === 9)
    expect(await namesIn(ownerPage, 'Site visit')).toEqual(expected)
    expect(await ownerPage.locator('.search-box input').inputValue()).toBe('Lote 0')
    expect(await ownerPage.locator('[data-board]').getAttribute('data-query')).toBe('q=Lote+0')
    await ownerPage.getByTestId('views-toggle').click()
    expect(
      await ownerPage.locator('.views-menu a', { hasText: 'Primeiro lote' }).getAttribute('aria-current'),
    ).toBe('true')
  })

  test('editing a lead and assigning an owner in the drawer updates its card on the board', async () => {
    await openBoard(ownerPage)
    const c = card(ownerPage, 'Lote 25')
    expect(await c.locator('.card-company').count()).toBe(0)
    expect(await c.locator('.avatar-none').count()).toBe(1)
    await c.locator('[data-card-link]').click()
    const drawer = ownerPage.locator('[data-drawer]')
    await drawer.waitFor()
    await drawer.getByTestId('drawer-edit').click()
    await drawer.locator('#f-company').fill('Horizonte Incorporações')
    await drawer.locator('#f-value').fill('1.250,00')
    const id = await leadIdOf(c)
    const saved = ownerPage.waitForResponse(
      (r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith(`/leads/${id}`),
    )
    await drawer.getByRole('button', { name: 'Save', exact: true }).click()
    expect((await saved).status()).toBe(200)
    await c.locator('.card-company', { hasText: 'Horizonte Incorporações' }).waitFor()
    expect(await c.locator('.card-value').textContent()).toContain('1,250')
    await drawer.locator('#drawer-owner').selectOption({ label: mateUser.name })
    await drawer.getByRole('button', { name: 'Assign', exact: true }).click()
    await c.locator('.avatar:not(.avatar-none)', { hasText: 'BL' }).waitFor()
    expect(await drawer.locator('.kpi .person-inline').textContent()).toContain(mateUser.name)
    // Still there after a reload (the server's card, not only the browser's).
    await openBoard(ownerPage)
    expect(await card(ownerPage, 'Lote 25').locator('.card-company').textContent()).toBe(
      'Horizonte Incorporações',
    )
    expect(await card(ownerPage, 'Lote 25').locator('.avatar').textContent()).toBe('BL')
  })

  test("a teammate's open drawer refreshes when someone else changes the lead", async () => {
    await openBoard(matePage)
    const c = card(matePage, 'Lote 27')
    const id = await leadIdOf(c)
    await c.locator('[data-card-link]').click()
    const drawer = matePage.locator(`[data-drawer][data-lead-id="${id}"]`)
    await drawer.waitFor()
    expect(await drawer.locator('.kpi .person-inline').textContent()).not.toContain(owner.name)
    await matePage.evaluate(() => {
      ;(window as unknown as { __sameDocument: boolean }).__sameDocument = true
    })
    // The owner assigns the lead to herself and adds a note, from her own session.
    const ownerId = (await ownerPage.locator('[data-board-page]').getAttribute('data-user-id'))!
    for (const [path, form] of [
      ['assign', { ownerId }],
      ['notes', { note: 'Pediu a planta do apartamento' }],
    ] as const) {
      const res = await ownerPage.request.post(`${base}/pipeline/leads/${id}/${path}`, {
        form,
        headers: { origin: base },
        maxRedirects: 0,
      })
      expect(res.status()).toBe(303)
    }
    await drawer.locator('[data-testid="timeline"]', { hasText: 'Pediu a planta do apartamento' }).waitFor({
      timeout: 5_000,
    })
    expect(await drawer.locator('.kpi .person-inline').textContent()).toContain(owner.name)
    // Live, not a reload: same document, drawer still open at its URL, card updated too.
    expect(
      await matePage.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument),
    ).toBe(true)
    expect(new URL(matePage.url()).pathname).toBe(`/pipeline/leads/${id}`)
    await c.locator('.avatar', { hasText: 'AS' }).waitFor()
  })
})
