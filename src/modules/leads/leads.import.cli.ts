/**
 * `loved import FILE.csv --org SLUG [--dedup auto|review|off] [--pipeline ID] [--stage ID]
 *    [--source TEXT] [--tags a,b] [--encoding auto|utf-8|latin1] [--delimiter auto|';'|,|tab]`
 * `loved export --org SLUG [--out FILE] [--separator ';'|,|tab] [--owner ID|none] [--source S]
 *    [--tag T] [--q TEXT] [--score-min N] [--score-max N] [--from DATE] [--to DATE]
 *    [--pipeline ID] [--stage ID] [--locale pt-BR|en]`
 *
 * The import runs the same row pipeline as the UI's job (`importRows`: batches through captureLead,
 * checkpoint, report rows), reading the file from disk as a stream; the mapping is guessed from the
 * headers (an "Owner"/"Responsável" column sets the lead's owner by member email or name). The
 * encoding and separator are detected unless --encoding / --delimiter force them. It is recorded as
 * an import of channel 'cli', so its report is in the UI's history.
 * Progress goes to stderr (a \r line on a terminal, a line per 5,000 rows otherwise), the summary
 * to stdout. Exit codes: 0 done, 1 failed (unreadable file, no name column), 2 bad usage.
 */
import { createWriteStream } from 'node:fs'
import { sql } from 'drizzle-orm'
import { type Db, rowsOf } from '../../platform/db/client'
import { withOrg, withSystem } from '../../platform/db/tenancy'
import { FormError } from '../../platform/http/errors'
import { isLocale, type Locale, translator } from '../../shared/i18n'
import { isUuid } from '../../shared/ids'
import { blobChunks, parseDelimiterChoice, parseEncodingChoice } from './leads.csv'
import { exportCsv, parseDelimiter, parseExportQuery } from './leads.export'
import {
  createRunningImport,
  DEDUP_MODES,
  finishImport,
  importRows,
  type Progress,
  scanUpload,
  type TxRunner,
} from './leads.import'
import type { ImportDedup } from './leads.import.table'

/** Flags every command accepts: the configuration (see docs/configuration.md). */
const CONFIG_FLAGS = [
  'port',
  'host',
  'base-url',
  'data-dir',
  'database-url',
  'log-level',
  'instance-name',
  'app-role',
  'secret-key',
]
const IMPORT_FLAGS = ['org', 'dedup', 'pipeline', 'stage', 'source', 'tags', 'encoding', 'delimiter']
const EXPORT_FLAGS = [
  'org',
  'out',
  'separator',
  'owner',
  'source',
  'tag',
  'q',
  'score-min',
  'score-max',
  'from',
  'to',
  'pipeline',
  'stage',
  'locale',
]

export interface Io {
  stdout: { write(s: string): unknown; isTTY?: boolean }
  stderr: { write(s: string): unknown; isTTY?: boolean }
}

export interface ParsedCommand {
  positional: string[]
  flags: Record<string, string>
}

/** `--name value` / `--name=value`; unknown flags and missing values are errors. */
export function parseCommandArgs(argv: string[], allowed: string[]): ParsedCommand | { error: string } {
  const positional: string[] = []
  const flags: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) {
      positional.push(arg)
      continue
    }
    const eq = arg.indexOf('=')
    const name = (eq > 0 ? arg.slice(2, eq) : arg.slice(2)).toLowerCase()
    if (!allowed.includes(name) && !CONFIG_FLAGS.includes(name))
      return { error: `Unknown option --${name}. Options: ${allowed.map((f) => `--${f}`).join(', ')}` }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i]
    if (value === undefined || (eq < 0 && value.startsWith('--'))) return { error: `--${name} needs a value` }
    flags[name] = value
  }
  return { positional, flags }
}

async function orgBySlug(db: Db, slug: string) {
  return withSystem(db, async (tx) => {
    const [row] = rowsOf<{ id: string; locale: string; timezone: string }>(
      await tx.execute(sql`select id, locale, timezone from organizations where slug = ${slug}`),
    )
    return row ?? null
  })
}

const fmt = (n: number) => new Intl.NumberFormat('en-US').format(n)

/** Report rows of created leads (a warning: an Owner column value that matched no member). */
async function warnedRows(tx: Parameters<Parameters<TxRunner>[0]>[0], importId: string) {
  const [row] = rowsOf<{ n: number }>(
    await tx.execute(
      sql`select count(*)::int as n from lead_import_rows where import_id = ${importId}::uuid and outcome = 'created'`,
    ),
  )
  return row?.n ?? 0
}

/** Validates the arguments first (exit 2 before touching the database); `run` does the work. */
export function prepareImport(
  argv: string[],
): { error: string } | { run: (db: Db, io: Io) => Promise<number> } {
  const parsed = parseCommandArgs(argv, IMPORT_FLAGS)
  if ('error' in parsed) return parsed
  const { positional, flags } = parsed
  if (positional.length !== 1)
    return { error: 'Usage: loved import FILE.csv --org SLUG [--dedup auto|review|off]' }
  if (!flags.org) return { error: 'loved import needs --org SLUG (the organization to import into)' }
  const dedup = (flags.dedup ?? 'auto') as ImportDedup
  if (!DEDUP_MODES.includes(dedup)) return { error: '--dedup must be auto, review or off' }
  if (flags.pipeline && !isUuid(flags.pipeline)) return { error: '--pipeline must be a pipeline id (uuid)' }
  if (flags.stage && !isUuid(flags.stage)) return { error: '--stage must be a stage id (uuid)' }
  if (flags.stage && !flags.pipeline) return { error: '--stage needs --pipeline' }
  const encoding = parseEncodingChoice(flags.encoding)
  if (encoding === null)
    return { error: `--encoding must be auto, utf-8 or latin1 (Windows-1252), not "${flags.encoding}"` }
  const delimiter = parseDelimiterChoice(flags.delimiter)
  if (delimiter === null)
    return { error: `--delimiter must be auto, ";", "," or tab, not "${flags.delimiter}"` }
  const path = positional[0]!

  return {
    run: async (db, io) => {
      const file = Bun.file(path)
      if (!(await file.exists())) {
        io.stderr.write(`File not found: ${path}\n`)
        return 1
      }
      const org = await orgBySlug(db, flags.org!)
      if (!org) {
        io.stderr.write(`No organization with slug "${flags.org}".\n`)
        return 1
      }
      const t = translator('en')
      const run: TxRunner = (fn) => withOrg(db, { orgId: org.id, userId: null }, fn)
      const started = performance.now()
      let shape: Awaited<ReturnType<typeof scanUpload>>
      try {
        shape = await scanUpload(file, { encoding, delimiter })
      } catch (err) {
        if (!(err instanceof FormError)) throw err
        if (err.fields.encoding)
          io.stderr.write(`${path}: not valid UTF-8; use --encoding latin1 (or leave it out to detect)\n`)
        else io.stderr.write(`${path}: ${t(err.fields.file!, err.params.file)}\n`)
        return 1
      }
      let imp: Awaited<ReturnType<typeof createRunningImport>>
      try {
        imp = await run((tx) =>
          createRunningImport(
            tx,
            {
              filename: path.split('/').pop() || path,
              sizeBytes: file.size,
              shape,
              channel: 'cli',
              createdBy: null,
            },
            {
              dedup,
              pipelineId: flags.pipeline ?? null,
              stageId: flags.stage ?? null,
              defaultSource: flags.source?.trim() || null,
              defaultTags: (flags.tags ?? '')
                .split(',')
                .map((s) => s.trim().toLowerCase())
                .filter(Boolean),
            },
          ),
        )
      } catch (err) {
        if (!(err instanceof FormError)) throw err
        for (const [f, key] of Object.entries(err.fields)) io.stderr.write(`${f}: ${t(key, err.params[f])}\n`)
        io.stderr.write(`Columns found: ${shape.headers.map((h) => `"${h}"`).join(', ')}\n`)
        return 1
      }
      const mapped = imp.headers
        .map((h, i) => (imp.mapping[i] ? `${h} → ${imp.mapping[i]}` : null))
        .filter(Boolean)
        .join(', ')
      io.stderr.write(
        `Importing ${fmt(shape.totalRows)} rows from ${path} into "${flags.org}" (${shape.encoding}, "${shape.delimiter === '\t' ? 'tab' : shape.delimiter}"; dedup ${dedup})\n  ${mapped}\n`,
      )
      const tty = !!io.stderr.isTTY
      let lastLine = 0
      const show = (p: Progress) => {
        const pct = p.total ? Math.floor((p.processed * 100) / p.total) : 100
        const line = `${fmt(p.processed)}/${fmt(p.total)} rows (${pct}%) · ${fmt(p.created)} created · ${fmt(p.merged)} merged · ${fmt(p.flagged)} flagged · ${fmt(p.rejected)} rejected`
        if (tty) io.stderr.write(`\r${line}\u001b[K`)
        else if (p.processed - lastLine >= 5_000 || p.processed === p.total) {
          io.stderr.write(`${line}\n`)
          lastLine = p.processed
        }
      }
      let final: Progress
      try {
        final = await importRows({ run, imp, actorId: null, onBatch: show, maintain: db }, blobChunks(file))
        await run((tx) => finishImport(tx, imp.id, 'completed'))
      } catch (err) {
        await run((tx) =>
          finishImport(tx, imp.id, 'failed', err instanceof Error ? err.message : String(err)),
        )
        if (tty) io.stderr.write('\n')
        io.stderr.write(`Import failed: ${err instanceof Error ? err.message : String(err)}\n`)
        return 1
      }
      if (tty) io.stderr.write('\n')
      const secs = (performance.now() - started) / 1000
      io.stdout.write(
        `Imported ${path}: ${fmt(final.processed)} rows in ${secs.toFixed(1)} s — ${fmt(final.created)} created, ${fmt(final.merged)} merged, ${fmt(final.flagged)} flagged for review, ${fmt(final.rejected)} rejected.\n`,
      )
      const warned = final.created ? await run((tx) => warnedRows(tx, imp.id)) : 0
      if (warned)
        io.stdout.write(
          `${fmt(warned)} ${warned === 1 ? 'row had an owner that is' : 'rows had owners that are'} not a member: assigned by the rules instead (see the report).\n`,
        )
      if (final.rejected || final.merged || final.flagged || warned)
        io.stdout.write(
          `Report: /leads/import/${imp.id} (rows not created, with reasons; CSV download there)\n`,
        )
      return 0
    },
  }
}

export function prepareExport(
  argv: string[],
): { error: string } | { run: (db: Db, io: Io) => Promise<number> } {
  const parsed = parseCommandArgs(argv, EXPORT_FLAGS)
  if ('error' in parsed) return parsed
  const { positional, flags } = parsed
  if (positional.length) return { error: `Unexpected argument "${positional[0]}" (did you mean --out?)` }
  if (!flags.org) return { error: 'loved export needs --org SLUG' }
  const delimiter = parseDelimiter(flags.separator)
  if (!delimiter) return { error: '--separator must be ";", "," or "tab"' }
  if (flags.locale && !isLocale(flags.locale)) return { error: '--locale must be pt-BR or en' }
  if (flags.owner === 'mine') return { error: '--owner takes a member id or "none" here' }
  // The same query parameters as the lead list / board (invalid values are refused, not dropped).
  const params = new URLSearchParams()
  for (const [flag, param] of [
    ['owner', 'owner'],
    ['source', 'source'],
    ['tag', 'tag'],
    ['q', 'q'],
    ['score-min', 'score_min'],
    ['score-max', 'score_max'],
    ['from', 'from'],
    ['to', 'to'],
    ['pipeline', 'pipeline'],
    ['stage', 'stage'],
  ] as const)
    if (flags[flag] !== undefined) params.set(param, flags[flag]!)
  const query = parseExportQuery(params)
  const kept = new URLSearchParams()
  const known = {
    owner: query.filters.owner,
    source: query.filters.source,
    tag: query.filters.tag,
    q: query.filters.q,
    score_min: query.filters.scoreMin,
    score_max: query.filters.scoreMax,
    from: query.filters.createdFrom,
    to: query.filters.createdTo,
    pipeline: query.pipelineId,
    stage: query.stageId,
  }
  for (const [k, v] of Object.entries(known)) if (v !== undefined) kept.set(k, String(v))
  for (const k of params.keys())
    if (!kept.has(k)) return { error: `--${k.replace('_', '-')} has an invalid value "${params.get(k)}"` }

  return {
    run: async (db, io) => {
      const org = await orgBySlug(db, flags.org!)
      if (!org) {
        io.stderr.write(`No organization with slug "${flags.org}".\n`)
        return 1
      }
      const locale: Locale = (flags.locale as Locale) ?? (isLocale(org.locale) ? org.locale : 'pt-BR')
      const run: TxRunner = (fn) => withOrg(db, { orgId: org.id, userId: null }, fn)
      const out = flags.out ? createWriteStream(flags.out) : null
      let rows = 0
      for await (const piece of exportCsv(run, {
        query,
        scope: { userId: '00000000-0000-0000-0000-000000000000', timezone: org.timezone },
        locale,
        t: translator(locale),
        delimiter,
        onPage: (n) => {
          rows += n
        },
      })) {
        if (out) {
          if (!out.write(piece)) await new Promise((r) => out.once('drain', r))
        } else io.stdout.write(piece)
      }
      if (out) {
        await new Promise<void>((resolve, reject) =>
          out.end((err?: Error | null) => (err ? reject(err) : resolve())),
        )
        io.stderr.write(`Exported ${fmt(rows)} leads to ${flags.out}\n`)
      }
      return 0
    },
  }
}
