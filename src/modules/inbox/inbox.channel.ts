/**
 * The inbox's only door to the WhatsApp provider layer (src/modules/whatsapp/): the normalized types
 * it exchanges with providers, reading a channel's state, and resolving the channel's ACTIVE
 * provider at send time (so a message queued during a provider switch goes out through the new one).
 *
 * The resolver is registered per database handle by the app's wiring (`setChannelSender`, from
 * createApp), and tests register fakes through the same function: the inbox never names a provider
 * itself. Jobs find it by their `ctx.db`, so two apps in one process (the test suite) never share one.
 */
import { eq } from 'drizzle-orm'
import type { Db } from '../../platform/db/client'
import type { OrgTx } from '../../platform/db/tenancy'
import { downloadRequest, sendRequest } from '../whatsapp/whatsapp.provider'
import { providerFor, whatsappRuntime } from '../whatsapp/whatsapp.runtime'
import { type WhatsAppChannel, whatsappChannels } from '../whatsapp/whatsapp.table'
import type {
  DownloadedMedia,
  MediaDownloadOptions,
  MediaRef,
  SendRequest,
  SendResult,
} from '../whatsapp/whatsapp.types'

export type {
  DeliveryStatus,
  DownloadedMedia,
  InboundBatch,
  InboundMessage,
  SendRequest,
  SendResult,
  StatusUpdate,
} from '../whatsapp/whatsapp.types'

/** What a provider throws when a send fails (`SendError`): `permanent` decides retry or give up. */
export interface SendErrorLike {
  permanent: boolean
  code: string | number
  message: string
}

export const isSendError = (e: unknown): e is SendErrorLike =>
  !!e && typeof e === 'object' && typeof (e as SendErrorLike).permanent === 'boolean' && 'code' in e

export type ChannelRow = WhatsAppChannel

export async function loadChannel(tx: OrgTx, channelId: string): Promise<ChannelRow | null> {
  const [r] = await tx.select().from(whatsappChannels).where(eq(whatsappChannels.id, channelId))
  return r ?? null
}

export interface ChannelSender {
  send(req: SendRequest): Promise<SendResult>
  /** The bytes of an inbound attachment (absent: the channel cannot download media). */
  download?(media: MediaRef, opts: MediaDownloadOptions): Promise<DownloadedMedia>
}

export type SenderResolver = (ctx: { db: Db; orgId: string; channel: ChannelRow }) => Promise<ChannelSender>

const resolvers = new WeakMap<Db, SenderResolver>()

/** The real resolver: the channel's provider from the WhatsApp runtime of this database. */
export const whatsappSender: SenderResolver = async ({ db, channel }) => {
  const provider = providerFor(whatsappRuntime(db), channel)
  return {
    send: (req) => sendRequest(provider, req),
    download: (media, opts) => downloadRequest(provider, media, opts),
  }
}

/** Registers how this database's channels reach their active provider (createApp, via inboxRoutes; tests). */
export function setChannelSender(db: Db, fn: SenderResolver | null) {
  if (fn) resolvers.set(db, fn)
  else resolvers.delete(db)
}

/** The resolver registered for `db`, if any (tests: to put the app's own back after a fake). */
export const channelSenderOf = (db: Db): SenderResolver | undefined => resolvers.get(db)

/** The sender of a channel, by the resolver registered for `db` (a job's `ctx.db`). */
export async function senderFor(db: Db, orgId: string, channel: ChannelRow): Promise<ChannelSender> {
  const resolver = resolvers.get(db)
  if (!resolver)
    throw Object.assign(new Error('inbox: no WhatsApp provider resolver registered for this database'), {
      permanent: false,
      code: 'no_resolver',
    })
  return resolver({ db, orgId, channel })
}

/** Provider timestamps come as Date, epoch seconds/ms or ISO text. */
export function toTimestamp(v: Date | string | number | undefined): Date {
  if (v instanceof Date) return v
  if (typeof v === 'number') return new Date(v < 1e12 ? v * 1000 : v)
  if (typeof v === 'string' && /^\d+$/.test(v)) return toTimestamp(Number(v))
  const d = v ? new Date(v) : new Date()
  return Number.isNaN(d.getTime()) ? new Date() : d
}
