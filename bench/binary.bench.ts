/**
 * The compiled binary on the embedded database: cold start (first boot: initdb + migrations) and
 * warm start (same DATA_DIR) to a 200 from /readyz, measured from spawn by polling every 5 ms;
 * idle RSS after each; RSS after 10,000 authenticated requests (GET /dashboard).
 *
 *   bun bench/binary.bench.ts [--cold 3] [--warm 5] [--requests 10000] [--concurrency 16] [--bin dist/loved]
 *
 * Without --bin it compiles a fresh binary into a temp directory first (scripts/build.ts).
 */
import { statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { build } from '../scripts/build'
import {
  fmt,
  load,
  loadAvg,
  median,
  parseArgs,
  rssMB,
  signUp,
  startChild,
  table,
  tempDir,
  waitFor,
} from './lib'

const opts = parseArgs({ cold: 3, warm: 5, requests: 10_000, concurrency: 16, idleMs: 2_000, bin: '' })

const dir = tempDir('binary')
let bin = opts.bin ? resolve(opts.bin) : ''
if (!bin) {
  const b = await build({ outfile: join(dir, 'loved'), quiet: true })
  bin = b.outfile
  console.log(`built ${bin} in ${b.ms} ms`)
}
// Started from an unrelated directory, as an operator would.
const cwd = tempDir('cwd')

console.log(
  `loved binary bench — bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs, binary ${fmt(statSync(bin).size / 1e6)} MB, load avg ${await loadAvg()}\n`,
)

const bootMs = (logFile: string) =>
  Bun.file(logFile)
    .text()
    .then((t) => {
      const line = t.split('\n').find((l) => l.includes('"server.listening"'))
      return line ? (JSON.parse(line).bootMs as number) : Number.NaN
    })

async function boot(dataDir: string, tag: string) {
  const log = join(dir, `${tag}.log`)
  const t0 = performance.now()
  const child = startChild([bin, 'serve'], { DATA_DIR: dataDir, LOG_LEVEL: 'info' }, log, cwd)
  const readyMs = await waitFor(child, '/readyz', t0)
  await Bun.sleep(opts.idleMs)
  return { child, readyMs, bootMs: await bootMs(log), idleRss: rssMB(child.pid) }
}

const rows: Array<Record<string, string | number>> = []
const cold: number[] = []
const coldRss: number[] = []
let keptDataDir = ''
for (let i = 1; i <= opts.cold; i++) {
  const dataDir = join(dir, `data-${i}`)
  const b = await boot(dataDir, `cold-${i}`)
  cold.push(b.readyMs)
  coldRss.push(b.idleRss)
  rows.push({
    run: `cold ${i}`,
    'spawn→/readyz ms': Math.round(b.readyMs),
    'in-process boot ms': String(b.bootMs),
    'idle RSS MB': b.idleRss,
  })
  if ((await b.child.stop()) !== 0) throw new Error('cold run did not exit cleanly')
  keptDataDir = dataDir
}

const warm: number[] = []
const warmRss: number[] = []
for (let i = 1; i <= opts.warm; i++) {
  const b = await boot(keptDataDir, `warm-${i}`)
  warm.push(b.readyMs)
  warmRss.push(b.idleRss)
  rows.push({
    run: `warm ${i}`,
    'spawn→/readyz ms': Math.round(b.readyMs),
    'in-process boot ms': String(b.bootMs),
    'idle RSS MB': b.idleRss,
  })
  if ((await b.child.stop()) !== 0) throw new Error('warm run did not exit cleanly')
}
console.log(table(rows.map((r) => ({ ...r, 'spawn→/readyz ms': String(r['spawn→/readyz ms']) }))))

// Load: a warm instance, one signed-up user, N authenticated page views.
const b = await boot(keptDataDir, 'load')
const cookie = await signUp(b.child.base)
const before = rssMB(b.child.pid)
const r = await load(`${b.child.base}/dashboard`, {
  requests: opts.requests,
  concurrency: opts.concurrency,
  headers: { cookie },
})
const after = rssMB(b.child.pid)
await Bun.sleep(opts.idleMs)
const settled = rssMB(b.child.pid)
if ((await b.child.stop()) !== 0) throw new Error('load run did not exit cleanly')

const summary: Array<[string, string]> = [
  [
    'cold start (initdb + migrations) to /readyz',
    `median ${Math.round(median(cold))} ms (min ${Math.round(Math.min(...cold))}, max ${Math.round(Math.max(...cold))}, n=${cold.length})`,
  ],
  [
    'warm start to /readyz',
    `median ${Math.round(median(warm))} ms (min ${Math.round(Math.min(...warm))}, max ${Math.round(Math.max(...warm))}, n=${warm.length})`,
  ],
  ['idle RSS after cold start', `median ${fmt(median(coldRss))} MB`],
  ['idle RSS after warm start', `median ${fmt(median(warmRss))} MB`],
  ['RSS before load (after one sign-up)', `${fmt(before)} MB`],
  [
    `RSS after ${opts.requests} x GET /dashboard`,
    `${fmt(after)} MB (+${fmt(after - before)}); ${fmt(settled)} MB after ${opts.idleMs} ms idle`,
  ],
  [
    '  that load',
    `${opts.concurrency} concurrent: ${Math.round(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, ${r.errors} errors`,
  ],
]
const w = Math.max(...summary.map(([k]) => k.length))
console.log(`\n${summary.map(([k, v]) => `${`${k}:`.padEnd(w + 2)}${v}`).join('\n')}`)
