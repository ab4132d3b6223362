/**
 * Bulk-send warnings for WhatsApp Web (Baileys) channels. WhatsApp bans numbers that message many
 * people who did not write first, or that send the same text to many chats, in a short time —
 * and an unofficial client is judged more harshly than the Cloud API. Before a rep's text goes out on
 * a Baileys channel, two counts over the channel's last `windowMs` (all reps together: the ban hits
 * the number) decide whether the composer asks for a confirmation first:
 *
 * - new recipients: more than `maxNewRecipients` distinct conversations whose contact has not
 *   written in the last 24 hours (cold outreach) received a message, counting this one, and this
 *   one is cold too (answering people who just wrote is what WhatsApp expects);
 * - the same text: this text (case and spacing ignored, at least `minSameTextLength` characters, so
 *   "ok" or "obrigado" never count) already went to `maxSameText - 1` other conversations.
 *
 * A confirmed send goes out as usual, paced by the supervisor (whatsapp.baileys.ts BAILEYS_PACING:
 * one message every 2.5–4.5 s per channel, "typing…" first). Thresholds: docs/inbox.md.
 */
import { sql } from 'drizzle-orm'
import type { OrgTx } from '../../platform/db/tenancy'
import { query, toNumber } from '../../platform/events/events.pg'
import { AppError } from '../../platform/http/errors'
import { BAILEYS_PACING } from '../whatsapp/whatsapp.baileys'

export const BULK_LIMITS = {
  windowMs: 10 * 60_000,
  maxNewRecipients: 5,
  maxSameText: 3,
  minSameTextLength: 12,
  /** A contact who wrote within this long is not a "new" recipient. */
  warmMs: 24 * 3600_000,
} as const

export type BulkRisk =
  | { kind: 'new_recipients'; count: number; minutes: number }
  | { kind: 'same_text'; count: number; minutes: number }

/** The normalized form two texts are compared in (SQL below does the same). */
export const normalizeText = (text: string) => text.trim().replace(/\s+/g, ' ').toLowerCase()

export async function bulkRisk(
  tx: OrgTx,
  conv: { id: string; channelId: string; provider: string; lastInboundAt: Date | null },
  body: string,
  now = new Date(),
): Promise<BulkRisk | null> {
  if (conv.provider !== 'baileys') return null
  const since = new Date(now.getTime() - BULK_LIMITS.windowMs).toISOString()
  const warmSince = new Date(now.getTime() - BULK_LIMITS.warmMs)
  const minutes = Math.round(BULK_LIMITS.windowMs / 60_000)
  const cold = !conv.lastInboundAt || conv.lastInboundAt < warmSince
  if (cold) {
    const [r] = await query<{ n: unknown }>(
      tx,
      sql`select count(distinct m.conversation_id) as n from messages m
        join conversations c on c.id = m.conversation_id
        where m.channel_id = ${conv.channelId}::uuid and m.direction = 'out' and m.type <> 'note'
          and m.created_at > ${since}::timestamptz and m.conversation_id <> ${conv.id}::uuid
          and (c.last_inbound_at is null or c.last_inbound_at < ${warmSince.toISOString()}::timestamptz)`,
    )
    const count = toNumber(r?.n) + 1
    if (count > BULK_LIMITS.maxNewRecipients) return { kind: 'new_recipients', count, minutes }
  }
  const text = normalizeText(body)
  if (text.length >= BULK_LIMITS.minSameTextLength) {
    const [r] = await query<{ n: unknown }>(
      tx,
      sql`select count(distinct m.conversation_id) as n from messages m
        where m.channel_id = ${conv.channelId}::uuid and m.direction = 'out' and m.type <> 'note'
          and m.created_at > ${since}::timestamptz and m.conversation_id <> ${conv.id}::uuid
          and lower(regexp_replace(btrim(m.body), '\\s+', ' ', 'g')) = ${text}`,
    )
    const count = toNumber(r?.n) + 1
    if (count >= BULK_LIMITS.maxSameText) return { kind: 'same_text', count, minutes }
  }
  return null
}

/** The refusal the composer turns into a warning with a "Send anyway" button (409). */
export const bulkWarning = (risk: BulkRisk) =>
  new AppError('inbox.bulk_warning', 409, `inbox.bulk.${risk.kind}`, {
    count: risk.count,
    minutes: risk.minutes,
    gap: pacingGapSeconds(),
  })

/** "2.5–4.5": the seconds between two sends of a Baileys channel. */
export function pacingGapSeconds(): string {
  const min = BAILEYS_PACING.minGapMs / 1000
  const max = (BAILEYS_PACING.minGapMs + BAILEYS_PACING.jitterMs) / 1000
  return `${min}–${max}`
}
