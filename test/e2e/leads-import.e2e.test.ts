/**
 * CSV import end to end in headless Chromium against the real server (its job worker and WebSocket
 * hub): upload the messy fixture plus a few thousand generated rows, check the guessed mapping and
 * the live preview, start, watch the progress bar move to 100% without a reload (events through the
 * hub), read the report and download it. Screenshots: screenshots/leads-import-*.png (desktop, phone).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { BATCH_SIZE, importJobTuning } from '../../src/modules/leads/leads.import'
import {
  type E2E,
  phoneOpts,
  shot as saveShot,
  settled,
  signUpViaForm,
  startE2E,
  uniqueEmail,
} from './browser'

setDefaultTimeout(240_000)

const DESKTOP = { width: 1440, height: 900 }
const GENERATED = Number(process.env.IMPORT_E2E_ROWS ?? 1500)
let e2e: E2E

beforeAll(async () => {
  // The import runs ~1,000 rows/s: in batches of 100 with a pause after each, it lasts long enough
  // for the page to be open and watch the bar move (instead of catching up on a finished import).
  importJobTuning.batchSize = 100
  importJobTuning.afterBatch = () => Bun.sleep(250)
  e2e = await startE2E({
    name: 'leads-import',
    viewport: DESKTOP,
    actionTimeoutMs: 30_000,
    logPageErrors: true,
  })
}, 180_000)
afterAll(async () => {
  importJobTuning.batchSize = BATCH_SIZE
  importJobTuning.afterBatch = undefined
  await e2e?.close()
}, 60_000)

const shot = (page: Page, name: string, fullPage = false) => saveShot(page, `leads-import-${name}`, fullPage)

/** The messy fixture followed by GENERATED realistic rows (so the import lasts several batches). */
function bigFile(): Buffer {
  const messy = readFileSync(join(import.meta.dir, '../fixtures/leads-messy.csv'), 'utf8')
  const first = ['Ana', 'Bruno', 'Carla', 'Diego', 'Elaine', 'Fábio', 'Gabriela', 'Heitor', 'Íris', 'João']
  const last = ['Souza', 'Oliveira', 'Santos', 'Pereira', 'Lima', 'Carvalho', 'Araújo', 'Ribeiro']
  const extra = Array.from({ length: GENERATED }, (_, i) => {
    const name = `${first[i % first.length]} ${last[(i * 7) % last.length]} ${i}`
    return `${name},p${i}@exemplo.com.br,(11) 9${String(30000000 + i)},Empresa ${i % 97},,${(i % 50) * 100},Planilha,,`
  })
  return Buffer.from(`${messy.replace(/\n$/, '')}\n${extra.join('\n')}\n`, 'utf8')
}

describe('CSV import in the browser', () => {
  test('upload, map, watch the progress bar reach 100% live, read and download the report', async () => {
    const page = await e2e.newPage()
    await signUpViaForm(e2e.base, page, { name: 'Ana Import', email: uniqueEmail('ana'), org: 'Importadora' })
    await page.goto(`${e2e.base}/leads/import`)
    await settled(page)
    await shot(page, 'upload')

    // Pick the file (the same input a drop fills): the name shows, Continue uploads it.
    await page
      .locator('#import-file')
      .setInputFiles({ name: 'clientes.csv', mimeType: 'text/csv', buffer: bigFile() })
    await expectLocator(page.locator('.dropzone-file')).toContainText('clientes.csv')
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.waitForURL(/\/leads\/import\/[0-9a-f-]{36}$/)
    await settled(page)
    const importUrl = page.url()

    // Guessed mapping and a preview with the phone normalised and bad rows marked.
    expect(await page.locator('#map-0').inputValue()).toBe('fullName')
    expect(await page.locator('#map-2').inputValue()).toBe('phone')
    const preview = page.locator('[data-testid="preview"]')
    await expectLocator(preview).toContainText('(11) 98765-1111')
    await expectLocator(preview).toContainText('The name is empty')
    await expectLocator(preview.locator('th')).toContainText(['Source'])
    // Changing a column's field refreshes the preview in place (htmx), keyboard-operable selects.
    await page.locator('#map-6').focus()
    await page.locator('#map-6').selectOption('')
    await expectLocator(preview.locator('th', { hasText: 'Source' })).toHaveCount(0)
    await page.locator('#map-6').selectOption('source')
    await expectLocator(page.locator('[data-testid="preview"] th', { hasText: 'Source' })).toHaveCount(1)
    await page.locator('#f-defaultTags').fill('importado')
    await shot(page, 'mapping', true)

    // Phone width: the same mapping screen.
    const phone = await e2e.newPage({ ...phoneOpts, storageState: await page.context().storageState() })
    await phone.goto(importUrl)
    await settled(phone)
    await shot(phone, 'mapping-phone', true)

    // Start: the progress page; record every value the bar takes, and make sure nothing reloads.
    await page.locator('[data-testid="start-import"]').click()
    await page.waitForSelector('[data-testid="import-progress"]')
    await settled(page)
    await page.evaluate(() => {
      const w = window as unknown as { __seen: number[]; __same: boolean }
      w.__seen = []
      w.__same = true
      const record = () => {
        const bar = document.querySelector('[data-testid="import-progress"]')
        if (bar) w.__seen.push(Number(bar.getAttribute('aria-valuenow')))
      }
      record()
      new MutationObserver(record).observe(document.body, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: ['aria-valuenow'],
      })
    })
    await page.waitForFunction(() => {
      const v = Number(
        document.querySelector('[data-testid="import-progress"]')?.getAttribute('aria-valuenow'),
      )
      return v > 0 && v < 100
    })
    await shot(page, 'progress')
    await page.waitForSelector('[data-testid="report-rows"]', { timeout: 200_000 })
    const seen = await page.evaluate(
      () => (window as unknown as { __seen: number[]; __same: boolean }).__seen,
    )
    const distinct = [...new Set(seen)]
    expect(distinct).toContain(100)
    expect(distinct.filter((v) => v > 0 && v < 100).length).toBeGreaterThanOrEqual(1)
    // Same document all along: the bar moved through hub events, not by reloading the page.
    expect(await page.evaluate(() => (window as unknown as { __same?: boolean }).__same)).toBe(true)
    expect(page.url()).toBe(importUrl)

    const report = page.locator('[data-testid="report-rows"]')
    await expectLocator(report).toContainText('The name is empty')
    await expectLocator(report).toContainText('"123" is not a phone number')
    await expectLocator(report).toContainText('Merged into an existing lead')
    await expectLocator(page.locator('.import-stat.stat-rejected .value')).toHaveText('4')
    await expectLocator(page.locator('.import-stat.stat-created .value')).toHaveText(
      new Intl.NumberFormat('en').format(GENERATED + 6),
    )
    await shot(page, 'report', true)

    // Download the report (CSV, UTF-8 BOM, `;`).
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-testid="report-download"]').click(),
    ])
    expect(download.suggestedFilename()).toBe('clientes-relatorio.csv')
    const text = readFileSync((await download.path())!, 'utf8')
    expect(text.charCodeAt(0)).toBe(0xfeff)
    expect(text).toContain('"""123"" is not a phone number"')

    await phone.goto(importUrl)
    await settled(phone)
    await shot(phone, 'report-phone', true)
    // History lists it as done.
    await page.goto(`${e2e.base}/leads/import`)
    await expectLocator(page.locator('[data-testid="import-history"]')).toContainText('clientes.csv')
    await expectLocator(page.locator('[data-testid="import-history"]')).toContainText('Done')
    await shot(page, 'history')
  })
})

describe('CSV import: separator override and an Owner column', () => {
  test('a ";" file detected as ",": pick the separator, the columns come back; owners by name or reported', async () => {
    const page = await e2e.newPage()
    const email = uniqueEmail('bia')
    await signUpViaForm(e2e.base, page, { name: 'Bia Dona', email, org: 'Donos do Lead' })
    await page.goto(`${e2e.base}/leads/import`)
    await settled(page)
    // More commas than semicolons on the header line: detection picks ",".
    const csv =
      'Nome;Telefone;Vendedor;Observações (ligar, whats, e-mail, visita, feira)\n' +
      'Otávio Lima;11 95555-0001;bia dona;ligar, depois whats\n' +
      `Paula Reis;11 95555-0002;${email.toUpperCase()};\n` +
      'Quésia Melo;11 95555-0003;Fulano de Tal;feira, visita\n'
    await page
      .locator('#import-file')
      .setInputFiles({ name: 'vendedores.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') })
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.waitForURL(/\/leads\/import\/[0-9a-f-]{36}$/)
    await settled(page)
    const importUrl = page.url()
    expect(await page.locator('#f-delimiter').inputValue()).toBe('auto')
    await expectLocator(page.locator('.page-head')).toContainText('separated by commas')
    // Split on the commas: the first column holds the whole "Nome;Telefone;Vendedor;…" text.
    expect(await page.locator('#map-0').inputValue()).toBe('')

    // Choose ";": the stored file is read again and the mapping swapped in place (no navigation).
    await page.evaluate(() => {
      ;(window as unknown as { __same: boolean }).__same = true
    })
    await page.locator('#f-delimiter').selectOption(';')
    await page.waitForSelector('[data-testid="format-changed"]')
    await settled(page)
    expect(await page.evaluate(() => (window as unknown as { __same?: boolean }).__same)).toBe(true)
    await expectLocator(page.locator('.page-head')).toContainText('3 rows · UTF-8 · separated by semicolons')
    expect(await page.locator('#f-delimiter').inputValue()).toBe(';')
    expect(await page.locator('#map-0').inputValue()).toBe('fullName')
    expect(await page.locator('#map-1').inputValue()).toBe('phone')
    expect(await page.locator('#map-2').inputValue()).toBe('owner')
    // The preview names the member found and warns about the one that is not.
    const preview = page.locator('[data-testid="preview"]')
    await expectLocator(preview).toContainText('Bia Dona')
    await expectLocator(preview).toContainText('Owner "Fulano de Tal" was not found among the members')
    // The note column, mapped by hand: the preview follows (htmx).
    await page.locator('#map-3').selectOption('note')
    await expectLocator(preview).toContainText('ligar, depois whats')
    await shot(page, 'format-owner', true)
    const phone = await e2e.newPage({ ...phoneOpts, storageState: await page.context().storageState() })
    await phone.goto(importUrl)
    await settled(phone)
    await shot(phone, 'format-owner-phone', true)
    await phone.close()

    await page.locator('[data-testid="start-import"]').click()
    await page.waitForSelector('[data-testid="report-rows"]', { timeout: 120_000 })
    await expectLocator(page.locator('.import-stat.stat-created .value')).toHaveText('3')
    const report = page.locator('[data-testid="report-rows"]')
    await expectLocator(report).toContainText('New lead, with a warning')
    await expectLocator(report).toContainText('Owner "Fulano de Tal" was not found among the members')
    await expectLocator(report).toContainText('Quésia Melo')
    await shot(page, 'owner-report', true)
  })
})

/** playwright-core has no test runner: a tiny poll-based `expect` for locators. */
function expectLocator(l: ReturnType<Page['locator']>) {
  const poll = async (check: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`timed out waiting for ${what}`)
  }
  return {
    toContainText: (s: string | string[]) =>
      poll(
        async () => {
          const text = (await l.allInnerTexts()).join('\n')
          return (Array.isArray(s) ? s : [s]).every((x) => text.includes(x))
        },
        `text ${JSON.stringify(s)}`,
      ),
    toHaveText: (s: string) => poll(async () => (await l.innerText()).trim() === s, `text "${s}"`),
    toHaveCount: (n: number) => poll(async () => (await l.count()) === n, `${n} elements`),
  }
}
