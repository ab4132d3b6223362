/**
 * WhatsApp Web through Baileys (@whiskeysockets/baileys 7, https://baileys.wiki): QR or pairing-code
 * pairing, a socket per connected channel, auth state in Postgres (whatsapp.baileys-auth.ts).
 *
 * Three parts:
 * - TRANSPORT: the socket behind our own interface (`WaTransport`). The real one is `makeWASocket`
 *   (Noise-encrypted protocol, so tests cannot fake the server); tests hand the supervisor a fake
 *   transport that emits Baileys' real event shapes (`connection.update`, `creds.update`,
 *   `messages.upsert`, `messages.update`).
 * - SUPERVISOR: at most one socket per channel in this process. Closes are read from
 *   `lastDisconnect.error.output.statusCode` (a Boom) against `DisconnectReason`
 *   (https://baileys.wiki/docs/socket/connecting):
 *     restartRequired (515)            -> a new socket at once (normal right after pairing)
 *     loggedOut (401)                  -> wipe creds and keys, new socket -> new QR
 *     forbidden (403), multideviceMismatch (411) -> stop, status 'forbidden', alert (owners and
 *                                     admins are notified: whatsapp.channels.ts `alertAdmins`)
 *     connectionReplaced (440)         -> stop (another client took the session), status 'closed'
 *     anything else (428, 408, 503, 500…) -> reconnect with exponential backoff + jitter
 *   Every (re)connect counts in a sliding window; too many -> stop with status 'error' (no loops),
 *   alerted like forbidden; loggedOut alerts too, once until the phone links again.
 *   A generation counter per channel: events of a replaced socket are ignored; concurrent `start`
 *   calls share one pending start (a lock map), so there are never two sockets for a channel.
 *   Sends are paced per channel (a gap with jitter, then "typing…" for a moment) against bans.
 * - PROVIDER: `createBaileysProvider`, the registry's face of it; sending goes through the supervisor.
 * Inbound messages and receipts are normalized to the Cloud API's types (JIDs -> E.164) and handed
 * to `deliver` (stored in webhook_inbox, then processed by the same job as webhooks). A media
 * message keeps what `downloadMediaMessage` needs (directPath, mediaKey… as base64 strings in
 * `media.providerData`): the inbox's download job later asks the channel's socket for the bytes.
 *
 * One process owns a channel's socket: with several instances on one Postgres, run Baileys channels
 * on one of them (WhatsApp would otherwise replace one socket by the other, code 440).
 */

import { createHash } from 'node:crypto'
import type {
  AnyMessageContent,
  AuthenticationState,
  BaileysEventMap,
  ConnectionState,
  WAMessage,
  WAMessageUpdate,
  WAPresence,
} from '@whiskeysockets/baileys'
import type { Db } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { type Logger, silentLogger } from '../../platform/log/logger'
import { toE164 } from '../../shared/phone'
import { type ChannelRef, clearAuthState, loadBaileys, usePostgresAuthState } from './whatsapp.baileys-auth'
import type { SocketLease } from './whatsapp.baileys-lease'
import { type ChannelAlert, channelsToResume, type StatusPatch, setChannelStatus } from './whatsapp.channels'
import type { ProviderDeps, WhatsAppProvider } from './whatsapp.provider'
import {
  type DeliveryStatus,
  type DownloadedMedia,
  type E164,
  type InboundBatch,
  type InboundMessage,
  type MediaDownloadOptions,
  type MediaRef,
  type MediaSend,
  SendError,
  type SendRequest,
  type SendResult,
  type StatusUpdate,
  type TextSend,
} from './whatsapp.types'

// Transport ----------------------------------------------------------------------------------------

export interface WaTransport {
  readonly ev: {
    on<K extends keyof BaileysEventMap>(event: K, listener: (arg: BaileysEventMap[K]) => void): void
  }
  readonly user?: { id: string } | undefined
  sendMessage(
    jid: string,
    content: AnyMessageContent,
    options?: { quoted?: WAMessage; messageId?: string },
  ): Promise<WAMessage | undefined>
  sendPresenceUpdate(type: WAPresence, jid?: string): Promise<void>
  requestPairingCode(phoneNumber: string): Promise<string>
  /** The decrypted bytes of a received media message (real: Baileys' `downloadMediaMessage`). */
  downloadMedia?(message: WAMessage): Promise<Uint8Array>
  logout(msg?: string): Promise<void>
  end(error: Error | undefined): void | Promise<void>
}

export type TransportFactory = (opts: {
  auth: AuthenticationState
  channelId: string
  log: Logger
}) => Promise<WaTransport>

/** Baileys' ILogger (pino-like; lib/Utils/logger.d.ts, not exported from the package root). */
interface BaileysLogger {
  level: string
  child(obj: Record<string, unknown>): BaileysLogger
  trace(obj: unknown, msg?: string): void
  debug(obj: unknown, msg?: string): void
  info(obj: unknown, msg?: string): void
  warn(obj: unknown, msg?: string): void
  error(obj: unknown, msg?: string): void
}

/** Baileys' logger over ours, quiet below warn. */
function baileysLogger(log: Logger, fields: Record<string, unknown> = {}): BaileysLogger {
  const l = log.child(fields)
  const fmt = (obj: unknown, msg?: string) => (typeof obj === 'string' ? obj : (msg ?? 'event'))
  return {
    level: 'warn',
    child: (f) => baileysLogger(l, f),
    trace: () => {},
    debug: () => {},
    info: () => {},
    warn: (obj, msg) => l.warn(`baileys: ${fmt(obj, msg)}`),
    error: (obj, msg) => l.error(`baileys: ${fmt(obj, msg)}`),
  }
}

/** The real socket (connects at once). */
export const baileysTransport: TransportFactory = async ({ auth, log }) => {
  const b = await loadBaileys()
  const logger = baileysLogger(log)
  const sock = b.makeWASocket({
    auth: { creds: auth.creds, keys: b.makeCacheableSignalKeyStore(auth.keys, logger as never) },
    logger: logger as never,
    browser: b.Browsers.ubuntu('Loved CRM'),
    markOnlineOnConnect: false,
    syncFullHistory: false,
  })
  // Media: fetched from WhatsApp's CDN and decrypted with the message's mediaKey; an expired URL
  // (404/410) asks the phone to upload it again (`updateMediaMessage`). https://baileys.wiki/docs/socket/receiving-updates
  const downloadMedia = async (message: WAMessage) =>
    new Uint8Array(
      await b.downloadMediaMessage(
        message,
        'buffer',
        {},
        { logger: logger as never, reuploadRequest: sock.updateMediaMessage },
      ),
    )
  return Object.assign(sock, { downloadMedia }) as unknown as WaTransport
}

// Normalization ------------------------------------------------------------------------------------

/** "5511999998888:12@s.whatsapp.net" -> "+5511999998888"; null for groups, broadcasts, LIDs. */
export function jidToE164(jid: string | null | undefined): E164 | null {
  if (!jid) return null
  const [user, server] = jid.split('@')
  if (server !== 's.whatsapp.net' && server !== 'c.us') return null
  const digits = (user ?? '').split(':')[0]!.replace(/[^\d]/g, '')
  if (digits.length < 7 || digits.length > 15) return null
  // toE164 restores the ninth digit that Brazilian JIDs of older accounts lack.
  return toE164(`+${digits}`) ?? `+${digits}`
}
export const e164ToJid = (phone: E164) => `${phone.replace(/[^\d]/g, '')}@s.whatsapp.net`

/**
 * The WhatsApp message id of one of our messages: deterministic, so a send retried after a crash
 * (the provider accepted it, we had not recorded it) goes out with the SAME id — WhatsApp and the
 * phone treat it as the same message, and its receipts match our row. Same shape as Baileys'
 * `generateMessageIDV2` (lib/Utils/generics.js): "3EB0" + 18 upper-case hex digits of a SHA-256.
 */
export function waMessageId(key: string): string {
  return `3EB0${createHash('sha256').update(`loved.message:${key}`).digest('hex').toUpperCase().slice(0, 18)}`
}

type Content = NonNullable<WAMessage['message']>
/** Unwrap the envelopes that carry the actual message (disappearing, view-once, captioned documents). */
function unwrap(m: Content | null | undefined): Content | null {
  let c = m ?? null
  for (let i = 0; c && i < 4; i++) {
    const inner =
      c.ephemeralMessage?.message ??
      c.viewOnceMessage?.message ??
      c.viewOnceMessageV2?.message ??
      c.documentWithCaptionMessage?.message ??
      null
    if (!inner) break
    c = inner
  }
  return c
}
const toMs = (t: unknown): number => {
  const n =
    typeof t === 'number'
      ? t
      : typeof (t as { toNumber?: () => number })?.toNumber === 'function'
        ? (t as { toNumber: () => number }).toNumber()
        : Number(t)
  return Number.isFinite(n) && n > 0 ? n * 1000 : Date.now()
}

type MediaProtoKey = 'imageMessage' | 'stickerMessage' | 'videoMessage' | 'audioMessage' | 'documentMessage'
interface WaMedia {
  mimetype?: string | null
  caption?: string | null
  fileName?: string | null
  ptt?: boolean | null
  url?: string | null
  directPath?: string | null
  mediaKey?: Uint8Array | null
  fileSha256?: Uint8Array | null
  fileEncSha256?: Uint8Array | null
  fileLength?: number | { toNumber(): number } | null
}
const b64 = (v: Uint8Array | null | undefined) => (v?.length ? Buffer.from(v).toString('base64') : undefined)

/** What `downloadMediaMessage` needs later, JSON-safe (null when the message carries no media key). */
function mediaDownloadData(protoKey: MediaProtoKey, x: WaMedia, jid: string) {
  const mediaKey = b64(x.mediaKey)
  if (!mediaKey || !(x.directPath || x.url)) return null
  const out: Record<string, string> = { protoKey, mediaKey, remoteJid: jid }
  if (x.directPath) out.directPath = x.directPath
  if (x.url) out.url = x.url
  const fileSha256 = b64(x.fileSha256)
  const fileEncSha256 = b64(x.fileEncSha256)
  if (fileSha256) out.fileSha256 = fileSha256
  if (fileEncSha256) out.fileEncSha256 = fileEncSha256
  return out
}

/** The stored media reference -> the WAMessage `downloadMediaMessage` (and a re-upload request) take. */
export function waMediaMessage(media: MediaRef): WAMessage | null {
  const d = media.providerData
  const s = (k: string) => (typeof d?.[k] === 'string' ? (d[k] as string) : undefined)
  const protoKey = s('protoKey')
  const mediaKey = s('mediaKey')
  if (!d || !protoKey || !mediaKey || !media.providerMediaId) return null
  const bytes = (k: string) => (s(k) ? Buffer.from(s(k)!, 'base64') : undefined)
  return {
    key: { remoteJid: s('remoteJid') ?? null, fromMe: false, id: media.providerMediaId },
    message: {
      [protoKey]: {
        mimetype: media.mime,
        mediaKey: bytes('mediaKey'),
        ...(s('directPath') ? { directPath: s('directPath') } : {}),
        ...(s('url') ? { url: s('url') } : {}),
        ...(s('fileSha256') ? { fileSha256: bytes('fileSha256') } : {}),
        ...(s('fileEncSha256') ? { fileEncSha256: bytes('fileEncSha256') } : {}),
        ...(media.size ? { fileLength: media.size } : {}),
      },
    },
  } as WAMessage
}

/** A received WAMessage -> the Cloud API's normalized shape; null when it is not a chat message for us. */
export function normalizeWaMessage(m: WAMessage, own?: E164 | null): InboundMessage | null {
  const key = m.key
  if (!key?.id || key.fromMe) return null
  // v7 addresses some chats by LID; the phone-number JID then travels as remoteJidAlt.
  const jid = key.remoteJid?.endsWith('@lid') ? (key.remoteJidAlt ?? null) : key.remoteJid
  const from = jidToE164(jid)
  if (!from) return null // groups, broadcasts, newsletters, unmapped LIDs
  const c = unwrap(m.message)
  if (!c || c.protocolMessage || c.reactionMessage) return null
  const msg: InboundMessage = {
    providerMessageId: key.id,
    from,
    ...(own ? { to: own } : {}),
    timestamp: toMs(m.messageTimestamp),
    type: 'unknown',
    ...(m.pushName ? { contactName: m.pushName } : {}),
  }
  const media = (type: 'image' | 'audio' | 'video' | 'document', protoKey: MediaProtoKey, x: WaMedia) => {
    msg.type = type
    // Baileys media are downloaded from the message itself (downloadMediaMessage): keep its id and
    // what the download needs (the CDN path and the key that decrypts it), as strings.
    const size = x.fileLength == null ? NaN : Number(x.fileLength)
    const providerData = mediaDownloadData(protoKey, x, key.remoteJid ?? jid ?? '')
    msg.media = {
      providerMediaId: key.id!,
      mime: x.mimetype ?? 'application/octet-stream',
      ...(x.fileName ? { filename: x.fileName } : {}),
      ...(x.caption ? { caption: x.caption } : {}),
      ...(x.ptt ? { voice: true } : {}),
      ...(Number.isFinite(size) && size > 0 ? { size } : {}),
      ...(providerData ? { providerData } : {}),
    }
    if (x.caption) msg.text = x.caption
  }
  let context: { stanzaId?: string | null } | null | undefined
  if (c.conversation != null) {
    msg.type = 'text'
    msg.text = c.conversation
  } else if (c.extendedTextMessage) {
    msg.type = 'text'
    msg.text = c.extendedTextMessage.text ?? ''
    context = c.extendedTextMessage.contextInfo
  } else if (c.imageMessage) {
    media('image', 'imageMessage', c.imageMessage)
    context = c.imageMessage.contextInfo
  } else if (c.stickerMessage) {
    media('image', 'stickerMessage', c.stickerMessage)
  } else if (c.videoMessage) {
    media('video', 'videoMessage', c.videoMessage)
    context = c.videoMessage.contextInfo
  } else if (c.audioMessage) {
    media('audio', 'audioMessage', c.audioMessage)
    context = c.audioMessage.contextInfo
  } else if (c.documentMessage) {
    media('document', 'documentMessage', c.documentMessage)
    context = c.documentMessage.contextInfo
  } else if (c.locationMessage) {
    const l = c.locationMessage
    msg.type = 'location'
    msg.location = {
      latitude: Number(l.degreesLatitude),
      longitude: Number(l.degreesLongitude),
      ...(l.name ? { name: l.name } : {}),
      ...(l.address ? { address: l.address } : {}),
    }
  } else if (c.buttonsResponseMessage || c.templateButtonReplyMessage || c.listResponseMessage) {
    msg.type = 'text'
    msg.text =
      c.buttonsResponseMessage?.selectedDisplayText ??
      c.templateButtonReplyMessage?.selectedDisplayText ??
      c.listResponseMessage?.title ??
      ''
  }
  if (context?.stanzaId) msg.replyToProviderId = context.stanzaId
  return msg
}

/** proto.WebMessageInfo.Status: ERROR 0, PENDING 1, SERVER_ACK 2, DELIVERY_ACK 3, READ 4, PLAYED 5. */
const RECEIPTS: Record<number, DeliveryStatus> = {
  0: 'failed',
  2: 'sent',
  3: 'delivered',
  4: 'read',
  5: 'read',
}

export function normalizeReceipt(u: WAMessageUpdate, now = Date.now()): StatusUpdate | null {
  if (!u.key?.id || !u.key.fromMe) return null
  const code = u.update?.status
  const status = typeof code === 'number' ? RECEIPTS[code] : undefined
  if (!status) return null
  const recipient = jidToE164(u.key.remoteJid?.endsWith('@lid') ? u.key.remoteJidAlt : u.key.remoteJid)
  return {
    providerMessageId: u.key.id,
    status,
    timestamp: now,
    ...(recipient ? { recipient } : {}),
    ...(status === 'failed'
      ? { error: { code: 'baileys.error', title: 'WhatsApp did not accept the message' } }
      : {}),
  }
}

// Supervisor ---------------------------------------------------------------------------------------

/** DisconnectReason of Baileys 7 (the numbers are WhatsApp's; kept here so the code path needs no import). */
export const DISCONNECT = {
  connectionClosed: 428,
  connectionLost: 408,
  connectionReplaced: 440,
  timedOut: 408,
  loggedOut: 401,
  badSession: 500,
  restartRequired: 515,
  multideviceMismatch: 411,
  forbidden: 403,
  unavailableService: 503,
} as const

/** Default send pacing per channel (the inbox's bulk-send warning quotes it: inbox.bulk.ts). */
export const BAILEYS_PACING = {
  minGapMs: 2_500,
  jitterMs: 2_000,
  typingMsPerChar: 35,
  maxTypingMs: 4_000,
} as const

export interface SupervisorOptions {
  db: Db
  secretKey: string
  transport?: TransportFactory
  /** Where normalized inbound batches go (stored in webhook_inbox + job). */
  deliver(ref: ChannelRef, batch: InboundBatch): Promise<void>
  log?: Logger
  /** Reconnect delay: base * 2^(failures-1), capped, times a jitter in [0.5, 1). */
  backoff?: { baseMs: number; maxMs: number }
  /** At most `max` (re)connects within `ms`, then status 'error' until an admin reconnects. */
  window?: { ms: number; max: number }
  /** Send pacing per channel. */
  pacing?: { minGapMs: number; jitterMs: number; typingMsPerChar: number; maxTypingMs: number }
  random?: () => number
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  setTimer?: (fn: () => void, ms: number) => unknown
  clearTimer?: (handle: unknown) => void
  /** How long `requestPairingCode` waits for the socket to be ready for pairing. */
  pairingWaitMs?: number
  /** How long `unlink` may take (connect with the kept credentials, then log out). Default 15 s. */
  unlinkTimeoutMs?: number
  /**
   * The cross-instance socket lease (whatsapp.baileys-lease.ts): with it, a socket opens only while
   * this process holds the channel's lease, renewed every ttl/3; without it (tests of one
   * supervisor) the process assumes it is alone.
   */
  lease?: SocketLease
}

interface Entry {
  ref: ChannelRef
  gen: number
  stopped: boolean
  transport: WaTransport | null
  open: boolean
  phone: E164 | null
  /** Consecutive transient failures since the last 'open'. */
  failures: number
  /** Times of (re)connects, for the loop guard. */
  connects: number[]
  /** The pending reconnect (after a backoff, or when another instance's lease could have lapsed). */
  timer: unknown
  /** Status writes, in order. */
  writes: Promise<unknown>
  sends: Promise<unknown>
  lastSendAt: number
  /** Resolved at the first QR of the current socket (pairing code requests wait for it). */
  qrSeen: { promise: Promise<void>; resolve: () => void }
  /** The lease heartbeat while this process holds the socket. */
  heartbeatTimer: unknown
  /** The admins were told the phone logged this device out; again only after it is linked again. */
  loggedOutAlerted: boolean
}

export interface BaileysSupervisor {
  /** Connect the channel (no-op when it already has a socket or a pending reconnect). */
  start(ref: ChannelRef): Promise<void>
  /** Close the socket; `logout` also unlinks the device and wipes the credentials. */
  stop(channelId: string, opts?: { logout?: boolean }): Promise<void>
  stopAll(): Promise<void>
  /**
   * Logs this device out of the phone with the channel's stored credentials (a switch away from
   * WhatsApp Web completing; the phone then stops listing a dead linked device): a socket of the
   * channel in this process closes first, then a short-lived one connects, calls Baileys' `logout()`
   * and ends — within `timeoutMs`. 'unreachable': it could not (phone or WhatsApp out of reach); the
   * device must be removed on the phone. The credentials stay: the caller forgets them.
   */
  unlink(ref: ChannelRef, opts?: { timeoutMs?: number }): Promise<UnlinkOutcome>
  /** Start every Baileys channel that had a socket: open, connecting or pairing (process start). */
  resume(): Promise<number>
  requestPairingCode(ref: ChannelRef, phone: E164): Promise<string>
  send(ref: ChannelRef, req: SendRequest): Promise<SendResult>
  /** The bytes of a received media message, through the channel's socket. */
  download(ref: ChannelRef, message: WAMessage): Promise<Uint8Array>
  isRunning(channelId: string): boolean
  /** Live sockets (tests: never more than one per channel). */
  readonly sockets: number
  /** Resolves when every start and the background work it set off are done (tests, shutdown). */
  settled(): Promise<void>
}

/** `unlink`: logged out now; never linked (no credentials); or not reachable in time. */
export type UnlinkOutcome = 'unlinked' | 'not_linked' | 'unreachable'

/** The code a socket closed with: Baileys puts a Boom in `lastDisconnect.error` (`DISCONNECT`). */
const closeCode = (u: Partial<ConnectionState>) =>
  (u.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode

const deferred = () => {
  let resolve!: () => void
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

export function createBaileysSupervisor(opts: SupervisorOptions): BaileysSupervisor {
  const log = opts.log ?? silentLogger
  const transport = opts.transport ?? baileysTransport
  const backoff = opts.backoff ?? { baseMs: 2_000, maxMs: 5 * 60_000 }
  const window = opts.window ?? { ms: 10 * 60_000, max: 8 }
  const pacing = opts.pacing ?? BAILEYS_PACING
  const random = opts.random ?? Math.random
  const now = opts.now ?? Date.now
  const sleep = opts.sleep ?? ((ms: number) => Bun.sleep(ms))
  const setTimer = opts.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms))
  const clearTimer = opts.clearTimer ?? ((h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>))
  const entries = new Map<string, Entry>()
  /** Background work started by socket events (status writes, creds saves, closes, deliveries). */
  const inflight = new Set<Promise<unknown>>()
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p)
    void p.finally(() => inflight.delete(p)).catch(() => {})
    return p
  }
  const starting = new Map<string, Promise<void>>()
  let sockets = 0

  const write = (e: Entry, patch: StatusPatch, o: { alert?: boolean; notify?: ChannelAlert } = {}) => {
    e.writes = track(
      e.writes
        .then(() => withOrg(opts.db, e.ref.orgId, (tx) => setChannelStatus(tx, e.ref.channelId, patch, o)))
        .catch((err) =>
          log.error('whatsapp.baileys.status_write_failed', { channelId: e.ref.channelId, err }),
        ),
    )
    return e.writes
  }

  function closeSocket(e: Entry) {
    const t = e.transport
    e.transport = null
    e.open = false
    if (t) {
      sockets--
      try {
        void Promise.resolve(t.end(undefined)).catch(() => {})
      } catch {}
    }
  }

  /** The loop guard: false when the channel reconnected too often lately (the caller halts it). */
  function allowConnect(e: Entry) {
    const t = now()
    e.connects = e.connects.filter((x) => t - x < window.ms)
    if (e.connects.length >= window.max) {
      log.error('whatsapp.baileys.reconnect_loop', {
        channelId: e.ref.channelId,
        connects: e.connects.length,
      })
      return false
    }
    e.connects.push(t)
    return true
  }

  /** Connects again after `ms`, unless the channel stopped or moved to another socket meanwhile. */
  function reconnectIn(e: Entry, ms: number) {
    const gen = e.gen
    if (e.timer) clearTimer(e.timer)
    e.timer = setTimer(() => {
      e.timer = null
      if (!e.stopped && gen === e.gen) void track(connect(e).catch((err) => failed(e, err)))
    }, ms)
  }

  function clearTimers(e: Entry) {
    if (e.timer) clearTimer(e.timer)
    if (e.heartbeatTimer) clearTimer(e.heartbeatTimer)
    e.timer = null
    e.heartbeatTimer = null
  }

  /**
   * Takes the channel out of this process (until the next start): no pending reconnect or heartbeat,
   * no socket (`logout` first unlinks the device), the final `status` written, then the lease let go
   * so another instance may take the channel at once.
   */
  async function halt(
    e: Entry,
    o: { status?: StatusPatch; alert?: boolean; notify?: ChannelAlert; logout?: boolean } = {},
  ) {
    e.stopped = true
    e.gen++
    if (entries.get(e.ref.channelId) === e) entries.delete(e.ref.channelId)
    clearTimers(e)
    if (o.logout && e.transport) await e.transport.logout().catch(() => {})
    closeSocket(e)
    await (o.status ? write(e, o.status, { alert: o.alert, notify: o.notify }) : e.writes)
    await releaseLease(e)
  }

  /**
   * Another instance holds the channel's socket (its lease is live): leave the channel to it, write
   * nothing, and look again once that lease could have lapsed (its holder died or let go).
   */
  function waitForLease(e: Entry, lease: SocketLease) {
    log.info('whatsapp.baileys.lease_held_elsewhere', { channelId: e.ref.channelId })
    reconnectIn(e, lease.ttlMs)
  }

  /**
   * The lease was refused or lost: when the channel no longer wants a socket at all (switched to
   * another provider, disconnected, deleted — maybe by another instance), this process lets it go for
   * good, writing nothing (whoever changed the channel wrote its status); otherwise another instance
   * holds it, and this one waits.
   */
  async function leaseRefused(e: Entry, lease: SocketLease) {
    const wanted = await lease.wanted(e.ref).catch(() => true)
    if (e.stopped) return
    if (wanted) return waitForLease(e, lease)
    log.info('whatsapp.baileys.not_wanted', { channelId: e.ref.channelId })
    await halt(e)
  }

  /** Renews the lease while the socket of generation `gen` lives; a lost lease closes the socket. */
  function heartbeat(e: Entry, lease: SocketLease, gen: number) {
    e.heartbeatTimer = setTimer(
      () => {
        e.heartbeatTimer = null
        if (e.stopped || gen !== e.gen) return
        void track(
          lease
            .renew(e.ref)
            .then((held) => {
              if (e.stopped || gen !== e.gen) return
              if (held) return heartbeat(e, lease, gen)
              // Lapsed and taken (this process stalled longer than the lease): the other instance
              // now holds the socket, so this one closes its own rather than fight over the number.
              // Or the channel moved off WhatsApp Web / was disconnected: the socket closes for good.
              log.warn('whatsapp.baileys.lease_lost', { channelId: e.ref.channelId })
              e.gen++
              closeSocket(e)
              return leaseRefused(e, lease)
            })
            .catch((err) => {
              // The database is unreachable: keep the socket and try again on the next beat.
              log.error('whatsapp.baileys.lease_renew_failed', { channelId: e.ref.channelId, err })
              if (!e.stopped && gen === e.gen) heartbeat(e, lease, gen)
            }),
        )
      },
      Math.max(50, Math.floor(lease.ttlMs / 3)),
    )
  }

  async function connect(e: Entry) {
    if (e.stopped) return
    clearTimers(e) // this connect replaces any pending one, and the old socket's heartbeat
    if (opts.lease) {
      if (!(await opts.lease.acquire(e.ref))) return leaseRefused(e, opts.lease)
      if (e.stopped) return opts.lease.release(e.ref)
    }
    if (!allowConnect(e))
      return halt(e, {
        status: { status: 'error', detail: 'too_many_reconnects', pairingQr: null, pairingCode: null },
        alert: true,
        notify: 'too_many_reconnects',
      })
    const gen = ++e.gen
    if (opts.lease) heartbeat(e, opts.lease, gen)
    e.qrSeen = deferred()
    // A new socket: the previous one's QR or pairing code is dead (the new one sends its own).
    await write(e, { status: 'connecting', pairingQr: null, pairingCode: null })
    const auth = await usePostgresAuthState(opts.db, e.ref, opts.secretKey)
    if (e.stopped || gen !== e.gen) return
    const t = await transport({ auth: auth.state, channelId: e.ref.channelId, log })
    if (e.stopped || gen !== e.gen) {
      void Promise.resolve(t.end(undefined)).catch(() => {})
      return
    }
    closeSocket(e) // never two: a previous socket (if any) goes first
    e.transport = t
    sockets++
    const live = () => !e.stopped && gen === e.gen
    let credsWrites: Promise<unknown> = Promise.resolve()

    t.ev.on('creds.update', () => {
      if (!live()) return
      credsWrites = track(credsWrites.then(() => auth.saveCreds())).catch((err) =>
        log.error('whatsapp.baileys.creds_save_failed', { channelId: e.ref.channelId, err }),
      )
    })
    t.ev.on('connection.update', (u: Partial<ConnectionState>) => {
      if (!live()) return
      if (u.qr) {
        void write(e, { status: 'qr', pairingQr: u.qr })
        e.qrSeen.resolve()
      }
      if (u.connection === 'open') {
        e.open = true
        e.failures = 0
        e.loggedOutAlerted = false
        e.phone = jidToE164(t.user?.id) ?? e.phone
        void write(e, {
          status: 'open',
          detail: null,
          pairingQr: null,
          pairingCode: null,
          ...(e.phone ? { phoneNumber: e.phone } : {}),
        })
      } else if (u.connection === 'close') {
        const code = closeCode(u)
        void track(credsWrites.then(() => onClose(e, gen, code)).catch((err) => failed(e, err)))
      }
    })
    t.ev.on('messages.upsert', ({ messages, type }) => {
      if (!live() || type !== 'notify') return
      const list = messages.map((m) => normalizeWaMessage(m, e.phone)).filter((m): m is InboundMessage => !!m)
      if (list.length) void hand(e.ref, { messages: list, statuses: [] })
    })
    t.ev.on('messages.update', (updates) => {
      if (!live()) return
      const list = updates.map((u) => normalizeReceipt(u, now())).filter((s): s is StatusUpdate => !!s)
      if (list.length) void hand(e.ref, { messages: [], statuses: list })
    })
  }

  /** A connect that threw (unreadable credentials, database down): stop with status error. */
  async function failed(e: Entry, err: unknown, rethrow = false) {
    log.error('whatsapp.baileys.connect_failed', { channelId: e.ref.channelId, err })
    await halt(e, {
      status: { status: 'error', detail: 'start_failed', pairingQr: null, pairingCode: null },
      alert: true,
    })
    if (rethrow) throw err
  }

  // Tracked: `settled()` waits for deliveries too (tests read webhook_inbox right after it).
  const hand = (ref: ChannelRef, batch: InboundBatch) =>
    track(
      opts
        .deliver(ref, batch)
        .catch((err) => log.error('whatsapp.baileys.deliver_failed', { channelId: ref.channelId, err })),
    )

  async function onClose(e: Entry, gen: number, code: number | undefined) {
    if (e.stopped || gen !== e.gen) return
    closeSocket(e)
    const id = e.ref.channelId
    log.info('whatsapp.baileys.closed', { channelId: id, code })
    if (code === DISCONNECT.restartRequired) return connect(e)
    if (code === DISCONNECT.loggedOut) {
      await withOrg(opts.db, e.ref.orgId, (tx) => clearAuthState(tx, id))
      e.phone = null
      // Once per incident: a fresh socket that is logged out again before the phone links does not
      // notify the admins a second time.
      const notify = e.loggedOutAlerted ? undefined : ('logged_out' as const)
      e.loggedOutAlerted = true
      await write(
        e,
        { status: 'logged_out', detail: 'logged_out', pairingQr: null, pairingCode: null },
        { alert: true, notify },
      )
      return connect(e) // a fresh socket: a new QR to scan
    }
    if (
      code === DISCONNECT.forbidden ||
      code === DISCONNECT.multideviceMismatch ||
      code === DISCONNECT.connectionReplaced
    ) {
      const replaced = code === DISCONNECT.connectionReplaced
      log.error('whatsapp.baileys.stopped', { channelId: id, code })
      const alert: ChannelAlert | undefined = replaced
        ? undefined
        : code === DISCONNECT.forbidden
          ? 'forbidden'
          : 'multidevice_mismatch'
      return halt(e, {
        status: {
          status: replaced ? 'closed' : 'forbidden',
          detail: alert ?? 'replaced',
          pairingQr: null,
          pairingCode: null,
        },
        alert: true,
        notify: alert,
      })
    }
    // Transient: back off (exponential, jittered), then a new socket.
    e.failures++
    const delay = Math.round(
      Math.min(backoff.maxMs, backoff.baseMs * 2 ** (e.failures - 1)) * (0.5 + random() / 2),
    )
    await write(e, { status: 'connecting', detail: `retry_in_ms:${delay}` })
    if (!e.stopped && gen === e.gen) reconnectIn(e, delay)
  }

  async function start(ref: ChannelRef) {
    const pending = starting.get(ref.channelId)
    if (pending) return pending
    const existing = entries.get(ref.channelId)
    if (existing && !existing.stopped) return
    const e: Entry = {
      ref,
      gen: 0,
      stopped: false,
      transport: null,
      open: false,
      phone: null,
      failures: 0,
      connects: [],
      timer: null,
      writes: Promise.resolve(),
      sends: Promise.resolve(),
      lastSendAt: 0,
      qrSeen: deferred(),
      heartbeatTimer: null,
      loggedOutAlerted: false,
    }
    entries.set(ref.channelId, e)
    const p = connect(e)
      .catch((err) => failed(e, err, true))
      .finally(() => starting.delete(ref.channelId))
    starting.set(ref.channelId, p)
    return p
  }

  async function stop(channelId: string, o: { logout?: boolean } = {}) {
    await starting.get(channelId)?.catch(() => {})
    const e = entries.get(channelId)
    if (e) await halt(e, o)
  }

  /** Lets another instance take the channel at once (instead of after the lease lapses). */
  async function releaseLease(e: Entry) {
    if (!opts.lease) return
    await opts.lease
      .release(e.ref)
      .catch((err) => log.error('whatsapp.baileys.lease_release_failed', { channelId: e.ref.channelId, err }))
  }

  async function send(ref: ChannelRef, req: SendRequest): Promise<SendResult> {
    const e = entries.get(ref.channelId)
    if (!e || e.stopped)
      throw new SendError(false, 'not_connected', 'The WhatsApp Web session is not running')
    const run = async (): Promise<SendResult> => {
      const t = e.transport
      if (!t || !e.open)
        throw new SendError(false, 'not_connected', 'The WhatsApp Web session is not connected')
      const jid = e164ToJid(req.to)
      // Pacing: a minimum gap between two sends of the channel, with jitter.
      const wait = e.lastSendAt + pacing.minGapMs + random() * pacing.jitterMs - now()
      if (wait > 0) await sleep(wait)
      // "typing…" for a moment, like a person.
      const typing = Math.min(
        pacing.maxTypingMs,
        (req.kind === 'text' ? req.text.length : 20) * pacing.typingMsPerChar,
      )
      await t.sendPresenceUpdate('composing', jid).catch(() => {})
      if (typing > 0) await sleep(typing)
      await t.sendPresenceUpdate('paused', jid).catch(() => {})
      const quoted = req.replyToProviderId
        ? ({
            key: { remoteJid: jid, id: req.replyToProviderId, fromMe: false },
            message: { conversation: '' },
          } as WAMessage)
        : undefined
      let sent: WAMessage | undefined
      try {
        const messageId = req.idempotencyKey ? waMessageId(req.idempotencyKey) : undefined
        sent = await t.sendMessage(
          jid,
          content(req),
          quoted || messageId
            ? { ...(quoted ? { quoted } : {}), ...(messageId ? { messageId } : {}) }
            : undefined,
        )
      } catch (err) {
        throw new SendError(false, 'baileys.send_failed', (err as Error).message ?? 'send failed')
      } finally {
        e.lastSendAt = now()
      }
      const id = sent?.key?.id
      if (!id) throw new SendError(false, 'no_id', 'WhatsApp Web returned no message id')
      return { providerMessageId: id }
    }
    const result = e.sends.then(run, run)
    e.sends = result.catch(() => {})
    return result
  }

  async function download(ref: ChannelRef, message: WAMessage): Promise<Uint8Array> {
    const t = entries.get(ref.channelId)?.transport
    if (!t) throw new SendError(false, 'not_connected', 'The WhatsApp Web session is not running')
    if (!t.downloadMedia)
      throw new SendError(true, 'unsupported', 'This WhatsApp Web socket cannot download media')
    try {
      return await t.downloadMedia(message)
    } catch (err) {
      // Baileys throws Boom errors; 404/410 after a refused re-upload means the phone no longer has it.
      const status = (err as { output?: { statusCode?: number } })?.output?.statusCode
      const gone = status === 404 || status === 410
      throw new SendError(
        gone,
        gone ? 'media_gone' : 'baileys.download_failed',
        (err as Error).message ?? 'download failed',
      )
    }
  }

  async function unlink(ref: ChannelRef, o: { timeoutMs?: number } = {}): Promise<UnlinkOutcome> {
    await stop(ref.channelId) // never two sockets for the channel
    const auth = await usePostgresAuthState(opts.db, ref, opts.secretKey)
    if (!auth.state.creds.me) return 'not_linked'
    const timeoutMs = o.timeoutMs ?? opts.unlinkTimeoutMs ?? 15_000
    let t: WaTransport | null = null
    let over = false
    const end = () => {
      const x = t
      t = null
      if (!x) return
      sockets--
      try {
        void Promise.resolve(x.end(undefined)).catch(() => {})
      } catch {}
    }
    const attempt = async (): Promise<UnlinkOutcome> => {
      const made = await transport({ auth: auth.state, channelId: ref.channelId, log })
      t = made
      sockets++
      if (over) {
        end() // it came after the deadline
        return 'unreachable'
      }
      const state = await new Promise<'open' | 'logged_out' | 'not_linked' | 'closed'>((resolve) => {
        made.ev.on('connection.update', (u: Partial<ConnectionState>) => {
          if (u.connection === 'open') resolve('open')
          else if (u.qr)
            resolve('not_linked') // WhatsApp no longer knows these credentials
          else if (u.connection === 'close')
            resolve(closeCode(u) === DISCONNECT.loggedOut ? 'logged_out' : 'closed')
        })
        // Messages that waited for this device while it was offline still reach the inbox.
        made.ev.on('messages.upsert', ({ messages, type }) => {
          if (type !== 'notify') return
          const list = messages.map((m) => normalizeWaMessage(m)).filter((m): m is InboundMessage => !!m)
          if (list.length) void hand(ref, { messages: list, statuses: [] })
        })
      })
      if (state === 'logged_out') return 'unlinked' // the phone removed it already
      if (state === 'not_linked') return 'not_linked'
      if (state === 'closed' || over) return 'unreachable'
      await made.logout()
      return 'unlinked'
    }
    let timer: ReturnType<typeof setTimeout> | undefined
    const outcome = await Promise.race([
      attempt().catch((err) => {
        log.warn('whatsapp.baileys.unlink_failed', { channelId: ref.channelId, err })
        return 'unreachable' as const
      }),
      new Promise<'unreachable'>((resolve) => {
        timer = setTimeout(() => resolve('unreachable'), timeoutMs)
      }),
    ])
    over = true
    clearTimeout(timer)
    end()
    log.info('whatsapp.baileys.unlink', { channelId: ref.channelId, outcome })
    return outcome
  }

  async function requestPairingCode(ref: ChannelRef, phone: E164) {
    await start(ref)
    const e = entries.get(ref.channelId)
    if (!e) throw new SendError(true, 'not_running', 'The channel stopped')
    if (e.open) throw new SendError(true, 'already_paired', 'The channel is already paired')
    const waited = await Promise.race([
      e.qrSeen.promise.then(() => true),
      Bun.sleep(opts.pairingWaitMs ?? 20_000).then(() => false),
    ])
    if (!waited || !e.transport)
      throw new SendError(false, 'not_pairing', 'The socket is not waiting for a pairing')
    const code = await e.transport.requestPairingCode(phone.replace(/[^\d]/g, ''))
    await write(e, { pairingCode: code })
    return code
  }

  return {
    start,
    stop,
    async stopAll() {
      await Promise.all([...entries.keys()].map((id) => stop(id)))
    },
    async resume() {
      const rows = await channelsToResume(opts.db)
      for (const r of rows) await start({ orgId: r.org, channelId: r.id })
      return rows.length
    },
    requestPairingCode,
    unlink,
    send,
    download,
    isRunning: (id) => !!entries.get(id) && !entries.get(id)!.stopped,
    get sockets() {
      return sockets
    },
    async settled() {
      // Until no start and no background work is left (work can start more work: a close -> a connect).
      for (let i = 0; i < 100 && (inflight.size || starting.size); i++)
        await Promise.allSettled([...inflight, ...starting.values()])
    },
  }
}

function content(req: SendRequest): AnyMessageContent {
  if (req.kind === 'text') return { text: req.text }
  if (req.kind === 'media') {
    if (!req.data) throw new SendError(true, 'no_media', 'WhatsApp Web needs the file itself')
    const data = Buffer.from(req.data)
    if (req.mediaType === 'image') return { image: data, caption: req.caption, mimetype: req.mime }
    if (req.mediaType === 'video') return { video: data, caption: req.caption, mimetype: req.mime }
    if (req.mediaType === 'audio') return { audio: data, mimetype: req.mime }
    return { document: data, mimetype: req.mime, fileName: req.filename ?? 'file', caption: req.caption }
  }
  throw new SendError(true, 'unsupported', 'WhatsApp Web has no message templates')
}

// Provider -----------------------------------------------------------------------------------------

export function createBaileysProvider(deps: ProviderDeps): WhatsAppProvider {
  const ref = { orgId: deps.channel.orgId, channelId: deps.channel.id }
  const sup = () => {
    if (!deps.baileys)
      throw new SendError(false, 'not_running', 'WhatsApp Web is not running in this process')
    return deps.baileys
  }
  return {
    name: 'baileys',
    sendText: (req: TextSend) => sup().send(ref, req),
    sendMedia: (req: MediaSend) => sup().send(ref, req),
    async downloadMedia(media: MediaRef, opts: MediaDownloadOptions): Promise<DownloadedMedia> {
      if (media.size && media.size > opts.maxBytes)
        throw new SendError(
          true,
          'media_too_large',
          `The file has ${media.size} bytes; the limit is ${opts.maxBytes}`,
        )
      const message = waMediaMessage(media)
      if (!message) throw new SendError(true, 'no_media', 'The message carries no downloadable media')
      const data = await sup().download(ref, message)
      if (data.byteLength > opts.maxBytes)
        throw new SendError(
          true,
          'media_too_large',
          `The file has ${data.byteLength} bytes; the limit is ${opts.maxBytes}`,
        )
      return { data, mime: media.mime, ...(media.filename ? { filename: media.filename } : {}) }
    },
    start: () => sup().start(ref),
    stop: (o) => sup().stop(ref.channelId, o),
    requestPairingCode: (phone) => sup().requestPairingCode(ref, phone),
  }
}
