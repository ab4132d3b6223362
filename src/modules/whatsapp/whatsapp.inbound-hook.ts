/**
 * THE INBOX HOOK. Every stored inbound WhatsApp event (a Cloud API webhook, a Baileys socket batch, a
 * sandbox receipt or reply) ends here, normalized, inside the organization's transaction, once per
 * webhook_inbox row (the job marks the row processed in the same transaction).
 *
 * Inbox: replace the body with "match or create the lead, upsert the conversation, store messages
 * (once per providerMessageId), apply receipts (never moving a status backwards)" and keep the
 * event (or record your own `message.received`). It must be idempotent per providerMessageId: a row
 * is processed once, but providers deliver the same message in more than one row.
 */
import type { OrgTx } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { processInboundBatch } from '../inbox/inbox.jobs'
import './whatsapp.events'
import type { InboundBatch } from './whatsapp.types'

export interface DeliveredBatch extends InboundBatch {
  channelId: string
  inboxId: string
}

export async function handleWhatsAppInbound(tx: OrgTx, batch: DeliveredBatch): Promise<void> {
  if (!batch.messages.length && !batch.statuses.length) return
  // The inbox: leads, conversations, messages and receipts, in this same transaction.
  await processInboundBatch(tx, batch.channelId, batch)
  await recordEvent(tx, {
    type: 'whatsapp.inbound',
    payload: {
      channelId: batch.channelId,
      inboxId: batch.inboxId,
      // Never the media download keys (Baileys' mediaKey): events reach every member's browser.
      messages: batch.messages.map((m) =>
        m.media?.providerData ? { ...m, media: { ...m.media, providerData: undefined } } : m,
      ),
      statuses: batch.statuses,
    },
  })
}
