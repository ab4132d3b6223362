/**
 * Test and bench helpers for scoring and assignment: extra members, rules through the use cases,
 * and many leads at once with plain SQL (generate_series) for the batch paths.
 */
import type { Db } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { type AssignmentForm, createAssignmentRule } from './leads.assignment'
import type { Condition } from './leads.conditions'
import { conditionFormValues } from './leads.conditions'
import { createRule, type RuleForm } from './leads.scoring'

/** Adds a member (a new user) to the organization, as the database owner. */
export async function addMember(db: Db, orgId: string, name: string, role = 'member'): Promise<string> {
  const [u] = await db.raw.query<{ id: string }>(
    `insert into users (id, email, name, password_hash) values (gen_random_uuid(), $1, $2, 'x') returning id`,
    [`${name.toLowerCase().replace(/\W+/g, '.')}.${Bun.randomUUIDv7().slice(-8)}@example.com`, name],
  )
  await db.raw.query(
    'insert into organization_members (organization_id, user_id, role) values ($1, $2, $3)',
    [orgId, u!.id, role],
  )
  return u!.id
}

const owner = (m: { orgId: string; userId: string }) => ({
  orgId: m.orgId,
  userId: m.userId,
  role: 'owner' as const,
})

/** A scoring rule through the use case (validation included). */
export async function addScoringRule(
  db: Db,
  m: { orgId: string; userId: string },
  rule: {
    name: string
    points: number
    condition: Condition
    decay?: 'linear' | 'half_life'
    decayDays?: number
  },
) {
  const form: RuleForm = {
    ...conditionFormValues(rule.condition),
    name: rule.name,
    points: String(rule.points),
    decay: rule.decay ?? 'none',
    decayDays: rule.decayDays ? String(rule.decayDays) : '',
  }
  return withOrg(db, m, (tx) => createRule(tx, owner(m), form))
}

export async function addAssignmentRule(
  db: Db,
  m: { orgId: string; userId: string },
  rule: { name: string; condition: Condition; strategy: 'round_robin' | 'least_loaded'; members: string[] },
) {
  const form: AssignmentForm = {
    ...conditionFormValues(rule.condition),
    name: rule.name,
    strategy: rule.strategy,
    members: rule.members,
  }
  return withOrg(db, m, (tx) => createAssignmentRule(tx, owner(m), form))
}

/**
 * `n` leads in the organization's first open stage, straight in SQL (owner of the database), with
 * sources cycling through `sources` and every third one tagged vip.
 */
export async function insertLeads(
  db: Db,
  orgId: string,
  n: number,
  sources: string[] = ['Site', 'Google Ads', 'Indicação'],
) {
  const [stage] = await db.raw.query<{ id: string; pipeline_id: string }>(
    `select s.id, s.pipeline_id from stages s join pipelines p on p.id = s.pipeline_id
     where s.organization_id = $1 and s.kind = 'open' order by p.position, s.position limit 1`,
    [orgId],
  )
  await db.raw.query(
    `insert into leads (id, organization_id, pipeline_id, stage_id, position, full_name, source, tags, value_cents)
     select gen_random_uuid(), $1, $2, $3, i * 1024, 'Lead ' || i, ($4::text[])[1 + i % cardinality($4::text[])],
       case when i % 3 = 0 then array['vip'] else array[]::text[] end, (i % 10) * 100000
     from generate_series(1, $5::int) i`,
    [orgId, stage!.pipeline_id, stage!.id, sources, n],
  )
}
