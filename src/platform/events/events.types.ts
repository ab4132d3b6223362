/**
 * Typed domain events. Each module declares its events by augmenting `DomainEvents` in its own
 * `<module>.events.ts`:
 *
 *   declare module '../../platform/events/events.types' {
 *     interface DomainEvents {
 *       'lead.moved': { leadId: string; fromStageId: string; toStageId: string }
 *     }
 *   }
 *
 * Payloads are delivered to every member of the organization over the WebSocket (or to one user for
 * personal events): keep them small (ids, and what a client needs to refresh), never secrets.
 */

// biome-ignore lint/suspicious/noEmptyInterface: filled in by module augmentation
export interface DomainEvents {}

export type EventType = keyof DomainEvents & string

/** What a use case records. `userId` makes it a personal event (topic `user:<id>`). */
export type EventInput<K extends EventType = EventType> = {
  [P in K]: { type: P; payload: DomainEvents[P]; userId?: string | null }
}[K]

/** An event as stored in the outbox and handed to consumers. */
export interface StoredEvent<K extends string = string> {
  orgId: string
  version: number
  type: K
  payload: K extends EventType ? DomainEvents[K] : unknown
  userId: string | null
  actorId: string | null
  createdAt: Date
}
