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
 * - the channel is paused (a provider switch in progress): retried until it is resumed, and then the
 *   provider is resolved again, so the message goes out through the NEW provider.
 *
 * A message no longer pending (already sent by an earlier run) is left alone: the job is idempotent.
 * The one window it cannot close is a crash after the provider accepted the message and before the
 * outcome is recorded: the retry sends it again (at-least-once, as every provider's API is).
 */
import { sql } from 'drizzle-orm'
import type { OrgTx } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { query } from '../../platform/events/events.pg'
import { defineOrgJob } from '../../platform/jobs/jobs.define'
import { isSendError, loadChannel, type SendRequest, senderFor } from './inbox.channel'
import './inbox.events'

export class ChannelPausedError extends Error {
  override name = 'ChannelPausedError'
  constructor(channelId: string) {
    super(`channel ${channelId} is paused (provider switch in progress): waiting`)
  }
}

interface Pending {
  id: string
  conversation_id: string
  channel_id: string
  type: string
  body: string | null
  template: unknown
  to: string
  reply_provider_id: string | null
}

export const inboxSendJob = defineOrgJob<{ messageId: string }>({
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
            m.type, m.body, m.template, c.contact_phone as to, r.provider_message_id as reply_provider_id
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
    if (channel.paused) {
      if (last) return ctx.tx((tx) => markFailed(tx, m, 'channel_paused', 'The channel stayed paused'))
      throw new ChannelPausedError(channel.id)
    }
    const tpl = typeof m.template === 'string' ? JSON.parse(m.template) : m.template
    const reply = m.reply_provider_id ? { replyToProviderId: m.reply_provider_id } : {}
    const req: SendRequest =
      m.type === 'template' && tpl
        ? { kind: 'template', to: m.to, template: { name: tpl.name, language: tpl.language }, ...reply }
        : { kind: 'text', to: m.to, text: m.body ?? '', ...reply }
    let providerMessageId: string
    try {
      const sender = await senderFor(ctx.orgId, channel)
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
