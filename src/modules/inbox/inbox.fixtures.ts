/**
 * Test helpers for the inbox (imported by *.test.ts, the e2e test and the bench only): channels,
 * inbound messages through the real processing, a fake provider for the send job, a worker.
 */
import type { TestApp } from '../../../test/harness'
import type { Db } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { silentLogger } from '../../platform/events/events.pg'
import { createFakeClock } from '../../platform/jobs/jobs.clock'
import { createWorker } from '../../platform/jobs/jobs.worker'
import { type ChannelSender, type InboundMessage, type SendRequest, setChannelSender } from './inbox.channel'
import { INBOX_JOBS, processInboundBatch } from './inbox.jobs'

export async function createChannel(
  t: Pick<TestApp, 'db'>,
  orgId: string,
  provider: 'sandbox' | 'cloud-api' | 'baileys' = 'sandbox',
  name = 'WhatsApp Vendas',
) {
  const id = Bun.randomUUIDv7()
  await t.db.raw.query(
    `insert into whatsapp_channels (id, organization_id, name, provider, status) values ($1, $2, $3, $4, 'open')`,
    [id, orgId, name, provider],
  )
  return id
}

let seq = 0
export function inbound(from: string, text: string, extra: Partial<InboundMessage> = {}): InboundMessage {
  return {
    providerMessageId: `wamid.test.${Date.now()}.${++seq}`,
    from,
    timestamp: Date.now(),
    type: 'text',
    text,
    ...extra,
  }
}

export function receive(db: Db, orgId: string, channelId: string, messages: InboundMessage[]) {
  return withOrg(db, orgId, (tx) => processInboundBatch(tx, channelId, { messages, statuses: [] }))
}

/** A provider double: records what it was asked to send and answers with `behave`. */
export function fakeProvider(db: Db) {
  const sent: Array<{ provider: string; req: SendRequest }> = []
  let behave: (req: SendRequest, provider: string) => Promise<{ providerMessageId: string }> = async () => ({
    providerMessageId: `wamid.out.${Bun.randomUUIDv7()}`,
  })
  setChannelSender(
    db,
    async ({ channel }): Promise<ChannelSender> => ({
      send: async (req) => {
        const r = await behave(req, channel.provider)
        sent.push({ provider: channel.provider, req })
        return r
      },
    }),
  )
  return {
    sent,
    set(fn: typeof behave) {
      behave = fn
    },
  }
}

export function inboxWorker(db: Db, opts: { leaseMs?: number } = {}) {
  const clock = createFakeClock()
  const worker = createWorker({ db, jobs: INBOX_JOBS, clock, log: silentLogger, leaseMs: opts.leaseMs })
  return { worker, clock }
}
