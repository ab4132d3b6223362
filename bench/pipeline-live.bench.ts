/**
 * Move-to-visible latency of the board: a card moved with the keyboard on one browser until it shows
 * in its new column on a teammate's board in a second browser context, over --moves moves (p50/p95),
 * on PGlite and on Postgres. Goal (issue #4): under 150 ms on one machine (the seed's: under 2 s).
 *
 * Baseline, in the same run: the mover's own confirmation, from the key press to the end of the move
 * request's response as the mover's browser sees it. The ratio says what the live path (outbox,
 * NOTIFY or poll, dispatcher, hub, socket, the teammate's DOM update) adds to the request itself.
 * Both ends are stamped inside Chromium (performance.timeOrigin + now(): one clock for the pages of one
 * browser), so playwright's own round trips are not in the figures.
 *
 * The server is `bun src/main.ts serve` in a child process: PGlite in a temp DATA_DIR, or a scratch
 * database on --pg-url (dropped at the end). Chromium is the system one (CHROMIUM_PATH to change it).
 *
 *   bun bench/pipeline-live.bench.ts [--db pglite|postgres|both] [--moves 60]
 *     [--pg-url postgres://postgres@127.0.0.1:5432/postgres]
 */
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import postgres from 'postgres'
import { launchChromium, PASSWORD, signUpViaForm } from '../test/e2e/browser'
import { fmt, loadAvg, median, parseArgs, ROOT, startChild, table, tempDir, waitFor } from './lib'

const opts = parseArgs({
  db: 'both',
  moves: 60,
  pgUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
})

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)]!
}

async function scratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `loved_bench_live_${process.pid}`
  const admin = postgres(opts.pgUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`drop database if exists ${name} with (force)`)
  await admin.unsafe(`create database ${name}`)
  await admin.end()
  const url = new URL(opts.pgUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const a = postgres(opts.pgUrl, { max: 1, onnotice: () => {} })
      await a.unsafe(`drop database if exists ${name} with (force)`)
      await a.end()
    },
  }
}

async function openBoard(page: Page, base: string) {
  await page.goto(`${base}/pipeline`)
  await page.waitForSelector('[data-board][data-ready]')
  await page.waitForSelector('[data-live-badge][data-state="on"]')
}

async function run(kind: 'pglite' | 'postgres') {
  const dir = tempDir(`live-${kind}`)
  const scratch = kind === 'postgres' ? await scratchDatabase() : null
  const server = startChild(
    [process.execPath, join(ROOT, 'src/main.ts'), 'serve'],
    { DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn', ...(scratch ? { DATABASE_URL: scratch.url } : {}) },
    join(dir, 'server.log'),
  )
  const browser = await launchChromium()
  try {
    await waitFor(server, '/readyz', performance.now(), 120_000)
    const base = server.base
    const newPage = async () => {
      const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US' })
      ctx.setDefaultTimeout(15_000)
      return ctx.newPage()
    }
    // The owner signs up; a teammate joins through an invitation; one lead on the board.
    const owner = await newPage()
    await signUpViaForm(base, owner, {
      name: 'Ana Souza',
      email: `ana.${Date.now()}@example.com`,
      org: 'Bench Imóveis',
    })
    await owner.goto(`${base}/settings/members`)
    await owner.locator('#f-email').fill(`bruno.${Date.now()}@example.com`)
    await owner.locator('form[action="/settings/members/invite"] button[type=submit]').click()
    const link = (await owner.getByTestId('invite-link').textContent())!.trim()
    const mate = await newPage()
    await mate.goto(link)
    await mate.locator('#f-name').fill('Bruno Lima')
    await mate.locator('#f-password').fill(PASSWORD)
    await mate.locator('form button[type=submit]').last().click()
    await mate.waitForURL(`${base}/dashboard`)
    await openBoard(owner, base)
    const pipelineId = (await owner.locator('[data-board-page]').getAttribute('data-pipeline-id'))!
    const created = await owner.request.post(`${base}/pipeline/leads`, {
      form: { pipelineId, fullName: 'Paulo Souza', company: 'Grupo Vila Nova', value: '77.000' },
      headers: { origin: base },
      maxRedirects: 0,
    })
    if (created.status() !== 303) throw new Error(`create lead: ${created.status()}`)
    await openBoard(owner, base)
    await openBoard(mate, base)
    const id = (await owner.locator('.lead-card[data-name="Paulo Souza"]').getAttribute('id'))!.replace(
      /^card-/,
      '',
    )

    // Stamps inside the pages: the key press and the move response's end on the owner's, the card's
    // arrival in another column on the teammate's (a MutationObserver, so no polling delay).
    await owner.evaluate(() => {
      const w = window as any
      w.__presses = []
      w.__moves = []
      document.addEventListener(
        'keydown',
        (e) => {
          if (e.key.startsWith('Arrow')) w.__presses.push(performance.timeOrigin + performance.now())
        },
        true,
      )
      new PerformanceObserver((list) => {
        for (const e of list.getEntries())
          if (e.name.includes('/move'))
            w.__moves.push(performance.timeOrigin + (e as PerformanceResourceTiming).responseEnd)
      }).observe({ type: 'resource', buffered: false })
    })
    await mate.evaluate((cardId) => {
      const w = window as any
      w.__arrivals = []
      let last = document.getElementById(`card-${cardId}`)?.closest<HTMLElement>('.col')?.dataset.name
      new MutationObserver(() => {
        const col = document.getElementById(`card-${cardId}`)?.closest<HTMLElement>('.col')?.dataset.name
        if (col && col !== last) {
          last = col
          w.__arrivals.push({ col, at: performance.timeOrigin + performance.now() })
        }
      }).observe(document.body, { childList: true, subtree: true })
    }, id)

    await owner.locator(`#card-${id} [data-card-link]`).focus()
    const visible: number[] = []
    const confirmed: number[] = []
    for (let i = 0; i < opts.moves; i++) {
      // Shift+ArrowRight to "Qualified", Shift+ArrowLeft back to "New": the board's real move path.
      const [key, to] = i % 2 ? ['Shift+ArrowLeft', 'New'] : ['Shift+ArrowRight', 'Qualified']
      await owner.keyboard.press(key)
      await mate.waitForSelector(`.col[data-name="${to}"] #card-${id}`, { timeout: 5_000 })
      await owner.waitForFunction((n) => (window as any).__moves.length >= n, i + 1)
      const pressed = await owner.evaluate((n) => (window as any).__presses[n], i)
      const response = await owner.evaluate((n) => (window as any).__moves[n], i)
      const arrival = await mate.evaluate((n) => (window as any).__arrivals[n], i)
      if (arrival.col !== to) throw new Error(`move ${i}: the card arrived in ${arrival.col}, not ${to}`)
      visible.push(arrival.at - pressed)
      confirmed.push(response - pressed)
      await Bun.sleep(50)
    }
    return { visible, confirmed }
  } finally {
    await browser.close()
    await server.stop()
    await scratch?.drop()
  }
}

const kinds = (opts.db === 'both' ? ['pglite', 'postgres'] : [opts.db]) as Array<'pglite' | 'postgres'>
console.log(
  `loved pipeline live bench — bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs, load avg ${await loadAvg()}, ${opts.moves} moves per database`,
)
const rows: Array<Record<string, string | number>> = []
for (const kind of kinds) {
  const r = await run(kind)
  rows.push({
    db: kind,
    'visible p50 ms': fmt(median(r.visible)),
    'visible p95 ms': fmt(pct(r.visible, 0.95)),
    'confirmed p50 ms': fmt(median(r.confirmed)),
    'confirmed p95 ms': fmt(pct(r.confirmed, 0.95)),
    'ratio visible/confirmed (p50)': fmt(median(r.visible) / median(r.confirmed), 2),
  })
}
console.log("\nMove-to-visible (key press on the mover's board -> card in its new column on the teammate's):")
console.log(table(rows))
