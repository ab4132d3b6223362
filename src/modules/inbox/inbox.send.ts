/**
 * The durable send job (`inbox.send`, one per outbound message, idempotency key = message id).
 * It reads the pending message in one short transaction, calls the channel's ACTIVE provider outside
 * any transaction, and records the outcome in another:
 *
 * - success: the provider's message id and `sent` (never lowering a status a fast receipt already
 *   raised: the sandbox may report "delivered" before this transaction commits);
 * - a transient error (SendError.permanent = false, a network failure): thrown, so the queue retries
 *   with its backoff; on the last attempt the message is marked failed with the reason instead;
 * - a permanent error: the message is `failed` with the provider's code and reason, shown in the chat;
 * - the channel is paused (a provider switch in progress, or an admin disconnected it), or its
 *   WhatsApp Web session waits for an admin (logged out, a QR to scan, blocked, stopped by the
 *   reconnect-loop guard: `waitsForAdmin`): the job PARKS the message — it enqueues its own follow-up for later (1 min, doubling up to 6 h) and
 *   completes, so waiting uses up no attempt and the message stays `pending` however long the switch
 *   takes. `resumeChannel` (and a WhatsApp Web session opening again: `wakeChannelSends`) wakes the
 *   follow-up at once; it resolves the provider again, so the
 *   message goes out through the NEW provider. The park reads `paused` under a share lock of the
 *   channel row, so it never races a resume (which updates that row).
 *
 * A message no longer pending (already sent by an earlier run) is left alone: the job is idempotent.
 * The one window it cannot close is a crash after the provider accepted the message and before the
 * outcome is recorded: the retry sends it again. The send carries the message id as
 * `idempotencyKey`: Baileys derives the WhatsApp message id from it, so the retry reuses the same id
 * (WhatsApp keeps one message, receipts match); the Cloud API has no such key (at-least-once there).
 */
import { sql } from 'drizzle-orm'
import type { OrgTx } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { query } from '../../platform/events/events.pg'
import { defineOrgJob, type OrgJob } from '../../platform/jobs/jobs.define'
import { enqueue } from '../../platform/jobs/jobs.queue'
import { isSendError, loadChannel, type SendRequest, senderFor } from './inbox.channel'
import './inbox.events'
import { outboundMedia } from './inbox.media'

interface Pending {
  id: string
  conversation_id: string
  channel_id: string
  type: string
  body: string | null
  template: unknown
  media: unknown
  to: string
  reply_provider_id: string | null
}

/**
 * WhatsApp Web states no retry can get out of: only an admin (a new QR scan, a reconnect, a switch to
 * another provider) can. Sends wait in them like on a paused channel instead of burning attempts.
 */
export const ADMIN_WAIT_STATUSES: readonly string[] = ['qr', 'logged_out', 'forbidden', 'error']
export const waitsForAdmin = (c: { provider: string; status: string }) =>
  c.provider === 'baileys' && ADMIN_WAIT_STATUSES.includes(c.status)
const mustWait = (c: { paused: boolean; provider: string; status: string }) => c.paused || waitsForAdmin(c)

/** How long a parked message waits before looking again (a resume wakes it sooner). */
export const PARK_DELAY = { baseMs: 60_000, maxMs: 6 * 3600_000 }

export const inboxSendJob: OrgJob<{ messageId: string; parks?: number }> = defineOrgJob<{
  messageId: string
  parks?: number
}>({
  name: 'inbox.send',
  queue: 'inbox',
  maxAttempts: 12,
  backoff: { baseMs: 1_000, maxMs: 60_000 },
  async run(ctx) {
    const { messageId } = ctx.payload
    const last = ctx.job.attempt >= ctx.job.maxAttempts
    const prep = await ctx.tx(async (tx) => {
      const [m] = await query<Pending>(
        tx,
        sql`select m.id::text as id, m.conversation_id::text as conversation_id, m.channel_id::text as channel_id,
            m.type, m.body, m.template, m.media, c.contact_phone as to, r.provider_message_id as reply_provider_id
          from messages m join conversations c on c.id = m.conversation_id
          left join messages r on r.id = m.reply_to_id
          where m.id = ${messageId}::uuid and m.direction = 'out' and m.type <> 'note' and m.status = 'pending'`,
      )
      if (!m) return null
      return { m, channel: await loadChannel(tx, m.channel_id) }
    })
    if (!prep) return
    const { m, channel } = prep
    if (!channel) return ctx.tx((tx) => markFailed(tx, m, 'channel_gone', 'The channel no longer exists'))
    if (mustWait(channel)) {
      const parks = ctx.payload.parks ?? 0
      const parked = await ctx.tx(async (tx) => {
        const [c] = await query<{ paused: boolean; provider: string; status: string }>(
          tx,
          sql`select paused, provider, status from whatsapp_channels where id = ${channel.id}::uuid for share`,
        )
        if (!c || !mustWait(c)) return false
        await enqueue(
          tx,
          inboxSendJob,
          { messageId, parks: parks + 1 },
          {
            delayMs: Math.min(PARK_DELAY.maxMs, PARK_DELAY.baseMs * 2 ** parks),
            idempotencyKey: `inbox.send:${messageId}:park:${ctx.job.id}`,
          },
        )
        return true
      })
      // Resumed in the meantime: the channel row as it is now (its provider may have changed).
      if (parked) return
      return inboxSendJob.run({ ...ctx, payload: { messageId } })
    }
    // An attachment: its bytes from the store (inbox.media.ts); gone -> failed for good.
    const media = m.type === 'template' ? null : await ctx.tx((tx) => outboundMedia(tx, m))
    if (media === 'missing')
      return ctx.tx((tx) => markFailed(tx, m, 'media_missing', 'The attachment is no longer stored'))
    const tpl = typeof m.template === 'string' ? JSON.parse(m.template) : m.template
    const reply = {
      idempotencyKey: m.id,
      ...(m.reply_provider_id ? { replyToProviderId: m.reply_provider_id } : {}),
    }
    const req: SendRequest =
      m.type === 'template' && tpl
        ? {
            kind: 'template',
            to: m.to,
            template: {
              name: tpl.name,
              language: tpl.language,
              ...(Array.isArray(tpl.components) && tpl.components.length
                ? { components: tpl.components }
                : {}),
            },
            ...reply,
          }
        : media
          ? { kind: 'media', to: m.to, ...media, ...reply }
          : { kind: 'text', to: m.to, text: m.body ?? '', ...reply }
    let providerMessageId: string
    try {
      const sender = await senderFor(ctx.db, ctx.orgId, channel)
      providerMessageId = (await sender.send(req)).providerMessageId
    } catch (err) {
      const permanent = isSendError(err) && err.permanent
      if (permanent || last) {
        const code = isSendError(err) ? String(err.code) : 'error'
        const message = err instanceof Error ? err.message : isSendError(err) ? err.message : String(err)
        return ctx.tx((tx) => markFailed(tx, m, code, message))
      }
      throw err
    }
    await ctx.tx(async (tx) => {
      const rows = await query<{ status: string }>(
        tx,
        sql`update messages set provider_message_id = ${providerMessageId},
            status = case when status in ('pending', 'failed') then 'sent' else status end,
            sent_at = coalesce(sent_at, now()), error = null, failed_at = null
          where id = ${m.id}::uuid and provider_message_id is null
          returning status`,
      )
      if (rows.length)
        await recordEvent(tx, {
          type: 'inbox.status',
          payload: { conversationId: m.conversation_id, messageId: m.id, status: rows[0]!.status },
        })
    })
  },
})

async function markFailed(
  tx: OrgTx,
  m: Pick<Pending, 'id' | 'conversation_id'>,
  code: string,
  message: string,
) {
  const rows = await query(
    tx,
    sql`update messages set status = 'failed', failed_at = now(),
        error = ${JSON.stringify({ code, message: message.slice(0, 500) })}::jsonb
      where id = ${m.id}::uuid and status = 'pending' returning id`,
  )
  if (rows.length)
    await recordEvent(tx, {
      type: 'inbox.status',
      payload: { conversationId: m.conversation_id, messageId: m.id, status: 'failed' },
    })
}
