/** Outbox tables (migrations/0002_platform.sql). Written and read through events.outbox.ts. */
import { bigint, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { users } from '../../modules/auth/auth.table'
import { organizations } from '../../modules/orgs/orgs.table'
import { ts } from '../db/columns'

export const outboxCounters = pgTable('outbox_counters', {
  organizationId: uuid('organization_id')
    .primaryKey()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  version: bigint('version', { mode: 'number' }).notNull(),
})

export const outboxEvents = pgTable(
  'outbox_events',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    version: bigint('version', { mode: 'number' }).notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    actorId: uuid('actor_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.version] })],
)

export const outboxCursors = pgTable('outbox_cursors', {
  organizationId: uuid('organization_id')
    .primaryKey()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  version: bigint('version', { mode: 'number' }).notNull().default(0),
  updatedAt: ts('updated_at').notNull().defaultNow(),
})
