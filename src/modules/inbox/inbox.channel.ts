/**
 * The inbox's only door to the WhatsApp provider layer (src/modules/whatsapp/): the normalized types
 * it exchanges with providers, reading a channel's state, and resolving the channel's ACTIVE
 * provider at send time (so a message queued during a provider switch goes out through the new one).
 *
 * The resolver is registered once at start by the WhatsApp module's wiring (`setChannelSender`), and
 * tests register fakes through the same function: the inbox never names a provider itself.
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

let resolver: SenderResolver | null = null
let database: Db | null = null

/** The real resolver: the channel's provider from the WhatsApp runtime of this database. */
export const whatsappSender: SenderResolver = async ({ db, channel }) => {
  const provider = providerFor(whatsappRuntime(db), channel)
  return {
    send: (req) => sendRequest(provider, req),
    download: (media, opts) => downloadRequest(provider, media, opts),
  }
}

/** Registers how a channel's active provider is reached (createApp, via inboxRoutes; tests). */
export function setChannelSender(db: Db | null, fn: SenderResolver | null) {
  database = db
  resolver = fn
}

export async function senderFor(orgId: string, channel: ChannelRow): Promise<ChannelSender> {
  if (!resolver || !database)
    throw Object.assign(new Error('inbox: no WhatsApp provider resolver registered'), {
      permanent: false,
      code: 'no_resolver',
    })
  return resolver({ db: database, orgId, channel })
}

/** Provider timestamps come as Date, epoch seconds/ms or ISO text. */
export function toTimestamp(v: Date | string | number | undefined): Date {
  if (v instanceof Date) return v
  if (typeof v === 'number') return new Date(v < 1e12 ? v * 1000 : v)
  if (typeof v === 'string' && /^\d+$/.test(v)) return toTimestamp(Number(v))
  const d = v ? new Date(v) : new Date()
  return Number.isNaN(d.getTime()) ? new Date() : d
}
