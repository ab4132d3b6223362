/**
 * CSV import of leads: one row pipeline for the UI (upload → mapping → a durable job) and the CLI
 * (`loved import`), both reading the file as a stream and writing in batches.
 *
 * - Upload: the file is scanned once (encoding, separator, header, row count; an unreadable file is
 *   refused at once) and stored in 1 MiB bytea chunks with the import (`lead_imports`), so the job
 *   can run on any instance and after a restart.
 * - Each batch of rows (BATCH_SIZE, or fewer once its transaction has run MAX_TRANSACTION_MS) is one
 *   transaction: the rows go through `captureMany` (leads.capture-batch.ts: the capture contract —
 *   normalisation, deduplication, scoring, assignment — with the decisions and rows of captureLead
 *   row by row, in a few statements per batch), the report rows of the batch are written, the
 *   counters and the checkpoint (`processed_rows`)
 *   advance with a compare-and-set, and a `lead.import.progress` event is recorded. A crash loses at
 *   most the batch in flight, which rolled back: the resumed job skips the committed rows.
 * - Memory: one chunk of the file, the parser's small buffer and one batch. Counters, never rows.
 */
import { and, asc, desc, eq, gt, sql } from 'drizzle-orm'
import { type Db, rowsOf } from '../../platform/db/client'
import { maintainEmbedded } from '../../platform/db/maintenance'
import type { OrgTx } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { AppError, Check, FormError } from '../../platform/http/errors'
import { defineOrgJob, type OrgJobContext, PermanentJobError } from '../../platform/jobs/jobs.define'
import { enqueue } from '../../platform/jobs/jobs.queue'
import { EMAIL_RE, normalizeEmail } from '../../shared/email'
import { isUuid } from '../../shared/ids'
import { toE164 } from '../../shared/phone'
import { fold, nameKey } from '../../shared/text'
import { listMembers } from '../orgs/orgs.usecases'
import { parseMoney, parseTags } from '../pipeline/pipeline.schemas'
import { type CaptureInput, type CaptureResult, captureLead } from './leads.capture'
import { captureMany } from './leads.capture-batch'
import { CaptureCache } from './leads.capture-cache'
import {
  blobChunks,
  CsvEncodingError,
  type CsvFormatChoice,
  CsvFormatError,
  type CsvShape,
  type Delimiter,
  decode,
  rechunk,
  records,
  scanCsv,
} from './leads.csv'
import './leads.import.events'
import {
  type ImportDedup,
  type ImportOutcome,
  type LeadImport,
  leadImportChunks,
  leadImportRows,
  leadImports,
  type RowReasons,
} from './leads.import.table'
import { orgDefaultCountry } from './leads.normalize'

export const CHUNK_BYTES = 1 << 20
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024
export const BATCH_SIZE = 250
/** ...or fewer rows, when they took this long: one batch never holds the database for long. */
export const MAX_TRANSACTION_MS = 500
/**
 * A pause between batches: on PGlite (one connection) the requests queued behind a batch need a few
 * short statements each, and would otherwise wait for the next batch at every one of them.
 */
export const BATCH_PAUSE_MS = 30
export const MAX_COLUMNS = 200
/** A full garbage collection every this many batches (a few ms, against a climbing RSS). */
export const GC_EVERY_BATCHES = 1
export const DEDUP_MODES: readonly ImportDedup[] = ['auto', 'review', 'off']

/** A transaction runner: `withOrg` bound to one organization (the job's `ctx.tx`, or the CLI's). */
export type TxRunner = <T>(fn: (tx: OrgTx) => Promise<T>) => Promise<T>

// Mapping ----------------------------------------------------------------------------------------

export const BASE_TARGETS = [
  'fullName',
  'lastName',
  'email',
  'phone',
  'company',
  'jobTitle',
  'value',
  'source',
  'tags',
  'note',
  'owner',
] as const
export type BaseTarget = (typeof BASE_TARGETS)[number]
/** Targets several columns may feed (joined): tags, notes. */
const MULTI = new Set<string>(['tags', 'note'])

/** Header names (folded) recognised per target, pt-BR and English. */
const SYNONYMS: Record<BaseTarget, string[]> = {
  fullName: [
    'nome',
    'nome completo',
    'name',
    'full name',
    'fullname',
    'nome do cliente',
    'cliente',
    'contato',
    'nome do contato',
    'lead',
    'nome do lead',
    'primeiro nome',
    'first name',
  ],
  lastName: ['sobrenome', 'last name', 'surname', 'ultimo nome'],
  email: [
    'email',
    'e mail',
    'mail',
    'endereco de email',
    'endereco de e mail',
    'email address',
    'correio eletronico',
  ],
  phone: [
    'telefone',
    'celular',
    'whatsapp',
    'whats',
    'zap',
    'fone',
    'tel',
    'cel',
    'telefone celular',
    'numero de telefone',
    'phone',
    'phone number',
    'mobile',
    'mobile phone',
  ],
  company: [
    'empresa',
    'company',
    'organizacao',
    'organization',
    'razao social',
    'nome da empresa',
    'company name',
  ],
  jobTitle: ['cargo', 'funcao', 'profissao', 'job title', 'title', 'position', 'role'],
  value: ['valor', 'value', 'amount', 'valor estimado', 'valor do negocio', 'deal value', 'orcamento'],
  source: ['origem', 'fonte', 'source', 'canal', 'lead source', 'origem do lead'],
  tags: ['tags', 'tag', 'etiquetas', 'etiqueta', 'marcadores', 'labels'],
  note: [
    'observacoes',
    'observacao',
    'obs',
    'notas',
    'nota',
    'notes',
    'note',
    'comentarios',
    'comentario',
    'descricao',
  ],
  owner: [
    'owner',
    'lead owner',
    'responsavel',
    'responsavel pelo lead',
    'dono',
    'vendedor',
    'vendedora',
    'proprietario',
    'corretor',
    'consultor',
    'assigned to',
  ],
}

const headerKey = (h: string) =>
  fold(h)
    .replace(/[@.+_]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
const SYNONYM_INDEX = new Map<string, BaseTarget>()
for (const target of BASE_TARGETS) for (const s of SYNONYMS[target]) SYNONYM_INDEX.set(s, target)

export interface CustomFieldRef {
  key: string
  label: string
  type: string
}

/** Valid mapping targets: the base fields, then `custom.<key>` of the organization's custom fields. */
export function isTarget(target: string, customs: CustomFieldRef[]): boolean {
  if ((BASE_TARGETS as readonly string[]).includes(target)) return true
  return target.startsWith('custom.') && customs.some((c) => `custom.${c.key}` === target)
}

/** A first guess of each column's target from its header (pt-BR and English names, custom fields). */
export function guessMapping(headers: string[], customs: CustomFieldRef[]): string[] {
  const used = new Set<string>()
  return headers.map((h) => {
    const k = headerKey(h)
    let target: string | undefined = SYNONYM_INDEX.get(k)
    if (!target) {
      const c = customs.find((c) => headerKey(c.key) === k || headerKey(c.label) === k)
      if (c) target = `custom.${c.key}`
    }
    if (!target || (used.has(target) && !MULTI.has(target))) return ''
    used.add(target)
    return target
  })
}

export interface ImportSettings {
  mapping: string[]
  dedup: ImportDedup
  pipelineId: string | null
  stageId: string | null
  defaultSource: string | null
  defaultTags: string[]
}

export interface StageRef {
  pipelineId: string
  pipelineName: string
  stageId: string
  stageName: string
}

/** Validates a mapping and the options (throws FormError; field `mapping` for mapping problems). */
export function checkSettings(
  s: ImportSettings,
  ctx: { columns: number; customs: CustomFieldRef[]; stages: StageRef[] },
): ImportSettings {
  const check = new Check()
  if (s.mapping.length !== ctx.columns) check.add('mapping', 'import.error.mapping_invalid')
  const seen = new Set<string>()
  for (const target of s.mapping) {
    if (!target) continue
    if (!isTarget(target, ctx.customs)) check.add('mapping', 'import.error.mapping_invalid')
    else if (seen.has(target) && !MULTI.has(target)) check.add('mapping', 'import.error.mapping_twice')
    seen.add(target)
  }
  if (!seen.has('fullName')) check.add('mapping', 'import.error.name_required')
  if (!DEDUP_MODES.includes(s.dedup)) check.add('dedup', 'import.error.dedup_invalid')
  if (s.stageId && !ctx.stages.some((st) => st.stageId === s.stageId && st.pipelineId === s.pipelineId))
    check.add('target', 'import.error.stage_invalid')
  if (s.pipelineId && !ctx.stages.some((st) => st.pipelineId === s.pipelineId))
    check.add('target', 'import.error.stage_invalid')
  if (s.defaultSource && s.defaultSource.length > 60) check.add('defaultSource', 'import.error.source_long')
  check.throwIfAny()
  return s
}

/** Reads the options form: `map.<column>` selects, `dedup`, `target` ("pipeline:stage"), source, tags. */
export function settingsFromForm(body: Record<string, unknown>, columns: number): ImportSettings {
  const str = (k: string) => {
    const v = body[k]
    return typeof v === 'string' ? v.trim() : Array.isArray(v) && typeof v[0] === 'string' ? v[0].trim() : ''
  }
  const mapping = Array.from({ length: columns }, (_, i) => str(`map.${i}`))
  const [pipelineId = '', stageId = ''] = str('target').split(':')
  return {
    mapping,
    dedup: (str('dedup') || 'auto') as ImportDedup,
    pipelineId: isUuid(pipelineId) ? pipelineId : null,
    stageId: isUuid(stageId) ? stageId : null,
    defaultSource: str('defaultSource').replace(/\s+/g, ' ') || null,
    defaultTags: parseTags(str('defaultTags')),
  }
}

// Rows -------------------------------------------------------------------------------------------

export interface MappedRow {
  input: CaptureInput
  /** Problems this import can tell before capture (empty name, unreadable phone, email or value). */
  reasons: RowReasons
  /** The normalised phone, for the preview. */
  phoneE164: string | null
  /** The Owner column's text (an email or a member's name), resolved by an OwnerDirectory. */
  ownerText: string | null
}

// Owners -----------------------------------------------------------------------------------------

export interface OwnerRef {
  id: string
  name: string
  email: string
}

export type OwnerMatch = { owner: OwnerRef } | { reason: { key: string; params: { value: string } } }

/**
 * The organization's members, for the Owner column: an email matches case-insensitively, a name
 * accent- and case-insensitively ("joao  SILVA" finds "João Silva"; "Silva, João" too). A name two
 * members share matches neither (reported as ambiguous); an unknown one is reported as not found.
 */
export class OwnerDirectory {
  readonly #byEmail = new Map<string, OwnerRef>()
  readonly #byName = new Map<string, OwnerRef[]>()
  readonly #byKey = new Map<string, OwnerRef[]>()

  constructor(readonly members: OwnerRef[]) {
    for (const m of members) {
      this.#byEmail.set(normalizeEmail(m.email), m)
      const push = (map: Map<string, OwnerRef[]>, k: string) => {
        if (k) map.set(k, [...(map.get(k) ?? []), m])
      }
      push(this.#byName, fold(m.name))
      push(this.#byKey, nameKey(m.name))
    }
  }

  static async load(tx: OrgTx): Promise<OwnerDirectory> {
    const members = await listMembers(tx)
    return new OwnerDirectory(members.map((m) => ({ id: m.userId, name: m.name, email: m.email })))
  }

  resolve(text: string): OwnerMatch {
    const value = text.slice(0, 200)
    if (text.includes('@')) {
      const m = this.#byEmail.get(normalizeEmail(text))
      return m ? { owner: m } : { reason: { key: 'import.reason.owner_not_found', params: { value } } }
    }
    for (const [map, k] of [
      [this.#byName, fold(text)],
      [this.#byKey, nameKey(text)],
    ] as const) {
      const found = k ? map.get(k) : undefined
      if (found?.length === 1) return { owner: found[0]! }
      if (found && found.length > 1)
        return { reason: { key: 'import.reason.owner_ambiguous', params: { value } } }
    }
    return { reason: { key: 'import.reason.owner_not_found', params: { value } } }
  }
}

/** A cell as exported by us (`'+55…`, formula-neutralised) reads back as its value. */
const cellValue = (s: string | undefined) => (s ?? '').replace(/^'(?=[=+\-@])/, '').trim()

export function mapRow(cells: string[], s: ImportSettings, country: string): MappedRow {
  const parts: Record<string, string[]> = {}
  const custom: Record<string, unknown> = {}
  s.mapping.forEach((target, i) => {
    const v = cellValue(cells[i])
    if (!target || !v) return
    if (target.startsWith('custom.')) custom[target.slice(7)] = v
    else {
      parts[target] ??= []
      parts[target].push(v)
    }
  })
  const one = (k: BaseTarget) => parts[k]?.[0] ?? null
  const fullName = [one('fullName'), one('lastName')].filter(Boolean).join(' ').replace(/\s+/g, ' ').trim()
  const tagText = (parts.tags ?? []).join(',').replace(/[;|]/g, ',')
  const tags = parseTags([tagText, ...s.defaultTags].filter(Boolean).join(','))
  const input: CaptureInput = {
    fullName,
    email: one('email'),
    phone: one('phone'),
    company: one('company'),
    jobTitle: one('jobTitle'),
    value: one('value'),
    source: one('source') ?? s.defaultSource,
    tags,
    custom,
    pipelineId: s.pipelineId,
    stageId: s.stageId,
    note: parts.note?.join('\n') ?? null,
  }
  const reasons: RowReasons = {}
  if (!fullName) reasons.fullName = { key: 'import.reason.name_required' }
  else if (fullName.length > 200) reasons.fullName = { key: 'import.reason.name_long' }
  const email = input.email ? normalizeEmail(input.email) : ''
  if (email && !EMAIL_RE.test(email))
    reasons.email = { key: 'import.reason.email_invalid', params: { value: input.email! } }
  const phoneE164 = input.phone ? toE164(input.phone, country) : null
  if (input.phone && !phoneE164)
    reasons.phone = { key: 'import.reason.phone_invalid', params: { value: input.phone } }
  // parseMoney ignores what is not a digit: "abc" would silently become no value.
  const cents = input.value ? parseMoney(input.value) : null
  if (input.value && (cents === null || Number.isNaN(cents)))
    reasons.value = { key: 'import.reason.value_invalid', params: { value: input.value } }
  return { input, reasons, phoneE164, ownerText: one('owner') }
}

/**
 * Sets the row's owner from the Owner column: a member found becomes `input.ownerId` (the assignment
 * rules are skipped for it); one not found is returned as a warning (the row is imported and assigned
 * by the rules, and the report says which owner was not found).
 */
export function applyOwner(mapped: MappedRow, owners: OwnerDirectory): RowReasons {
  if (!mapped.ownerText) return {}
  const m = owners.resolve(mapped.ownerText)
  if ('owner' in m) {
    mapped.input.ownerId = m.owner.id
    return {}
  }
  return { owner: m.reason }
}

export interface Progress {
  importId: string
  status: LeadImport['status']
  total: number
  processed: number
  created: number
  merged: number
  flagged: number
  rejected: number
}

export const progressOf = (i: LeadImport): Progress => ({
  importId: i.id,
  status: i.status,
  total: i.totalRows,
  processed: i.processedRows,
  created: i.createdCount,
  merged: i.mergedCount,
  flagged: i.flaggedCount,
  rejected: i.rejectedCount,
})

export const settingsOf = (i: LeadImport): ImportSettings => ({
  mapping: i.mapping,
  dedup: i.dedup,
  pipelineId: i.pipelineId,
  stageId: i.stageId,
  defaultSource: i.defaultSource,
  defaultTags: i.defaultTags,
})

interface ReportRow {
  rowNumber: number
  outcome: ImportOutcome
  leadId: string | null
  duplicateOfId: string | null
  reasons: RowReasons
  cells: string[]
}

function formReasons(err: FormError): RowReasons {
  const out: RowReasons = {}
  for (const [field, key] of Object.entries(err.fields))
    out[field] = err.params[field] ? { key, params: err.params[field] } : { key }
  return out
}

/**
 * One batch in one transaction: capture the rows (captureMany: the batch path, or captureLead per row
 * in its own savepoint), report, checkpoint, event.
 */
async function processBatch(
  tx: OrgTx,
  imp: LeadImport,
  batch: { n: number; cells: string[] }[],
  ctx: {
    actorId: string | null
    country: string
    from: number
    maxMs: number
    cache: boolean
    batchCapture: boolean
  },
): Promise<{ progress: Progress; consumed: number }> {
  const settings = settingsOf(imp)
  // The organization's settings, read once for this batch's transaction (and dropped with it).
  const cache = ctx.cache ? new CaptureCache() : undefined
  const counts = { created: 0, merged: 0, flagged: 0, rejected: 0 }
  const report: ReportRow[] = []
  const started = performance.now()
  // A transaction is bounded in time as well as in rows: PGlite has one connection (every request
  // waits for it), and captureLead's dedup locks are held until commit.
  const late = () => performance.now() - started > ctx.maxMs
  // The members, once per batch, when a column is mapped to Owner.
  const owners = settings.mapping.includes('owner') ? await OwnerDirectory.load(tx) : null
  const rows = batch.map((row) => {
    const mapped = mapRow(row.cells, settings, ctx.country)
    return {
      row,
      mapped,
      // Warnings: the row is imported all the same (an Owner not found: assigned by the rules).
      warnings: owners ? applyOwner(mapped, owners) : {},
      cells: row.cells.slice(0, MAX_COLUMNS).map((c) => c.slice(0, 2000)),
    }
  })
  const valid = rows.filter((r) => !Object.keys(r.mapped.reasons).length)
  const captureOpts = { actorId: ctx.actorId, channel: 'import' as const, dedup: imp.dedup }
  // Outcomes of the valid rows, in order (fewer when the time bound stopped the batch early).
  let outcomes: (CaptureResult | FormError)[] = []
  if (cache && ctx.batchCapture)
    outcomes = await captureMany(
      tx,
      valid.map((r) => r.mapped.input),
      { ...captureOpts, cache, shouldStop: late },
    )
  else
    for (const r of valid) {
      if (outcomes.length && late()) break
      try {
        outcomes.push(
          await tx.transaction((sp) => captureLead(sp as OrgTx, r.mapped.input, { ...captureOpts, cache })),
        )
      } catch (err) {
        if (!(err instanceof FormError)) throw err
        outcomes.push(err)
      }
    }
  let consumed = 0
  let k = 0
  for (const { row, mapped, warnings, cells } of rows) {
    const rejectedHere = Object.keys(mapped.reasons).length > 0
    if (!rejectedHere && k >= outcomes.length) break // not reached before the time bound
    consumed++
    if (rejectedHere) {
      counts.rejected++
      report.push({
        rowNumber: row.n,
        outcome: 'rejected',
        leadId: null,
        duplicateOfId: null,
        reasons: { ...mapped.reasons, ...warnings },
        cells,
      })
      continue
    }
    const res = outcomes[k++]!
    if (res instanceof FormError) {
      counts.rejected++
      report.push({
        rowNumber: row.n,
        outcome: 'rejected',
        leadId: null,
        duplicateOfId: null,
        reasons: { ...formReasons(res), ...warnings },
        cells,
      })
      continue
    }
    counts[res.outcome]++
    if (res.outcome !== 'created' || Object.keys(warnings).length)
      report.push({
        rowNumber: row.n,
        outcome: res.outcome,
        leadId: res.leadId,
        duplicateOfId: res.duplicateOfId ?? null,
        reasons: warnings,
        cells,
      })
  }
  if (report.length)
    await tx
      .insert(leadImportRows)
      .values(
        report.map((r) => ({
          organizationId: imp.organizationId,
          importId: imp.id,
          rowNumber: r.rowNumber,
          outcome: r.outcome,
          leadId: r.leadId,
          duplicateOfId: r.duplicateOfId,
          reasons: r.reasons,
          cells: r.cells,
        })),
      )
      .onConflictDoNothing()
  const to = batch[consumed - 1]!.n
  // Compare-and-set on the checkpoint: a second runner of the same import (a lost lease) fails here
  // and its batch rolls back instead of counting rows twice.
  const [updated] = await tx
    .update(leadImports)
    .set({
      status: 'running',
      processedRows: to,
      createdCount: sql`${leadImports.createdCount} + ${counts.created}`,
      mergedCount: sql`${leadImports.mergedCount} + ${counts.merged}`,
      flaggedCount: sql`${leadImports.flaggedCount} + ${counts.flagged}`,
      rejectedCount: sql`${leadImports.rejectedCount} + ${counts.rejected}`,
      updatedAt: new Date(),
    })
    .where(and(eq(leadImports.id, imp.id), eq(leadImports.processedRows, ctx.from)))
    .returning()
  if (!updated) throw new ImportCheckpointError(imp.id)
  const progress = progressOf(updated)
  await recordEvent(tx, { type: 'lead.import.progress', payload: progress })
  return { progress, consumed }
}

export class ImportCheckpointError extends Error {
  constructor(id: string) {
    super(`import ${id}: the checkpoint moved (another worker is running it)`)
  }
}

export class ImportAbortedError extends Error {}

export interface RunOptions {
  run: TxRunner
  /** The import as committed (its processed_rows is where this run starts). */
  imp: LeadImport
  actorId: string | null
  batchSize?: number
  /** A batch commits early once its transaction has run this long (default MAX_TRANSACTION_MS). */
  maxTransactionMs?: number
  /** Pause between batches (default BATCH_PAUSE_MS). */
  pauseMs?: number
  signal?: AbortSignal
  onBatch?: (p: Progress) => void | Promise<void>
  /** Read the organization's settings once per batch (default true; false reads them per row). */
  settingsCache?: boolean
  /**
   * With the settings cache, capture a batch's rows together (captureMany; default true); false runs
   * captureLead row by row, each in its own savepoint.
   */
  batchCapture?: boolean
  /**
   * The database, for the embedded database's upkeep between batches (`maintainEmbedded` every
   * MAINTAIN_EVERY_ROWS rows; a no-op on Postgres, whose autovacuum runs on its own).
   */
  maintain?: Db
  /** Rows between two upkeeps (default MAINTAIN_EVERY_ROWS; tests use fewer). */
  maintainEveryRows?: number
}

/**
 * PGlite has no autovacuum (src/platform/db/maintenance.ts): a long import runs the upkeep itself
 * every this many rows. Without it a 100,000-row import on PGlite slowed from 490 to under 200 rows/s
 * after 60,000 rows and all but stalled in the last 10,000 (no statistics for the growing tables,
 * and the per-organization event counter row piling up dead versions); with it, it keeps ~450 rows/s.
 */
export const MAINTAIN_EVERY_ROWS = 5_000

/**
 * Streams the file's rows through the capture pipeline in batches, from the committed checkpoint.
 * Returns the progress after the last batch (the import is still `running`: the caller finishes it).
 */
export async function importRows(opts: RunOptions, bytes: AsyncIterable<Uint8Array>): Promise<Progress> {
  const { run, imp } = opts
  const size = opts.batchSize ?? BATCH_SIZE
  const country = await run((tx) => orgDefaultCountry(tx))
  let done = imp.processedRows
  let progress = progressOf(imp)
  let header = true
  let n = 0
  let batch: { n: number; cells: string[] }[] = []
  const maxMs = opts.maxTransactionMs ?? MAX_TRANSACTION_MS
  let batches = 0
  let maintainedAt = done
  const flush = async () => {
    while (batch.length) {
      if (opts.signal?.aborted) throw new ImportAbortedError('import stopped')
      const from = done
      const current = batch
      const r = await run((tx) =>
        processBatch(tx, imp, current, {
          actorId: opts.actorId,
          country,
          from,
          maxMs,
          cache: opts.settingsCache ?? true,
          batchCapture: opts.batchCapture ?? true,
        }),
      )
      batch = current.slice(r.consumed)
      progress = r.progress
      done = progress.processed
      await opts.onBatch?.(progress)
      if (opts.maintain && done - maintainedAt >= (opts.maintainEveryRows ?? MAINTAIN_EVERY_ROWS)) {
        maintainedAt = done
        await maintainEmbedded(opts.maintain)
      }
      // A batch leaves megabytes of garbage (statement texts, result rows) that the collector is slow
      // to reclaim on its own: RSS would climb for the whole import although nothing is retained.
      if (++batches % GC_EVERY_BATCHES === 0) Bun.gc(true)
      await Bun.sleep(opts.pauseMs ?? BATCH_PAUSE_MS)
    }
  }
  for await (const cells of records(decode(bytes, imp.encoding), imp.delimiter as Delimiter)) {
    if (header) {
      header = false
      continue
    }
    n++
    if (n <= done) continue // committed by an earlier run
    batch.push({ n, cells })
    if (batch.length >= size) await flush()
  }
  if (batch.length) await flush()
  return progress
}

/** The stored file of an import, chunk by chunk (one short transaction per chunk). */
export async function* storedChunks(run: TxRunner, importId: string): AsyncIterable<Uint8Array> {
  for (let seq = 0; ; seq++) {
    const [row] = await run((tx) =>
      tx
        .select({ data: leadImportChunks.data })
        .from(leadImportChunks)
        .where(and(eq(leadImportChunks.importId, importId), eq(leadImportChunks.seq, seq))),
    )
    if (!row) return
    yield row.data instanceof Uint8Array ? row.data : new Uint8Array(row.data as ArrayBuffer)
  }
}

// Use cases --------------------------------------------------------------------------------------

export async function findImport(tx: OrgTx, id: string): Promise<LeadImport | null> {
  if (!isUuid(id)) return null
  const [row] = await tx.select().from(leadImports).where(eq(leadImports.id, id))
  return row ?? null
}

export async function getImport(tx: OrgTx, id: string): Promise<LeadImport> {
  const imp = await findImport(tx, id)
  if (!imp) throw new AppError('leads.import.not_found', 404, 'error.not_found.title')
  return imp
}

export async function listImports(tx: OrgTx, limit = 50) {
  return tx
    .select({
      imp: leadImports,
      byName: sql<string | null>`(select u.name from users u where u.id = ${leadImports.createdBy})`,
    })
    .from(leadImports)
    .orderBy(desc(leadImports.createdAt), desc(leadImports.id))
    .limit(limit)
}

export async function customFieldRefs(tx: OrgTx): Promise<CustomFieldRef[]> {
  return rowsOf<CustomFieldRef>(
    await tx.execute(sql`select key, label, type from custom_field_defs order by position, key`),
  )
}

export async function stageRefs(tx: OrgTx): Promise<StageRef[]> {
  return rowsOf<StageRef>(
    await tx.execute(sql`select p.id as "pipelineId", p.name as "pipelineName", s.id as "stageId",
        s.name as "stageName"
      from pipelines p join stages s on s.organization_id = p.organization_id and s.pipeline_id = p.id
      where s.kind = 'open' order by p.position, p.id, s.position, s.id`),
  )
}

export interface NewImport {
  filename: string
  sizeBytes: number
  shape: CsvShape
  channel: 'ui' | 'cli'
  createdBy: string | null
}

function checkShape(shape: CsvShape) {
  const check = new Check()
  if (shape.headers.length > MAX_COLUMNS)
    check.add('file', 'import.error.too_many_columns', { max: MAX_COLUMNS })
  else if (shape.totalRows === 0) check.add('file', 'import.error.no_rows')
  check.throwIfAny()
}

/** scanCsv, its errors as FormError: `encoding` for UTF-8 forced on other bytes, else `file`. */
async function scanShape(open: () => AsyncIterable<Uint8Array>, force: CsvFormatChoice) {
  let shape: CsvShape
  try {
    shape = await scanCsv(open, force)
  } catch (err) {
    if (err instanceof CsvEncodingError) throw new FormError({ encoding: 'import.error.not_utf8' })
    if (!(err instanceof CsvFormatError)) throw err
    throw new FormError(
      { file: err.line ? 'import.error.unreadable_line' : 'import.error.unreadable' },
      err.line ? { file: { line: err.line } } : {},
    )
  }
  checkShape(shape)
  return shape
}

/**
 * Scans an upload (encoding, separator, header, rows; detected unless `force`d) or throws FormError
 * on field `file` (or `encoding`: UTF-8 forced on a file that is not UTF-8).
 */
export async function scanUpload(file: Blob, force: CsvFormatChoice = {}): Promise<CsvShape> {
  const check = new Check()
  if (file.size === 0) check.add('file', 'import.error.empty')
  else if (file.size > MAX_UPLOAD_BYTES)
    check.add('file', 'import.error.too_large', { max: MAX_UPLOAD_BYTES >> 20 })
  check.throwIfAny()
  return scanShape(() => blobChunks(file), force)
}

/** The format chosen on the mapping step: 'auto' or a value, per setting. */
export interface FormatChoice {
  encoding: 'auto' | LeadImport['encoding']
  delimiter: 'auto' | Delimiter
}

/** The import's format as the select shows it: 'auto' while it is what detection found. */
export function formatChoiceOf(imp: LeadImport): FormatChoice {
  return {
    encoding: imp.encoding === (imp.detectedEncoding ?? imp.encoding) ? 'auto' : imp.encoding,
    delimiter:
      imp.delimiter === (imp.detectedDelimiter ?? imp.delimiter) ? 'auto' : (imp.delimiter as Delimiter),
  }
}

/**
 * Reads the `encoding` and `delimiter` fields of the mapping form (absent: the current choice).
 * Throws FormError for a value not offered.
 */
export function formatFromForm(body: Record<string, unknown>, imp: LeadImport): FormatChoice {
  const current = formatChoiceOf(imp)
  const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined)
  const enc = str('encoding')
  const del = str('delimiter')
  const check = new Check()
  const encoding = enc === undefined ? current.encoding : enc
  const delimiter = del === undefined ? current.delimiter : del === 'tab' ? '\t' : del
  if (!['auto', 'utf-8', 'windows-1252'].includes(encoding)) check.add('encoding', 'import.error.encoding')
  if (!['auto', ';', ',', '\t'].includes(delimiter)) check.add('delimiter', 'import.error.separator')
  check.throwIfAny()
  return { encoding, delimiter } as FormatChoice
}

/**
 * Re-reads the stored file of a draft with another encoding and/or separator ('auto': what was
 * detected at upload): the header, row count and mapping are those of the file read that way (the
 * mapping is kept when the header did not change, guessed again otherwise). Returns the import as
 * updated, or unchanged when the choice is the current one. Throws FormError (`encoding` or `file`).
 */
export async function changeFormat(
  run: TxRunner,
  imp: LeadImport,
  choice: FormatChoice,
  mapping: string[],
): Promise<LeadImport> {
  const encoding = choice.encoding === 'auto' ? (imp.detectedEncoding ?? imp.encoding) : choice.encoding
  const delimiter = choice.delimiter === 'auto' ? (imp.detectedDelimiter ?? imp.delimiter) : choice.delimiter
  if (imp.status !== 'draft' || (encoding === imp.encoding && delimiter === imp.delimiter)) return imp
  const shape = await scanShape(() => storedChunks(run, imp.id), {
    encoding,
    delimiter: delimiter as Delimiter,
  })
  return run(async (tx) => {
    const same = shape.headers.join('\u0000') === imp.headers.join('\u0000')
    const [updated] = await tx
      .update(leadImports)
      .set({
        encoding: shape.encoding,
        delimiter: shape.delimiter,
        headers: shape.headers,
        totalRows: shape.totalRows,
        mapping:
          same && mapping.length === shape.headers.length
            ? mapping
            : guessMapping(shape.headers, await customFieldRefs(tx)),
        updatedAt: new Date(),
      })
      .where(and(eq(leadImports.id, imp.id), eq(leadImports.status, 'draft')))
      .returning()
    return updated ?? imp
  })
}

/** Creates the import (a draft with a guessed mapping) and, for uploads, stores the file. */
/**
 * An import that runs at once in this process (the CLI; tests and benches): created with the guessed
 * mapping, `options` checked like the mapping form's (FormError otherwise), and marked running.
 */
export async function createRunningImport(
  tx: OrgTx,
  input: NewImport,
  options: Partial<Omit<ImportSettings, 'mapping'>> = {},
): Promise<LeadImport> {
  const created = await createImport(tx, input)
  const settings = checkSettings(
    {
      mapping: created.mapping,
      dedup: options.dedup ?? created.dedup,
      pipelineId: options.pipelineId ?? null,
      stageId: options.stageId ?? null,
      defaultSource: options.defaultSource ?? null,
      defaultTags: options.defaultTags ?? [],
    },
    { columns: created.headers.length, customs: await customFieldRefs(tx), stages: await stageRefs(tx) },
  )
  const [row] = await tx
    .update(leadImports)
    .set({ ...settings, status: 'running', startedAt: new Date() })
    .where(eq(leadImports.id, created.id))
    .returning()
  return row!
}

export async function createImport(tx: OrgTx, input: NewImport, file?: Blob): Promise<LeadImport> {
  const customs = await customFieldRefs(tx)
  const [imp] = await tx
    .insert(leadImports)
    .values({
      organizationId: sql`nullif(current_setting('app.org_id', true), '')::uuid` as unknown as string,
      createdBy: input.createdBy,
      channel: input.channel,
      filename: input.filename.slice(0, 255) || 'import.csv',
      sizeBytes: input.sizeBytes,
      encoding: input.shape.encoding,
      delimiter: input.shape.delimiter,
      detectedEncoding: input.shape.detected?.encoding ?? input.shape.encoding,
      detectedDelimiter: input.shape.detected?.delimiter ?? input.shape.delimiter,
      headers: input.shape.headers,
      totalRows: input.shape.totalRows,
      mapping: guessMapping(input.shape.headers, customs),
    })
    .returning()
  if (file) {
    let seq = 0
    for await (const chunk of rechunk(blobChunks(file), CHUNK_BYTES))
      await tx.insert(leadImportChunks).values({
        organizationId: imp!.organizationId,
        importId: imp!.id,
        seq: seq++,
        data: chunk,
      })
  }
  return imp!
}

export interface PreviewRow {
  n: number
  cells: string[]
  mapped: MappedRow
  /** With an Owner column: the member found, or why none was. */
  owner?: OwnerMatch
}

/** The first rows of a stored file with `settings` applied (no writes). */
export async function previewImport(tx: OrgTx, imp: LeadImport, settings: ImportSettings, rows = 8) {
  const country = await orgDefaultCountry(tx)
  const owners = settings.mapping.includes('owner') ? await OwnerDirectory.load(tx) : null
  const out: PreviewRow[] = []
  const run: TxRunner = (fn) => fn(tx)
  let header = true
  for await (const cells of records(
    decode(storedChunks(run, imp.id), imp.encoding),
    imp.delimiter as Delimiter,
  )) {
    if (header) {
      header = false
      continue
    }
    const mapped = mapRow(cells, settings, country)
    const owner = owners && mapped.ownerText ? owners.resolve(mapped.ownerText) : undefined
    out.push({ n: out.length + 1, cells, mapped, owner })
    if (out.length >= rows) break
  }
  return out
}

/** Saves the mapping and options, queues the job (once: idempotency key) and tells open pages. */
export async function startImport(tx: OrgTx, imp: LeadImport, settings: ImportSettings) {
  if (imp.status !== 'draft') return imp
  const [customs, stages] = await Promise.all([customFieldRefs(tx), stageRefs(tx)])
  checkSettings(settings, { columns: imp.headers.length, customs, stages })
  const [updated] = await tx
    .update(leadImports)
    .set({ ...settings, status: 'queued', updatedAt: new Date() })
    .where(and(eq(leadImports.id, imp.id), eq(leadImports.status, 'draft')))
    .returning()
  if (!updated) return imp
  await enqueue(tx, leadImportJob, { importId: imp.id }, { idempotencyKey: `lead-import:${imp.id}` })
  await recordEvent(tx, { type: 'lead.import.progress', payload: progressOf(updated) })
  return updated
}

/** Marks the import finished; a completed upload's file is deleted (the report keeps what matters). */
export async function finishImport(tx: OrgTx, id: string, status: 'completed' | 'failed', error?: string) {
  const [updated] = await tx
    .update(leadImports)
    .set({ status, error: error?.slice(0, 2000) ?? null, finishedAt: new Date(), updatedAt: new Date() })
    .where(eq(leadImports.id, id))
    .returning()
  if (status === 'completed') await tx.delete(leadImportChunks).where(eq(leadImportChunks.importId, id))
  if (updated) await recordEvent(tx, { type: 'lead.import.progress', payload: progressOf(updated) })
  return updated
}

export async function reportRows(tx: OrgTx, importId: string, opts: { after?: number; limit: number }) {
  return tx
    .select()
    .from(leadImportRows)
    .where(and(eq(leadImportRows.importId, importId), gt(leadImportRows.rowNumber, opts.after ?? 0)))
    .orderBy(asc(leadImportRows.rowNumber))
    .limit(opts.limit)
}

// The job ----------------------------------------------------------------------------------------

async function runImportJob(ctx: OrgJobContext<{ importId: string }>) {
  const id = ctx.payload.importId
  const imp = await ctx.tx((tx) => findImport(tx, id))
  if (!imp || (imp.status !== 'queued' && imp.status !== 'running')) return // gone, draft or finished
  try {
    const running = await ctx.tx(async (tx) => {
      const [r] = await tx
        .update(leadImports)
        .set({
          status: 'running',
          startedAt: sql`coalesce(${leadImports.startedAt}, now())`,
          updatedAt: new Date(),
        })
        .where(eq(leadImports.id, id))
        .returning()
      return r!
    })
    await importRows(
      {
        run: ctx.tx,
        imp: running,
        actorId: imp.createdBy,
        signal: ctx.signal,
        batchSize: importJobTuning.batchSize,
        onBatch: importJobTuning.afterBatch,
        maintain: ctx.db,
      },
      storedChunks(ctx.tx, id),
    )
    await ctx.tx((tx) => finishImport(tx, id, 'completed'))
  } catch (err) {
    // The last attempt (or a file that cannot be read) fails the import for good, with the reason.
    const permanent = err instanceof CsvFormatError
    if (!ctx.signal.aborted && (permanent || ctx.job.attempt >= ctx.job.maxAttempts))
      await ctx.tx((tx) => finishImport(tx, id, 'failed', err instanceof Error ? err.message : String(err)))
    if (permanent) throw new PermanentJobError((err as Error).message)
    throw err
  }
}

/** Knobs of the import job: the batch size, and a hook after each batch (tests stop a worker there). */
export const importJobTuning: { batchSize: number; afterBatch?: (p: Progress) => void | Promise<void> } = {
  batchSize: BATCH_SIZE,
}

export const leadImportJob = defineOrgJob<{ importId: string }>({
  name: 'leads.import',
  queue: 'imports',
  maxAttempts: 5,
  run: runImportJob,
})
