/**
 * The browser client (public/realtime.js) in headless Chromium against a real hub: events become DOM
 * events, a lost server shows the reconnecting state, and the reconnect replays what was missed.
 */
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  setDefaultTimeout,
  test,
} from 'bun:test'
import { Elysia } from 'elysia'
import { type Browser, chromium } from 'playwright-core'
import { createTestDb } from '../../../test/db'
import type { Db } from '../db/client'
import { withOrg } from '../db/tenancy'
import { createEventDispatcher, type EventDispatcher } from '../events/events.dispatcher'
import { createOrg, createUser } from '../events/events.fixtures'
import { recordEvent } from '../events/events.outbox'
import { silentLogger } from '../events/events.pg'
import { realtimeClient } from './realtime.client'
import { createRealtimeHub, type RealtimeHub } from './realtime.hub'

setDefaultTimeout(60_000)

let browser: Browser
let db: Db
let dispatcher: EventDispatcher
let hub: RealtimeHub
let orgId: string
let userId: string
let apps: Array<{ stop(closeActive?: boolean): Promise<unknown> }> = []

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
    ],
  })
})
afterAll(async () => {
  await browser?.close()
})

beforeEach(async () => {
  db = await createTestDb()
  orgId = await createOrg(db)
  userId = await createUser(db)
  dispatcher = createEventDispatcher({ db, log: silentLogger, pollMs: 60_000 })
  await dispatcher.start()
  hub = createRealtimeHub({
    db,
    dispatcher,
    log: silentLogger,
    resolveSession: async (req) =>
      /sid=ok/.test(req.headers.get('cookie') ?? '') ? { userId, orgId } : null,
  })
})
afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop(true).catch(() => {})
  hub.stop()
  await dispatcher.stop()
  await db.close()
})

function serve(port = 0) {
  const app = new Elysia()
    .use(hub.plugin())
    .get(
      '/realtime.js',
      () => new Response(Bun.file(realtimeClient.path), { headers: { 'content-type': realtimeClient.type } }),
    )
    .get(
      '/',
      () =>
        new Response(
          `<!doctype html><html><body data-rt-org="${orgId}" data-rt-version="0">
          <script>
            window.got = []
            document.body.addEventListener('rt:test.ping', (e) => window.got.push([e.detail.version, e.detail.data.n]))
          </script>
          <script src="/realtime.js"></script></body></html>`,
          { headers: { 'content-type': 'text/html' } },
        ),
    )
    .listen({ port, hostname: '127.0.0.1' })
  apps.push(app)
  return app
}

const ping = (n: number) => withOrg(db, orgId, (tx) => recordEvent(tx, { type: 'test.ping', payload: { n } }))

describe('browser client', () => {
  test('dispatches received events, shows the reconnecting state while the server is gone, and replays what it missed', async () => {
    let app = serve()
    const port = app.server!.port as number
    const context = await browser.newContext()
    await context.addCookies([{ name: 'sid', value: 'ok', domain: '127.0.0.1', path: '/' }])
    const page = await context.newPage()
    try {
      await page.goto(`http://127.0.0.1:${port}/`)
      await page.waitForFunction(() => (window as any).lovedRealtime?.connected === true)
      for (let n = 1; n <= 3; n++) await ping(n)
      await page.waitForFunction(() => (window as any).got.length === 3)

      // The server goes away: the page notices and says so.
      await app.stop(true)
      apps = []
      await page.waitForFunction(() => document.body.classList.contains('rt-reconnecting'), null, {
        timeout: 10_000,
      })
      for (let n = 4; n <= 8; n++) await ping(n)

      // Back on the same port: the client reconnects with version 3 and receives 4..8, then live events.
      app = serve(port)
      await page.waitForFunction(() => (window as any).got.length === 8, null, { timeout: 30_000 })
      await page.waitForFunction(() => !document.body.classList.contains('rt-reconnecting'))
      await ping(9)
      await page.waitForFunction(() => (window as any).got.length === 9)
      const got = await page.evaluate(() => (window as any).got)
      expect(got).toEqual(Array.from({ length: 9 }, (_, i) => [i + 1, i + 1]))
      expect(await page.evaluate(() => (window as any).lovedRealtime.version)).toBe(9)
    } finally {
      await context.close()
    }
  })
})
