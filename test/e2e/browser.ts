/**
 * Shared end-to-end harness: the real server (startServer, with its hub and worker) on a free port —
 * PGlite in a temp DATA_DIR, or a fresh database on the real Postgres when TEST_DATABASE_URL is set —
 * and the system Chromium driven by playwright-core with the flags this machine needs.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from 'playwright-core'
import { type Config, loadConfig } from '../../src/config/config'
import { silentLogger } from '../../src/platform/log/logger'
import { startServer } from '../../src/server'
import { createTestDatabaseUrl } from '../db'

export const SHOTS = join(import.meta.dir, '../../screenshots')
export const PHONE = { width: 390, height: 844 }
export const PASSWORD = 'correct horse battery'
export const phoneOpts: BrowserContextOptions = {
  viewport: PHONE,
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

/** The system Chromium, headless, with the flags this machine needs (CHROMIUM_PATH to change it). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  })
}

export interface E2E {
  base: string
  dbKind: 'pglite' | 'postgres'
  browser: Browser
  /** The in-process server (its db, worker, hub): tests may reconfigure its runtimes, e.g. WhatsApp's. */
  server: Awaited<ReturnType<typeof startServer>>
  config: Config
  newPage(opts?: BrowserContextOptions): Promise<Page>
  close(): Promise<void>
}

export async function startE2E(opts: {
  name: string
  viewport: { width: number; height: number }
  actionTimeoutMs: number
  /** Print uncaught page errors (they would otherwise pass silently). */
  logPageErrors?: boolean
  /** Extra server environment (e.g. FACEBOOK_GRAPH_URL pointing at a local fake). */
  env?: Record<string, string>
}): Promise<E2E> {
  mkdirSync(SHOTS, { recursive: true })
  const dataDir = mkdtempSync(join(tmpdir(), `loved-e2e-${opts.name}-`))
  const databaseUrl = await createTestDatabaseUrl()
  const config = loadConfig(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      SECRET_KEY: 'e2e-secret-key-e2e-secret-key-0123456',
      LOG_LEVEL: 'error',
      INSTANCE_NAME: 'Loved CRM',
      ...opts.env,
    },
    { ensureSecret: false },
  )
  const [server, browser] = await Promise.all([
    startServer(config, { log: silentLogger, handleSignals: false }),
    launchChromium(),
  ])
  const base = `http://127.0.0.1:${server.port}`
  // Port 0 is only known after listen(): point BASE_URL at it so invitation links are real links.
  config.baseUrl = new URL(base)
  const contexts: BrowserContext[] = []
  return {
    base,
    dbKind: server.db.kind,
    browser,
    server,
    config,
    async newPage(ctxOpts = {}) {
      const ctx = await browser.newContext({ viewport: opts.viewport, locale: 'en-US', ...ctxOpts })
      ctx.setDefaultTimeout(opts.actionTimeoutMs)
      contexts.push(ctx)
      const page = await ctx.newPage()
      if (opts.logPageErrors) page.on('pageerror', (e) => console.error(`[browser] ${e.message}`))
      return page
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {})
      await browser.close()
      await server.stop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

let seq = 0
export const uniqueEmail = (who: string) => `${who}.${Date.now().toString(36)}${++seq}@example.com`

/** Waits for htmx and Alpine to settle after a (possibly boosted) navigation. */
export async function settled(page: Page) {
  await page.waitForLoadState('load')
  await page.waitForFunction(() => !document.querySelector('.htmx-request') && 'Alpine' in window)
}

export async function shot(page: Page, name: string, fullPage = true) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage, animations: 'disabled' })
}

export async function signUpViaForm(
  base: string,
  page: Page,
  who: { name: string; email: string; org: string },
) {
  await page.goto(`${base}/signup`)
  await page.locator('#f-name').fill(who.name)
  await page.locator('#f-email').fill(who.email)
  await page.locator('#f-password').fill(PASSWORD)
  await page.locator('#f-orgName').fill(who.org)
  await page.locator('form[action="/signup"] button[type=submit]').click()
  await page.waitForURL(`${base}/dashboard`)
  await settled(page)
}
