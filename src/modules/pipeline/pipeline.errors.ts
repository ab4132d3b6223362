/** Coded errors of the pipeline module (`pipeline.*`); the message key is what the user reads. */
import { AppError } from '../../platform/http/errors'

export const PIPELINE_ERRORS = {
  /** A pipeline, stage or lead that does not exist in this organization (or another org's id). */
  notFound: () => new AppError('pipeline.not_found', 404, 'error.not_found.title'),
  /** The lead changed since the client saw it (compare-and-set on `version` failed). */
  conflict: () => new AppError('pipeline.conflict', 409, 'pipeline.error.conflict'),
  /** The card the client dropped after is no longer in that stage: its board is stale. */
  staleBoard: () => new AppError('pipeline.stale_board', 409, 'pipeline.error.conflict'),
  lossReasonRequired: () =>
    new AppError('pipeline.loss_reason_required', 422, 'pipeline.error.reason_required'),
  lastPipeline: () => new AppError('pipeline.last_pipeline', 409, 'pipeline.error.last_pipeline'),
  pipelineHasLeads: () => new AppError('pipeline.has_leads', 409, 'pipeline.error.pipeline_has_leads'),
  lastStage: () => new AppError('pipeline.last_stage', 409, 'pipeline.error.last_stage'),
} as const

export const isConflict = (e: unknown) =>
  e instanceof AppError && (e.code === 'pipeline.conflict' || e.code === 'pipeline.stale_board')
