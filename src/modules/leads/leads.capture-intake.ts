/**
 * The capture endpoint's work once a request is read: resolve the token (the only step that runs
 * before the organization is known, as the system, one statement that also counts the per-token rate
 * limit), then, inside the organization's transaction, STORE THE RAW SUBMISSION FIRST and hand the
 * mapped fields to `captureLead` (normalisation, dedup, scoring and assignment live there). A bad
 * submission is kept as `rejected` with its reasons; a bot's (honeypot filled) as `spam`.
 */
import { sql } from 'drizzle-orm'
import type { Db } from '../../platform/db/client'
import { rowsOf } from '../../platform/db/client'
import { type OrgTx, withSystem } from '../../platform/db/tenancy'
import { FormError } from '../../platform/http/errors'
import { EMAIL_RE, normalizeEmail } from '../../shared/email'
import { isLocale, translator } from '../../shared/i18n'
import { toE164 } from '../../shared/phone'
import { type CaptureInput, captureLead } from './leads.capture'
import {
  type CaptureFields,
  captureNote,
  isSpam,
  type MappedCapture,
  mapCaptureFields,
} from './leads.capture-fields'
import {
  captureTokenHash,
  encodeReasons,
  markSubmission,
  type RejectReasons,
  reasonsOf,
} from './leads.capture-sources'
import { captureSubmissions } from './leads.capture-sources.table'
import { orgDefaultCountry } from './leads.normalize'
import { customFieldDefs } from './leads.table'

export interface ResolvedSource {
  id: string
  organizationId: string
  sourceLabel: string
  tags: string[]
  pipelineId: string | null
  stageId: string | null
  redirectUrl: string | null
  allowedOrigins: string[]
  /** Submissions counted in the current one-minute window, this one included. */
  rateCount: number
  /** Seconds until the window ends. */
  retryAfter: number
}

/**
 * token -> its active source, or null (unknown, rotated, deleted, inactive). With `count`, the same
 * statement counts the request in the source's one-minute window (fixed window, atomic per row).
 */
export async function resolveToken(
  db: Db,
  token: string,
  opts: { count: boolean },
): Promise<ResolvedSource | null> {
  const hash = captureTokenHash(token)
  const cols = sql`id::text as id, organization_id::text as organization_id, source_label, tags, pipeline_id::text as pipeline_id,
    stage_id::text as stage_id, redirect_url, allowed_origins, rate_count,
    ceil(greatest(extract(epoch from (rate_window_start + interval '1 minute' - now())), 1))::int as retry_after`
  const rows = await withSystem(db, async (tx) =>
    rowsOf<Record<string, unknown>>(
      await tx.execute(
        opts.count
          ? sql`update capture_sources set
                rate_count = case when rate_window_start <= now() - interval '1 minute' then 1 else rate_count + 1 end,
                rate_window_start = case when rate_window_start <= now() - interval '1 minute' then now() else rate_window_start end
              where token_hash = ${hash} and active
              returning ${cols}`
          : sql`select ${cols} from capture_sources where token_hash = ${hash} and active`,
      ),
    ),
  )
  const r = rows[0]
  if (!r) return null
  const arr = (v: unknown): string[] =>
    Array.isArray(v) ? v.map(String) : typeof v === 'string' ? parsePgArray(v) : []
  return {
    id: String(r.id),
    organizationId: String(r.organization_id),
    sourceLabel: String(r.source_label),
    tags: arr(r.tags),
    pipelineId: (r.pipeline_id as string | null) ?? null,
    stageId: (r.stage_id as string | null) ?? null,
    redirectUrl: (r.redirect_url as string | null) ?? null,
    allowedOrigins: arr(r.allowed_origins),
    rateCount: Number(r.rate_count),
    retryAfter: Number(r.retry_after),
  }
}

/** `{a,"b c"}` (a text[] some drivers return as text). */
function parsePgArray(s: string): string[] {
  if (s === '{}' || !s.startsWith('{')) return []
  const out: string[] = []
  const re = /"((?:[^"\\]|\\.)*)"|([^,{}]+)/g
  for (const m of s.slice(1, -1).matchAll(re))
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!)
  return out
}

/** May a page of `origin` post here (and read the answer)? No Origin header: not a browser's CORS call. */
export const originAllowed = (src: Pick<ResolvedSource, 'allowedOrigins'>, origin: string | null) =>
  !origin || src.allowedOrigins.length === 0 || src.allowedOrigins.includes(origin)

export interface Arrival {
  contentType: string | null
  remoteIp: string | null
  /** The parsed fields, or what to keep of a body that could not be read and why. */
  body:
    | { ok: true; fields: CaptureFields }
    | { ok: false; reason: 'too_large' | 'content_type' | 'bad_json' | 'origin'; summary: CaptureFields }
}

export type IntakeResult =
  | { kind: 'accepted'; submissionId: string; leadId: string; outcome: 'created' | 'merged' | 'flagged' }
  | { kind: 'spam'; submissionId: string }
  | { kind: 'rejected'; submissionId: string; reasons: RejectReasons; status: number }

const FAILURE: Record<'too_large' | 'content_type' | 'bad_json' | 'origin', { key: string; status: number }> =
  {
    too_large: { key: 'capture.error.too_large', status: 413 },
    content_type: { key: 'capture.error.content_type', status: 415 },
    bad_json: { key: 'capture.error.bad_json', status: 400 },
    origin: { key: 'capture.error.origin_refused', status: 403 },
  }

/** Everything after the token: store, check, capture. Runs in the source organization's withOrg. */
export async function receiveSubmission(tx: OrgTx, src: ResolvedSource, a: Arrival): Promise<IntakeResult> {
  const payload = a.body.ok ? a.body.fields : a.body.summary
  const [sub] = await tx
    .insert(captureSubmissions)
    .values({
      organizationId: src.organizationId,
      sourceId: src.id,
      contentType: a.contentType?.slice(0, 200) ?? null,
      payload: payload as Record<string, unknown>,
      remoteIp: a.remoteIp?.slice(0, 64) ?? null,
      status: 'accepted',
    })
    .returning({ id: captureSubmissions.id })
  const submissionId = sub!.id
  if (!a.body.ok) {
    const f = FAILURE[a.body.reason]
    const reasons = { _: f.key }
    await markSubmission(tx, submissionId, { status: 'rejected', error: encodeReasons(reasons) })
    return { kind: 'rejected', submissionId, reasons, status: f.status }
  }
  if (isSpam(a.body.fields)) {
    await markSubmission(tx, submissionId, { status: 'spam' })
    return { kind: 'spam', submissionId }
  }
  const done = await captureFromFields(tx, a.body.fields, {
    sourceLabel: src.sourceLabel,
    tags: src.tags,
    pipelineId: src.pipelineId,
    stageId: src.stageId,
    actorId: null,
  })
  if (!done.ok) {
    await markSubmission(tx, submissionId, { status: 'rejected', error: encodeReasons(done.reasons) })
    return { kind: 'rejected', submissionId, reasons: done.reasons, status: 422 }
  }
  await markSubmission(tx, submissionId, { status: 'processed', leadId: done.leadId, outcome: done.outcome })
  return { kind: 'accepted', submissionId, leadId: done.leadId, outcome: done.outcome }
}

export interface CaptureTarget {
  sourceLabel: string
  tags: string[]
  pipelineId: string | null
  stageId: string | null
  actorId: string | null
  /** "Create lead anyway": invalid email/phone move into the note instead of refusing the lead. */
  lenient?: boolean
}

export type CaptureAttempt =
  | { ok: true; leadId: string; outcome: 'created' | 'merged' | 'flagged' }
  | { ok: false; reasons: RejectReasons }

/** Maps the fields, checks them, and calls captureLead inside a savepoint (a refusal undoes its writes). */
export async function captureFromFields(
  tx: OrgTx,
  fields: CaptureFields,
  target: CaptureTarget,
): Promise<CaptureAttempt> {
  const keys = new Set(
    (await tx.select({ key: customFieldDefs.key }).from(customFieldDefs)).map((r) => r.key),
  )
  const m = mapCaptureFields(fields, keys)
  const [country, locale] = [await orgDefaultCountry(tx), await orgLocale(tx)]
  const t = translator(locale)
  const reasons: RejectReasons = {}
  const notes: string[] = []
  if (m.email && !EMAIL_RE.test(normalizeEmail(m.email))) {
    if (target.lenient) notes.push(`${t('capture.field.email')}: ${m.email}`)
    else reasons.email = 'error.email'
    m.email = target.lenient ? '' : m.email
  }
  if (m.phone && !toE164(m.phone, country)) {
    if (target.lenient) notes.push(`${t('capture.field.phone')}: ${m.phone}`)
    else reasons.phone = 'capture.error.phone'
    m.phone = target.lenient ? '' : m.phone
  }
  if (!m.fullName && !m.email && !m.phone && !(target.lenient && notes.length))
    reasons._ = 'capture.error.no_contact'
  if (Object.keys(reasons).length) return { ok: false, reasons }
  const input = toCaptureInput(m, target, t('capture.note.extra'), notes, t('capture.note.invalid'))
  try {
    const result = await tx.transaction((sp) =>
      captureLead(sp as OrgTx, input, { actorId: target.actorId, channel: 'capture' }),
    )
    return { ok: true, leadId: result.leadId, outcome: result.outcome }
  } catch (err) {
    if (err instanceof FormError) return { ok: false, reasons: reasonsOf(err) }
    throw err
  }
}

function toCaptureInput(
  m: MappedCapture,
  target: CaptureTarget,
  extraTitle: string,
  invalid: string[],
  invalidTitle: string,
): CaptureInput {
  const tags = [...new Set([...target.tags, ...m.tags.map((x) => x.toLowerCase())])].slice(0, 20)
  const note = [captureNote(m, extraTitle), invalid.length ? `${invalidTitle}\n${invalid.join('\n')}` : '']
    .filter(Boolean)
    .join('\n\n')
  return {
    fullName: m.fullName || m.email || m.phone || invalid[0]?.split(': ')[1] || '—',
    email: m.email || null,
    phone: m.phone || null,
    company: m.company || null,
    jobTitle: m.jobTitle || null,
    value: m.value || null,
    source: target.sourceLabel,
    tags,
    custom: m.custom,
    ownerId: null,
    pipelineId: target.pipelineId,
    stageId: target.stageId,
    note: note || null,
  }
}

async function orgLocale(tx: OrgTx) {
  const [row] = rowsOf<{ locale: string }>(
    await tx.execute(
      sql`select locale from organizations where id = nullif(current_setting('app.org_id', true), '')::uuid`,
    ),
  )
  return isLocale(row?.locale) ? row.locale : 'pt-BR'
}
