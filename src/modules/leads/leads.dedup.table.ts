/**
 * Tables of deduplication (migrations/0006_lead_dedup.sql, 0015_lead_name_keys.sql): per-organization
 * settings, the queue of possible duplicates (one row per unordered pair), the record of every merge
 * and the name blocking keys.
 */
import { foreignKey, index, jsonb, pgTable, smallint, text, unique, uuid } from 'drizzle-orm/pg-core'
import { idColumn, ts } from '../../platform/db/columns'
import { users } from '../auth/auth.table'
import { organizations } from '../orgs/orgs.table'
import { leads } from '../pipeline/pipeline.table'

export type DedupMode = 'auto' | 'review' | 'off'
export const DEDUP_MODES: readonly DedupMode[] = ['auto', 'review', 'off']
export type DuplicateStatus = 'open' | 'merged' | 'dismissed'

/** One piece of evidence behind a match score: a code, its weight and, for names, the similarity. */
export interface MatchReason {
  code: string
  points: number
  similarity?: number
}

export const leadSettings = pgTable('lead_settings', {
  organizationId: uuid('organization_id')
    .primaryKey()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  dedupMode: text('dedup_mode').$type<DedupMode>().notNull().default('auto'),
  autoMergeMin: smallint('auto_merge_min').notNull().default(90),
  reviewMin: smallint('review_min').notNull().default(60),
  updatedAt: ts('updated_at').notNull().defaultNow(),
})

export const leadDuplicates = pgTable(
  'lead_duplicates',
  {
    id: idColumn(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    leadA: uuid('lead_a'),
    leadB: uuid('lead_b'),
    score: smallint('score').notNull(),
    reasons: jsonb('reasons').$type<MatchReason[]>().notNull().default([]),
    status: text('status').$type<DuplicateStatus>().notNull().default('open'),
    createdAt: ts('created_at').notNull().defaultNow(),
    resolvedAt: ts('resolved_at'),
    resolvedBy: uuid('resolved_by').references(() => users.id, { onDelete: 'set null' }),
  },
  (t) => [
    unique().on(t.organizationId, t.leadA, t.leadB),
    foreignKey({ columns: [t.organizationId, t.leadA], foreignColumns: [leads.organizationId, leads.id] }),
    foreignKey({ columns: [t.organizationId, t.leadB], foreignColumns: [leads.organizationId, leads.id] }),
  ],
)

export const leadMerges = pgTable(
  'lead_merges',
  {
    id: idColumn(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    keptLeadId: uuid('kept_lead_id').notNull(),
    mergedLeadId: uuid('merged_lead_id').notNull(),
    mergedBy: uuid('merged_by').references(() => users.id, { onDelete: 'set null' }),
    via: text('via').notNull(),
    snapshot: jsonb('snapshot').$type<Record<string, unknown>>().notNull(),
    changes: jsonb('changes').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    foreignKey({
      columns: [t.organizationId, t.keptLeadId],
      foreignColumns: [leads.organizationId, leads.id],
    }).onDelete('cascade'),
  ],
)

/**
 * Name blocking keys (migrations/0015_lead_name_keys.sql): every unordered pair of words of a lead's
 * name key, written by a trigger on leads; the duplicate search reads them (a btree, usable under
 * RLS, where the tsvector match is not).
 */
export const leadNameKeys = pgTable(
  'lead_name_keys',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    leadId: uuid('lead_id').notNull(),
    key: text('key').notNull(),
  },
  (t) => [index('lead_name_keys_key_idx').on(t.organizationId, t.key, t.leadId)],
)

export type LeadSettings = typeof leadSettings.$inferSelect
export type LeadDuplicate = typeof leadDuplicates.$inferSelect
