/**
 * The WhatsApp runtime of one app instance (per database handle): configuration, the Baileys
 * supervisor that owns this process's sockets, and how a channel row becomes a provider.
 * createApp configures it from its deps; src/server.ts attaches the real supervisor and resumes the
 * channels that were connected; tests attach a supervisor with a fake transport.
 */
import { hostname } from 'node:os'
import type { Config } from '../../config/config'
import type { Db } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { type Logger, silentLogger } from '../../platform/log/logger'
import { type BaileysSupervisor, createBaileysSupervisor, type TransportFactory } from './whatsapp.baileys'
import type { ChannelRef } from './whatsapp.baileys-auth'
import { createSocketLease } from './whatsapp.baileys-lease'
import { channelInfo, channelSecrets, getChannel } from './whatsapp.channels'
import { storeInboundBatch } from './whatsapp.inbound'
import { createProvider, type WhatsAppProvider } from './whatsapp.provider'
import type { SandboxClock } from './whatsapp.sandbox'
import type { WhatsAppChannel } from './whatsapp.table'
import type { InboundBatch } from './whatsapp.types'

export interface WhatsAppRuntime {
  db: Db
  secretKey: string
  graphUrl: string
  fetch: typeof fetch
  log: Logger
  baileys: BaileysSupervisor
  sandboxClock?: SandboxClock
}

const runtimes = new WeakMap<Db, WhatsAppRuntime>()
/** The runtime configured last: background jobs (which get no Db handle) reach providers through it. */

/** Stores a socket provider's batch for the channel (webhook_inbox + processing job). */
export const deliverTo = (db: Db) => (ref: ChannelRef, batch: InboundBatch) =>
  withOrg(db, ref.orgId, async (tx) => {
    const c = await getChannel(tx, ref.channelId)
    await storeInboundBatch(tx, c, batch)
  }).then(() => {})

export function configureWhatsApp(
  db: Db,
  o: {
    config: Pick<Config, 'secretKey' | 'facebookGraphUrl'>
    log?: Logger
    fetch?: typeof fetch
    transport?: TransportFactory
    supervisor?: BaileysSupervisor
    sandboxClock?: SandboxClock
  },
): WhatsAppRuntime {
  const existing = runtimes.get(db)
  if (existing && !o.supervisor && !o.transport && !o.fetch && !o.sandboxClock) return existing
  const log = o.log ?? existing?.log ?? silentLogger
  const rt: WhatsAppRuntime = {
    db,
    secretKey: o.config.secretKey,
    graphUrl: o.config.facebookGraphUrl,
    fetch: o.fetch ?? existing?.fetch ?? fetch,
    log,
    baileys:
      o.supervisor ??
      (o.transport ? undefined : existing?.baileys) ??
      createBaileysSupervisor({
        db,
        secretKey: o.config.secretKey,
        transport: o.transport,
        deliver: deliverTo(db),
        log,
        // One socket per channel across every instance on this database.
        lease: createSocketLease(db, {
          owner: `${hostname()}:${process.pid}:${Bun.randomUUIDv7().slice(-8)}`,
        }),
      }),
    sandboxClock: o.sandboxClock ?? existing?.sandboxClock,
  }
  runtimes.set(db, rt)
  return rt
}

export function whatsappRuntime(db: Db): WhatsAppRuntime {
  const rt = runtimes.get(db)
  if (!rt) throw new Error('WhatsApp is not configured for this database (createApp configures it)')
  return rt
}

/** The channel's provider, with its decrypted secrets and this process's services. */
export function providerFor(rt: WhatsAppRuntime, channel: WhatsAppChannel): WhatsAppProvider {
  return createProvider(channel.provider, {
    channel: channelInfo(channel),
    secrets: channelSecrets(channel, rt.secretKey),
    fetch: rt.fetch,
    graphUrl: rt.graphUrl,
    deliver: (batch) => deliverTo(rt.db)({ orgId: channel.organizationId, channelId: channel.id }, batch),
    baileys: rt.baileys,
    sandboxClock: rt.sandboxClock,
  })
}
