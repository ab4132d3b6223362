/**
 * The capture orchestrator: EVERY way a lead comes in (the manual form, CSV import, capture
 * endpoints, later WhatsApp and the API) goes through `captureLead`, so validation, normalization,
 * deduplication, scoring and assignment happen the same way everywhere.
 *
 *   1. validate and normalize (E.164 phone with the organization's country, email, money, tags,
 *      custom fields); invalid input throws the FormError of `Check` with field errors;
 *   2. find duplicate candidates (leads.dedup.ts) and score them (leads.match.ts);
 *   3. a certain match (a shared phone or email, score >= the organization's auto-merge minimum)
 *      with dedup 'auto': the incoming data is merged into the existing lead (empty fields filled,
 *      tags unioned, nothing non-empty overwritten: what differed is kept in the `merged` timeline
 *      entry) -> 'merged';
 *      a probable match (score >= review minimum, or a certain one with dedup 'review'): the lead is
 *      created AND the pair goes to the review queue -> 'flagged';
 *      nothing -> 'created';
 *   4. a new lead goes through the pipeline's insert (first pipeline, first open stage unless told),
 *      then is scored and, without an owner, assigned automatically; `lead.created` is recorded.
 */
import { sql } from 'drizzle-orm'
import { rowsOf } from '../../platform/db/client'
import type { OrgTx } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { Check, FormError } from '../../platform/http/errors'
import { EMAIL_RE, normalizeEmail } from '../../shared/email'
import { isLocale } from '../../shared/i18n'
import { isUuid } from '../../shared/ids'
import { toE164 } from '../../shared/phone'
import '../pipeline/pipeline.events'
import { insertActivity, insertLead, type NewLead, pgTextArray } from '../pipeline/pipeline.repository'
import { parseMoney, parseTags } from '../pipeline/pipeline.schemas'
import { createDefaultPipeline } from '../pipeline/pipeline.usecases'
import { autoAssignLead } from './leads.assignment'
import { type CaptureCache, cachedRead } from './leads.capture-cache'
import { validateCustom } from './leads.custom-fields'
import {
  type CandidateLead,
  type DedupSettings,
  findCandidates,
  flagPair,
  type LeadSnapshot,
  loadDedupSettings,
  lockKeys,
  matchRecordOf,
  type ScoredCandidate,
  scoreCandidates,
} from './leads.dedup'
import type { DedupMode } from './leads.dedup.table'
import { type MatchRecord, type MatchResult, matchScore } from './leads.match'
import { type LeadKeys, leadKeys, orgDefaultCountry } from './leads.normalize'
import { rescoreLead, scoringInputs } from './leads.scoring'

/** No active scoring rule and no trained model (known from the batch's cache). */
export async function scoringIsIdle(tx: OrgTx, cache: CaptureCache) {
  const { rules, model } = await scoringInputs(tx, cache)
  return !rules.length && !model
}

export interface CaptureInput {
  fullName: string
  email?: string | null
  phone?: string | null
  company?: string | null
  jobTitle?: string | null
  /** Money as people type it: "1.500,00", "R$ 1.500", "1500.00". */
  value?: string | null
  source?: string | null
  tags?: string[]
  custom?: Record<string, unknown>
  ownerId?: string | null
  pipelineId?: string | null
  stageId?: string | null
  note?: string | null
  /** A hand-typed starting score (the manual form); scoring rules, when the organization has any, replace it. */
  score?: number | null
}

export type CaptureChannel = 'manual' | 'import' | 'capture' | 'whatsapp' | 'api'

export interface CaptureOptions {
  actorId: string | null
  channel: CaptureChannel
  /** Default: the organization's setting (Settings → Duplicates). */
  dedup?: DedupMode
  /**
   * Bulk callers (the CSV import): one cache per batch transaction, created inside it, so the
   * organization's settings are read once per batch instead of once per lead (leads.capture-cache.ts).
   */
  cache?: CaptureCache
}

export interface CaptureResult {
  outcome: 'created' | 'merged' | 'flagged'
  leadId: string
  duplicateOfId?: string
  matchScore?: number
}

export interface CleanCapture {
  fullName: string
  email: string | null
  phone: string | null
  company: string | null
  jobTitle: string | null
  valueCents: number | null
  source: string | null
  tags: string[]
  custom: Record<string, unknown>
  ownerId: string | null
  note: string | null
  score: number
}

const trim = (s: string | null | undefined) => (s ?? '').trim().replace(/\s+/g, ' ')

async function isMember(tx: OrgTx, userId: string) {
  return (
    rowsOf(await tx.execute(sql`select 1 from organization_members where user_id = ${userId}::uuid`)).length >
    0
  )
}

/** Validates and normalizes; throws one FormError with every field error (custom fields included). */
export async function validateCapture(
  tx: OrgTx,
  input: CaptureInput,
  cache?: CaptureCache,
): Promise<CleanCapture> {
  const check = new Check()
  const fullName = trim(input.fullName)
  if (!fullName) check.add('fullName', 'error.required')
  else if (fullName.length > 200) check.add('fullName', 'error.too_long', { max: 200 })
  const email = normalizeEmail(input.email)
  if (email && (!EMAIL_RE.test(email) || email.length > 254)) check.add('email', 'error.email')
  const phoneText = trim(input.phone)
  const phone = phoneText ? toE164(phoneText, await orgDefaultCountry(tx, cache)) : null
  if (phoneText.length > 40) check.add('phone', 'error.too_long', { max: 40 })
  else if (phoneText && !phone) check.add('phone', 'pipeline.error.phone')
  const company = trim(input.company)
  if (company.length > 200) check.add('company', 'error.too_long', { max: 200 })
  const jobTitle = trim(input.jobTitle)
  if (jobTitle.length > 120) check.add('jobTitle', 'error.too_long', { max: 120 })
  // "abc" is not an empty value but an unreadable one (parseMoney keeps digits only).
  const valueText = trim(input.value)
  const value = parseMoney(valueText)
  if (
    (valueText && !/\d/.test(valueText)) ||
    (value !== null && (Number.isNaN(value) || value > 100_000_000_000_000))
  )
    check.add('value', 'pipeline.error.value')
  const source = trim(input.source)
  if (source.length > 60) check.add('source', 'error.too_long', { max: 60 })
  const ownerId = trim(input.ownerId)
  if (ownerId && (!isUuid(ownerId) || !(await isMember(tx, ownerId))))
    check.add('ownerId', 'pipeline.error.owner')
  const note = (input.note ?? '').trim()
  if (note.length > 5000) check.add('note', 'error.too_long', { max: 5000 })
  const score = input.score ?? 0
  if (!Number.isInteger(score) || score < -1000 || score > 1000) check.add('score', 'pipeline.error.score')
  let custom: Record<string, unknown> = {}
  try {
    custom = await validateCustom(tx, input.custom ?? {}, { cache })
  } catch (err) {
    if (!(err instanceof FormError)) throw err
    for (const [f, key] of Object.entries(err.fields)) check.add(f, key, err.params[f])
  }
  check.throwIfAny()
  return {
    fullName,
    email: email || null,
    phone,
    company: company || null,
    jobTitle: jobTitle || null,
    valueCents: value,
    source: source || null,
    tags: parseTags((input.tags ?? []).map((t) => t.replaceAll(',', ' ')).join(',')),
    custom,
    ownerId: ownerId || null,
    note: note || null,
    score,
  }
}

/** The pipeline and open stage a new lead goes to: the requested ones, else the first of each. */
export async function placement(tx: OrgTx, input: CaptureInput, cache?: CaptureCache) {
  const load = async () =>
    rowsOf<{ pipeline_id: string; stage_id: string; currency: string; kind: string }>(
      await tx.execute(
        sql`select p.id as pipeline_id, s.id as stage_id, p.currency, s.kind
          from pipelines p join stages s on s.pipeline_id = p.id
          order by p.position, p.id, s.position, s.id`,
      ),
    )
  let all = await cachedRead(cache, 'placement', load)
  if (!all.length) {
    // Not memoized: the pipeline created below would vanish if this lead's savepoint rolled back.
    cache?.forget('placement')
    // An organization from before the pipeline module: give it its default pipeline now.
    const [org] = rowsOf<{ id: string; locale: string }>(
      await tx.execute(
        sql`select id, locale from organizations where id = nullif(current_setting('app.org_id', true), '')::uuid`,
      ),
    )
    await createDefaultPipeline(tx, org!.id, isLocale(org!.locale) ? org!.locale : 'pt-BR')
    all = await load()
  }
  const check = new Check()
  const pipelineId = input.pipelineId ?? null
  if (pipelineId && !all.some((s) => s.pipeline_id === pipelineId))
    check.add('pipelineId', 'dedup.error.pipeline')
  check.throwIfAny()
  const inPipeline = all.filter((s) => s.pipeline_id === (pipelineId ?? all[0]!.pipeline_id))
  // New leads start in an open stage (won and lost are reached by a move, which records them).
  const stage =
    inPipeline.find((s) => s.stage_id === input.stageId && s.kind === 'open') ??
    inPipeline.find((s) => s.kind === 'open') ??
    inPipeline[0]!
  return { pipelineId: stage.pipeline_id, stageId: stage.stage_id, currency: stage.currency }
}

/** What capture does with a scored record: merge into the best lead (and flag the leads it links), or create. */
export type CaptureDecision<L extends CandidateLead = LeadSnapshot> =
  | { kind: 'merge'; best: ScoredCandidate<L>; links: { otherId: string; match: MatchResult }[] }
  | { kind: 'create'; flagged: ScoredCandidate<L>[] }

/**
 * The decision of captureLead, without the database (shared with the batch path, so both decide
 * alike): a certain match at or above the auto-merge minimum merges in 'auto' mode; otherwise a new
 * lead, with its probable matches (at most five) queued for review.
 */
export function decideCapture<L extends CandidateLead>(
  scored: ScoredCandidate<L>[],
  incoming: { phone: string | null; emailKey: string | null },
  settings: DedupSettings,
  mode: DedupMode,
): CaptureDecision<L> {
  const best = scored[0]
  if (best && mode === 'auto' && best.match.certain && best.match.score >= settings.autoMergeMin) {
    // The incoming record may also link the kept lead to another one (it shares the kept lead's
    // phone and the other's email, say): that pair goes to review, on the stronger of the two
    // comparisons — the kept lead as it is now, or the incoming record when it shares a contact.
    const kept = {
      ...best.lead,
      phone: best.lead.phone ?? incoming.phone,
      emailKey: best.lead.emailKey ?? incoming.emailKey,
    }
    const links: { otherId: string; match: MatchResult }[] = []
    for (const other of scored.slice(1)) {
      const direct = matchScore(matchRecordOf(kept), matchRecordOf(other.lead))
      // The incoming record is the link only when it shares a phone or an email with the other lead.
      const m = other.match.certain && other.match.score > direct.score ? other.match : direct
      if (m.score >= settings.reviewMin) links.push({ otherId: other.lead.id, match: m })
    }
    return { kind: 'merge', best, links }
  }
  return { kind: 'create', flagged: scored.filter((c) => c.match.score >= settings.reviewMin).slice(0, 5) }
}

/** The merge branch of captureLead: merge, flag the linked pairs, tell the queue. */
export async function applyMerge(
  tx: OrgTx,
  decision: Extract<CaptureDecision, { kind: 'merge' }>,
  clean: CleanCapture,
  opts: CaptureOptions & { rescore?: boolean },
): Promise<{ result: CaptureResult; kept: MatchRecord }> {
  const { best, links } = decision
  const kept = await mergeIncoming(tx, best.lead, clean, opts, opts.rescore ?? true)
  let changed = false
  for (const l of links)
    if (await flagPair(tx, best.lead.id, l.otherId, l.match.score, l.match.reasons)) changed = true
  if (changed) await recordEvent(tx, { type: 'lead.duplicates_changed', payload: {} })
  return {
    result: {
      outcome: 'merged',
      leadId: best.lead.id,
      duplicateOfId: best.lead.id,
      matchScore: best.match.score,
    },
    kept,
  }
}

export async function captureLead(
  tx: OrgTx,
  input: CaptureInput,
  opts: CaptureOptions,
): Promise<CaptureResult> {
  const clean = await validateCapture(tx, input, opts.cache)
  const settings = await loadDedupSettings(tx, opts.cache)
  const mode = opts.dedup ?? settings.dedupMode
  const keys = leadKeys(clean)
  const probe = matchRecordOf({ ...keys, phone: clean.phone, company: clean.company })

  let scored: ScoredCandidate[] = []
  if (mode !== 'off') {
    await lockKeys(tx, probe)
    scored = scoreCandidates(probe, await findCandidates(tx, probe))
  }
  const decision = decideCapture(scored, probe, settings, mode)
  if (decision.kind === 'merge') return (await applyMerge(tx, decision, clean, opts)).result

  const where = await placement(tx, input, opts.cache)
  const created = await insertLead(tx, newLeadOf(clean, keys, where, opts.actorId))
  if (clean.note)
    await insertActivity(tx, {
      leadId: created.id,
      actorId: opts.actorId,
      kind: 'note',
      data: { body: clean.note },
    })
  await recordEvent(tx, {
    type: 'lead.created',
    payload: { leadId: created.id, pipelineId: where.pipelineId, stageId: where.stageId },
  })
  const { flagged } = decision
  for (const c of flagged) await flagPair(tx, created.id, c.lead.id, c.match.score, c.match.reasons)
  if (flagged.length) await recordEvent(tx, { type: 'lead.duplicates_changed', payload: {} })
  // A new lead has no score detail yet: with no rules and no model, rescoring it would change nothing.
  if (!opts.cache || !(await scoringIsIdle(tx, opts.cache)))
    await rescoreLead(tx, created.id, { cache: opts.cache })
  if (!clean.ownerId) await autoAssignLead(tx, created.id, { cache: opts.cache })
  const top = flagged[0]
  return top
    ? { outcome: 'flagged', leadId: created.id, duplicateOfId: top.lead.id, matchScore: top.match.score }
    : { outcome: 'created', leadId: created.id }
}

/** The row a new lead is inserted as (captureLead and the batch path). */
export function newLeadOf(
  clean: CleanCapture,
  keys: LeadKeys,
  where: { pipelineId: string; stageId: string; currency: string },
  actorId: string | null,
): NewLead {
  return {
    fullName: clean.fullName,
    email: clean.email,
    phone: clean.phone,
    company: clean.company,
    jobTitle: clean.jobTitle,
    valueCents: clean.valueCents ?? 0,
    currency: where.currency,
    source: clean.source,
    ownerId: clean.ownerId,
    tags: clean.tags,
    score: clean.score,
    createdBy: actorId,
    custom: clean.custom,
    ...keys,
    pipelineId: where.pipelineId,
    stageId: where.stageId,
  }
}

const empty = (v: unknown) => v === null || v === undefined || v === '' || v === 0

/**
 * Merges a captured record into an existing lead: empty fields are filled, tags unioned, custom
 * fields added where missing; a non-empty value is never overwritten: the incoming one is kept in the
 * `merged` timeline entry (`differences`), so nothing the capture brought is lost.
 */
export async function mergeIncoming(
  tx: OrgTx,
  lead: LeadSnapshot,
  clean: CleanCapture,
  opts: CaptureOptions,
  rescore = true,
): Promise<MatchRecord> {
  const current: Record<string, unknown> = {
    email: lead.email,
    phone: lead.phone,
    company: lead.company,
    jobTitle: lead.jobTitle,
    valueCents: lead.valueCents,
    source: lead.source,
    ownerId: lead.ownerId,
  }
  const incoming: Record<string, unknown> = {
    email: clean.email,
    phone: clean.phone,
    company: clean.company,
    jobTitle: clean.jobTitle,
    valueCents: clean.valueCents,
    source: clean.source,
    ownerId: clean.ownerId,
  }
  const next = { ...current }
  const filled: string[] = []
  const differences: Record<string, [unknown, unknown]> = {}
  for (const k of Object.keys(incoming)) {
    const have = current[k]
    const got = incoming[k]
    if (empty(got)) continue
    if (empty(have)) {
      next[k] = got
      filled.push(k)
    } else if (JSON.stringify(have) !== JSON.stringify(got)) differences[k] = [have, got]
  }
  if (clean.fullName !== lead.fullName) differences.fullName = [lead.fullName, clean.fullName]
  const tags = [...new Set([...lead.tags, ...clean.tags])].slice(0, 20)
  const addedTags = tags.filter((t) => !lead.tags.includes(t))
  const custom = { ...lead.custom }
  for (const [k, v] of Object.entries(clean.custom)) {
    if (empty(custom[k])) {
      custom[k] = v
      filled.push(`custom.${k}`)
    } else if (JSON.stringify(custom[k]) !== JSON.stringify(v)) differences[`custom.${k}`] = [custom[k], v]
  }
  const keys = leadKeys({
    fullName: lead.fullName,
    email: next.email as string | null,
    phone: next.phone as string | null,
    company: next.company as string | null,
    jobTitle: next.jobTitle as string | null,
    tags,
  })
  const [row] = rowsOf<{ version: number; pipeline_id: string; stage_id: string }>(
    await tx.execute(
      sql`update leads set email = ${next.email as string | null}, phone = ${next.phone as string | null},
          company = ${next.company as string | null}, job_title = ${next.jobTitle as string | null},
          value_cents = ${Number(next.valueCents ?? 0)}::bigint, source = ${next.source as string | null},
          owner_id = ${next.ownerId as string | null}::uuid, tags = ${pgTextArray(tags)}::text[],
          custom = ${JSON.stringify(custom)}::jsonb, email_key = ${keys.emailKey}, name_key = ${keys.nameKey},
          region = ${keys.region}, search_text = ${keys.searchText},
          version = version + 1, updated_at = now(), last_activity_at = now()
        where id = ${lead.id}::uuid returning version, pipeline_id, stage_id`,
    ),
  )
  await insertActivity(tx, {
    leadId: lead.id,
    actorId: opts.actorId,
    kind: 'merged',
    data: { via: opts.channel, filled, addedTags, differences },
  })
  if (clean.note)
    await insertActivity(tx, {
      leadId: lead.id,
      actorId: opts.actorId,
      kind: 'note',
      data: { body: clean.note },
    })
  await recordEvent(tx, {
    type: 'lead.updated',
    payload: {
      leadId: lead.id,
      pipelineId: row!.pipeline_id,
      stageId: row!.stage_id,
      version: Number(row!.version),
    },
  })
  // The caller knows when it cannot change anything (no rules, no model, nothing scored before).
  if (rescore) await rescoreLead(tx, lead.id, { cache: opts.cache })
  return {
    nameKey: keys.nameKey,
    phone: next.phone as string | null,
    emailKey: keys.emailKey,
    company: next.company as string | null,
  }
}
