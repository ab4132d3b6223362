/**
 * HTTP throughput and latency of an authenticated page (GET /dashboard with a session cookie, on the
 * embedded database, JSON request logs on) beside Elysia's hello world, in the same run on the same
 * machine: the ratio is the figure, the absolute numbers depend on the box.
 *
 *   bun bench/http.bench.ts [--requests 10000] [--concurrency 32] [--rounds 2] [--binary] [--no-wrk]
 *
 * Load: `concurrency` fetch loops in this process over keep-alive loopback connections, a fixed
 * number of requests per round (rounds alternate hello / dashboard). When `wrk` is installed it also
 * runs `wrk -t1 -cN -dS --latency` against both (a C load generator, so less client overhead).
 * --binary serves the app from dist/loved instead of `bun src/main.ts`.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  type Child,
  fmt,
  type LoadResult,
  load,
  loadAvg,
  median,
  parseArgs,
  ROOT,
  signUp,
  startChild,
  table,
  tempDir,
  waitFor,
} from './lib'

const opts = parseArgs({
  requests: 10_000,
  concurrency: 32,
  warmup: 2_000,
  rounds: 2,
  binary: false,
  wrk: true,
  wrkSeconds: 10,
})

const dir = tempDir('http')
const appCmd = opts.binary
  ? [join(ROOT, 'dist/loved'), 'serve']
  : [process.execPath, join(ROOT, 'src/main.ts'), 'serve']
if (opts.binary && !existsSync(appCmd[0]!))
  throw new Error('dist/loved is missing: run `bun run build` first')

const hello = startChild([process.execPath, join(ROOT, 'bench/hello-elysia.ts')], {}, join(dir, 'hello.log'))
const app = startChild(appCmd, { DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'info' }, join(dir, 'app.log'))
await waitFor(hello, '/', performance.now())
await waitFor(app, '/readyz', performance.now())
const cookie = await signUp(app.base)

const targets: Array<{ name: string; child: Child; url: string; headers?: Record<string, string> }> = [
  { name: 'Elysia hello world', child: hello, url: `${hello.base}/` },
  { name: 'GET /dashboard (session)', child: app, url: `${app.base}/dashboard`, headers: { cookie } },
]

console.log(
  `loved http bench — bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs, load avg ${await loadAvg()}, app: ${opts.binary ? 'dist/loved' : 'bun src/main.ts'} (PGlite)`,
)
console.log(
  `fetch loops: ${opts.concurrency} concurrent, ${opts.requests} requests x ${opts.rounds} rounds per target, ${opts.warmup} warm-up\n`,
)

for (const t of targets)
  await load(t.url, { requests: opts.warmup, concurrency: opts.concurrency, headers: t.headers })

const results = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]))
const rows: Array<Record<string, string | number>> = []
for (let round = 1; round <= opts.rounds; round++) {
  for (const t of targets) {
    const r = await load(t.url, {
      requests: opts.requests,
      concurrency: opts.concurrency,
      headers: t.headers,
    })
    results.get(t.name)!.push(r)
    rows.push({
      round: String(round),
      target: t.name,
      'req/s': String(Math.round(r.rps)),
      'p50 ms': fmt(r.p50, 2),
      'p90 ms': fmt(r.p90, 2),
      'p99 ms': fmt(r.p99, 2),
      'max ms': fmt(r.max, 1),
      'KB/resp': fmt(r.bytes / r.requests / 1024, 1),
      errors: String(r.errors),
    })
  }
}
console.log(table(rows))

const med = (name: string, k: keyof LoadResult) => median(results.get(name)!.map((r) => r[k] as number))
const [h, d] = [targets[0]!.name, targets[1]!.name]
console.log(
  `\nratio dashboard / hello (medians): throughput ${fmt(med(d, 'rps') / med(h, 'rps'), 3)}x ` +
    `(${Math.round(med(d, 'rps'))} vs ${Math.round(med(h, 'rps'))} req/s), ` +
    `p50 ${fmt(med(d, 'p50') / med(h, 'p50'), 1)}x, p99 ${fmt(med(d, 'p99') / med(h, 'p99'), 1)}x`,
)

const wrk = opts.wrk ? Bun.which('wrk') : null
if (wrk) {
  console.log(`\nwrk -t1 -c${opts.concurrency} -d${opts.wrkSeconds}s --latency`)
  const wrows: Array<Record<string, string | number>> = []
  const wr: Record<string, { rps: number; p50: number; p99: number }> = {}
  for (const t of targets) {
    const args = [wrk, '-t1', `-c${opts.concurrency}`, `-d${opts.wrkSeconds}s`, '--latency']
    for (const [k, v] of Object.entries(t.headers ?? {})) args.push('-H', `${k}: ${v}`)
    const out = Bun.spawnSync([...args, t.url], { timeout: (opts.wrkSeconds + 30) * 1000 }).stdout.toString()
    const ms = (label: string) => {
      const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out)
      if (!m) return Number.NaN
      return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1)
    }
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])
    const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? '0'
    wr[t.name] = { rps, p50: ms('50%'), p99: ms('99%') }
    wrows.push({
      target: t.name,
      'req/s': String(Math.round(rps)),
      'p50 ms': fmt(ms('50%'), 2),
      'p90 ms': fmt(ms('90%'), 2),
      'p99 ms': fmt(ms('99%'), 2),
      'non-2xx': non2xx,
    })
  }
  console.log(table(wrows))
  const [wh, wd] = [wr[h]!, wr[d]!]
  console.log(
    `ratio dashboard / hello (wrk): throughput ${fmt(wd.rps / wh.rps, 3)}x, p50 ${fmt(wd.p50 / wh.p50, 1)}x, p99 ${fmt(wd.p99 / wh.p99, 1)}x`,
  )
} else if (opts.wrk) {
  console.log('\n(wrk not installed: `apt-get install -y wrk` adds a C load generator run)')
}

await Promise.all([hello.stop(), app.stop()])
