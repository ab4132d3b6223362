/**
 * End to end, in headless Chromium (playwright-core, the system's /usr/bin/chromium) against the real
 * server started in-process: PGlite in a temp DATA_DIR, or a fresh database on the real Postgres when
 * TEST_DATABASE_URL is set. Screenshots land in screenshots/ (gitignored) for a human to look at.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { join } from 'node:path'
import type { BrowserContextOptions, Page } from 'playwright-core'
import { TEST_DATABASE_URL } from '../db'
import {
  type E2E,
  PASSWORD,
  PHONE,
  phoneOpts,
  SHOTS,
  settled,
  shot,
  signUpViaForm as signUpWith,
  startE2E,
  uniqueEmail,
} from './browser'

// A browser test drives several pages; the runner's 5 s default is too tight on 2 cores.
setDefaultTimeout(30_000)

const DESKTOP = { width: 1280, height: 800 }

let e2e: E2E
let base: string

beforeAll(async () => {
  e2e = await startE2E({ name: 'onboarding', viewport: DESKTOP, actionTimeoutMs: 10_000 })
  base = e2e.base
}, 60_000)

afterAll(() => e2e?.close(), 30_000)

const newPage = (opts: BrowserContextOptions = {}): Promise<Page> => e2e.newPage(opts)
const signUpViaForm = (page: Page, who: { name: string; email: string; org: string }) =>
  signUpWith(base, page, who)

async function logIn(page: Page, email: string, password = PASSWORD) {
  await page.goto(`${base}/login`)
  await page.locator('#f-email').fill(email)
  await page.locator('#f-password').fill(password)
  await page.locator('form[action="/login"] button[type=submit]').click()
  await page.waitForURL(`${base}/dashboard`)
  await settled(page)
}

async function overflow(page: Page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }))
}

async function expectNoHorizontalOverflow(page: Page, label: string) {
  const o = await overflow(page)
  expect({ page: label, fits: o.scrollWidth <= o.clientWidth, ...o }).toEqual({
    page: label,
    fits: true,
    ...o,
  })
}

const focused = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement
    return el ? (el.getAttribute('data-testid') ?? el.id ?? el.tagName) : null
  })

// Shared by the scenarios below: the newcomer who signs up first and owns "Acme Imóveis".
const owner = { name: 'Ana Souza', email: uniqueEmail('ana'), org: 'Acme Imóveis' }
const teammate = { name: 'Bruno Lima', email: uniqueEmail('bruno') }

describe('onboarding in a real browser', () => {
  test('a newcomer signs up through the form and lands on the empty dashboard', async () => {
    // The suite runs against the database the environment asks for.
    expect(e2e.dbKind).toBe(TEST_DATABASE_URL ? 'postgres' : 'pglite')
    const page = await newPage()
    await page.goto(`${base}/`)
    await page.waitForURL(`${base}/login`)
    await page.getByRole('link', { name: 'Create an account' }).click()
    await page.waitForURL(`${base}/signup`)
    await settled(page)
    await page.getByLabel('Your name').fill(owner.name)
    await page.getByLabel('Email').fill(owner.email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByLabel('Company or agency name').fill(owner.org)
    await page.getByRole('button', { name: 'Create workspace' }).click()
    await page.waitForURL(`${base}/dashboard`)
    await settled(page)

    expect(await page.locator('h1').textContent()).toBe('Hello, Ana')
    expect(await page.getByTestId('org-switcher').textContent()).toContain(owner.org)
    expect(await page.getByTestId('stat-members').textContent()).toBe('1')
    expect(await page.getByText('Your pipeline starts here').isVisible()).toBe(true)
    expect((await page.locator('.sidebar a[aria-current="page"]').textContent())?.trim()).toBe('Dashboard')
    // Modules not built yet are marked "soon", never links to empty pages.
    const soon = page.locator('.sidebar [aria-disabled="true"]')
    for (const tag of await soon.evaluateAll((els) => els.map((el) => el.tagName))) expect(tag).not.toBe('A')
  })

  test('the owner invites a teammate, who joins from a second browser and lands in the same organization', async () => {
    const page = await newPage()
    await logIn(page, owner.email)
    await page.getByRole('link', { name: 'Settings' }).click()
    await page.waitForURL(`${base}/settings/organization`)
    await page.locator('nav.tabs').getByRole('link', { name: 'Members' }).click()
    await page.waitForURL(`${base}/settings/members`)
    await settled(page)
    await page.locator('#f-email').fill(teammate.email)
    await page.locator('#f-role').selectOption('member')
    await page.getByRole('button', { name: 'Send invitation' }).click()

    const linkEl = page.getByTestId('invite-link')
    await linkEl.waitFor()
    const link = (await linkEl.textContent())!.trim()
    expect(link).toStartWith(`${base}/invite/`)
    expect(await page.getByTestId('pending-table').textContent()).toContain(teammate.email)

    // The teammate: another browser context, so no cookie of the owner's is shared.
    const mate = await newPage()
    await mate.goto(link)
    await settled(mate)
    expect(await mate.locator('h1').textContent()).toBe(`Join ${owner.org}`)
    expect(await mate.locator('main').textContent()).toContain(teammate.email)
    await shot(mate, 'desktop-invite-accept')
    await mate.getByLabel('Your name').fill(teammate.name)
    await mate.getByLabel('Password').fill(PASSWORD)
    await mate.getByRole('button', { name: 'Accept invitation' }).click()
    await mate.waitForURL(`${base}/dashboard`)
    await settled(mate)

    expect(await mate.locator('h1').textContent()).toBe('Hello, Bruno')
    expect(await mate.getByTestId('org-switcher').textContent()).toContain(owner.org)
    expect(await mate.getByTestId('stat-members').textContent()).toBe('2')
    const toast = mate.locator('.toast')
    expect(await toast.textContent()).toContain(`Welcome to ${owner.org}!`)
    await toast.getByRole('button', { name: 'Dismiss' }).click()
    await toast.waitFor({ state: 'hidden' })
    // A member (not an admin) sees the team but no invitation form.
    await mate.goto(`${base}/settings/members`)
    expect(await mate.getByTestId('members-table').locator('tbody tr').count()).toBe(2)
    expect(await mate.locator('form[action="/settings/members/invite"]').count()).toBe(0)
    await shot(mate, 'desktop-members-as-member')

    // Meanwhile the owner's open page was told, live: a toast and the bell's badge.
    const live = page.getByTestId('live-toast')
    await live.waitFor({ timeout: 10_000 })
    expect(await live.textContent()).toContain(`${teammate.name} joined ${owner.org}.`)
    await page.locator('[data-testid="bell"] .bell-count').waitFor({ timeout: 10_000 })
    expect(await page.locator('[data-testid="bell"] .bell-count').textContent()).toBe('1')

    // The owner sees the teammate as a member, and the invitation is no longer pending.
    await page.goto(`${base}/settings/members`)
    expect(await page.getByTestId('members-table').textContent()).toContain(teammate.email)
    expect(await page.locator('[data-testid="pending-table"]').count()).toBe(0)
  })

  test('a wrong password on the login page shows the error and keeps the email', async () => {
    const page = await newPage()
    await page.goto(`${base}/login`)
    await settled(page)
    await page.getByLabel('Email').fill(owner.email)
    await page.getByLabel('Password').fill('not the password')
    await page.getByRole('button', { name: 'Log in' }).click()
    const alert = page.locator('.auth-card [role="alert"]')
    await alert.waitFor()
    expect(await alert.textContent()).toBe('Wrong email or password.')
    expect(new URL(page.url()).pathname).toBe('/login')
    expect(await page.getByLabel('Email').inputValue()).toBe(owner.email)
    expect(await page.getByLabel('Password').inputValue()).toBe('')
    await shot(page, 'desktop-login-error')
  })

  test('keyboard only: log in with Tab and Enter, open the org switcher and the user menu', async () => {
    const page = await newPage()
    await page.goto(`${base}/login`)
    await settled(page)
    // The email field has the focus on arrival.
    expect(await focused(page)).toBe('f-email')
    await page.keyboard.type(owner.email)
    await page.keyboard.press('Tab')
    expect(await focused(page)).toBe('f-password')
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press('Enter')
    await page.waitForURL(`${base}/dashboard`)
    await settled(page)

    // Tab from the top of the page to the org switcher; the focus ring must be visible.
    await page.locator('body').focus()
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
    let steps = 0
    while ((await focused(page)) !== 'org-switcher' && steps++ < 25) await page.keyboard.press('Tab')
    expect(await focused(page)).toBe('org-switcher')
    const switcher = page.getByTestId('org-switcher')
    expect(await switcher.evaluate((el) => getComputedStyle(el).outlineStyle)).not.toBe('none')

    await page.keyboard.press('Enter')
    const orgMenu = page.locator('.dropdown-menu').first()
    await orgMenu.waitFor({ state: 'visible' })
    expect(await switcher.getAttribute('aria-expanded')).toBe('true')
    expect(await orgMenu.textContent()).toContain(owner.org)
    await page.screenshot({ path: join(SHOTS, 'desktop-org-switcher-open.png'), animations: 'disabled' })
    await page.keyboard.press('Tab') // into the menu
    expect(await page.evaluate(() => !!document.activeElement?.closest('.dropdown-menu'))).toBe(true)
    await page.keyboard.press('Escape')
    await orgMenu.waitFor({ state: 'hidden' })
    expect(await focused(page)).toBe('org-switcher')
    expect(await switcher.getAttribute('aria-expanded')).toBe('false')

    // On to the user menu, open it with Space, then follow "Profile" with Enter.
    steps = 0
    while ((await focused(page)) !== 'user-menu' && steps++ < 10) await page.keyboard.press('Tab')
    expect(await focused(page)).toBe('user-menu')
    await page.keyboard.press('Space')
    const userMenu = page.locator('.dropdown-menu.right')
    await userMenu.waitFor({ state: 'visible' })
    expect(await userMenu.textContent()).toContain(owner.email)
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.getAttribute('href'))).toBe('/settings/profile')
    await page.keyboard.press('Enter')
    await page.waitForURL(`${base}/settings/profile`)
    await settled(page)
    expect(await page.locator('h2').first().textContent()).toBe('Your profile')
  })

  test('at phone width the pages fit the screen and the sidebar opens from the menu button', async () => {
    const page = await newPage(phoneOpts)
    await page.goto(`${base}/login`)
    await settled(page)
    await expectNoHorizontalOverflow(page, 'login')
    await shot(page, 'phone-login')
    await logIn(page, owner.email)

    await expectNoHorizontalOverflow(page, 'dashboard')
    const sidebar = page.locator('#sidebar')
    const menuButton = page.getByRole('button', { name: 'Menu', exact: true })
    expect(await menuButton.isVisible()).toBe(true)
    // Closed: off-screen to the left and hidden, so its links are not in the Tab order.
    const navLink = sidebar.getByRole('link', { name: 'Dashboard' })
    const box = (await sidebar.boundingBox())!
    expect(box.x + box.width).toBeLessThanOrEqual(0)
    expect(await navLink.isVisible()).toBe(false)
    await menuButton.click()
    expect(await menuButton.getAttribute('aria-expanded')).toBe('true')
    await page.waitForFunction(() => document.querySelector('#sidebar')!.getBoundingClientRect().x >= 0)
    expect(await navLink.isVisible()).toBe(true)
    // The focus moves into the opened menu; Escape closes it and gives the focus back to the button.
    expect(await page.evaluate(() => !!document.activeElement?.closest('#sidebar'))).toBe(true)
    await page.screenshot({ path: join(SHOTS, 'phone-dashboard-sidebar-open.png'), animations: 'disabled' })
    await page.keyboard.press('Escape')
    await page.waitForFunction(() => document.querySelector('#sidebar')!.getBoundingClientRect().right <= 0)
    await navLink.waitFor({ state: 'hidden' }) // visibility flips when the slide-out transition ends
    expect(await menuButton.evaluate((el) => el === document.activeElement)).toBe(true)
    // The close button inside the sidebar closes it too.
    await menuButton.click()
    await sidebar.getByRole('button', { name: 'Close menu' }).click()
    await page.waitForFunction(() => document.querySelector('#sidebar')!.getBoundingClientRect().right <= 0)

    await page.goto(`${base}/settings/members`)
    await settled(page)
    await expectNoHorizontalOverflow(page, 'members')
    // Both members are on the page, with their names readable (not clipped to nothing).
    const rows = page.getByTestId('members-table').locator('tbody tr')
    expect(await rows.count()).toBe(2)
    for (const who of [owner.name, teammate.name]) {
      const box = await page.getByTestId('members-table').getByText(who, { exact: true }).boundingBox()
      expect(box!.width).toBeGreaterThan(40)
      expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width)
    }
  })

  test('the locale follows Accept-Language for anonymous pages and the profile setting once logged in', async () => {
    const pt = await newPage({ locale: 'pt-BR' })
    await pt.goto(`${base}/login`)
    expect(await pt.locator('html').getAttribute('lang')).toBe('pt-BR')
    expect(await pt.locator('h1').textContent()).toBe('Entrar')

    const en = await newPage({ locale: 'en-US' })
    await en.goto(`${base}/login`)
    expect(await en.locator('html').getAttribute('lang')).toBe('en')
    expect(await en.locator('h1').textContent()).toBe('Log in')

    // A Portuguese browser signs up (the organization gets pt-BR), then picks English in the profile.
    const carla = { name: 'Carla Dias', email: uniqueEmail('carla'), org: 'Dias Corretora' }
    await signUpViaForm(pt, carla)
    expect(await pt.locator('h1').textContent()).toBe('Olá, Carla')
    await shot(pt, 'desktop-dashboard-pt-BR')
    await pt.goto(`${base}/settings/members`)
    await shot(pt, 'desktop-members-pt-BR')
    await pt.goto(`${base}/settings/profile`)
    await pt.getByLabel('Idioma').selectOption('en')
    await pt.locator('form[action="/settings/profile"] button[type=submit]').click()
    await pt.waitForFunction(() => document.documentElement.lang === 'en')
    expect(await pt.locator('h2').first().textContent()).toBe('Your profile')
    expect(await pt.getByLabel('Language').inputValue()).toBe('en')
    await pt.goto(`${base}/dashboard`)
    expect(await pt.locator('html').getAttribute('lang')).toBe('en')
    expect(await pt.locator('h1').textContent()).toBe('Hello, Carla')

    // Back to "organization default": Portuguese again, whatever the browser says.
    await en.goto(`${base}/login`)
    await logIn(en, carla.email)
    expect(await en.locator('h1').textContent()).toBe('Hello, Carla')
    await en.goto(`${base}/settings/profile`)
    await en.getByLabel('Language').selectOption('')
    await en.locator('form[action="/settings/profile"] button[type=submit]').click()
    await en.waitForFunction(() => document.documentElement.lang === 'pt-BR')
    await en.goto(`${base}/dashboard`)
    expect(await en.locator('h1').textContent()).toBe('Olá, Carla')
  })

  test('a new brand color applies as soon as the organization settings are saved', async () => {
    const page = await newPage()
    await signUpViaForm(page, { name: 'Davi Rocha', email: uniqueEmail('davi'), org: 'Rocha Imóveis' })
    const primaryBg = () =>
      page.evaluate(() => getComputedStyle(document.querySelector('.btn-primary')!).backgroundColor)
    expect(await primaryBg()).toBe('rgb(79, 70, 229)') // the default #4f46e5
    await page.goto(`${base}/settings/organization`)
    await page.getByLabel('Primary color').fill('#0f766e')
    await page.getByLabel('Display name (white label)').fill('Rocha & Filhos')
    await page.getByRole('button', { name: 'Save changes' }).click()
    // The form posts through htmx, which swaps only <body>: the color must still follow.
    await page.mouse.move(0, 0) // no hover shade on the button
    await page.waitForFunction(
      () => getComputedStyle(document.querySelector('.btn-primary')!).backgroundColor === 'rgb(15, 118, 110)',
    )
    expect(await page.locator('.sidebar-brand').textContent()).toContain('Rocha & Filhos')
    await shot(page, 'desktop-organization-branded')
  })

  // It visits every page twice (desktop and phone): 21-25 s on CI, too close to the 30 s default.
  test('every page renders at desktop and phone width without horizontal overflow (screenshots)', async () => {
    // A pending invitation, so the members page shows its second table.
    const setup = await newPage()
    await logIn(setup, owner.email)
    await setup.goto(`${base}/settings/members`)
    await setup.locator('#f-email').fill(uniqueEmail('pending'))
    await setup.locator('#f-role').selectOption('admin')
    await setup.getByRole('button', { name: 'Send invitation' }).click()
    await setup.getByTestId('invite-link').waitFor()
    await shot(setup, 'desktop-members-invite-sent')

    const anonymous = ['login', 'signup']
    const pages: [string, string, number][] = [
      ['dashboard', '/dashboard', 200],
      ['members', '/settings/members', 200],
      ['organization', '/settings/organization', 200],
      ['audit', '/settings/audit', 200],
      ['profile', '/settings/profile', 200],
      ['new-organization', '/orgs/new', 200],
      ['404', '/no-such-page', 404],
    ]
    for (const [size, opts] of [
      ['desktop', { viewport: DESKTOP }],
      ['phone', phoneOpts],
    ] as const) {
      const anon = await newPage(opts)
      for (const name of anonymous) {
        await anon.goto(`${base}/${name}`)
        await settled(anon)
        await shot(anon, `${size}-${name}`)
        await expectNoHorizontalOverflow(anon, `${size} ${name}`)
      }
      await anon.goto(`${base}/no-such-page`)
      await shot(anon, `${size}-404-anonymous`)

      const page = await newPage(opts)
      await logIn(page, owner.email)
      for (const [name, path, status] of pages) {
        const res = await page.goto(`${base}${path}`)
        expect({ path, status: res!.status() }).toEqual({ path, status })
        await settled(page)
        await shot(page, `${size}-${name}`)
        await expectNoHorizontalOverflow(page, `${size} ${name}`)
      }
    }
  }, 120_000)
})
