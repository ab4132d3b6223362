/**
 * Tables of CSV imports (migrations/0007_lead_imports.sql): the import and its checkpoint, the
 * uploaded file in chunks, and the report rows (every row that did not simply create a lead).
 */
import {
  bigint,
  customType,
  foreignKey,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  unique,
  uuid,
} from 'drizzle-orm/pg-core'
import { idColumn, ts } from '../../platform/db/columns'
import { users } from '../auth/auth.table'
import { organizations } from '../orgs/orgs.table'
import { leads, pipelines, stages } from '../pipeline/pipeline.table'

export type ImportStatus = 'draft' | 'queued' | 'running' | 'completed' | 'failed'
export type ImportDedup = 'auto' | 'review' | 'off'
/** 'created' rows are reported only with a warning (an Owner not found: the lead was still created). */
export type ImportOutcome = 'created' | 'merged' | 'flagged' | 'rejected'
export type CsvEncoding = 'utf-8' | 'windows-1252'

const bytea = customType<{ data: Uint8Array }>({ dataType: () => 'bytea' })

export const leadImports = pgTable(
  'lead_imports',
  {
    id: idColumn(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    channel: text('channel').$type<'ui' | 'cli'>().notNull().default('ui'),
    filename: text('filename').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    encoding: text('encoding').$type<CsvEncoding>().notNull(),
    delimiter: text('delimiter').notNull(),
    /** What detection found at upload (migration 0018); `encoding`/`delimiter` may be the user's override. */
    detectedEncoding: text('detected_encoding').$type<CsvEncoding>(),
    detectedDelimiter: text('detected_delimiter'),
    headers: text('headers').array().notNull(),
    totalRows: integer('total_rows').notNull(),
    mapping: text('mapping').array().notNull().default([]),
    dedup: text('dedup').$type<ImportDedup>().notNull().default('auto'),
    pipelineId: uuid('pipeline_id'),
    stageId: uuid('stage_id'),
    defaultSource: text('default_source'),
    defaultTags: text('default_tags').array().notNull().default([]),
    status: text('status').$type<ImportStatus>().notNull().default('draft'),
    processedRows: integer('processed_rows').notNull().default(0),
    createdCount: integer('created_count').notNull().default(0),
    mergedCount: integer('merged_count').notNull().default(0),
    flaggedCount: integer('flagged_count').notNull().default(0),
    rejectedCount: integer('rejected_count').notNull().default(0),
    error: text('error'),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    unique().on(t.organizationId, t.id),
    foreignKey({
      columns: [t.organizationId, t.pipelineId],
      foreignColumns: [pipelines.organizationId, pipelines.id],
    }),
    foreignKey({
      columns: [t.organizationId, t.pipelineId, t.stageId],
      foreignColumns: [stages.organizationId, stages.pipelineId, stages.id],
    }),
  ],
)

export const leadImportChunks = pgTable(
  'lead_import_chunks',
  {
    organizationId: uuid('organization_id').notNull(),
    importId: uuid('import_id').notNull(),
    seq: integer('seq').notNull(),
    data: bytea('data').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.importId, t.seq] }),
    foreignKey({
      columns: [t.organizationId, t.importId],
      foreignColumns: [leadImports.organizationId, leadImports.id],
    }).onDelete('cascade'),
  ],
)

export const leadImportRows = pgTable(
  'lead_import_rows',
  {
    organizationId: uuid('organization_id').notNull(),
    importId: uuid('import_id').notNull(),
    rowNumber: integer('row_number').notNull(),
    outcome: text('outcome').$type<ImportOutcome>().notNull(),
    leadId: uuid('lead_id'),
    duplicateOfId: uuid('duplicate_of_id'),
    reasons: jsonb('reasons').$type<RowReasons>().notNull().default({}),
    cells: text('cells').array().notNull().default([]),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.importId, t.rowNumber] }),
    foreignKey({
      columns: [t.organizationId, t.importId],
      foreignColumns: [leadImports.organizationId, leadImports.id],
    }).onDelete('cascade'),
    foreignKey({ columns: [t.organizationId, t.leadId], foreignColumns: [leads.organizationId, leads.id] }),
    foreignKey({
      columns: [t.organizationId, t.duplicateOfId],
      foreignColumns: [leads.organizationId, leads.id],
    }),
  ],
)

/** Why a row was not simply created: per field, a message key and its parameters. */
export type RowReasons = Record<string, { key: string; params?: Record<string, string | number> }>

export type LeadImport = typeof leadImports.$inferSelect
