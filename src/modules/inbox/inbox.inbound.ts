/**
 * Inbound processing: what a provider webhook (or a Baileys socket, or the sandbox) delivered, in
 * normalized form, becomes leads, conversations and messages. `processInbound` runs in ONE tenant
 * transaction per batch and is idempotent, so the job that calls it may run again after a crash:
 *
 * - a message already stored (same provider message id on the channel) is skipped; duplicates of
 *   the same id racing in two jobs are serialized by a transaction-level advisory lock;
 * - the lead is the conversation's, else the oldest lead with that E.164 phone, else a new one
 *   through `captureLead` (source "WhatsApp": dedup, scoring and assignment rules apply);
 * - the conversation (one per channel and phone) is created or reopened, unread + 1, and its
 *   24-hour window (`last_inbound_at`) moves forward — never backward (events come out of order);
 * - the message is stored with a media REFERENCE (provider media id / url, mime, filename), and
 *   `inbox.media_download` is enqueued to fetch the bytes into the store (inbox.media.ts);
 * - the lead's timeline gets `message.inbound`, and `inbox.message` is recorded for live pages.
 *
 * Status receipts move a message's status forward only (pending < sent < failed < delivered < read):
 * a "delivered" arriving after "read" leaves the status at read. Each time column keeps the EARLIEST
 * time reported for it (`least`, which skips nulls): a "read" implies delivered and sent no later
 * than itself, and the real "delivered" or "sent" arriving after it puts its own, earlier time back.
 */
import { sql } from 'drizzle-orm'
import type { OrgTx } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { query } from '../../platform/events/events.pg'
import { captureLead } from '../leads/leads.capture'
import { addScoringTrigger } from '../leads/leads.scoring.jobs'
import { insertActivity } from '../pipeline/pipeline.repository'
import {
  type DeliveryStatus,
  type InboundBatch,
  type InboundMessage,
  type StatusUpdate,
  toTimestamp,
} from './inbox.channel'
import './inbox.events'
import { attachInboundMedia } from './inbox.media'

addScoringTrigger('inbox.message')

const E164 = /^\+[1-9]\d{6,14}$/
const TYPES = new Set<string>(['text', 'image', 'audio', 'video', 'document', 'location', 'template'])

export interface InboundResult {
  stored: string[]
  duplicates: number
  skipped: number
  statusesApplied: number
  /** Receipts whose message is not (yet) known: the caller may retry them later. */
  unmatched: StatusUpdate[]
}

/** Rank of each status: a receipt only ever moves a message to a higher one. */
export const STATUS_RANK: Record<string, number> = {
  pending: 0,
  sent: 10,
  failed: 15,
  delivered: 20,
  read: 30,
}
const rankSql = (col: ReturnType<typeof sql>) =>
  sql`(case ${col} when 'pending' then 0 when 'sent' then 10 when 'failed' then 15 when 'delivered' then 20 when 'read' then 30 else -1 end)`

export function previewOf(m: {
  type: string
  body?: string | null
  media?: { filename?: string | null } | null
}): string {
  const text = (m.body ?? '').replace(/\s+/g, ' ').trim()
  if (text) return text.slice(0, 200)
  if (m.type === 'location') return '📍'
  if (m.type === 'image') return '📷'
  if (m.type === 'audio') return '🎤'
  if (m.type === 'video') return '🎬'
  if (m.type === 'document') return `📄 ${m.media?.filename ?? ''}`.trim().slice(0, 200)
  return '…'
}

export async function processInbound(
  tx: OrgTx,
  channelId: string,
  batch: InboundBatch,
): Promise<InboundResult> {
  const out: InboundResult = { stored: [], duplicates: 0, skipped: 0, statusesApplied: 0, unmatched: [] }
  const messages = [...(batch.messages ?? [])].sort(
    (a, b) => toTimestamp(a.timestamp).getTime() - toTimestamp(b.timestamp).getTime(),
  )
  for (const m of messages) {
    const r = await storeInbound(tx, channelId, m)
    if (r === 'duplicate') out.duplicates++
    else if (r === 'skipped') out.skipped++
    else out.stored.push(r)
  }
  for (const s of batch.statuses ?? []) {
    const applied = await applyStatus(tx, channelId, s)
    if (applied === null) out.unmatched.push(s)
    else if (applied) out.statusesApplied++
  }
  return out
}

async function storeInbound(
  tx: OrgTx,
  channelId: string,
  m: InboundMessage,
): Promise<string | 'duplicate' | 'skipped'> {
  const phone = typeof m.from === 'string' ? (m.from.startsWith('+') ? m.from : `+${m.from}`) : ''
  if (!m.providerMessageId || !E164.test(phone)) return 'skipped'
  const providerId = String(m.providerMessageId).slice(0, 200)
  // Two jobs carrying the same message (a webhook retried by the provider) wait for each other here.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${channelId} || ':' || ${providerId}))`)
  const seen = await query<{ id: string }>(
    tx,
    sql`select id from messages where channel_id = ${channelId}::uuid and provider_message_id = ${providerId}`,
  )
  if (seen.length) return 'duplicate'

  const at = toTimestamp(m.timestamp)
  const contactName = m.contactName?.trim().slice(0, 200) || null
  const type = TYPES.has(m.type) ? m.type : 'unknown'
  const body = (m.text ?? m.media?.caption ?? '').slice(0, 10_000) || null
  // The reference; `fileId` once the bytes are in the store (inbox.media.ts).
  const media = m.media
    ? {
        providerMediaId: m.media.providerMediaId ?? null,
        url: m.media.url ?? null,
        mime: m.media.mime ?? null,
        filename: m.media.filename?.slice(0, 255) ?? null,
        voice: m.media.voice ?? null,
        size: m.media.size ?? null,
        fileId: null,
        ...(m.media.providerData ? { providerData: m.media.providerData } : {}),
      }
    : null

  // The conversation's lead, else a lead with this phone, else a new lead.
  const [conv] = await query<{ id: string; lead_id: string }>(
    tx,
    sql`select id, lead_id from conversations where channel_id = ${channelId}::uuid and contact_phone = ${phone}`,
  )
  let leadId = conv?.lead_id
  if (!leadId) {
    const [lead] = await query<{ id: string }>(
      tx,
      sql`select id from leads where phone = ${phone} order by created_at, id limit 1`,
    )
    leadId = lead?.id
  }
  if (!leadId) {
    const captured = await captureLead(
      tx,
      { fullName: contactName || phone, phone, source: 'WhatsApp' },
      { actorId: null, channel: 'whatsapp' },
    )
    leadId = captured.leadId
  }

  const preview = previewOf({ type, body, media })
  const [c] = await query<{ id: string }>(
    tx,
    sql`insert into conversations as c (id, organization_id, channel_id, lead_id, contact_phone, contact_name,
        status, unread_count, last_message_at, last_message_preview, last_inbound_at)
      values (${Bun.randomUUIDv7()}::uuid, nullif(current_setting('app.org_id', true), '')::uuid, ${channelId}::uuid,
        ${leadId}::uuid, ${phone}, ${contactName}, 'open', 1, ${at.toISOString()}::timestamptz, ${preview},
        ${at.toISOString()}::timestamptz)
      on conflict (organization_id, channel_id, contact_phone) do update set
        status = 'open', -- a closed or pending (waiting on the contact) conversation reopens
        unread_count = c.unread_count + 1,
        contact_name = coalesce(excluded.contact_name, c.contact_name),
        last_message_preview = case when c.last_message_at is null or excluded.last_message_at >= c.last_message_at
          then excluded.last_message_preview else c.last_message_preview end,
        last_message_at = greatest(c.last_message_at, excluded.last_message_at),
        last_inbound_at = greatest(c.last_inbound_at, excluded.last_inbound_at),
        updated_at = now()
      returning id`,
  )
  const conversationId = c!.id
  const replyTo = m.replyToProviderId
    ? ((
        await query<{ id: string }>(
          tx,
          sql`select id from messages where channel_id = ${channelId}::uuid and provider_message_id = ${m.replyToProviderId}`,
        )
      )[0]?.id ?? null)
    : null
  const messageId = Bun.randomUUIDv7()
  await tx.execute(
    sql`insert into messages (id, organization_id, channel_id, conversation_id, direction, type, body, media, location,
        reply_to_id, provider_message_id, status, delivered_at, created_at)
      values (${messageId}::uuid, nullif(current_setting('app.org_id', true), '')::uuid, ${channelId}::uuid,
        ${conversationId}::uuid, 'in', ${type}, ${body}, ${media ? JSON.stringify(media) : null}::jsonb,
        ${m.location ? JSON.stringify(m.location) : null}::jsonb, ${replyTo}::uuid, ${providerId}, 'delivered',
        ${at.toISOString()}::timestamptz, ${at.toISOString()}::timestamptz)`,
  )
  // The bytes: a sandbox upload is attached now; a provider's media is downloaded by a job.
  if (m.media) await attachInboundMedia(tx, messageId, m.media)
  await insertActivity(tx, {
    leadId,
    actorId: null,
    kind: 'message.inbound',
    data: { channel: 'whatsapp', channelId, conversationId, messageId, type, preview },
  })
  await tx.execute(
    sql`update leads set last_activity_at = greatest(last_activity_at, now()) where id = ${leadId}::uuid`,
  )
  await recordEvent(tx, {
    type: 'inbox.message',
    payload: { conversationId, messageId, leadId, direction: 'in' },
  })
  return messageId
}

/**
 * One receipt: true when the status moved, false when it was stale (a lower status, or already
 * there), null when no message carries that provider id on the channel.
 */
export async function applyStatus(tx: OrgTx, channelId: string, s: StatusUpdate): Promise<boolean | null> {
  const status: DeliveryStatus = s.status
  if (!(status in STATUS_RANK) || status === ('pending' as string)) return false
  const at = toTimestamp(s.timestamp).toISOString()
  const col = { sent: 'sent_at', delivered: 'delivered_at', read: 'read_at', failed: 'failed_at' }[status]
  const error =
    status === 'failed' && s.error
      ? JSON.stringify({
          code: String(s.error.code ?? ''),
          message: String(s.error.detail || s.error.title || '').slice(0, 500),
        })
      : null
  const rows = await query<{ id: string; conversation_id: string; moved: boolean }>(
    tx,
    sql`with m as (
        select id, status from messages
        where channel_id = ${channelId}::uuid and provider_message_id = ${String(s.providerMessageId)}
        for update
      ), u as (
        update messages x set
          status = case when ${rankSql(sql`x.status`)} < ${STATUS_RANK[status]!} then ${status} else x.status end,
          ${sql.raw(col)} = least(x.${sql.raw(col)}, ${at}::timestamptz),
          ${status === 'read' ? sql`delivered_at = least(x.delivered_at, ${at}::timestamptz), sent_at = least(x.sent_at, ${at}::timestamptz),` : status === 'delivered' ? sql`sent_at = least(x.sent_at, ${at}::timestamptz),` : sql``}
          error = case when ${status} = 'failed' and ${rankSql(sql`x.status`)} < ${STATUS_RANK[status]!}
            then coalesce(${error}::jsonb, x.error) else x.error end
        from m where x.id = m.id
        returning x.id, x.conversation_id, x.status
      )
      select u.id, u.conversation_id, (u.status <> m.status) as moved from u join m on m.id = u.id`,
  )
  const r = rows[0]
  if (!r) return null
  if (r.moved)
    await recordEvent(tx, {
      type: 'inbox.status',
      payload: { conversationId: r.conversation_id, messageId: r.id, status },
    })
  return r.moved
}
