/**
 * What one PGlite query costs the process, with and without per-query result parsers, in CPU time
 * (process.cpuUsage, so other load on the machine matters less than with a wall clock).
 *
 * Why: Drizzle's PGlite driver passes `parsers` on every query (to keep timestamps as text), and
 * PGlite 0.5.17 answered that by copying its whole parser table (318 type ids after start-up) into a
 * new object per query: about 0.2 ms of CPU on every Drizzle statement, three times per board
 * request. patches/@electric-sql%2Fpglite@0.5.17.patch (applied by `bun install`) chains the query's
 * parsers onto the table instead of copying it. With the patch the first two rows are about equal;
 * the third does the copy the unpatched library did, as the baseline in the same run. After a PGlite
 * upgrade, run this to see whether the patch is still needed.
 *
 *   bun bench/pglite-query.bench.ts [--queries 3000] [--rounds 5]
 */
import { PGlite, types } from '@electric-sql/pglite'
import { fmt, loadAvg, median, parseArgs, table } from './lib'

const opts = parseArgs({ queries: 3000, rounds: 5 })
const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
// The same parsers Drizzle's driver passes (drizzle-orm/pglite/session.js).
const same = (value: string) => value
const drizzleParsers = {
  [types.TIMESTAMP]: same,
  [types.TIMESTAMPTZ]: same,
  [types.INTERVAL]: same,
  [types.DATE]: same,
  1231: same,
  1115: same,
  1185: same,
  1187: same,
  1182: same,
}

const pg = new PGlite()
await pg.waitReady
const parserCount = Object.keys((pg as unknown as { parsers: object }).parsers).length
const text = 'select $1::int as n, now() as at, array[1, 2] as xs'

const table318 = (pg as unknown as { parsers: Record<number, unknown> }).parsers
async function perQueryUs(options: Parameters<PGlite['query']>[2], copyTable = false): Promise<number> {
  let sink = 0
  const t0 = cpuMs()
  for (let i = 0; i < opts.queries; i++) {
    // The unpatched library's work, done here beside a plain query: the baseline in the same run.
    if (copyTable) sink += Object.keys({ ...table318, ...drizzleParsers }).length
    await pg.query(text, [i], options)
  }
  if (copyTable && sink === 0) throw new Error('unreachable')
  return ((cpuMs() - t0) * 1000) / opts.queries
}

// The answer is the same either way (parsers are looked up, not changed): check before timing.
const withP = (await pg.query<{ at: unknown; xs: unknown }>(text, [1], { parsers: drizzleParsers })).rows[0]!
const without = (await pg.query<{ at: unknown; xs: unknown }>(text, [1])).rows[0]!
if (typeof withP.at !== 'string' || !(without.at instanceof Date) || !Array.isArray(withP.xs))
  throw new Error('parsers: unexpected result types')

const plain: number[] = []
const parsed: number[] = []
const copied: number[] = []
await perQueryUs(undefined) // warm-up
for (let r = 0; r < opts.rounds; r++) {
  plain.push(await perQueryUs({ rowMode: 'array' }))
  parsed.push(await perQueryUs({ rowMode: 'array', parsers: drizzleParsers }))
  copied.push(await perQueryUs({ rowMode: 'array' }, true))
}
console.log(
  `pglite query bench — bun ${Bun.version}, ${opts.queries} queries x ${opts.rounds} rounds, load avg ${await loadAvg()}, ${parserCount} parsers in the table`,
)
console.log(
  table([
    { query: 'no per-query parsers', 'CPU us/query (median of rounds)': fmt(median(plain), 0) },
    { query: "Drizzle's parsers", 'CPU us/query (median of rounds)': fmt(median(parsed), 0) },
    {
      query: 'plain + a copy of the table (unpatched)',
      'CPU us/query (median of rounds)': fmt(median(copied), 0),
    },
    {
      query: "ratio Drizzle's / plain",
      'CPU us/query (median of rounds)': fmt(median(parsed) / median(plain), 2),
    },
    {
      query: 'ratio unpatched / plain',
      'CPU us/query (median of rounds)': fmt(median(copied) / median(plain), 2),
    },
  ]),
)
await pg.close()
