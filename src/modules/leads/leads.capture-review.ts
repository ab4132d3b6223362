/**
 * Review of kept submissions: "create lead anyway" on a rejected or spam one. A form submission goes
 * through captureLead again, leniently (an invalid email or phone moves into the lead's note instead
 * of refusing it); a Facebook one is fetched again from the Graph API (after fixing the page token).
 */
import { eq } from 'drizzle-orm'
import type { OrgTx } from '../../platform/db/tenancy'
import { AppError } from '../../platform/http/errors'
import { refetchFacebookSubmission } from './leads.capture-facebook'
import { captureFromFields } from './leads.capture-intake'
import {
  type CaptureActor,
  encodeReasons,
  getSubmission,
  markSubmission,
  type RejectReasons,
  requireCaptureAdmin,
} from './leads.capture-sources'
import { captureSources } from './leads.capture-sources.table'

export type RetryResult =
  | { kind: 'created'; leadId: string }
  | { kind: 'queued' }
  | { kind: 'refused'; reasons: RejectReasons }

export async function retrySubmission(tx: OrgTx, actor: CaptureActor, id: string): Promise<RetryResult> {
  requireCaptureAdmin(actor)
  const sub = await getSubmission(tx, id)
  if (sub.status === 'processed' || sub.status === 'accepted')
    throw new AppError('capture.already_processed', 409, 'capture.error.already_processed')
  if (sub.connectionId) {
    await refetchFacebookSubmission(tx, sub.id)
    return { kind: 'queued' }
  }
  const [src] = sub.sourceId
    ? await tx.select().from(captureSources).where(eq(captureSources.id, sub.sourceId))
    : []
  const done = await captureFromFields(tx, sub.payload, {
    sourceLabel: src?.sourceLabel ?? 'Site',
    tags: src?.tags ?? [],
    pipelineId: src?.pipelineId ?? null,
    stageId: src?.stageId ?? null,
    actorId: actor.userId,
    lenient: true,
  })
  if (!done.ok) {
    await markSubmission(tx, sub.id, { status: sub.status, error: encodeReasons(done.reasons) })
    return { kind: 'refused', reasons: done.reasons }
  }
  await markSubmission(tx, sub.id, { status: 'processed', leadId: done.leadId, outcome: done.outcome })
  return { kind: 'created', leadId: done.leadId }
}
