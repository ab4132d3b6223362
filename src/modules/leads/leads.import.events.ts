/**
 * Events of CSV imports: one per committed batch (and at queue/finish), delivered to the
 * organization's open pages through the hub (`rt:lead.import.progress`), which move the progress bar.
 */
declare module '../../platform/events/events.types' {
  interface DomainEvents {
    'lead.import.progress': {
      importId: string
      status: 'draft' | 'queued' | 'running' | 'completed' | 'failed'
      total: number
      processed: number
      created: number
      merged: number
      flagged: number
      rejected: number
    }
  }
}

export {}
