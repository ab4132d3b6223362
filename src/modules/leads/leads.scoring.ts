/**
 * Lead scoring: per-organization rules (a validated condition, +/- points, optional decay) evaluated
 * in TypeScript over one read of the lead and its timeline (latest entry and count per kind), plus
 * the learned model's win probability when the organization has one.
 *
 * `rescoreLead` writes score, score_detail (each rule's contribution, summing to the score) and
 * scored_at only when something changed, bumps the lead's version and records `lead.updated` with
 * `cause: 'score'` (open boards refresh the card; the scoring consumer ignores its own events, so
 * there is no feedback loop). `rescoreBatch` does the same for a keyset page of leads in two
 * statements (the "rescore every lead" job); boards reload once at the end of such a run.
 *
 * An organization without rules keeps hand-typed scores: a lead is only rewritten once rules have
 * scored it (a non-empty score_detail) or rules exist.
 */
import { asc, eq, sql } from 'drizzle-orm'
import { rowsOf } from '../../platform/db/client'
import type { OrgTx } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { toNumber } from '../../platform/events/events.pg'
import { Check, forbidden, notFound } from '../../platform/http/errors'
import { isUuid } from '../../shared/ids'
import { recordAudit } from '../orgs/orgs.audit'
import type { Role } from '../orgs/orgs.table'
import '../pipeline/pipeline.events'
import { swapWithNeighbour } from '../../shared/order'
import type { ScoreContribution } from '../pipeline/pipeline.table'
import { type CaptureCache, cachedRead } from './leads.capture-cache'
import {
  type Condition,
  type ConditionForm,
  type LeadFacts,
  matchCondition,
  parseConditionForm,
  readCondition,
  SCORING_CONDITIONS,
} from './leads.conditions'
import { listCustomFields } from './leads.custom-fields'
import { type ModelLead, predict, readModel, type TrainedModel } from './leads.model'
import { DECAYS, type Decay, type ScoringRule, scoringModels, scoringRules } from './leads.scoring.table'

export const SCORE_MIN = -1000
export const SCORE_MAX = 1000
/** The ruleId of the entry that accounts for clamping to SCORE_MIN..SCORE_MAX. */
export const CLAMP_RULE = 'limit'
const DAY = 86_400_000

/** Timeline kinds that are not interactions (never counted as activity by the model). */
export const NON_INTERACTION_KINDS = [
  'created',
  'moved',
  'won',
  'lost',
  'edited',
  'assigned',
  'reopened',
  'merged',
]

export interface ActiveRule {
  id: string
  name: string
  condition: Condition
  points: number
  decay: Decay
  decayDays: number | null
}

export interface Evaluation {
  score: number
  detail: ScoreContribution[]
}

/** A rule's points after decay, from the age of the triggering fact. */
export function decayedPoints(r: Pick<ActiveRule, 'points' | 'decay' | 'decayDays'>, at: Date, now: Date) {
  if (r.decay === 'none' || !r.decayDays) return r.points
  const ageDays = Math.max(0, (now.getTime() - at.getTime()) / DAY)
  const factor =
    r.decay === 'linear' ? Math.max(0, 1 - ageDays / r.decayDays) : 0.5 ** (ageDays / r.decayDays)
  const p = Math.round(r.points * factor)
  return p === 0 ? 0 : p // no -0
}

/** Evaluates rules in order; the detail always sums to the (clamped) score. */
export function evaluateRules(rules: ActiveRule[], facts: LeadFacts, now: Date): Evaluation {
  const detail: ScoreContribution[] = []
  let sum = 0
  for (const r of rules) {
    const m = matchCondition(r.condition, facts, now)
    if (!m.matched) continue
    const points = decayedPoints(r, m.at, now)
    if (!points) continue
    detail.push({ ruleId: r.id, label: r.name, points })
    sum += points
  }
  const score = Math.max(SCORE_MIN, Math.min(SCORE_MAX, sum))
  if (score !== sum) detail.push({ ruleId: CLAMP_RULE, label: '', points: score - sum })
  return { score, detail }
}

export async function loadActiveRules(tx: OrgTx): Promise<ActiveRule[]> {
  const rows = await tx
    .select()
    .from(scoringRules)
    .where(eq(scoringRules.active, true))
    .orderBy(asc(scoringRules.position), asc(scoringRules.id))
  return rows.flatMap((r) => {
    const condition = readCondition(r.condition)
    return condition
      ? [{ id: r.id, name: r.name, condition, points: r.points, decay: r.decay, decayDays: r.decayDays }]
      : []
  })
}

export async function loadModel(tx: OrgTx): Promise<TrainedModel | null> {
  const [row] = await tx
    .select({ model: scoringModels.model, status: scoringModels.status })
    .from(scoringModels)
    .limit(1)
  return row?.status === 'trained' ? readModel(row.model) : null
}

/** The active rules and the trained model, read once per batch when a capture cache is given. */
export async function scoringInputs(
  tx: OrgTx,
  cache?: CaptureCache,
): Promise<{ rules: ActiveRule[]; model: TrainedModel | null }> {
  const rules = await cachedRead(cache, 'scoringRules', () => loadActiveRules(tx))
  const model = await cachedRead(cache, 'scoringModel', () => loadModel(tx))
  return { rules, model }
}

// Reading leads ----------------------------------------------------------------------------------

interface FactsRow {
  id: string
  source: string | null
  tags: string[]
  company: string | null
  email: string | null
  phone: string | null
  value_cents: unknown
  region: string | null
  job_title: string | null
  custom: unknown
  created_at_ms: unknown
  score: unknown
  score_detail: unknown
  win_probability: unknown
  stage_kind: string
  /** { kind: [latest epoch ms, count] } */
  acts: unknown
}

const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T

/** The lead columns and its timeline summary, for `where` (one statement). */
const factsSelect = (where: ReturnType<typeof sql>, limit: number, lock = false) => sql`
  select l.id::text as id, l.source, l.tags, l.company, l.email, l.phone, l.value_cents, l.region,
    l.job_title, l.custom, (extract(epoch from l.created_at) * 1000)::float8 as created_at_ms, l.score,
    l.score_detail, l.win_probability, s.kind as stage_kind,
    (select coalesce(jsonb_object_agg(x.kind, jsonb_build_array(x.at, x.n)), '{}'::jsonb)
       from (select a.kind, (extract(epoch from max(a.created_at)) * 1000)::float8 as at, count(*) as n
             from lead_activities a
             where a.organization_id = l.organization_id and a.lead_id = l.id
             group by a.kind) x) as acts
  from leads l join stages s on s.organization_id = l.organization_id and s.id = l.stage_id
  where ${where}
  order by l.id
  limit ${limit}
  ${lock ? sql`for update of l` : sql``}`

function factsOf(r: FactsRow): { facts: LeadFacts; model: ModelLead } {
  const acts = json<Record<string, [number, number]>>(r.acts) ?? {}
  const activity: Record<string, Date> = {}
  let activityCount = 0
  for (const [kind, [at, n]] of Object.entries(acts)) {
    activity[kind] = new Date(Number(at))
    if (!NON_INTERACTION_KINDS.includes(kind)) activityCount += Number(n)
  }
  const custom = json<Record<string, unknown>>(r.custom) ?? {}
  const facts: LeadFacts = {
    source: r.source,
    tags: r.tags ?? [],
    company: r.company,
    email: r.email,
    phone: r.phone,
    valueCents: toNumber(r.value_cents),
    region: r.region,
    jobTitle: r.job_title,
    custom,
    createdAt: new Date(Number(r.created_at_ms)),
    activity,
  }
  return {
    facts,
    model: {
      source: r.source,
      tags: facts.tags,
      valueCents: facts.valueCents,
      email: r.email,
      phone: r.phone,
      company: r.company,
      region: r.region,
      custom,
      activityCount,
      noteCount: Number(acts.note?.[1] ?? 0),
    },
  }
}

/** jsonb reorders object keys: compare contributions field by field. */
const detailKey = (d: ScoreContribution[]) =>
  d.map((c) => `${c.ruleId}\u0000${c.label}\u0000${c.points}`).join('\u0001')

interface Outcome {
  id: string
  score: number
  detail: ScoreContribution[]
  probability: number | null
  changed: boolean
}

function outcomeOf(r: FactsRow, rules: ActiveRule[], model: TrainedModel | null, now: Date): Outcome {
  const { facts, model: m } = factsOf(r)
  const oldScore = toNumber(r.score)
  const oldDetail = json<ScoreContribution[]>(r.score_detail) ?? []
  const oldP = r.win_probability == null ? null : Number(r.win_probability)
  // No rules and never scored by rules: the hand-typed score stays.
  const keep = !rules.length && !oldDetail.length
  const ev = keep ? { score: oldScore, detail: oldDetail } : evaluateRules(rules, facts, now)
  // Open leads get the model's probability; closed ones keep what they had when they closed.
  const probability =
    r.stage_kind !== 'open' ? oldP : model ? Math.round(predict(model, m) * 10_000) / 10_000 : null
  const changed =
    ev.score !== oldScore ||
    detailKey(ev.detail) !== detailKey(oldDetail) ||
    (probability === null ? oldP !== null : oldP === null || Math.abs(probability - oldP) > 1e-4)
  return { id: r.id, score: ev.score, detail: ev.detail, probability, changed }
}

/**
 * Recomputes one lead's score (and win probability). Writes only when it changed; then the version
 * goes up and `lead.updated` (cause 'score') tells open boards.
 */
export async function rescoreLead(
  tx: OrgTx,
  leadId: string,
  opts: { now?: Date; cache?: CaptureCache } = {},
): Promise<{ score: number; changed: boolean }> {
  if (!isUuid(leadId)) throw notFound()
  const now = opts.now ?? new Date()
  const { rules, model } = await scoringInputs(tx, opts.cache)
  // Locked: two jobs for the same lead run one after the other, and the second sees the first's write.
  const [row] = rowsOf<FactsRow>(await tx.execute(factsSelect(sql`l.id = ${leadId}::uuid`, 1, true)))
  if (!row) throw notFound()
  const o = outcomeOf(row, rules, model, now)
  if (!o.changed) return { score: o.score, changed: false }
  const [after] = rowsOf<{ version: number; pipeline_id: string; stage_id: string }>(
    await tx.execute(sql`
      update leads set score = ${o.score}, score_detail = ${JSON.stringify(o.detail)}::jsonb,
        win_probability = ${o.probability}::real, scored_at = now(), version = version + 1
      where id = ${leadId}::uuid
      returning version, pipeline_id::text as pipeline_id, stage_id::text as stage_id`),
  )
  if (!after) throw notFound()
  await recordEvent(tx, {
    type: 'lead.updated',
    payload: {
      leadId,
      pipelineId: after.pipeline_id,
      stageId: after.stage_id,
      version: toNumber(after.version),
      cause: 'score',
    },
  })
  return { score: o.score, changed: true }
}

/**
 * One keyset page of leads (id > after): evaluate and write the changed ones in one statement.
 * No per-lead events: the run ends with one `pipeline.updated` per pipeline.
 */
export async function rescoreBatch(
  tx: OrgTx,
  req: { after: string | null; limit: number; rules: ActiveRule[]; model: TrainedModel | null; now: Date },
): Promise<{ lastId: string | null; count: number; changed: number }> {
  const where = req.after ? sql`l.id > ${req.after}::uuid` : sql`true`
  const rows = rowsOf<FactsRow>(await tx.execute(factsSelect(where, req.limit)))
  const changed = rows.map((r) => outcomeOf(r, req.rules, req.model, req.now)).filter((o) => o.changed)
  if (changed.length) {
    const payload = JSON.stringify(
      changed.map((o) => ({ id: o.id, score: o.score, detail: o.detail, p: o.probability })),
    )
    await tx.execute(sql`
      update leads l set score = v.score, score_detail = v.detail, win_probability = v.p, scored_at = now(),
        version = l.version + 1
      from jsonb_to_recordset(${payload}::jsonb) as v(id uuid, score integer, detail jsonb, p real)
      where l.id = v.id`)
  }
  return { lastId: rows.at(-1)?.id ?? null, count: rows.length, changed: changed.length }
}

// Rules (owners and admins) ----------------------------------------------------------------------

export interface ScoringActor {
  orgId: string
  userId: string
  role: Role
  ip?: string | null
}
const requireAdmin = (a: ScoringActor) => {
  if (a.role !== 'owner' && a.role !== 'admin') throw forbidden()
}

/** What an audit entry keeps of a rule: what an admin changes on the form. */
const ruleAudit = (r: {
  name: string
  points: number
  decay: string
  decayDays: number | null
  condition: unknown
}) => ({
  name: r.name,
  points: r.points,
  decay: r.decay,
  decayDays: r.decayDays,
  condition: r.condition,
})
function auditRule(
  tx: OrgTx,
  actor: ScoringActor,
  action: string,
  id: string,
  change: { before?: unknown; after?: unknown },
) {
  return recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: `scoring_rule.${action}`,
    targetType: 'scoring_rule',
    targetId: id,
    ...change,
    ip: actor.ip ?? null,
  })
}

export interface RuleForm extends ConditionForm {
  name: string
  points: string
  decay: string
  decayDays: string
}
export const RULE_FIELDS: (keyof RuleForm)[] = [
  'name',
  'points',
  'decay',
  'decayDays',
  'condType',
  'condValues',
  'condNumber',
  'condField',
  'condKey',
  'condOp',
  'condKind',
  'condDays',
]

async function validateRule(tx: OrgTx, f: RuleForm) {
  const check = new Check()
  const name = (f.name ?? '').trim().replace(/\s+/g, ' ')
  if (!name) check.add('name', 'error.required')
  else if (name.length > 80) check.add('name', 'error.too_long', { max: 80 })
  const points = Number((f.points ?? '').trim().replace(/^\+/, ''))
  if (!(f.points ?? '').trim() || !Number.isInteger(points) || points === 0 || Math.abs(points) > 1000)
    check.add('points', 'scoring.error.points')
  const decay = (DECAYS.includes(f.decay as Decay) ? f.decay : 'none') as Decay
  let decayDays: number | null = null
  if (decay !== 'none') {
    decayDays = Number((f.decayDays ?? '').trim())
    if (!Number.isInteger(decayDays) || decayDays < 1 || decayDays > 3650)
      check.add('decayDays', 'scoring.error.days')
  }
  const defs = await listCustomFields(tx)
  const condition = parseConditionForm(f, SCORING_CONDITIONS, defs, check)
  check.throwIfAny()
  return { name, points, decay, decayDays, condition: condition as Condition }
}

export async function listRules(tx: OrgTx): Promise<(ScoringRule & { parsed: Condition | null })[]> {
  const rows = await tx.select().from(scoringRules).orderBy(asc(scoringRules.position), asc(scoringRules.id))
  return rows.map((r) => ({ ...r, parsed: readCondition(r.condition) }))
}

export async function findRule(tx: OrgTx, id: string) {
  if (!isUuid(id)) return null
  const [r] = await tx.select().from(scoringRules).where(eq(scoringRules.id, id))
  return r ?? null
}

export async function createRule(tx: OrgTx, actor: ScoringActor, f: RuleForm): Promise<string> {
  requireAdmin(actor)
  const v = await validateRule(tx, f)
  const [pos] = rowsOf<{ next: unknown }>(
    await tx.execute(sql`select coalesce(max(position), -1) + 1 as next from scoring_rules`),
  )
  const [row] = await tx
    .insert(scoringRules)
    .values({
      organizationId: actor.orgId,
      ...v,
      condition: v.condition as unknown as Record<string, unknown>,
      position: toNumber(pos?.next ?? 0),
    })
    .returning({ id: scoringRules.id })
  await auditRule(tx, actor, 'created', row!.id, { after: ruleAudit(v) })
  return row!.id
}

export async function updateRule(tx: OrgTx, actor: ScoringActor, id: string, f: RuleForm) {
  requireAdmin(actor)
  const before = await findRule(tx, id)
  if (!before) throw notFound()
  const v = await validateRule(tx, f)
  await tx
    .update(scoringRules)
    .set({ ...v, condition: v.condition as unknown as Record<string, unknown>, updatedAt: new Date() })
    .where(eq(scoringRules.id, id))
  await auditRule(tx, actor, 'updated', id, { before: ruleAudit(before), after: ruleAudit(v) })
}

export async function setRuleActive(tx: OrgTx, actor: ScoringActor, id: string, active: boolean) {
  requireAdmin(actor)
  const [r] = await tx
    .update(scoringRules)
    .set({ active, updatedAt: new Date() })
    .where(eq(scoringRules.id, id))
    .returning({ id: scoringRules.id, name: scoringRules.name })
  if (!r) throw notFound()
  await auditRule(tx, actor, active ? 'enabled' : 'disabled', id, { before: { name: r.name } })
}

export async function deleteRule(tx: OrgTx, actor: ScoringActor, id: string) {
  requireAdmin(actor)
  const before = await findRule(tx, id)
  if (!before) throw notFound()
  await tx.delete(scoringRules).where(eq(scoringRules.id, id))
  await auditRule(tx, actor, 'deleted', id, { before: ruleAudit(before) })
}

/** Swaps a rule with its neighbour (up / down); positions are renumbered 0..n-1. */
export async function moveRule(tx: OrgTx, actor: ScoringActor, id: string, dir: 'up' | 'down') {
  requireAdmin(actor)
  const ids = (
    await tx
      .select({ id: scoringRules.id })
      .from(scoringRules)
      .orderBy(asc(scoringRules.position), asc(scoringRules.id))
  ).map((r) => r.id)
  const order = swapWithNeighbour(ids, id, dir)
  if (order === undefined) throw notFound()
  if (!order) return
  for (const [k, rid] of order.entries())
    await tx.update(scoringRules).set({ position: k }).where(eq(scoringRules.id, rid))
  const rule = await findRule(tx, id)
  await auditRule(tx, actor, 'reordered', id, { before: { name: rule!.name }, after: { direction: dir } })
}

/** Leads with id > after, counted (for a run's progress). */
/**
 * Scores are computed when the organization has an active rule: the lead forms then show the score
 * read-only, and a hand-typed one is refused (the next rescore would silently replace it).
 */
export async function scoringRulesActive(tx: OrgTx): Promise<boolean> {
  const [r] = rowsOf<{ on: boolean }>(
    await tx.execute(sql`select exists (select 1 from scoring_rules where active) as on`),
  )
  return !!r?.on
}

export async function countLeads(tx: OrgTx): Promise<number> {
  const [r] = rowsOf<{ n: unknown }>(await tx.execute(sql`select count(*) as n from leads`))
  return toNumber(r?.n ?? 0)
}

/** Does any active rule depend on time (decay, or an activity window)? The daily pass skips others. */
export async function hasTimeRules(tx: OrgTx): Promise<boolean> {
  const rules = await loadActiveRules(tx)
  return rules.some((r) => r.decay !== 'none' || r.condition.type === 'activity')
}
