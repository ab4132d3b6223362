import { jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { idColumn, ts } from '../../platform/db/columns'
import { users } from '../auth/auth.table'
import { organizations } from '../orgs/orgs.table'

export const notifications = pgTable('notifications', {
  id: idColumn(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  userId: uuid('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  kind: text('kind').notNull(),
  params: jsonb('params').$type<Record<string, string>>().notNull().default({}),
  link: text('link'),
  actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
  readAt: ts('read_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
})
