/**
 * Domain events of the pipeline, recorded with the change in the same transaction (outbox) and
 * delivered after commit to every open board of the organization through the WebSocket hub.
 * Payloads carry ids and what a board needs to place a card; boards fetch anything else.
 */
declare module '../../platform/events/events.types' {
  interface DomainEvents {
    'lead.created': { leadId: string; pipelineId: string; stageId: string }
    'lead.updated': {
      leadId: string
      pipelineId: string
      stageId: string
      version: number
      /** 'score': only the score changed (rescoring); the scoring consumer skips its own events. */
      cause?: 'score'
    }
    'lead.moved': {
      leadId: string
      pipelineId: string
      fromPipelineId: string
      fromStageId: string
      toStageId: string
      /** The card it now follows (null: top of the stage). */
      afterId: string | null
      position: number
      version: number
      valueCents: number
      /** The target stage was renumbered: boards reload that column's positions. */
      rebalanced: boolean
    }
    /** Stages or the pipeline itself changed (admin): open boards of it re-render. */
    'pipeline.updated': { pipelineId: string }
  }
}

export {}
