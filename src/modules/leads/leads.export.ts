/**
 * CSV export of leads (GET /leads/export.csv and `loved export`): the list's filters (the board's
 * `parseFilters`/`filterSql`, the same `q` search, plus `pipeline` and `stage`), read in keyset pages
 * of EXPORT_PAGE leads by id, one short transaction per page, and written as they come: the file is
 * never whole in memory, and a long export never holds a transaction (PGlite has one connection).
 *
 * Format: UTF-8 with a BOM, `;` between fields and CRLF line ends by default: what Excel pt-BR (whose
 * list separator is `;`) opens with a double click, accents intact. `,` or tab on request. Values
 * use the reader's decimal mark ("1500,00" in pt-BR), dates are the organization's local time
 * ("2026-05-04 14:30"), phones the national form for the organization's country ("(11) 98765-4321",
 * which a spreadsheet keeps as text) and international otherwise. Formula-like cells get a `'`.
 */
import { sql } from 'drizzle-orm'
import { rowsOf } from '../../platform/db/client'
import { toDate, toNumber } from '../../platform/events/events.pg'
import type { Locale, T } from '../../shared/i18n'
import { isUuid } from '../../shared/ids'
import { formatPhone } from '../../shared/phone'
import { type FilterScope, filterSql } from '../pipeline/pipeline.repository'
import { type BoardFilters, parseFilters } from '../pipeline/pipeline.schemas'
import { BOM, csvLines, type Delimiter } from './leads.csv'
import type { CustomFieldRef, TxRunner } from './leads.import'
import { orgDefaultCountry } from './leads.normalize'

export const EXPORT_PAGE = 1_000

export interface ExportQuery {
  filters: BoardFilters
  pipelineId?: string
  stageId?: string
}

/** The list's query string → what to export (invalid values dropped, like the list does). */
export function parseExportQuery(params: URLSearchParams): ExportQuery {
  const q: ExportQuery = { filters: parseFilters(params) }
  const pipeline = params.get('pipeline')?.trim()
  const stage = params.get('stage')?.trim()
  if (isUuid(pipeline)) q.pipelineId = pipeline
  if (isUuid(stage)) q.stageId = stage
  return q
}

export function parseDelimiter(v: string | null | undefined): Delimiter | null {
  if (v === undefined || v === null || v === '' || v === ';' || v === 'semicolon') return ';'
  if (v === ',' || v === 'comma') return ','
  if (v === '\t' || v === 'tab') return '\t'
  return null
}

export interface ExportOptions {
  query: ExportQuery
  scope: FilterScope
  locale: Locale
  t: T
  delimiter: Delimiter
  pageSize?: number
  /** Called with the number of leads of each page written. */
  onPage?: (n: number) => void
}

type Row = {
  id: string
  full_name: string
  email: string | null
  phone: string | null
  company: string | null
  job_title: string | null
  value_cents: unknown
  currency: string
  source: string | null
  tags: string[] | string | null
  score: unknown
  custom: Record<string, unknown> | string | null
  created_at: unknown
  last_activity_at: unknown
  owner_name: string | null
  owner_email: string | null
  pipeline_name: string
  stage_name: string
}

const pgArray = (v: string[] | string | null): string[] => {
  if (Array.isArray(v)) return v
  if (!v || v === '{}') return []
  return v
    .slice(1, -1)
    .split(',')
    .map((s) => s.replace(/^"|"$/g, '').replace(/\\(.)/g, '$1'))
}

/** The export, as CSV text pieces: the header line first, then one piece per page of leads. */
export async function* exportCsv(run: TxRunner, opts: ExportOptions): AsyncGenerator<string> {
  const { t } = opts
  const pageSize = opts.pageSize ?? EXPORT_PAGE
  const { customs, country } = await run(async (tx) => ({
    customs: rowsOf<CustomFieldRef>(
      await tx.execute(sql`select key, label, type from custom_field_defs order by position, key`),
    ),
    country: await orgDefaultCountry(tx),
  }))
  const headers = [
    t('export.col.name'),
    t('export.col.email'),
    t('export.col.phone'),
    t('export.col.company'),
    t('export.col.job_title'),
    t('export.col.value'),
    t('export.col.currency'),
    t('export.col.source'),
    t('export.col.tags'),
    t('export.col.owner'),
    t('export.col.pipeline'),
    t('export.col.stage'),
    t('export.col.score'),
    t('export.col.created'),
    t('export.col.last_activity'),
    ...customs.map((c) => c.label),
  ]
  yield BOM + csvLines([headers], { delimiter: opts.delimiter })

  const decimal = opts.locale === 'pt-BR' ? ',' : '.'
  const dateFmt = new Intl.DateTimeFormat('sv-SE', {
    timeZone: opts.scope.timezone || 'America/Sao_Paulo',
    dateStyle: 'short',
    timeStyle: 'short',
  })
  const where = [filterSql(opts.query.filters, opts.scope)]
  if (opts.query.pipelineId) where.push(sql`l.pipeline_id = ${opts.query.pipelineId}::uuid`)
  if (opts.query.stageId) where.push(sql`l.stage_id = ${opts.query.stageId}::uuid`)
  const filter = sql.join(where, sql` and `)

  let after: string | null = null
  for (;;) {
    const page: Row[] = await run(async (tx) =>
      rowsOf<Row>(
        await tx.execute(sql`select l.id, l.full_name, l.email, l.phone, l.company, l.job_title, l.value_cents,
            l.currency, l.source, l.tags, l.score, l.custom, l.created_at, l.last_activity_at,
            u.name as owner_name, u.email as owner_email, p.name as pipeline_name, s.name as stage_name
          from leads l
          join pipelines p on p.organization_id = l.organization_id and p.id = l.pipeline_id
          join stages s on s.organization_id = l.organization_id and s.id = l.stage_id
          left join users u on u.id = l.owner_id
          where ${filter} ${after ? sql`and l.id > ${after}::uuid` : sql``}
          order by l.id limit ${pageSize}`),
      ),
    )
    if (!page.length) return
    const lines = page.map((r) => {
      const custom = (typeof r.custom === 'string' ? JSON.parse(r.custom) : (r.custom ?? {})) as Record<
        string,
        unknown
      >
      const cents = toNumber(r.value_cents)
      return [
        r.full_name,
        r.email ?? '',
        r.phone ? formatPhone(r.phone, country) : '',
        r.company ?? '',
        r.job_title ?? '',
        cents ? (cents / 100).toFixed(2).replace('.', decimal) : '',
        r.currency,
        r.source ?? '',
        pgArray(r.tags).join(', '),
        r.owner_name ?? '',
        r.pipeline_name,
        r.stage_name,
        String(toNumber(r.score)),
        dateFmt.format(toDate(r.created_at)),
        dateFmt.format(toDate(r.last_activity_at)),
        ...customs.map((c) => customText(custom[c.key], t)),
      ]
    })
    yield csvLines(lines, { delimiter: opts.delimiter })
    opts.onPage?.(page.length)
    if (page.length < pageSize) return
    after = page[page.length - 1]!.id
  }
}

function customText(v: unknown, t: T): string {
  if (v === undefined || v === null) return ''
  if (Array.isArray(v)) return v.map(String).join(', ')
  if (typeof v === 'boolean') return v ? t('export.yes') : t('export.no')
  return String(v)
}

/** A ReadableStream of the export (pull-based: the next page is read when the client wants it). */
export function exportStream(run: TxRunner, opts: ExportOptions): ReadableStream<Uint8Array> {
  const it = exportCsv(run, opts)
  const enc = new TextEncoder()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const r = await it.next()
        if (r.done) controller.close()
        else controller.enqueue(enc.encode(r.value))
      } catch (err) {
        controller.error(err)
      }
    },
    async cancel() {
      await it.return(undefined)
    },
  })
}
