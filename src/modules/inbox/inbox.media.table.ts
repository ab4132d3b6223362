/**
 * The message media store (migrations/0013_inbox_media.sql): one row per file, its bytes in 1 MiB
 * chunks. A file belongs to one message (`message_id`, cascade): it goes with the message.
 * (The messages table itself is written with SQL in inbox.*.ts; the foreign key lives in the migration.)
 */
import { bigint, customType, integer, pgTable, primaryKey, text, unique, uuid } from 'drizzle-orm/pg-core'
import { idColumn, ts } from '../../platform/db/columns'
import { organizations } from '../orgs/orgs.table'

const bytea = customType<{ data: Uint8Array }>({ dataType: () => 'bytea' })

export const mediaFiles = pgTable(
  'media_files',
  {
    id: idColumn(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    messageId: uuid('message_id'),
    mime: text('mime').notNull(),
    filename: text('filename'),
    size: bigint('size', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [unique().on(t.organizationId, t.id)],
)

export const mediaFileChunks = pgTable(
  'media_file_chunks',
  {
    organizationId: uuid('organization_id').notNull(),
    fileId: uuid('file_id').notNull(),
    seq: integer('seq').notNull(),
    data: bytea('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.fileId, t.seq] })],
)

export type MediaFile = typeof mediaFiles.$inferSelect
