/**
 * Deduplication end to end in headless Chromium against the real server (PGlite, or Postgres with
 * TEST_DATABASE_URL): typing a known phone in the new-lead form shows the "possible duplicate"
 * warning; a probable duplicate lands in the review queue; the merge screen merges by keyboard only.
 * Screenshots: screenshots/dedup-*.png (desktop and phone).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { type E2E, phoneOpts, settled, shot, signUpViaForm, startE2E, uniqueEmail } from './browser'

setDefaultTimeout(120_000)

const DESKTOP = { width: 1440, height: 900 }
let e2e: E2E
let page: Page
let pipelineId: string

beforeAll(async () => {
  e2e = await startE2E({ name: 'dedup', viewport: DESKTOP, actionTimeoutMs: 15_000, logPageErrors: true })
  page = await e2e.newPage()
  await signUpViaForm(e2e.base, page, {
    name: 'Ana Souza',
    email: uniqueEmail('ana'),
    org: 'Padaria Pão Quente',
  })
  await page.goto(`${e2e.base}/pipeline`)
  await settled(page)
  pipelineId = (await page.locator('[data-board-page]').getAttribute('data-pipeline-id'))!
}, 180_000)

afterAll(() => e2e?.close(), 60_000)

async function newLeadForm(p: Page) {
  await p.goto(`${e2e.base}/pipeline/leads/new?pipeline=${pipelineId}`)
  await settled(p)
  return p.locator('[data-drawer]')
}

async function createLead(p: Page, fields: Record<string, string>) {
  const drawer = await newLeadForm(p)
  for (const [k, v] of Object.entries(fields)) await drawer.locator(`#f-${k}`).fill(v)
  await drawer.locator('form button[type=submit]').click()
  await p.waitForSelector('[data-drawer][data-lead-id]')
}

describe('deduplication in the browser', () => {
  test('typing a known phone in the new-lead form warns about the existing lead', async () => {
    await createLead(page, {
      fullName: 'Fernando da Conceição',
      phone: '(71) 97488-6290',
      company: 'Café do Ponto',
    })
    const drawer = await newLeadForm(page)
    await drawer.locator('#f-fullName').pressSequentially('Fernando Conceicao', { delay: 20 })
    await drawer.locator('#f-phone').pressSequentially('71 9 7488 6290', { delay: 20 })
    const warning = drawer.getByTestId('dup-warning')
    await warning.waitFor()
    expect(await warning.textContent()).toContain('Fernando da Conceição')
    expect(await warning.textContent()).toContain('(71) 97488-6290')
    await shot(page, 'dedup-form-warning', false)
  })

  test('a probable duplicate goes to the queue and the merge screen merges it by keyboard', async () => {
    await createLead(page, {
      fullName: 'Priscila Figueiredo Araújo',
      email: 'paraujo@gmail.com',
      company: 'Ótica Visão',
    })
    await createLead(page, {
      fullName: 'Priscila Figueiredo Araujo',
      phone: '(92) 98451-6205',
      company: 'Otica Visao',
    })
    await page.goto(`${e2e.base}/leads/duplicates`)
    await settled(page)
    const queue = page.getByTestId('dup-queue')
    await queue.waitFor()
    expect(await queue.textContent()).toContain('Priscila Figueiredo Araújo')
    await shot(page, 'dedup-queue', false)

    // Keyboard only: tab to "Compare and merge", Enter.
    const compare = page.locator('.dd-pair a.btn-primary').first()
    await compare.focus()
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/leads\/duplicates\/[0-9a-f-]+$/)
    await settled(page)
    const form = page.getByTestId('merge-form')
    await form.waitFor()
    await shot(page, 'dedup-merge', false)
    // The name row: focus its checked radio, arrow to the other side's spelling.
    const nameRadios = form.locator('input[name="f_fullName"]')
    const checkedBefore = await form.locator('input[name="f_fullName"]:checked').getAttribute('value')
    await form.locator('input[name="f_fullName"]:checked').focus()
    await page.keyboard.press(checkedBefore === 'a' ? 'ArrowRight' : 'ArrowLeft')
    const checkedAfter = await form.locator('input[name="f_fullName"]:checked').getAttribute('value')
    expect(checkedAfter).not.toBe(checkedBefore)
    expect(await nameRadios.count()).toBe(2)
    await form.getByTestId('merge-submit').focus()
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/pipeline\/leads\/[0-9a-f-]+$/)
    await page.waitForSelector('[data-drawer][data-lead-id]')
    const drawer = page.locator('[data-drawer]')
    // The kept lead has both the email and the phone, and the spelling chosen on the screen.
    const text = (await drawer.textContent()) ?? ''
    expect(text).toContain('paraujo@gmail.com')
    expect(text).toContain('(92) 98451-6205')
    expect(text).toContain('Priscila Figueiredo Araujo')
    await page.goto(`${e2e.base}/leads/duplicates`)
    await settled(page)
    expect(await page.locator('.dd-empty').count()).toBe(1)
  })

  test('the queue says why a pair is only probable: other middle names, one phone', async () => {
    await createLead(page, { fullName: 'Cláudia Fernanda Ramos', phone: '(31) 98830-7470' })
    await createLead(page, { fullName: 'Cláudia Freitas Ramos', phone: '+55 31 98830-7470' })
    await page.goto(`${e2e.base}/leads/duplicates`)
    await settled(page)
    const pair = page.locator('.dd-pair', { hasText: 'Cláudia Freitas Ramos' })
    await pair.waitFor()
    const reasons = (await pair.locator('.dd-reasons').textContent()) ?? ''
    expect(reasons).toContain('Same first and last name, other middle names')
    expect(reasons).toContain('Same phone')
    await shot(page, 'dedup-queue-middle-names', false)
  })

  test('at phone width the queue and the merge screen stack and stay usable', async () => {
    const phone = await e2e.newPage(phoneOpts)
    await signUpViaForm(e2e.base, phone, { name: 'Bia Lima', email: uniqueEmail('bia'), org: 'Ótica Visão' })
    await phone.goto(`${e2e.base}/pipeline`)
    await settled(phone)
    pipelineId = (await phone.locator('[data-board-page]').getAttribute('data-pipeline-id'))!
    await createLead(phone, {
      fullName: 'Helena Vitória Mendes',
      email: 'helena.mendes@gmail.com',
      company: 'Clínica Sorriso',
    })
    await createLead(phone, {
      fullName: 'Helena Vitoria Mendes',
      phone: '(47) 99876-5432',
      company: 'Clinica Sorriso Ltda',
    })
    await phone.goto(`${e2e.base}/leads/duplicates`)
    await settled(phone)
    await phone.getByTestId('dup-queue').waitFor()
    await shot(phone, 'dedup-queue-phone', false)
    await phone.locator('.dd-pair a.btn-primary').first().click()
    await phone.getByTestId('merge-form').waitFor()
    await settled(phone)
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(1)
    await shot(phone, 'dedup-merge-phone', true)
  })
})
