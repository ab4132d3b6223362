/** Job queue tables (migrations/0002_platform.sql). Written and read through jobs.queue.ts / jobs.worker.ts. */
import { integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { organizations } from '../../modules/orgs/orgs.table'
import { idColumn, ts } from '../db/columns'

export type JobState = 'queued' | 'running' | 'failed' | 'completed' | 'dead' | 'cancelled'
export const JOB_STATES: readonly JobState[] = [
  'queued',
  'running',
  'failed',
  'completed',
  'dead',
  'cancelled',
]

export const jobs = pgTable('jobs', {
  id: idColumn(),
  organizationId: uuid('organization_id').references(() => organizations.id, { onDelete: 'cascade' }),
  queue: text('queue').notNull().default('default'),
  name: text('name').notNull(),
  payload: jsonb('payload').notNull(),
  state: text('state').$type<JobState>().notNull().default('queued'),
  priority: integer('priority').notNull().default(0),
  runAt: ts('run_at').notNull().defaultNow(),
  attempts: integer('attempts').notNull().default(0),
  maxAttempts: integer('max_attempts').notNull().default(5),
  idempotencyKey: text('idempotency_key'),
  lockedBy: text('locked_by'),
  lockedUntil: ts('locked_until'),
  lastError: text('last_error'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  startedAt: ts('started_at'),
  finishedAt: ts('finished_at'),
})

export const jobSchedules = pgTable('job_schedules', {
  name: text('name').primaryKey(),
  cron: text('cron').notNull(),
  timezone: text('timezone'),
  jobName: text('job_name').notNull(),
  queue: text('queue').notNull(),
  payload: jsonb('payload').notNull(),
  nextRunAt: ts('next_run_at').notNull(),
  lastRunAt: ts('last_run_at'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
})
