/**
 * Events of scoring: a "rescore every lead" run's progress (the settings page follows it live
 * through the hub) and a finished model training.
 */
declare module '../../platform/events/events.types' {
  interface DomainEvents {
    'scoring.progress': { runId: string; state: string; done: number; total: number }
    'scoring.trained': { status: string }
  }
}

export {}
