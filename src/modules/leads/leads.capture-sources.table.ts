/**
 * Tables of lead capture (migrations/0008_lead_capture.sql): capture sources with their secret token,
 * Facebook Lead Ads connections (secrets sealed with src/platform/crypto/secrets.ts) and every raw
 * submission, kept for review.
 */
import { boolean, integer, jsonb, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core'
import { idColumn, ts } from '../../platform/db/columns'
import { organizations } from '../orgs/orgs.table'

export const captureSources = pgTable(
  'capture_sources',
  {
    id: idColumn(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    sourceLabel: text('source_label').notNull(),
    tags: text('tags').array().notNull().default([]),
    pipelineId: uuid('pipeline_id'),
    stageId: uuid('stage_id'),
    redirectUrl: text('redirect_url'),
    allowedOrigins: text('allowed_origins').array().notNull().default([]),
    active: boolean('active').notNull().default(true),
    tokenHash: text('token_hash').notNull(),
    tokenEnc: text('token_enc').notNull(),
    rateWindowStart: ts('rate_window_start').notNull().defaultNow(),
    rateCount: integer('rate_count').notNull().default(0),
    createdBy: uuid('created_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [unique().on(t.organizationId, t.id)],
)
export type CaptureSource = typeof captureSources.$inferSelect

export const facebookConnections = pgTable(
  'facebook_connections',
  {
    id: idColumn(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    appSecretEnc: text('app_secret_enc').notNull(),
    verifyTokenEnc: text('verify_token_enc').notNull(),
    pageTokenEnc: text('page_token_enc').notNull(),
    sourceLabel: text('source_label').notNull().default('Facebook Lead Ads'),
    tags: text('tags').array().notNull().default([]),
    active: boolean('active').notNull().default(true),
    createdBy: uuid('created_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [unique().on(t.organizationId, t.id)],
)
export type FacebookConnection = typeof facebookConnections.$inferSelect

export type SubmissionStatus = 'accepted' | 'processed' | 'rejected' | 'spam'
export const SUBMISSION_STATUSES: readonly SubmissionStatus[] = ['accepted', 'processed', 'rejected', 'spam']

export const captureSubmissions = pgTable(
  'capture_submissions',
  {
    id: idColumn(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    sourceId: uuid('source_id'),
    connectionId: uuid('connection_id'),
    receivedAt: ts('received_at').notNull().defaultNow(),
    contentType: text('content_type'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    remoteIp: text('remote_ip'),
    status: text('status').$type<SubmissionStatus>().notNull().default('accepted'),
    error: text('error'),
    leadId: uuid('lead_id'),
    outcome: text('outcome').$type<'created' | 'merged' | 'flagged'>(),
    externalId: text('external_id'),
    processedAt: ts('processed_at'),
  },
  (t) => [unique().on(t.organizationId, t.id)],
)
export type CaptureSubmission = typeof captureSubmissions.$inferSelect
