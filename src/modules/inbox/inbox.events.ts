/**
 * Domain events of the inbox, recorded with the change (outbox) and delivered after commit to every
 * open inbox of the organization through the hub. Payloads carry ids only: pages fetch the rest
 * (message text never travels in an event). `inbox.message` carries the lead id so lead scoring
 * rescored the lead (registered as a scoring trigger in inbox.inbound.ts).
 */
declare module '../../platform/events/events.types' {
  interface DomainEvents {
    /** A message was added to a conversation (inbound, outbound or an internal note). */
    'inbox.message': { conversationId: string; messageId: string; leadId: string; direction: 'in' | 'out' }
    /** A message's delivery status moved forward (sent, delivered, read, failed). */
    'inbox.status': { conversationId: string; messageId: string; status: string }
    /** An inbound attachment was stored (or could not be fetched): the bubble shows it now. */
    'inbox.media': { conversationId: string; messageId: string }
    /** Assignment, status (open/closed) or unread count of a conversation changed. */
    'inbox.conversation': { conversationId: string }
  }
}

export {}
