/**
 * Domain events of WhatsApp channels, recorded in the outbox with the change and pushed by the hub to
 * every open page of the organization. Payloads carry ids: the channel page fetches its status/QR
 * fragment (admins only) when it sees its channel's event, so the QR itself never travels in an event.
 */
import type { InboundMessage, StatusUpdate } from './whatsapp.types'

declare module '../../platform/events/events.types' {
  interface DomainEvents {
    /** A channel's connection status changed (connecting, open, closed, logged_out, forbidden…). */
    'whatsapp.channel.status': { channelId: string; status: string; alert?: boolean }
    /**
     * A provider switch started, completed (the new provider is connected, queued messages go out)
     * or was cancelled (the old provider is back). Inbox pages show or hide "sending paused".
     */
    'whatsapp.channel.switch': {
      channelId: string
      phase: 'started' | 'completed' | 'cancelled'
      from: string
      to: string
    }
    /** A channel's message templates were synced from the provider (or the sync failed: `error`). */
    'whatsapp.templates.synced': { channelId: string; count: number; error?: boolean }
    /** Baileys pairing: a new QR (WhatsApp rotates it every ~20 s) or a pairing code to type. */
    'whatsapp.channel.qr': { channelId: string; kind: 'qr' | 'code' }
    /**
     * A stored inbound event was processed into normalized messages and receipts (what the inbox
     * consumes; see whatsapp.inbound-hook.ts).
     */
    'whatsapp.inbound': {
      channelId: string
      inboxId: string
      messages: InboundMessage[]
      statuses: StatusUpdate[]
    }
  }
}
