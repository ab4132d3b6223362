/**
 * Lead capture end to end in headless Chromium against the real server: an admin creates a capture
 * source in Settings, copies the HTML snippet, a static website served on ANOTHER local port embeds
 * it; a visitor's plain form post lands on the site's thank-you page (303), a fetch() JSON post from
 * the same site passes the CORS preflight, and both leads show up on the board. Screenshots:
 * screenshots/capture-*.png (desktop and 390 px phone).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { type E2E, phoneOpts, settled, shot, signUpViaForm, startE2E, uniqueEmail } from './browser'

setDefaultTimeout(120_000)

let e2e: E2E
let site: ReturnType<typeof Bun.serve>
let siteOrigin: string
/** The pages of the fake customer website, filled in once the snippet is copied. */
const pages = new Map<string, string>()

beforeAll(async () => {
  e2e = await startE2E({
    name: 'capture',
    viewport: { width: 1440, height: 900 },
    actionTimeoutMs: 15_000,
    logPageErrors: true,
  })
  site = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(req) {
      const body = pages.get(new URL(req.url).pathname)
      return body
        ? new Response(body, { headers: { 'content-type': 'text/html; charset=utf-8' } })
        : new Response('not found', { status: 404 })
    },
  })
  siteOrigin = `http://127.0.0.1:${site.port}`
}, 180_000)

afterAll(async () => {
  site?.stop(true)
  await e2e?.close()
}, 60_000)

async function openSettings(page: Page) {
  await page.goto(`${e2e.base}/settings/capture`)
  await settled(page)
}

describe('capture from a website', () => {
  let endpoint = ''
  let snippet = ''

  test('an admin creates a source in Settings and copies the snippet', async () => {
    const page = await e2e.newPage({ locale: 'pt-BR' })
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: e2e.base })
    await signUpViaForm(e2e.base, page, { name: 'Ana Admin', email: uniqueEmail('ana'), org: 'Agência Sol' })
    await page.goto(`${e2e.base}/pipeline`) // the default pipeline exists before leads arrive
    await settled(page)
    await openSettings(page)
    expect(await page.getByRole('link', { name: 'Captura de leads' }).count()).toBe(1)
    await page.locator('#f-name').fill('Site institucional')
    await page.locator('#f-sourceLabel').fill('Site')
    await page.locator('#f-tags').fill('site, inbound')
    await page.locator('#f-redirectUrl').fill(`${siteOrigin}/obrigado.html`)
    await page.locator('#f-allowedOrigins').fill(siteOrigin)
    await shot(page, 'capture-settings-new')
    await page.getByRole('button', { name: 'Criar fonte' }).click()
    await page.waitForURL(/\/settings\/capture\/[0-9a-f-]{36}$/)
    await settled(page)
    endpoint = await page.locator('[data-testid="capture-endpoint"]').inputValue()
    expect(endpoint).toMatch(new RegExp(`^${e2e.base}/capture/[A-Za-z0-9_-]{43}$`))
    // Copy by keyboard: focus the snippet's copy button and press Enter.
    const copy = page.locator('#snippet-html').locator('xpath=..').getByRole('button', { name: 'Copiar' })
    await copy.focus()
    await page.keyboard.press('Enter')
    snippet = await page.evaluate(() => navigator.clipboard.readText())
    expect(snippet).toContain(`action="${endpoint}"`)
    expect(snippet).toContain('name="_hp"')
    await shot(page, 'capture-source-desktop')
  })

  test('a visitor posts the snippet form on another site and lands on its thank-you page', async () => {
    pages.set(
      '/contato.html',
      `<!doctype html><html lang="pt-BR"><head><meta charset="utf-8"><title>Contato</title></head>
       <body><h1>Fale conosco</h1>${snippet}</body></html>`,
    )
    pages.set(
      '/obrigado.html',
      '<!doctype html><meta charset="utf-8"><h1 id="thanks">Obrigado pelo contato!</h1>',
    )
    const page = await e2e.newPage({ locale: 'pt-BR' })
    await page.goto(`${siteOrigin}/contato.html`)
    await page.locator('input[name="nome"]').fill('Camila Rocha')
    await page.locator('input[name="email"]').fill('camila.rocha@example.com')
    await page.locator('input[name="telefone"]').fill('(11) 98888-1234')
    await page.locator('textarea[name="mensagem"]').fill('Quero conhecer os planos')
    await page.locator('button[type="submit"]').click()
    await page.waitForURL(`${siteOrigin}/obrigado.html`)
    expect(await page.locator('#thanks').textContent()).toBe('Obrigado pelo contato!')
  })

  test('a fetch() JSON post from the allowed site passes CORS and reads the lead id', async () => {
    pages.set('/lp.html', '<!doctype html><meta charset="utf-8"><title>LP</title><p>Landing</p>')
    const page = await e2e.newPage()
    await page.goto(`${siteOrigin}/lp.html`)
    const result = await page.evaluate(async (url) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Diego Fetch', email: 'diego@example.com', whatsapp: '21 97777-0000' }),
      })
      return { status: res.status, body: await res.json() }
    }, endpoint)
    expect(result.status).toBe(200)
    expect(result.body.ok).toBe(true)
    expect(result.body.leadId).toMatch(/^[0-9a-f-]{36}$/)
    // From a site that is not allowed (another origin: localhost instead of 127.0.0.1), the browser
    // gets no CORS header and refuses to hand the answer to the page.
    await page.goto(`http://localhost:${site.port}/lp.html`)
    const blocked = await page.evaluate(async (url) => {
      try {
        await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'nome=Intruso&email=intruso%40example.com',
        })
        return 'read'
      } catch {
        return 'blocked'
      }
    }, endpoint)
    expect(blocked).toBe('blocked')
  })

  test('both leads appear on the board; the source page works on a phone', async () => {
    const ctxs = e2e.browser.contexts()
    const adminPage = ctxs[0]!.pages()[0]!
    await adminPage.goto(`${e2e.base}/pipeline`)
    await settled(adminPage)
    await adminPage.locator('.lead-card[data-name="Camila Rocha"]').waitFor()
    await adminPage.locator('.lead-card[data-name="Diego Fetch"]').waitFor()
    expect(await adminPage.locator('.lead-card[data-name="Intruso"]').count()).toBe(0)
    await shot(adminPage, 'capture-board', false)
    // The phone: same session cookies in a phone-sized context.
    const cookies = await ctxs[0]!.cookies()
    const phone = await e2e.newPage({ ...phoneOpts, locale: 'pt-BR' })
    await phone.context().addCookies(cookies)
    await phone.goto(adminPage.url().replace(/\/pipeline.*$/, '/settings/capture'))
    await settled(phone)
    await phone.locator('.cap-item-main').first().click()
    await phone.waitForURL(/\/settings\/capture\/[0-9a-f-]{36}$/)
    await settled(phone)
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    await shot(phone, 'capture-source-phone')
    await phone.goto(`${phone.url()}/submissions?status=all`)
    await settled(phone)
    expect(await phone.locator('[data-status="processed"]').count()).toBe(2)
    expect(await phone.locator('[data-status="rejected"]').count()).toBe(1) // the intruder, kept
    await shot(phone, 'capture-submissions-phone')
  })
})
