/**
 * CSV import benchmark: a generated pt-BR file (realistic names with accents, Brazilian phones in
 * mixed formats, emails, companies, values; --dup-rate of the rows repeat an earlier person with a
 * variant spelling) imported through the real code path (`scanUpload` + `createImport` + `importRows`:
 * every row through captureLead with deduplication, batches, checkpoints, report rows — what
 * `loved import` and the UI's job run), on PGlite and/or Postgres (a throwaway database).
 *
 * Prints rows/s, total time, SQL statements per row (counted with Drizzle's logger) and peak RSS
 * (sampled every 50 ms while importing), beside the baseline of the same file parsed only (decode +
 * csv-parse, no database) in the same run.
 *
 *   bun bench/import.bench.ts [--rows 100000] [--db pglite|postgres|both] [--dup-rate 0.05]
 *     [--batch 250] [--dedup auto|review|off] [--pg-url postgres://postgres@127.0.0.1:5432/postgres]
 *     [--no-settings-cache] (read the organization's settings per row, as before the per-batch cache)
 *     [--no-batch-capture] (captureLead row by row in savepoints, as before captureMany)
 *     [--no-maintain] (no PGlite upkeep between batches: no statistics, dead rows pile up)
 */
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { signUp } from '../src/modules/auth/auth.usecases'
import { blobChunks, decode, records, scanCsv } from '../src/modules/leads/leads.csv'
import {
  createRunningImport,
  finishImport,
  importRows,
  scanUpload,
  type TxRunner,
} from '../src/modules/leads/leads.import'
import type { ImportDedup } from '../src/modules/leads/leads.import.table'
import { migrate } from '../src/platform/db/migrate'
import { withOrg } from '../src/platform/db/tenancy'
import { setQueryLogger } from '../test/statements'
import { fmt, loadAvg, openBenchDb, parseArgs, table, tempDir } from './lib'

const opts = parseArgs({
  rows: 100_000,
  db: 'both',
  dupRate: 0.05,
  batch: 250,
  dedup: 'auto',
  settingsCache: true,
  batchCapture: true,
  maintain: true,
  pgUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
})

const FIRST = [
  'Ana',
  'Beatriz',
  'Bruno',
  'Camila',
  'Carlos',
  'Conceição',
  'Daniela',
  'Diego',
  'Eduardo',
  'Fábio',
  'Fernanda',
  'Gabriel',
  'Gustavo',
  'Helena',
  'Igor',
  'Isabela',
  'João',
  'José',
  'Júlia',
  'Larissa',
  'Lucas',
  'Luíza',
  'Marcos',
  'Maria',
  'Mariana',
  'Matheus',
  'Otávio',
  'Patrícia',
  'Paulo',
  'Rafael',
  'Renata',
  'Rodrigo',
  'Sérgio',
  'Tatiane',
  'Thiago',
  'Vinícius',
]
const LAST = [
  'Silva',
  'Santos',
  'Oliveira',
  'Souza',
  'Rodrigues',
  'Ferreira',
  'Alves',
  'Pereira',
  'Lima',
  'Gomes',
  'Costa',
  'Ribeiro',
  'Martins',
  'Carvalho',
  'Araújo',
  'Melo',
  'Barbosa',
  'Gonçalves',
  'Conceição',
  'Assunção',
]
const DDD = ['11', '21', '31', '41', '51', '61', '71', '81', '85', '19', '27', '48']
const SOURCES = ['Site', 'Instagram', 'Indicação', 'Feira', 'Google', 'WhatsApp']

/** A deterministic generator (same file every run). */
function rng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}
const pick = <T>(r: () => number, xs: T[]) => xs[Math.floor(r() * xs.length)]!

function phoneText(r: () => number, ddd: string, n: string) {
  switch (Math.floor(r() * 4)) {
    case 0:
      return `(${ddd}) 9${n.slice(0, 4)}-${n.slice(4)}`
    case 1:
      return `${ddd}9${n}`
    case 2:
      return `+55 ${ddd} 9 ${n.slice(0, 4)} ${n.slice(4)}`
    default:
      return `0${ddd} 9${n.slice(0, 4)} ${n.slice(4)}`
  }
}

async function generate(path: string, rows: number, dupRate: number) {
  const r = rng(42)
  const out = createWriteStream(path)
  const write = (s: string) => (out.write(s) ? null : new Promise((res) => out.once('drain', res)))
  await write('\uFEFFNome completo;E-mail;Celular;Empresa;Cargo;Valor;Origem;Etiquetas\r\n')
  const people: { name: string; email: string; ddd: string; n: string }[] = []
  for (let i = 0; i < rows; i++) {
    let p: { name: string; email: string; ddd: string; n: string }
    let name: string
    if (people.length > 100 && r() < dupRate) {
      p = pick(r, people)
      // The same person spelled differently: upper case or without accents.
      name = r() < 0.5 ? p.name.toUpperCase() : p.name.normalize('NFD').replace(/\p{M}/gu, '')
    } else {
      name = `${pick(r, FIRST)} ${r() < 0.3 ? 'da ' : ''}${pick(r, LAST)} ${pick(r, LAST)}`
      const n = String(10000000 + i).slice(-8)
      p = {
        name,
        email: `${name.split(' ')[0]!.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '')}.${i}@exemplo.com.br`,
        ddd: pick(r, DDD),
        n,
      }
      if (people.length < 20_000) people.push(p)
    }
    const value =
      r() < 0.5 ? `${Math.floor(r() * 50_000)},${String(Math.floor(r() * 100)).padStart(2, '0')}` : ''
    const company = r() < 0.6 ? `"${pick(r, LAST)}, ${pick(r, LAST)} & Cia"` : ''
    const line = `${name};${p.email};${phoneText(r, p.ddd, p.n)};${company};;${value};${pick(r, SOURCES)};${r() < 0.2 ? 'vip' : ''}\r\n`
    const w = write(line)
    if (w) await w
  }
  await new Promise<void>((res) => out.end(res))
}

/** Parse only: the same decode + csv-parse pipeline, no database (the floor of any import). */
async function parseOnly(path: string) {
  const t0 = performance.now()
  const shape = await scanCsv(() => blobChunks(Bun.file(path)))
  let n = 0
  for await (const _ of records(decode(blobChunks(Bun.file(path)), shape.encoding), shape.delimiter)) n++
  return { ms: performance.now() - t0, rows: n - 1 }
}

async function importOnce(kind: 'pglite' | 'postgres', path: string) {
  const { db, drop } = await openBenchDb(kind, 'import', opts.pgUrl)
  try {
    await migrate(db)
    const { user, org } = await signUp(db, {
      email: `bench.${Date.now()}@example.com`,
      password: 'correct horse battery',
      name: 'Bench',
      orgName: 'Bench Import',
      locale: 'pt-BR',
    })
    const run: TxRunner = (fn) => withOrg(db, { orgId: org.id, userId: user.id }, fn)
    let statements = 0
    setQueryLogger(db, { logQuery: () => statements++ })
    Bun.gc(true)
    const baseRss = process.memoryUsage().rss
    let peak = baseRss
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
    }, 50)
    const t0 = performance.now()
    const file = Bun.file(path)
    const shape = await scanUpload(file)
    const imp = await run((tx) =>
      createRunningImport(
        tx,
        { filename: 'bench.csv', sizeBytes: file.size, shape, channel: 'cli', createdBy: user.id },
        { dedup: opts.dedup as ImportDedup },
      ),
    )
    let lastPrint = 0
    const progress = await importRows(
      {
        run,
        imp,
        actorId: user.id,
        batchSize: opts.batch,
        settingsCache: opts.settingsCache,
        batchCapture: opts.batchCapture,
        // The embedded database's upkeep every 5,000 rows, as the import job and the CLI do.
        maintain: opts.maintain ? db : undefined,
        onBatch: (p) => {
          if (p.processed - lastPrint >= 10_000) {
            lastPrint = p.processed
            const s = (performance.now() - t0) / 1000
            console.error(
              `  ${kind}: ${p.processed}/${p.total} rows, ${fmt(p.processed / s, 0)} rows/s, rss ${fmt(process.memoryUsage().rss / 2 ** 20, 0)} MB`,
            )
          }
        },
      },
      blobChunks(file),
    )
    await run((tx) => finishImport(tx, imp.id, 'completed'))
    const ms = performance.now() - t0
    clearInterval(sampler)
    peak = Math.max(peak, process.memoryUsage().rss)
    const leads = await db.raw.query<{ n: number }>(
      'select count(*)::int as n from leads where organization_id = $1',
      [org.id],
    )
    return {
      ms,
      progress,
      statements,
      peakMB: peak / 2 ** 20,
      baseMB: baseRss / 2 ** 20,
      leads: leads[0]!.n,
    }
  } finally {
    await drop()
  }
}

const dir = tempDir('import')
const path = join(dir, 'leads.csv')
const g0 = performance.now()
await generate(path, opts.rows, opts.dupRate)
const size = Bun.file(path).size
console.log(
  `Import bench: ${opts.rows} rows (${fmt(size / 2 ** 20)} MB, ${opts.dupRate * 100}% repeats), batch ${opts.batch}, dedup ${opts.dedup}, settings cache ${opts.settingsCache ? 'on' : 'off'}, batch capture ${opts.batchCapture && opts.settingsCache ? 'on' : 'off'}, upkeep ${opts.maintain ? 'every 5,000 rows' : 'off'}; generated in ${fmt((performance.now() - g0) / 1000)} s; load ${await loadAvg()}`,
)
const parse = await parseOnly(path)
console.log(
  `Parse only (decode + csv-parse, no database): ${parse.rows} rows in ${fmt(parse.ms / 1000, 2)} s = ${fmt(parse.rows / (parse.ms / 1000), 0)} rows/s`,
)

const kinds: ('pglite' | 'postgres')[] =
  opts.db === 'both' ? ['pglite', 'postgres'] : [opts.db as 'pglite' | 'postgres']
const out: Array<Record<string, string | number>> = []
for (const kind of kinds) {
  const r = await importOnce(kind, path)
  out.push({
    db: kind,
    rows: r.progress.processed,
    seconds: r.ms / 1000,
    'rows/s': r.progress.processed / (r.ms / 1000),
    'x parse': r.ms / parse.ms,
    'statements/row': r.statements / r.progress.processed,
    created: r.progress.created,
    merged: r.progress.merged,
    flagged: r.progress.flagged,
    rejected: r.progress.rejected,
    'rss before MB': r.baseMB,
    'peak rss MB': r.peakMB,
  })
  if (r.leads !== r.progress.created + r.progress.flagged)
    throw new Error(
      `leads in the database (${r.leads}) != created + flagged (${r.progress.created + r.progress.flagged})`,
    )
}
console.log(table(out))
console.log(`load after: ${await loadAvg()}`)
process.exit(0)
