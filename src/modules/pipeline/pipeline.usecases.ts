/**
 * Pipeline use cases: plain functions of an `OrgTx` (RLS-scoped transaction), the acting member and
 * plain input. Writes record their domain events in the same transaction (outbox), so an event exists
 * exactly when its change committed. Admin changes to pipelines and stages write the audit log.
 */
import { and, asc, eq, sql } from 'drizzle-orm'
import { rowsOf } from '../../platform/db/client'
import type { OrgTx, SystemTx } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { Check, FormError, forbidden } from '../../platform/http/errors'
import { EMAIL_RE, normalizeEmail } from '../../shared/email'
import { type Locale, translator } from '../../shared/i18n'
import { isUuid } from '../../shared/ids'
import { toE164 } from '../../shared/phone'
import { validateCustom } from '../leads/leads.custom-fields'
import { leadKeys, orgDefaultCountry } from '../leads/leads.normalize'
import { scoringRulesActive } from '../leads/leads.scoring'
import { recordAudit } from '../orgs/orgs.audit'
import type { Role } from '../orgs/orgs.table'
import { PIPELINE_ERRORS } from './pipeline.errors'
import './pipeline.events'
import {
  type BoardContext,
  boardContext,
  boardSnapshot,
  type Card,
  type Column,
  cardById,
  columnPage,
  countLeadsInPipeline,
  countLeadsInStage,
  type FilterScope,
  findPipeline,
  findStage,
  insertActivity,
  insertLead,
  insertPipeline,
  leadActivities,
  leadDetail,
  listStages,
  type MoveRow,
  moveLeadRow,
  type PipelineRef,
  pgTextArray,
  reassignStageLeads,
  rebalanceStage,
  type StageSeed,
  seedLossReasons,
  stageCounts,
} from './pipeline.repository'
import { type BoardFilters, filtersQuery, parseFilters, parseMoney, parseTags } from './pipeline.schemas'
import {
  leads,
  lossReasons,
  pipelines,
  STAGE_KINDS,
  type StageKind,
  savedViews,
  stages,
} from './pipeline.table'

/** Who acts: from the session, never from input. */
export interface PipelineActor {
  orgId: string
  userId: string
  role: Role
  ip?: string | null
}

export const canAdmin = (role: Role) => role === 'owner' || role === 'admin'
const requireAdmin = (actor: PipelineActor) => {
  if (!canAdmin(actor.role)) throw forbidden()
}
const notFound = PIPELINE_ERRORS.notFound

// Defaults ---------------------------------------------------------------------------------------

/** The starting pipeline, in the organization's language. */
export function defaultPipeline(locale: Locale): { name: string; stages: StageSeed[]; reasons: string[] } {
  const t = translator(locale)
  return {
    name: t('pipeline.default.name'),
    stages: [
      { name: t('pipeline.default.new'), color: '#3b82f6', probability: 10, kind: 'open' },
      { name: t('pipeline.default.qualified'), color: '#8b5cf6', probability: 25, kind: 'open' },
      { name: t('pipeline.default.proposal'), color: '#f59e0b', probability: 50, kind: 'open' },
      { name: t('pipeline.default.negotiation'), color: '#ec4899', probability: 75, kind: 'open' },
      { name: t('pipeline.default.won'), color: '#16a34a', probability: 100, kind: 'won' },
      { name: t('pipeline.default.lost'), color: '#dc2626', probability: 0, kind: 'lost' },
    ],
    reasons: [
      t('pipeline.default.reason_price'),
      t('pipeline.default.reason_competitor'),
      t('pipeline.default.reason_no_response'),
      t('pipeline.default.reason_no_budget'),
      t('pipeline.default.reason_timing'),
      t('pipeline.default.reason_other'),
    ],
  }
}

/**
 * A new organization's default pipeline and loss reasons. Called from createOrganizationTx (as the
 * system, inside the sign-up transaction) and lazily for organizations created before this module.
 */
export async function createDefaultPipeline(tx: OrgTx | SystemTx, orgId: string, locale: Locale) {
  const d = defaultPipeline(locale)
  const id = await insertPipeline(tx, orgId, { name: d.name, stages: d.stages })
  await seedLossReasons(tx, orgId, d.reasons)
  return id
}

// Board ------------------------------------------------------------------------------------------

export interface BoardRequest {
  pipelineId: string | null
  filters: BoardFilters
  timezone: string
  locale: Locale
}

export interface Board {
  ctx: BoardContext
  pipeline: PipelineRef
  columns: Column[]
}

const scopeOf = (actor: PipelineActor, timezone: string): FilterScope => ({ userId: actor.userId, timezone })

/** The board in one statement (plus the default pipeline the first time an org opens it). */
export async function loadBoard(tx: OrgTx, actor: PipelineActor, req: BoardRequest): Promise<Board> {
  const scope = scopeOf(actor, req.timezone)
  let board = await boardSnapshot(tx, actor.userId, req.pipelineId, req.filters, scope)
  if (!board.ctx.pipelines.length) {
    await createDefaultPipeline(tx, actor.orgId, req.locale)
    board = await boardSnapshot(tx, actor.userId, req.pipelineId, req.filters, scope)
  }
  if (!board.pipeline) throw notFound()
  return { ctx: board.ctx, pipeline: board.pipeline, columns: board.columns }
}

/** `after` is the cursor "<position>_<id>" of the last card shown. */
export function parseCursor(after: string | undefined): { position: number; id: string } | null {
  if (!after) return null
  const i = after.indexOf('_')
  const position = Number(after.slice(0, i))
  const id = after.slice(i + 1)
  if (i < 1 || !Number.isSafeInteger(position) || !isUuid(id)) return null
  return { position, id }
}
export const cursorOf = (c: Pick<Card, 'position' | 'id'>) => `${c.position}_${c.id}`

export async function loadColumnPage(
  tx: OrgTx,
  actor: PipelineActor,
  req: {
    pipelineId: string
    stageId: string
    filters: BoardFilters
    after: string | undefined
    timezone: string
  },
) {
  const stage = await findStage(tx, req.stageId, req.pipelineId)
  if (!stage) throw notFound()
  const page = await columnPage(
    tx,
    stage.id,
    req.filters,
    scopeOf(actor, req.timezone),
    parseCursor(req.after),
  )
  return { stage, ...page }
}

export async function loadCard(
  tx: OrgTx,
  actor: PipelineActor,
  leadId: string,
  filters: BoardFilters,
  timezone: string,
) {
  return cardById(tx, leadId, filters, scopeOf(actor, timezone))
}

export async function loadLead(tx: OrgTx, actor: PipelineActor, leadId: string) {
  const lead = await leadDetail(tx, leadId)
  if (!lead) throw notFound()
  const [activities, stageList, ctx] = [
    await leadActivities(tx, leadId),
    await listStages(tx, lead.pipelineId),
    await boardContext(tx, actor.userId),
  ]
  return { lead, activities, stages: stageList, ctx }
}

// Leads ------------------------------------------------------------------------------------------

export interface LeadInput {
  fullName: string
  email: string
  phone: string
  company: string
  jobTitle: string
  value: string
  source: string
  ownerId: string
  tags: string
  /** Absent when the form does not offer it (scores computed by rules): the score is kept. */
  score?: string
}

export const LEAD_FIELDS: (keyof LeadInput)[] = [
  'fullName',
  'email',
  'phone',
  'company',
  'jobTitle',
  'value',
  'source',
  'ownerId',
  'tags',
  'score',
]

interface CleanLead {
  fullName: string
  email: string | null
  phone: string | null
  company: string | null
  jobTitle: string | null
  valueCents: number
  source: string | null
  ownerId: string | null
  tags: string[]
  /** Undefined: not posted (keep the lead's score). */
  score: number | undefined
}

async function isMember(tx: OrgTx, userId: string) {
  return (
    rowsOf(await tx.execute(sql`select 1 from organization_members where user_id = ${userId}::uuid`)).length >
    0
  )
}

async function validateLead(tx: OrgTx, input: LeadInput): Promise<CleanLead> {
  const trim = (s: string | undefined) => (s ?? '').trim()
  const check = new Check()
  const fullName = trim(input.fullName).replace(/\s+/g, ' ')
  if (!fullName) check.add('fullName', 'error.required')
  else if (fullName.length > 200) check.add('fullName', 'error.too_long', { max: 200 })
  const email = normalizeEmail(input.email)
  if (email && (!EMAIL_RE.test(email) || email.length > 254)) check.add('email', 'error.email')
  // Stored as E.164; a number the organization's numbering plan cannot read is a form error.
  const phoneText = trim(input.phone)
  const phone = phoneText ? toE164(phoneText, await orgDefaultCountry(tx)) : null
  if (phoneText.length > 40) check.add('phone', 'error.too_long', { max: 40 })
  else if (phoneText && !phone) check.add('phone', 'pipeline.error.phone')
  const company = trim(input.company)
  if (company.length > 200) check.add('company', 'error.too_long', { max: 200 })
  const jobTitle = trim(input.jobTitle)
  if (jobTitle.length > 120) check.add('jobTitle', 'error.too_long', { max: 120 })
  const value = parseMoney(input.value ?? '')
  if (value !== null && (Number.isNaN(value) || value > 100_000_000_000_000))
    check.add('value', 'pipeline.error.value')
  const source = trim(input.source)
  if (source.length > 60) check.add('source', 'error.too_long', { max: 60 })
  const scoreText = input.score === undefined ? undefined : trim(input.score)
  const score = scoreText === undefined ? undefined : scoreText ? Number(scoreText) : 0
  if (score !== undefined && (!Number.isInteger(score) || score < -1000 || score > 1000))
    check.add('score', 'pipeline.error.score')
  const ownerId = trim(input.ownerId)
  if (ownerId && (!isUuid(ownerId) || !(await isMember(tx, ownerId))))
    check.add('ownerId', 'pipeline.error.owner')
  check.throwIfAny()
  return {
    fullName,
    email: email || null,
    phone: phone || null,
    company: company || null,
    jobTitle: jobTitle || null,
    valueCents: value ?? 0,
    source: source || null,
    ownerId: ownerId || null,
    tags: parseTags(input.tags ?? ''),
    score,
  }
}

export async function createLead(
  tx: OrgTx,
  actor: PipelineActor,
  input: LeadInput & { pipelineId: string; stageId?: string },
) {
  const clean = await validateLead(tx, input)
  const pipeline = isUuid(input.pipelineId) ? await findPipeline(tx, input.pipelineId) : null
  if (!pipeline) throw notFound()
  const stageList = await listStages(tx, pipeline.id)
  // New leads start in an open stage (won and lost are reached by a move, which records them).
  const stage =
    stageList.find((s) => s.id === input.stageId && s.kind === 'open') ??
    stageList.find((s) => s.kind === 'open') ??
    stageList[0]
  if (!stage) throw notFound()
  const created = await insertLead(tx, {
    ...clean,
    score: clean.score ?? 0,
    ...leadKeys(clean),
    pipelineId: pipeline.id,
    stageId: stage.id,
    currency: pipeline.currency,
    createdBy: actor.userId,
  })
  await recordEvent(tx, {
    type: 'lead.created',
    payload: { leadId: created.id, pipelineId: pipeline.id, stageId: stage.id },
  })
  return { id: created.id, pipelineId: pipeline.id, stageId: stage.id }
}

type Diffable = Record<string, unknown>

/**
 * Edits a lead's fields (compare-and-set on `version`), with a before/after timeline entry.
 * `custom` (when the form showed custom fields) is validated by validateCustom as a full write and
 * stored; each changed custom field is its own `custom.<key>` entry of the timeline's changes.
 */
export async function updateLead(
  tx: OrgTx,
  actor: PipelineActor,
  leadId: string,
  input: LeadInput & { custom?: Record<string, unknown> },
  expectedVersion: number,
) {
  // Contact fields and custom fields are checked together: the form shows every error at once.
  const errors: FormError[] = []
  const clean = await validateLead(tx, input).catch((e) => {
    if (e instanceof FormError) errors.push(e)
    else throw e
    return null
  })
  const custom =
    input.custom === undefined
      ? undefined
      : await validateCustom(tx, input.custom).catch((e) => {
          if (e instanceof FormError) errors.push(e)
          else throw e
          return undefined
        })
  if (errors.length)
    throw new FormError(
      Object.assign({}, ...errors.map((e) => e.fields)),
      Object.assign({}, ...errors.map((e) => e.params)),
    )
  if (!clean) throw new Error('unreachable')
  const [before] = await tx.select().from(leads).where(eq(leads.id, leadId)).for('update')
  if (!before) throw notFound()
  if (before.version !== expectedVersion) throw PIPELINE_ERRORS.conflict()
  // Not posted: kept. Computed by the organization's scoring rules: not editable by hand (left
  // blank it is kept; a typed number is refused, since the next rescore would replace it).
  if (clean.score === undefined) clean.score = before.score
  else if (clean.score !== before.score && (await scoringRulesActive(tx))) {
    if ((input.score ?? '').trim()) new Check().add('score', 'pipeline.error.score_computed').throwIfAny()
    clean.score = before.score
  }
  const old: Diffable = {
    fullName: before.fullName,
    email: before.email,
    phone: before.phone,
    company: before.company,
    jobTitle: before.jobTitle,
    valueCents: before.valueCents,
    source: before.source,
    ownerId: before.ownerId,
    tags: before.tags,
    score: before.score,
  }
  const next: Diffable = { ...clean }
  if (custom !== undefined) {
    for (const k of new Set([...Object.keys(before.custom ?? {}), ...Object.keys(custom)])) {
      old[`custom.${k}`] = before.custom?.[k] ?? null
      next[`custom.${k}`] = custom[k] ?? null
    }
  }
  const changed = Object.keys(next).filter((k) => JSON.stringify(old[k]) !== JSON.stringify(next[k]))
  if (!changed.length) return { version: before.version, changed }
  const [after] = await tx
    .update(leads)
    .set({
      ...clean,
      ...leadKeys(clean),
      ...(custom !== undefined ? { custom } : {}),
      tags: sql`${pgTextArray(clean.tags)}::text[]`,
      version: sql`${leads.version} + 1`,
      updatedAt: new Date(),
      lastActivityAt: new Date(),
    })
    .where(and(eq(leads.id, leadId), eq(leads.version, expectedVersion)))
    .returning({ version: leads.version, stageId: leads.stageId, pipelineId: leads.pipelineId })
  if (!after) throw PIPELINE_ERRORS.conflict()
  await insertActivity(tx, {
    leadId,
    actorId: actor.userId,
    kind: changed.includes('ownerId') && changed.length === 1 ? 'assigned' : 'edited',
    data: {
      changes: Object.fromEntries(changed.map((k) => [k, [old[k], next[k]]])),
    },
  })
  await recordEvent(tx, {
    type: 'lead.updated',
    payload: { leadId, pipelineId: after.pipelineId, stageId: after.stageId, version: after.version },
  })
  return { version: after.version, changed }
}

/** Assigns (or unassigns with null) a lead; no version check: the last assignment wins, on purpose. */
export async function assignLead(tx: OrgTx, actor: PipelineActor, leadId: string, ownerId: string | null) {
  if (ownerId && (!isUuid(ownerId) || !(await isMember(tx, ownerId))))
    new Check().add('ownerId', 'pipeline.error.owner').throwIfAny()
  const [before] = await tx
    .select({ ownerId: leads.ownerId })
    .from(leads)
    .where(eq(leads.id, leadId))
    .for('update')
  if (!before) throw notFound()
  if (before.ownerId === ownerId) return
  const [after] = await tx
    .update(leads)
    .set({ ownerId, version: sql`${leads.version} + 1`, updatedAt: new Date(), lastActivityAt: new Date() })
    .where(eq(leads.id, leadId))
    .returning({ version: leads.version, stageId: leads.stageId, pipelineId: leads.pipelineId })
  await insertActivity(tx, {
    leadId,
    actorId: actor.userId,
    kind: 'assigned',
    data: { changes: { ownerId: [before.ownerId, ownerId] } },
  })
  await recordEvent(tx, {
    type: 'lead.updated',
    payload: { leadId, pipelineId: after!.pipelineId, stageId: after!.stageId, version: after!.version },
  })
}

export async function addNote(tx: OrgTx, actor: PipelineActor, leadId: string, body: string) {
  const text = body.trim()
  const check = new Check()
  if (!text) check.add('note', 'error.required')
  else if (text.length > 5000) check.add('note', 'error.too_long', { max: 5000 })
  check.throwIfAny()
  const [lead] = await tx
    .update(leads)
    .set({ lastActivityAt: new Date(), version: sql`${leads.version} + 1` })
    .where(eq(leads.id, leadId))
    .returning({ version: leads.version, stageId: leads.stageId, pipelineId: leads.pipelineId })
  if (!lead) throw notFound()
  await insertActivity(tx, { leadId, actorId: actor.userId, kind: 'note', data: { body: text } })
  await recordEvent(tx, {
    type: 'lead.updated',
    payload: { leadId, pipelineId: lead.pipelineId, stageId: lead.stageId, version: lead.version },
  })
}

// Moves ------------------------------------------------------------------------------------------

export interface MoveRequest {
  leadId: string
  toStageId: string
  afterId?: string | null
  version: number
  /** Closing value typed by the user (won). */
  value?: string | null
  /** Loss reason (lost). */
  reason?: string | null
}

export interface MoveResult {
  leadId: string
  pipelineId: string
  fromStageId: string
  toStageId: string
  toKind: StageKind
  position: number
  version: number
  valueCents: number
  rebalanced: boolean
}

/**
 * Moves a card: one statement (compare-and-set, position, timeline entry and the `lead.moved` event).
 * A stale client (someone else moved or edited the card, or the card it dropped after left the stage)
 * gets a 409 and reloads its board; a gap that ran out renumbers the stage once and retries.
 */
export async function moveLead(tx: OrgTx, actor: PipelineActor, req: MoveRequest): Promise<MoveResult> {
  if (!isUuid(req.leadId) || !isUuid(req.toStageId)) throw notFound()
  const afterId = req.afterId && isUuid(req.afterId) ? req.afterId : null
  if (req.afterId && !afterId) throw PIPELINE_ERRORS.staleBoard()
  if (afterId === req.leadId) throw PIPELINE_ERRORS.staleBoard()
  const valueCents = req.value ? parseMoney(req.value) : null
  if (valueCents !== null && Number.isNaN(valueCents))
    new Check().add('value', 'pipeline.error.value').throwIfAny()
  const reason = req.reason?.trim() ? req.reason.trim().slice(0, 300) : null
  const input = {
    leadId: req.leadId,
    toStageId: req.toStageId,
    afterId,
    expectedVersion: req.version,
    actorId: actor.userId,
    valueCents,
    lostReason: reason,
    rebalanced: false,
  }
  let row: MoveRow = await moveLeadRow(tx, input)
  let rebalanced = false
  if (row.noRoom && !row.moved && row.seenVersion === req.version) {
    await rebalanceStage(tx, req.toStageId)
    rebalanced = true
    row = await moveLeadRow(tx, { ...input, rebalanced })
  }
  if (!row.found || !row.stageFound) throw notFound()
  if (row.needsReason) throw PIPELINE_ERRORS.lossReasonRequired()
  if (row.anchorMissing) throw PIPELINE_ERRORS.staleBoard()
  if (!row.moved) throw PIPELINE_ERRORS.conflict()
  const result: MoveResult = {
    leadId: req.leadId,
    pipelineId: row.toPipelineId!,
    fromStageId: row.fromStageId!,
    toStageId: req.toStageId,
    toKind: row.toKind!,
    position: row.moved.position,
    version: row.moved.version,
    valueCents: row.moved.valueCents,
    rebalanced,
  }
  return result
}

/** Won / lost / reopen from the drawer: a move to the top of the pipeline's first stage of that kind. */
export async function closeLead(
  tx: OrgTx,
  actor: PipelineActor,
  req: { leadId: string; kind: StageKind; version: number; value?: string | null; reason?: string | null },
) {
  const [lead] = await tx.select({ pipelineId: leads.pipelineId }).from(leads).where(eq(leads.id, req.leadId))
  if (!lead) throw notFound()
  const [stage] = await tx
    .select({ id: stages.id })
    .from(stages)
    .where(and(eq(stages.pipelineId, lead.pipelineId), eq(stages.kind, req.kind)))
    .orderBy(asc(stages.position), asc(stages.id))
    .limit(1)
  if (!stage) throw PIPELINE_ERRORS.notFound()
  return moveLead(tx, actor, { ...req, toStageId: stage.id, afterId: null })
}

// Pipelines (admin) ------------------------------------------------------------------------------

function checkName(name: string, field: string, max: number) {
  const v = name.trim().replace(/\s+/g, ' ')
  const check = new Check()
  if (!v) check.add(field, 'error.required')
  else if (v.length > max) check.add(field, 'error.too_long', { max })
  check.throwIfAny()
  return v
}

export async function createPipeline(
  tx: OrgTx,
  actor: PipelineActor,
  input: { name: string; locale: Locale },
) {
  requireAdmin(actor)
  const name = checkName(input.name, 'name', 80)
  const d = defaultPipeline(input.locale)
  const id = await insertPipeline(tx, actor.orgId, { name, stages: d.stages })
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'pipeline.created',
    targetType: 'pipeline',
    targetId: id,
    after: { name },
    ip: actor.ip,
  })
  return id
}

export async function renamePipeline(tx: OrgTx, actor: PipelineActor, pipelineId: string, nameInput: string) {
  requireAdmin(actor)
  const name = checkName(nameInput, 'name', 80)
  const before = await findPipeline(tx, pipelineId)
  if (!before) throw notFound()
  if (before.name === name) return
  await tx.update(pipelines).set({ name, updatedAt: new Date() }).where(eq(pipelines.id, pipelineId))
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'pipeline.renamed',
    targetType: 'pipeline',
    targetId: pipelineId,
    before: { name: before.name },
    after: { name },
    ip: actor.ip,
  })
  await recordEvent(tx, { type: 'pipeline.updated', payload: { pipelineId } })
}

export async function deletePipeline(tx: OrgTx, actor: PipelineActor, pipelineId: string) {
  requireAdmin(actor)
  const p = await findPipeline(tx, pipelineId)
  if (!p) throw notFound()
  const [n] = await tx.select({ n: sql<number>`count(*)` }).from(pipelines)
  if (Number(n?.n ?? 0) <= 1) throw PIPELINE_ERRORS.lastPipeline()
  if ((await countLeadsInPipeline(tx, pipelineId)) > 0) throw PIPELINE_ERRORS.pipelineHasLeads()
  await tx.delete(pipelines).where(eq(pipelines.id, pipelineId))
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'pipeline.deleted',
    targetType: 'pipeline',
    targetId: pipelineId,
    before: { name: p.name },
    ip: actor.ip,
  })
}

// Stages (admin) ---------------------------------------------------------------------------------

export interface StageInput {
  name: string
  color: string
  probability: string
  kind: string
}

function validateStage(input: StageInput) {
  const check = new Check()
  const name = input.name.trim().replace(/\s+/g, ' ')
  if (!name) check.add('name', 'error.required')
  else if (name.length > 60) check.add('name', 'error.too_long', { max: 60 })
  const color = input.color.trim().toLowerCase()
  if (!/^#[0-9a-f]{6}$/.test(color)) check.add('color', 'error.color')
  const probability = input.probability.trim() === '' ? 0 : Number(input.probability)
  if (!Number.isInteger(probability) || probability < 0 || probability > 100)
    check.add('probability', 'pipeline.error.probability')
  const kind = input.kind as StageKind
  if (!STAGE_KINDS.includes(kind)) check.add('kind', 'error.required')
  check.throwIfAny()
  return { name, color, probability, kind }
}

async function renumberStages(tx: OrgTx, ids: string[]) {
  for (const [i, id] of ids.entries())
    await tx.update(stages).set({ position: i, updatedAt: new Date() }).where(eq(stages.id, id))
}

/** Adds a stage after the last open one (won/lost stay at the end). */
export async function createStage(tx: OrgTx, actor: PipelineActor, pipelineId: string, input: StageInput) {
  requireAdmin(actor)
  const v = validateStage(input)
  const pipeline = await findPipeline(tx, pipelineId)
  if (!pipeline) throw notFound()
  const list = await listStages(tx, pipelineId)
  const [row] = await tx
    .insert(stages)
    .values({ organizationId: actor.orgId, pipelineId, ...v, position: list.length })
    .returning({ id: stages.id })
  const lastOpen = list.findLastIndex((s) => s.kind === 'open')
  const order = list.map((s) => s.id)
  order.splice(v.kind === 'open' ? lastOpen + 1 : order.length, 0, row!.id)
  await renumberStages(tx, order)
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'stage.created',
    targetType: 'stage',
    targetId: row!.id,
    after: { pipeline: pipeline.name, ...v },
    ip: actor.ip,
  })
  await recordEvent(tx, { type: 'pipeline.updated', payload: { pipelineId } })
  return row!.id
}

export async function updateStage(tx: OrgTx, actor: PipelineActor, stageId: string, input: StageInput) {
  requireAdmin(actor)
  const v = validateStage(input)
  const before = await findStage(tx, stageId)
  if (!before) throw notFound()
  const changed = (Object.keys(v) as (keyof typeof v)[]).filter((k) => before[k] !== v[k])
  if (!changed.length) return
  await tx
    .update(stages)
    .set({ ...v, updatedAt: new Date() })
    .where(eq(stages.id, stageId))
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'stage.updated',
    targetType: 'stage',
    targetId: stageId,
    // The unchanged name as context, so the audit log can say which stage.
    before: {
      ...(changed.includes('name') ? {} : { stage: before.name }),
      ...Object.fromEntries(changed.map((k) => [k, before[k]])),
    },
    after: Object.fromEntries(changed.map((k) => [k, v[k]])),
    ip: actor.ip,
  })
  await recordEvent(tx, { type: 'pipeline.updated', payload: { pipelineId: before.pipelineId } })
}

/** `ids` must be exactly the pipeline's stages, in their new order. */
export async function reorderStages(tx: OrgTx, actor: PipelineActor, pipelineId: string, ids: string[]) {
  requireAdmin(actor)
  const list = await listStages(tx, pipelineId)
  if (!list.length) throw notFound()
  const have = list.map((s) => s.id)
  if (ids.length !== have.length || new Set(ids).size !== ids.length || !ids.every((id) => have.includes(id)))
    new Check().add('order', 'pipeline.error.order').throwIfAny()
  if (ids.every((id, i) => have[i] === id)) return
  await renumberStages(tx, ids)
  const names = new Map(list.map((s) => [s.id, s.name]))
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'stage.reordered',
    targetType: 'pipeline',
    targetId: pipelineId,
    before: { order: have.map((id) => names.get(id)).join(' → ') },
    after: { order: ids.map((id) => names.get(id)).join(' → ') },
    ip: actor.ip,
  })
  await recordEvent(tx, { type: 'pipeline.updated', payload: { pipelineId } })
}

/**
 * Deletes a stage. Its leads go to `targetStageId` (required when it has any; a stage of the same
 * pipeline), appended in their order; the move and the deletion are one transaction.
 */
export async function deleteStage(
  tx: OrgTx,
  actor: PipelineActor,
  stageId: string,
  targetStageId: string | null,
) {
  requireAdmin(actor)
  const stage = await findStage(tx, stageId)
  if (!stage) throw notFound()
  const list = await listStages(tx, stage.pipelineId)
  if (list.length <= 1) throw PIPELINE_ERRORS.lastStage()
  const count = await countLeadsInStage(tx, stageId)
  let target: (typeof list)[number] | undefined
  if (count > 0) {
    target = list.find((s) => s.id === targetStageId && s.id !== stageId)
    if (!target) new Check().add('target', 'pipeline.error.target_required').throwIfAny()
    await reassignStageLeads(tx, stageId, { id: target!.id, pipelineId: target!.pipelineId })
  }
  await tx.delete(stages).where(eq(stages.id, stageId))
  await renumberStages(
    tx,
    list.filter((s) => s.id !== stageId).map((s) => s.id),
  )
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'stage.deleted',
    targetType: 'stage',
    targetId: stageId,
    before: { name: stage.name, leads: count },
    after: target ? { leadsMovedTo: target.name } : undefined,
    ip: actor.ip,
  })
  await recordEvent(tx, { type: 'pipeline.updated', payload: { pipelineId: stage.pipelineId } })
  return { moved: count, target: target ?? null }
}

export async function loadSettings(tx: OrgTx, actor: PipelineActor, pipelineId: string) {
  requireAdmin(actor)
  const pipeline = await findPipeline(tx, pipelineId)
  if (!pipeline) throw notFound()
  const [stageList, counts, reasons, allPipelines] = [
    await listStages(tx, pipelineId),
    await stageCounts(tx, pipelineId),
    await tx.select().from(lossReasons).orderBy(asc(lossReasons.position), asc(lossReasons.id)),
    await tx.select().from(pipelines).orderBy(asc(pipelines.position), asc(pipelines.id)),
  ]
  return { pipeline, stages: stageList, counts, reasons, pipelines: allPipelines }
}

// Loss reasons (admin) ---------------------------------------------------------------------------

export async function createLossReason(tx: OrgTx, actor: PipelineActor, labelInput: string) {
  requireAdmin(actor)
  const label = checkName(labelInput, 'label', 80)
  const [pos] = await tx
    .select({ next: sql<number>`coalesce(max(${lossReasons.position}), -1) + 1` })
    .from(lossReasons)
  const [row] = await tx
    .insert(lossReasons)
    .values({ organizationId: actor.orgId, label, position: Number(pos?.next ?? 0) })
    .returning({ id: lossReasons.id })
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'loss_reason.created',
    targetType: 'loss_reason',
    targetId: row!.id,
    after: { label },
    ip: actor.ip,
  })
  return row!.id
}

export async function deleteLossReason(tx: OrgTx, actor: PipelineActor, id: string) {
  requireAdmin(actor)
  const [row] = await tx
    .delete(lossReasons)
    .where(eq(lossReasons.id, id))
    .returning({ label: lossReasons.label })
  if (!row) throw notFound()
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'loss_reason.deleted',
    targetType: 'loss_reason',
    targetId: id,
    before: { label: row.label },
    ip: actor.ip,
  })
}

// Saved views (per user) -------------------------------------------------------------------------

export async function saveView(
  tx: OrgTx,
  actor: PipelineActor,
  input: { pipelineId: string; name: string; query: string },
) {
  const name = checkName(input.name, 'viewName', 60)
  const query = filtersQuery(parseFilters(new URLSearchParams(input.query)))
  if (!(await findPipeline(tx, input.pipelineId))) throw notFound()
  const [row] = await tx
    .insert(savedViews)
    .values({ organizationId: actor.orgId, userId: actor.userId, pipelineId: input.pipelineId, name, query })
    .returning({ id: savedViews.id })
  return { id: row!.id, query }
}

export async function deleteView(tx: OrgTx, actor: PipelineActor, id: string) {
  const [row] = await tx
    .delete(savedViews)
    .where(and(eq(savedViews.id, id), eq(savedViews.userId, actor.userId)))
    .returning({ pipelineId: savedViews.pipelineId })
  if (!row) throw notFound()
  return row
}
