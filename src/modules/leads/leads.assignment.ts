/**
 * Automatic assignment. Rules are ordered; the first active rule whose condition matches the lead
 * (source, tag, custom field, region from the phone's area code, or "any lead" as a fallback) and
 * whose team has an available member picks the owner:
 *
 * - round-robin: the next available member after the one who got the rule's last lead;
 * - least-loaded: the available member with the fewest open leads (leads in open-kind stages), ties
 *   broken in round-robin order.
 *
 * The rule row is locked FOR UPDATE while choosing, so concurrent captures take turns instead of
 * giving two leads the same turn. Members marked unavailable are skipped; with nobody eligible in any
 * matching rule the lead stays unassigned. The assignment is written like the pipeline's assignLead
 * (owner, version, 'assigned' timeline entry, `lead.updated`), with no actor and the rule's name, and
 * the assignee gets an in-app notification.
 */
import { and, asc, eq, sql } from 'drizzle-orm'
import { rowsOf } from '../../platform/db/client'
import type { OrgTx } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { toNumber } from '../../platform/events/events.pg'
import { Check, forbidden, notFound } from '../../platform/http/errors'
import { isUuid } from '../../shared/ids'
import { notify } from '../notifications/notifications.usecases'
import { recordAudit } from '../orgs/orgs.audit'
import type { Role } from '../orgs/orgs.table'
import '../pipeline/pipeline.events'
import { swapWithNeighbour } from '../../shared/order'
import { insertActivity } from '../pipeline/pipeline.repository'
import { type CaptureCache, cachedRead } from './leads.capture-cache'
import {
  ASSIGNMENT_CONDITIONS,
  type Condition,
  type ConditionForm,
  type LeadFacts,
  matchCondition,
  parseConditionForm,
  readCondition,
} from './leads.conditions'
import { listCustomFields } from './leads.custom-fields'
import {
  type AssignmentRule,
  assignmentRuleMembers,
  assignmentRules,
  STRATEGIES,
  type Strategy,
} from './leads.scoring.table'

interface LeadRow {
  id: string
  owner_id: string | null
  full_name: string
  source: string | null
  tags: string[]
  custom: unknown
  region: string | null
  created_at_ms: unknown
}

/** The member after `last` in `team` (sorted), wrapping around: the round-robin order. */
export function rotation(team: string[], last: string | null): string[] {
  const sorted = [...team].sort()
  if (!last) return sorted
  const i = sorted.findIndex((id) => id > last)
  return i < 0 ? sorted : [...sorted.slice(i), ...sorted.slice(0, i)]
}

/** Picks the owner for one rule (its row already locked). Null: nobody available. */
async function pickMember(tx: OrgTx, rule: AssignmentRule): Promise<string | null> {
  const team = rowsOf<{ id: string }>(
    await tx.execute(sql`select m.user_id::text as id from assignment_rule_members rm
      join organization_members m on m.organization_id = rm.organization_id and m.user_id = rm.user_id
      where rm.rule_id = ${rule.id}::uuid and m.available`),
  ).map((r) => r.id)
  if (!team.length) return null
  const order = rotation(team, rule.lastUserId)
  if (rule.strategy === 'round_robin') return order[0]!
  const loads = new Map(
    rowsOf<{ id: string; n: unknown }>(
      await tx.execute(sql`select l.owner_id::text as id, count(*) as n from leads l
        join stages s on s.organization_id = l.organization_id and s.id = l.stage_id
        where s.kind = 'open' and l.owner_id in (${sql.join(
          team.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})
        group by l.owner_id`),
    ).map((r) => [r.id, toNumber(r.n)]),
  )
  let best = order[0]!
  for (const id of order) if ((loads.get(id) ?? 0) < (loads.get(best) ?? 0)) best = id
  return best
}

/**
 * Assigns an unowned lead by the organization's rules. Returns the new owner's id, or null (already
 * owned, no rule matched, or nobody available).
 */
/** The organization's active assignment rules, in order. */
function activeAssignmentRules(tx: OrgTx) {
  return tx
    .select()
    .from(assignmentRules)
    .where(eq(assignmentRules.active, true))
    .orderBy(asc(assignmentRules.position), asc(assignmentRules.id))
}

/** Whether the organization has an active assignment rule (read through the batch's cache). */
export async function hasAssignmentRules(tx: OrgTx, cache: CaptureCache): Promise<boolean> {
  return (await cache.get('assignmentRules', () => activeAssignmentRules(tx))).length > 0
}

export async function autoAssignLead(
  tx: OrgTx,
  leadId: string,
  opts: { cache?: CaptureCache } = {},
): Promise<string | null> {
  if (!isUuid(leadId)) return null
  const loadRules = () => activeAssignmentRules(tx)
  // With the rules known for the batch, an organization without any skips reading the lead.
  if (opts.cache && !(await opts.cache.get('assignmentRules', loadRules)).length) return null
  const [lead] = rowsOf<LeadRow>(
    await tx.execute(sql`select id::text as id, owner_id::text as owner_id, full_name, source, tags, custom, region,
        (extract(epoch from created_at) * 1000)::float8 as created_at_ms
      from leads where id = ${leadId}::uuid`),
  )
  if (!lead || lead.owner_id) return null
  const facts: LeadFacts = {
    source: lead.source,
    tags: lead.tags ?? [],
    company: null,
    email: null,
    phone: null,
    valueCents: 0,
    region: lead.region,
    jobTitle: null,
    custom: ((typeof lead.custom === 'string' ? JSON.parse(lead.custom) : lead.custom) ?? {}) as Record<
      string,
      unknown
    >,
    createdAt: new Date(Number(lead.created_at_ms)),
    activity: {},
  }
  const now = new Date()
  // The candidates' conditions (a cached list is fine: the chosen rule is read again under its lock).
  const rules = await cachedRead(opts.cache, 'assignmentRules', loadRules)
  for (const candidate of rules) {
    const cond = readCondition(candidate.condition)
    if (!cond || !matchCondition(cond, facts, now).matched) continue
    // The turn is per rule: lock it, re-read its state, choose, move the turn, all in this transaction.
    const [rule] = await tx
      .select()
      .from(assignmentRules)
      .where(eq(assignmentRules.id, candidate.id))
      .for('update')
    if (!rule) continue
    const pick = await pickMember(tx, rule)
    if (!pick) continue
    await tx.update(assignmentRules).set({ lastUserId: pick }).where(eq(assignmentRules.id, rule.id))
    const [after] = rowsOf<{ version: unknown; pipeline_id: string; stage_id: string }>(
      await tx.execute(sql`update leads set owner_id = ${pick}::uuid, version = version + 1, updated_at = now(),
          last_activity_at = now()
        where id = ${leadId}::uuid and owner_id is null
        returning version, pipeline_id::text as pipeline_id, stage_id::text as stage_id`),
    )
    if (!after) return null // assigned by someone else meanwhile
    await insertActivity(tx, {
      leadId,
      actorId: null,
      kind: 'assigned',
      data: { changes: { ownerId: [null, pick] }, rule: rule.name, auto: true },
    })
    await recordEvent(tx, {
      type: 'lead.updated',
      payload: {
        leadId,
        pipelineId: after.pipeline_id,
        stageId: after.stage_id,
        version: toNumber(after.version),
      },
    })
    const [who] = rowsOf<{ org_id: string; user_locale: string | null; org_locale: string | null }>(
      await tx.execute(sql`select o.id::text as org_id, u.locale as user_locale, o.locale as org_locale
        from organizations o, users u
        where o.id = nullif(current_setting('app.org_id', true), '')::uuid and u.id = ${pick}::uuid`),
    )
    await notify(tx, {
      orgId: who!.org_id,
      userId: pick,
      kind: 'lead.assigned',
      params: { name: lead.full_name, rule: rule.name },
      link: `/pipeline/leads/${leadId}`,
      actorId: null,
      locale: who?.user_locale ?? who?.org_locale,
    })
    return pick
  }
  return null
}

// Rules and availability (owners and admins) -----------------------------------------------------

export interface AssignmentActor {
  orgId: string
  userId: string
  role: Role
  ip?: string | null
}
const requireAdmin = (a: AssignmentActor) => {
  if (a.role !== 'owner' && a.role !== 'admin') throw forbidden()
}

function audit(
  tx: OrgTx,
  actor: AssignmentActor,
  action: string,
  target: { type: string; id: string },
  change: { before?: unknown; after?: unknown },
) {
  return recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action,
    targetType: target.type,
    targetId: target.id,
    ...change,
    ip: actor.ip ?? null,
  })
}
const ruleTarget = (id: string) => ({ type: 'assignment_rule', id })
/** What an audit entry keeps of a rule: what an admin changes on the form. */
const ruleAudit = (r: { name: string; strategy: string; condition: unknown }, members: string[]) => ({
  name: r.name,
  strategy: r.strategy,
  condition: r.condition,
  members,
})

export interface AssignmentForm extends ConditionForm {
  name: string
  strategy: string
  members: string[]
}

export interface MemberRow {
  id: string
  name: string
  email: string
  available: boolean
  openLeads: number
}

/** Members with their availability and open-lead load. */
export async function listMembers(tx: OrgTx): Promise<MemberRow[]> {
  const rows = rowsOf<{ id: string; name: string; email: string; available: boolean; n: unknown }>(
    await tx.execute(sql`select m.user_id::text as id, u.name, u.email, m.available,
        (select count(*) from leads l join stages s on s.organization_id = l.organization_id and s.id = l.stage_id
         where l.owner_id = m.user_id and s.kind = 'open') as n
      from organization_members m join users u on u.id = m.user_id
      order by u.name, m.user_id`),
  )
  return rows.map((r) => ({ ...r, openLeads: toNumber(r.n) }))
}

export async function setAvailability(tx: OrgTx, actor: AssignmentActor, userId: string, available: boolean) {
  if (userId !== actor.userId) requireAdmin(actor)
  if (!isUuid(userId)) throw notFound()
  const rows = rowsOf<{ name: string; was: boolean }>(
    await tx.execute(sql`update organization_members m set available = ${available}
      from organization_members old join users u on u.id = old.user_id
      where m.user_id = ${userId}::uuid and old.organization_id = m.organization_id and old.user_id = m.user_id
      returning u.name, old.available as was`),
  )
  if (!rows.length) throw notFound()
  if (rows[0]!.was !== available)
    await audit(
      tx,
      actor,
      'member.availability_changed',
      { type: 'user', id: userId },
      { before: { name: rows[0]!.name, available: rows[0]!.was }, after: { available } },
    )
}

async function validateAssignment(tx: OrgTx, f: AssignmentForm) {
  const check = new Check()
  const name = (f.name ?? '').trim().replace(/\s+/g, ' ')
  if (!name) check.add('name', 'error.required')
  else if (name.length > 80) check.add('name', 'error.too_long', { max: 80 })
  const strategy = f.strategy as Strategy
  if (!STRATEGIES.includes(strategy)) check.add('strategy', 'error.required')
  const members = [...new Set(f.members.filter(Boolean))]
  const known = new Set((await listMembers(tx)).map((m) => m.id))
  if (!members.length) check.add('members', 'assignment.error.members')
  else if (!members.every((m) => known.has(m))) check.add('members', 'pipeline.error.owner')
  const condition = parseConditionForm(f, ASSIGNMENT_CONDITIONS, await listCustomFields(tx), check)
  check.throwIfAny()
  return { name, strategy, members, condition: condition as Condition }
}

export async function listAssignmentRules(tx: OrgTx) {
  const rules = await tx
    .select()
    .from(assignmentRules)
    .orderBy(asc(assignmentRules.position), asc(assignmentRules.id))
  const members = await tx.select().from(assignmentRuleMembers)
  return rules.map((r) => ({
    ...r,
    parsed: readCondition(r.condition),
    members: members.filter((m) => m.ruleId === r.id).map((m) => m.userId),
  }))
}

async function setMembers(tx: OrgTx, orgId: string, ruleId: string, members: string[]) {
  await tx.delete(assignmentRuleMembers).where(eq(assignmentRuleMembers.ruleId, ruleId))
  if (members.length)
    await tx
      .insert(assignmentRuleMembers)
      .values(members.map((userId) => ({ organizationId: orgId, ruleId, userId })))
}

export async function createAssignmentRule(tx: OrgTx, actor: AssignmentActor, f: AssignmentForm) {
  requireAdmin(actor)
  const v = await validateAssignment(tx, f)
  const [pos] = rowsOf<{ next: unknown }>(
    await tx.execute(sql`select coalesce(max(position), -1) + 1 as next from assignment_rules`),
  )
  const [row] = await tx
    .insert(assignmentRules)
    .values({
      organizationId: actor.orgId,
      name: v.name,
      strategy: v.strategy,
      condition: v.condition as unknown as Record<string, unknown>,
      position: toNumber(pos?.next ?? 0),
    })
    .returning({ id: assignmentRules.id })
  await setMembers(tx, actor.orgId, row!.id, v.members)
  await audit(tx, actor, 'assignment_rule.created', ruleTarget(row!.id), { after: ruleAudit(v, v.members) })
  return row!.id
}

export async function findAssignmentRule(tx: OrgTx, id: string) {
  if (!isUuid(id)) return null
  const [r] = await tx.select().from(assignmentRules).where(eq(assignmentRules.id, id))
  return r ?? null
}

export async function updateAssignmentRule(tx: OrgTx, actor: AssignmentActor, id: string, f: AssignmentForm) {
  requireAdmin(actor)
  const before = await findAssignmentRule(tx, id)
  if (!before) throw notFound()
  const beforeMembers = await ruleMembers(tx, id)
  const v = await validateAssignment(tx, f)
  await tx
    .update(assignmentRules)
    .set({
      name: v.name,
      strategy: v.strategy,
      condition: v.condition as unknown as Record<string, unknown>,
      updatedAt: new Date(),
    })
    .where(eq(assignmentRules.id, id))
  await setMembers(tx, actor.orgId, id, v.members)
  await audit(tx, actor, 'assignment_rule.updated', ruleTarget(id), {
    before: ruleAudit(before, beforeMembers),
    after: ruleAudit(v, v.members),
  })
}

async function ruleMembers(tx: OrgTx, ruleId: string) {
  const rows = await tx
    .select({ userId: assignmentRuleMembers.userId })
    .from(assignmentRuleMembers)
    .where(eq(assignmentRuleMembers.ruleId, ruleId))
  return rows.map((r) => r.userId)
}

export async function setAssignmentRuleActive(
  tx: OrgTx,
  actor: AssignmentActor,
  id: string,
  active: boolean,
) {
  requireAdmin(actor)
  const [r] = await tx
    .update(assignmentRules)
    .set({ active, updatedAt: new Date() })
    .where(eq(assignmentRules.id, id))
    .returning({ id: assignmentRules.id, name: assignmentRules.name })
  if (!r) throw notFound()
  await audit(tx, actor, `assignment_rule.${active ? 'enabled' : 'disabled'}`, ruleTarget(id), {
    before: { name: r.name },
  })
}

export async function deleteAssignmentRule(tx: OrgTx, actor: AssignmentActor, id: string) {
  requireAdmin(actor)
  const before = await findAssignmentRule(tx, id)
  if (!before) throw notFound()
  const members = await ruleMembers(tx, id)
  await tx.delete(assignmentRules).where(eq(assignmentRules.id, id))
  await audit(tx, actor, 'assignment_rule.deleted', ruleTarget(id), { before: ruleAudit(before, members) })
}

export async function moveAssignmentRule(tx: OrgTx, actor: AssignmentActor, id: string, dir: 'up' | 'down') {
  requireAdmin(actor)
  const ids = (
    await tx
      .select({ id: assignmentRules.id })
      .from(assignmentRules)
      .orderBy(asc(assignmentRules.position), asc(assignmentRules.id))
  ).map((r) => r.id)
  const order = swapWithNeighbour(ids, id, dir)
  if (order === undefined) throw notFound()
  if (!order) return
  for (const [k, rid] of order.entries())
    await tx
      .update(assignmentRules)
      .set({ position: k })
      .where(and(eq(assignmentRules.id, rid)))
  const rule = await findAssignmentRule(tx, id)
  await audit(tx, actor, 'assignment_rule.reordered', ruleTarget(id), {
    before: { name: rule!.name },
    after: { direction: dir },
  })
}
