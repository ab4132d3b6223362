declare module '../../platform/events/events.types' {
  interface DomainEvents {
    /** Personal (recorded with userId): drives the toast and the unread badge of the recipient. */
    'notification.created': { id: string; kind: string; text: string; link: string | null }
  }
}

export {}
