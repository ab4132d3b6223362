import { integer, pgTable, text } from 'drizzle-orm/pg-core'
import { idColumn, ts } from '../db/columns'

/** Every email is written here first (in the caller's transaction), then delivered: a crash loses none. */
export const mailOutbox = pgTable('mail_outbox', {
  id: idColumn(),
  toAddress: text('to_address').notNull(),
  subject: text('subject').notNull(),
  textBody: text('text_body').notNull(),
  htmlBody: text('html_body'),
  createdAt: ts('created_at').notNull().defaultNow(),
  sentAt: ts('sent_at'),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
})
