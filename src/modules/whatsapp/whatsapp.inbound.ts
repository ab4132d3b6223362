/**
 * The inbound path up to the inbox: every raw provider event is stored in `webhook_inbox` first
 * (webhook: before the provider gets its 200; socket providers: as soon as the batch arrives), with
 * a processing job enqueued in the same transaction. The job turns the stored row into normalized
 * messages and receipts through the provider's parser and hands them to the inbox hook
 * (whatsapp.inbound-hook.ts), marking the row processed in that same transaction: a crash anywhere
 * loses nothing, and a row is never applied twice.
 */
import { createHash } from 'node:crypto'
import { eq, sql } from 'drizzle-orm'
import type { OrgTx } from '../../platform/db/tenancy'
import { defineOrgJob, PermanentJobError } from '../../platform/jobs/jobs.define'
import { enqueue } from '../../platform/jobs/jobs.queue'
import { type E164, toE164 } from '../../shared/phone'
import { getChannel } from './whatsapp.channels'
import { WHATSAPP_CHANNEL_ERRORS } from './whatsapp.errors'
import { handleWhatsAppInbound } from './whatsapp.inbound-hook'
import { createProvider } from './whatsapp.provider'
import { sandboxInbound } from './whatsapp.sandbox'
import { type WhatsAppProviderName, webhookInbox } from './whatsapp.table'
import type { InboundBatch } from './whatsapp.types'

/** Marks a stored body that already holds normalized events (socket providers, the sandbox). */
const NORMALIZED = 'loved.normalized/1'

export interface StoredEvent {
  id: string
  /** false: the same delivery was stored before (dedup key). */
  created: boolean
}

/** Headers worth keeping with a raw event (never the signature's value). */
export function headerSubset(h: Headers): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k of ['content-type', 'user-agent', 'content-length']) {
    const v = h.get(k)
    if (v) out[k] = v.slice(0, 300)
  }
  out['x-hub-signature-256'] = h.has('x-hub-signature-256') ? 'present' : 'absent'
  return out
}

/** A webhook delivery, stored raw; its processing job is enqueued with it. */
export async function storeWebhookEvent(
  tx: OrgTx,
  input: {
    channelId: string
    orgId: string
    provider: WhatsAppProviderName
    body: string
    headers: Record<string, string>
  },
): Promise<StoredEvent> {
  // Meta redelivers an unacknowledged body as is: the same bytes are the same delivery.
  const dedupKey = `sha256:${createHash('sha256').update(input.body).digest('hex')}`
  const [row] = await tx
    .insert(webhookInbox)
    .values({
      organizationId: input.orgId,
      channelId: input.channelId,
      provider: input.provider,
      body: input.body,
      headers: input.headers,
      dedupKey,
    })
    .onConflictDoNothing()
    .returning({ id: webhookInbox.id })
  if (!row) {
    const [old] = await tx
      .select({ id: webhookInbox.id })
      .from(webhookInbox)
      .where(sql`${webhookInbox.channelId} = ${input.channelId} and ${webhookInbox.dedupKey} = ${dedupKey}`)
    return { id: old!.id, created: false }
  }
  await enqueue(tx, processInboundJob, { inboxId: row.id }, { idempotencyKey: `whatsapp.inbound:${row.id}` })
  return { id: row.id, created: true }
}

/** What a socket provider (Baileys, the sandbox) received, already normalized. */
export async function storeInboundBatch(
  tx: OrgTx,
  channel: { id: string; organizationId: string; provider: WhatsAppProviderName },
  batch: InboundBatch,
): Promise<StoredEvent | null> {
  if (!batch.messages.length && !batch.statuses.length) return null
  const [row] = await tx
    .insert(webhookInbox)
    .values({
      organizationId: channel.organizationId,
      channelId: channel.id,
      provider: channel.provider,
      body: JSON.stringify({ format: NORMALIZED, ...batch }),
      headers: {},
    })
    .returning({ id: webhookInbox.id })
  await enqueue(
    tx,
    processInboundJob,
    { inboxId: row!.id },
    { idempotencyKey: `whatsapp.inbound:${row!.id}` },
  )
  return { id: row!.id, created: true }
}

/** A stored row -> normalized events (pure: the provider's parser, or the stored normalized batch). */
export function parseStored(row: {
  provider: string
  body: string
  channelId: string
  organizationId: string
}): InboundBatch {
  if (row.body.startsWith('{"format":"loved.normalized/1"')) {
    const v = JSON.parse(row.body) as InboundBatch & { format: string }
    return { messages: v.messages ?? [], statuses: v.statuses ?? [] }
  }
  const provider = createProvider(row.provider, {
    channel: { id: row.channelId, orgId: row.organizationId, phoneNumber: null, config: {} },
    secrets: {},
    fetch,
    graphUrl: '',
    deliver: async () => {
      throw new Error('parsing only')
    },
  })
  if (!provider.parseWebhook) throw new PermanentJobError(`${row.provider} stores no raw webhooks`)
  return provider.parseWebhook(row.body)
}

/** Processes one stored row (locked): parse, hand to the inbox hook, mark processed — one transaction. */
export async function processInboxRow(tx: OrgTx, inboxId: string) {
  const [row] = await tx.select().from(webhookInbox).where(eq(webhookInbox.id, inboxId)).for('update')
  if (!row || row.status === 'processed') return null
  const batch = parseStored(row)
  await handleWhatsAppInbound(tx, { channelId: row.channelId, inboxId: row.id, ...batch })
  await tx
    .update(webhookInbox)
    .set({
      status: 'processed',
      attempts: sql`${webhookInbox.attempts} + 1`,
      error: null,
      processedAt: new Date(),
    })
    .where(eq(webhookInbox.id, row.id))
  return batch
}

export const processInboundJob = defineOrgJob<{ inboxId: string }>({
  name: 'whatsapp.process_inbound',
  queue: 'default',
  maxAttempts: 8,
  priority: 5,
  backoff: { baseMs: 2_000, maxMs: 10 * 60_000 },
  async run(ctx) {
    try {
      await ctx.tx((tx) => processInboxRow(tx, ctx.payload.inboxId))
    } catch (err) {
      // The processing rolled back: keep the failure on the row (the job retries, then goes dead).
      const last = err instanceof PermanentJobError || ctx.job.attempt >= ctx.job.maxAttempts
      await ctx.tx((tx) =>
        tx
          .update(webhookInbox)
          .set({
            attempts: sql`${webhookInbox.attempts} + 1`,
            error: String((err as Error)?.message ?? err).slice(0, 2000),
            ...(last ? { status: 'failed' as const } : {}),
          })
          .where(eq(webhookInbox.id, ctx.payload.inboxId)),
      )
      throw err
    }
  },
})

/**
 * The sandbox's "type as the contact": stores an inbound message on a sandbox channel exactly like a
 * received one (the inbox UI calls this).
 */
export async function simulateInbound(
  tx: OrgTx,
  channelId: string,
  input: {
    from: string
    text: string
    contactName?: string
    /** An uploaded attachment, already stored (the inbox's media store); `text` is then its caption. */
    media?: Parameters<typeof sandboxInbound>[0]['media']
  },
) {
  const channel = await getChannel(tx, channelId)
  if (channel.provider !== 'sandbox') throw WHATSAPP_CHANNEL_ERRORS.wrongProvider()
  const from = toE164(input.from) as E164 | null
  const text = input.text.trim()
  if (!from || (!text && !input.media)) throw WHATSAPP_CHANNEL_ERRORS.invalidInbound()
  const message = sandboxInbound({
    from,
    to: channel.phoneNumber,
    text: text.slice(0, 4096),
    contactName: input.contactName?.trim().slice(0, 100) || undefined,
    ...(input.media ? { media: input.media } : {}),
  })
  await storeInboundBatch(tx, channel, { messages: [message], statuses: [] })
  return message
}
