/**
 * Pipeline tables (migrations/0003_pipeline.sql). `leads` is shared with the Leads module, which
 * extends it. References between tenant rows are composite (organization_id, id) foreign keys.
 */
import {
  bigint,
  foreignKey,
  integer,
  jsonb,
  pgTable,
  real,
  smallint,
  text,
  unique,
  uuid,
} from 'drizzle-orm/pg-core'
import { idColumn, ts } from '../../platform/db/columns'
import { users } from '../auth/auth.table'
import { organizationMembers, organizations } from '../orgs/orgs.table'

/** One scoring rule's share of a lead's score ("why 45?"). */
export interface ScoreContribution {
  ruleId: string
  label: string
  points: number
}

export type StageKind = 'open' | 'won' | 'lost'
export const STAGE_KINDS: readonly StageKind[] = ['open', 'won', 'lost']

export const pipelines = pgTable(
  'pipelines',
  {
    id: idColumn(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    currency: text('currency').notNull().default('BRL'),
    position: integer('position').notNull().default(0),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [unique().on(t.organizationId, t.id)],
)

export const stages = pgTable(
  'stages',
  {
    id: idColumn(),
    organizationId: uuid('organization_id').notNull(),
    pipelineId: uuid('pipeline_id').notNull(),
    name: text('name').notNull(),
    color: text('color').notNull().default('#64748b'),
    probability: smallint('probability').notNull().default(0),
    kind: text('kind').$type<StageKind>().notNull().default('open'),
    position: integer('position').notNull().default(0),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    unique().on(t.organizationId, t.id),
    unique().on(t.organizationId, t.pipelineId, t.id),
    foreignKey({
      columns: [t.organizationId, t.pipelineId],
      foreignColumns: [pipelines.organizationId, pipelines.id],
    }).onDelete('cascade'),
  ],
)

export const leads = pgTable(
  'leads',
  {
    id: idColumn(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    pipelineId: uuid('pipeline_id').notNull(),
    stageId: uuid('stage_id').notNull(),
    position: bigint('position', { mode: 'number' }).notNull().default(0),
    version: integer('version').notNull().default(1),
    fullName: text('full_name').notNull(),
    email: text('email'),
    phone: text('phone'),
    company: text('company'),
    jobTitle: text('job_title'),
    valueCents: bigint('value_cents', { mode: 'number' }).notNull().default(0),
    currency: text('currency').notNull().default('BRL'),
    source: text('source'),
    ownerId: uuid('owner_id'),
    tags: text('tags').array().notNull().default([]),
    score: integer('score').notNull().default(0),
    lostReason: text('lost_reason'),
    wonAt: ts('won_at'),
    lostAt: ts('lost_at'),
    lastActivityAt: ts('last_activity_at').notNull().defaultNow(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    // Added by the Leads module (migrations/0005_leads.sql).
    emailKey: text('email_key'),
    nameKey: text('name_key').notNull().default(''),
    region: text('region'),
    custom: jsonb('custom').$type<Record<string, unknown>>().notNull().default({}),
    searchText: text('search_text').notNull().default(''),
    scoreDetail: jsonb('score_detail').$type<ScoreContribution[]>().notNull().default([]),
    scoredAt: ts('scored_at'),
    winProbability: real('win_probability'),
  },
  (t) => [
    unique().on(t.organizationId, t.id),
    foreignKey({
      columns: [t.organizationId, t.pipelineId, t.stageId],
      foreignColumns: [stages.organizationId, stages.pipelineId, stages.id],
    }),
    foreignKey({
      columns: [t.organizationId, t.ownerId],
      foreignColumns: [organizationMembers.organizationId, organizationMembers.userId],
    }),
  ],
)

export const leadActivities = pgTable(
  'lead_activities',
  {
    id: idColumn(),
    organizationId: uuid('organization_id').notNull(),
    leadId: uuid('lead_id').notNull(),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    kind: text('kind').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    foreignKey({
      columns: [t.organizationId, t.leadId],
      foreignColumns: [leads.organizationId, leads.id],
    }).onDelete('cascade'),
  ],
)

export const lossReasons = pgTable('loss_reasons', {
  id: idColumn(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  label: text('label').notNull(),
  position: integer('position').notNull().default(0),
  createdAt: ts('created_at').notNull().defaultNow(),
})

export const savedViews = pgTable(
  'saved_views',
  {
    id: idColumn(),
    organizationId: uuid('organization_id').notNull(),
    userId: uuid('user_id').notNull(),
    pipelineId: uuid('pipeline_id').notNull(),
    name: text('name').notNull(),
    query: text('query').notNull().default(''),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    foreignKey({
      columns: [t.organizationId, t.userId],
      foreignColumns: [organizationMembers.organizationId, organizationMembers.userId],
    }).onDelete('cascade'),
    foreignKey({
      columns: [t.organizationId, t.pipelineId],
      foreignColumns: [pipelines.organizationId, pipelines.id],
    }).onDelete('cascade'),
  ],
)

export type Pipeline = typeof pipelines.$inferSelect
export type Stage = typeof stages.$inferSelect
export type Lead = typeof leads.$inferSelect
export type LeadActivity = typeof leadActivities.$inferSelect
export type LossReason = typeof lossReasons.$inferSelect
export type SavedView = typeof savedViews.$inferSelect
