/**
 * The inbound side in the background. The WhatsApp module stores every webhook delivery (or socket
 * batch) in webhook_inbox before answering, and its job turns the row into a normalized batch and
 * calls `processInboundBatch` (through its hook) in the transaction that marks the row processed.
 * Receipts that name a message not known yet (a fast "delivered" racing the send job's own write
 * of the provider id) are retried a few times by `inbox.receipts`, then dropped (not ours).
 */
import type { OrgTx } from '../../platform/db/tenancy'
import { defineOrgJob } from '../../platform/jobs/jobs.define'
import { enqueue } from '../../platform/jobs/jobs.queue'
import type { InboundBatch, StatusUpdate } from './inbox.channel'
import { applyStatus, processInbound } from './inbox.inbound'
import { inboxMediaJob } from './inbox.media'
import { inboxSendJob } from './inbox.send'

const RECEIPT_TRIES = 5

export const inboxReceiptsJob = defineOrgJob<{ channelId: string; statuses: StatusUpdate[]; tries: number }>({
  name: 'inbox.receipts',
  queue: 'inbox',
  maxAttempts: 3,
  async run(ctx) {
    const { channelId, statuses, tries } = ctx.payload
    await ctx.tx(async (tx) => {
      const left: StatusUpdate[] = []
      for (const s of statuses) if ((await applyStatus(tx, channelId, s)) === null) left.push(s)
      if (left.length && tries < RECEIPT_TRIES)
        await enqueue(
          tx,
          inboxReceiptsJob,
          { channelId, statuses: left, tries: tries + 1 },
          { delayMs: 1_000 * 2 ** tries },
        )
    })
  },
})

/**
 * The inbox side of a stored inbound event, called by the WhatsApp module's processing job
 * (whatsapp.inbound-hook.ts) in the transaction that marks the webhook_inbox row processed.
 */
export async function processInboundBatch(tx: OrgTx, channelId: string, batch: InboundBatch) {
  const r = await processInbound(tx, channelId, batch)
  if (r.unmatched.length)
    await enqueue(tx, inboxReceiptsJob, { channelId, statuses: r.unmatched, tries: 1 }, { delayMs: 1_000 })
  return r
}

export const INBOX_JOBS = [inboxSendJob, inboxReceiptsJob, inboxMediaJob]
