/**
 * Tables of the Leads module (migrations/0005_leads.sql and later). The lead record itself is
 * `leads` in pipeline.table.ts, extended by 0005.
 */
import { boolean, index, integer, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core'
import { idColumn, ts } from '../../platform/db/columns'
import { organizations } from '../orgs/orgs.table'

export type CustomFieldType = 'text' | 'number' | 'date' | 'select' | 'multiselect' | 'boolean'
export const CUSTOM_FIELD_TYPES: readonly CustomFieldType[] = [
  'text',
  'number',
  'date',
  'select',
  'multiselect',
  'boolean',
]

export const customFieldDefs = pgTable(
  'custom_field_defs',
  {
    id: idColumn(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    label: text('label').notNull(),
    type: text('type').$type<CustomFieldType>().notNull(),
    options: text('options').array().notNull().default([]),
    required: boolean('required').notNull().default(false),
    showInList: boolean('show_in_list').notNull().default(false),
    position: integer('position').notNull().default(0),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [unique().on(t.organizationId, t.id), unique().on(t.organizationId, t.key)],
)

export type CustomFieldDef = typeof customFieldDefs.$inferSelect

/**
 * Search terms (migrations/0019_lead_search_terms.sql): the distinct lexemes of each lead's
 * search_tsv (collation "C"), written by triggers on leads; the list's search and the board's `q`
 * read them by prefix range (a btree, usable under RLS, where the tsvector match is not).
 */
export const leadSearchTerms = pgTable(
  'lead_search_terms',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    leadId: uuid('lead_id').notNull(),
    term: text('term').notNull(),
  },
  (t) => [index('lead_search_terms_term_idx').on(t.organizationId, t.term, t.leadId)],
)
