/**
 * Events of deduplication. `lead.merged` tells open pages that one lead became another (a drawer of
 * the merged lead can follow it); `lead.duplicates_changed` refreshes the review queue's badge.
 */
declare module '../../platform/events/events.types' {
  interface DomainEvents {
    'lead.merged': { keptId: string; mergedId: string }
    'lead.duplicates_changed': Record<string, never>
  }
}

export {}
