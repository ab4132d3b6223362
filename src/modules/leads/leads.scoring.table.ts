/**
 * Tables of lead scoring and automatic assignment (migrations/0009_lead_scoring.sql).
 */
import {
  boolean,
  foreignKey,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  unique,
  uuid,
} from 'drizzle-orm/pg-core'
import { idColumn, ts } from '../../platform/db/columns'
import { organizationMembers, organizations } from '../orgs/orgs.table'

export type Decay = 'none' | 'linear' | 'half_life'
export const DECAYS: readonly Decay[] = ['none', 'linear', 'half_life']
export type Strategy = 'round_robin' | 'least_loaded'
export const STRATEGIES: readonly Strategy[] = ['round_robin', 'least_loaded']
export type RunReason = 'rules' | 'manual' | 'daily' | 'model'
export type RunState = 'queued' | 'running' | 'done' | 'superseded' | 'failed'

export const scoringRules = pgTable(
  'scoring_rules',
  {
    id: idColumn(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    condition: jsonb('condition').$type<Record<string, unknown>>().notNull(),
    points: integer('points').notNull(),
    decay: text('decay').$type<Decay>().notNull().default('none'),
    decayDays: integer('decay_days'),
    active: boolean('active').notNull().default(true),
    position: integer('position').notNull().default(0),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [unique().on(t.organizationId, t.id)],
)

export const scoringModels = pgTable('scoring_models', {
  organizationId: uuid('organization_id')
    .primaryKey()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  status: text('status').$type<'trained' | 'insufficient' | 'failed'>().notNull(),
  model: jsonb('model').$type<Record<string, unknown>>().notNull().default({}),
  sampleSize: integer('sample_size').notNull().default(0),
  won: integer('won').notNull().default(0),
  lost: integer('lost').notNull().default(0),
  holdoutSize: integer('holdout_size').notNull().default(0),
  accuracy: real('accuracy'),
  auc: real('auc'),
  baseline: real('baseline'),
  trainedAt: ts('trained_at').notNull().defaultNow(),
})

export const scoringRuns = pgTable(
  'scoring_runs',
  {
    id: idColumn(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    reason: text('reason').$type<RunReason>().notNull(),
    state: text('state').$type<RunState>().notNull().default('queued'),
    total: integer('total').notNull().default(0),
    done: integer('done').notNull().default(0),
    changed: integer('changed').notNull().default(0),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [unique().on(t.organizationId, t.id)],
)

export const assignmentRules = pgTable(
  'assignment_rules',
  {
    id: idColumn(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    condition: jsonb('condition').$type<Record<string, unknown>>().notNull(),
    strategy: text('strategy').$type<Strategy>().notNull().default('round_robin'),
    lastUserId: uuid('last_user_id'),
    active: boolean('active').notNull().default(true),
    position: integer('position').notNull().default(0),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    unique().on(t.organizationId, t.id),
    foreignKey({
      columns: [t.organizationId, t.lastUserId],
      foreignColumns: [organizationMembers.organizationId, organizationMembers.userId],
    }),
  ],
)

export const assignmentRuleMembers = pgTable(
  'assignment_rule_members',
  {
    organizationId: uuid('organization_id').notNull(),
    ruleId: uuid('rule_id').notNull(),
    userId: uuid('user_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.ruleId, t.userId] }),
    foreignKey({
      columns: [t.organizationId, t.ruleId],
      foreignColumns: [assignmentRules.organizationId, assignmentRules.id],
    }).onDelete('cascade'),
    foreignKey({
      columns: [t.organizationId, t.userId],
      foreignColumns: [organizationMembers.organizationId, organizationMembers.userId],
    }).onDelete('cascade'),
  ],
)

export type ScoringRule = typeof scoringRules.$inferSelect
export type ScoringModelRow = typeof scoringModels.$inferSelect
export type ScoringRun = typeof scoringRuns.$inferSelect
export type AssignmentRule = typeof assignmentRules.$inferSelect
