/**
 * Email: written to `mail_outbox` inside the caller's transaction (nothing is lost if we crash before
 * sending), then delivered after commit with nodemailer when SMTP is configured. Without SMTP the
 * message stays in the outbox, readable by instance admins at /dev/outbox and printed to the log.
 */
import { and, asc, eq, isNull, lt, sql } from 'drizzle-orm'
import nodemailer from 'nodemailer'
import type { SmtpConfig } from '../../config/config'
import type { Db } from '../db/client'
import { type SystemTx, withSystem } from '../db/tenancy'
import type { Logger } from '../log/logger'
import { mailOutbox } from './mail.table'

export interface Email {
  to: string
  subject: string
  text: string
}

export interface Mailer {
  readonly configured: boolean
  /** Queue inside an open transaction; call `flush()` after it commits. */
  queue(tx: SystemTx, email: Email): Promise<string>
  /** Deliver whatever is unsent (after commit, and at start for anything a crash left behind). */
  flush(): Promise<void>
}

export function createMailer(db: Db, smtp: SmtpConfig | undefined, log: Logger): Mailer {
  const transport = smtp
    ? nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.secure,
        auth: smtp.user ? { user: smtp.user, pass: smtp.password } : undefined,
      })
    : null
  let flushing: Promise<void> | null = null

  async function deliverAll() {
    if (!transport) return
    const pending = await withSystem(db, (tx) =>
      tx
        .select()
        .from(mailOutbox)
        .where(and(isNull(mailOutbox.sentAt), lt(mailOutbox.attempts, 5)))
        .orderBy(asc(mailOutbox.createdAt))
        .limit(50),
    )
    for (const m of pending) {
      try {
        await transport.sendMail({ from: smtp!.from, to: m.toAddress, subject: m.subject, text: m.textBody })
        await withSystem(db, (tx) =>
          tx
            .update(mailOutbox)
            .set({ sentAt: new Date(), attempts: sql`${mailOutbox.attempts} + 1` })
            .where(eq(mailOutbox.id, m.id)),
        )
      } catch (err) {
        log.warn('mail.send_failed', { to: m.toAddress, err })
        await withSystem(db, (tx) =>
          tx
            .update(mailOutbox)
            .set({
              attempts: sql`${mailOutbox.attempts} + 1`,
              lastError: String((err as Error).message ?? err),
            })
            .where(eq(mailOutbox.id, m.id)),
        )
      }
    }
  }

  return {
    configured: !!transport,
    async queue(tx, email) {
      const [row] = await tx
        .insert(mailOutbox)
        .values({ toAddress: email.to, subject: email.subject, textBody: email.text })
        .returning({ id: mailOutbox.id })
      if (!transport) log.info('mail.outbox', { to: email.to, subject: email.subject, text: email.text })
      return row!.id
    },
    flush() {
      flushing ??= deliverAll()
        .catch((err) => log.error('mail.flush_failed', { err }))
        .finally(() => {
          flushing = null
        })
      return flushing
    },
  }
}
