/**
 * Message media: the organization's file store for attachments, and the inbound download job.
 *
 * STORE. Files live in the database (`media_files` + 1 MiB `media_file_chunks`, migrations/0013),
 * like CSV imports: the product is one process on PGlite or Postgres, so there is no object store to
 * run, backups carry the files, and RLS isolates them like every tenant row. One file belongs to one
 * message (`message_id`, cascade): it goes with the message, so the LGPD erasure of a lead (its
 * conversations, hence its messages) deletes its files. The cap is `MEDIA_MAX_BYTES` (16 MiB —
 * WhatsApp's own limit for audio, video and, on WhatsApp Web, most media; Cloud API images stop at
 * 5 MB and documents at 100 MB: a bigger inbound document is kept as a reference with an error).
 *
 * TYPES. The claimed type (browser, provider) is checked against the file's first bytes
 * (`sniffMime`): an "image" that is not a JPEG/PNG/GIF/WebP is stored as a download, never shown as
 * an image. Outbound, the message type follows the type (`mediaKindOf`): JPEG/PNG images, MP4/3GPP
 * video and the audio types WhatsApp plays are sent as such; everything else is a document.
 *
 * OUTBOUND. `sendMessage` (inbox.usecases.ts) stores the file in the transaction that inserts the
 * pending message and enqueues its send job: once the rep's request returns, a crash loses nothing.
 *
 * INBOUND. `attachInboundMedia` runs in the transaction that stores a received message: a sandbox
 * upload (already in the store) is attached at once; anything else enqueues `inbox.media_download`,
 * which asks the channel's provider for the bytes OUTSIDE any transaction (Cloud API: GET
 * /{media-id} then its URL; Baileys: the socket decrypts the media message), stores them, records
 * `inbox.media` (the open chat refreshes) — retried with backoff on transient errors; a permanent
 * one (too large, gone, unsupported) is kept on the message and shown in place of the attachment.
 *
 * SERVING. `GET /inbox/media/:id` (inbox.routes.tsx) streams a file under RLS (another
 * organization's id is a 404) with `X-Content-Type-Options: nosniff`; only raster images, audio and
 * video are served inline, everything else (SVG, HTML, PDF, …) as an `application/octet-stream`
 * attachment, with a `sandbox` CSP besides.
 */
import { and, asc, between, eq, sql } from 'drizzle-orm'
import type { OrgTx } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { query } from '../../platform/events/events.pg'
import type { Check } from '../../platform/http/errors'
import { defineOrgJob } from '../../platform/jobs/jobs.define'
import { enqueue } from '../../platform/jobs/jobs.queue'
import { isUuid } from '../../shared/ids'
import type { DownloadedMedia, MediaRef, MediaSend } from '../whatsapp/whatsapp.types'
import { isSendError, loadChannel, senderFor } from './inbox.channel'
import './inbox.events'
import { mediaFileChunks, mediaFiles } from './inbox.media.table'

export const MEDIA_MAX_BYTES = 16 * 1024 * 1024
export const MEDIA_CHUNK_BYTES = 1 << 20
/** WhatsApp's limit for a media caption (Cloud API: 1024 characters). */
export const MEDIA_CAPTION_MAX = 1024

export type MediaKind = 'image' | 'audio' | 'video' | 'document'
export const MEDIA_KINDS: ReadonlySet<string> = new Set(['image', 'audio', 'video', 'document'])

/** What messages.media holds (a reference, plus `fileId` once the bytes are in the store). */
export interface StoredMediaRef {
  mime?: string | null
  filename?: string | null
  size?: number | null
  voice?: boolean | null
  providerMediaId?: string | null
  url?: string | null
  providerData?: Record<string, string | number | boolean>
  fileId?: string | null
  sha256?: string | null
  /** Why the bytes could not be fetched (permanent), shown instead of the attachment. */
  error?: { code: string; message: string } | null
}

// Types ------------------------------------------------------------------------------------------

const ascii = (b: Uint8Array, at: number, s: string) => {
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false
  return true
}

/** The type the first bytes prove, or null (plain text, office files, unknown formats). */
export function detectMime(b: Uint8Array): string | null {
  if (b.length < 4) return null
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg'
  if (ascii(b, 0, '\x89PNG\r\n\x1a\n')) return 'image/png'
  if (ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a')) return 'image/gif'
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return 'image/webp'
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WAVE')) return 'audio/wav'
  if (ascii(b, 0, '%PDF-')) return 'application/pdf'
  if (ascii(b, 0, 'OggS')) return 'audio/ogg'
  if (ascii(b, 0, '#!AMR')) return 'audio/amr'
  if (ascii(b, 0, 'ID3')) return 'audio/mpeg'
  if (ascii(b, 4, 'ftyp')) {
    const brand = String.fromCharCode(b[8] ?? 0, b[9] ?? 0, b[10] ?? 0, b[11] ?? 0)
    if (brand.startsWith('3gp')) return 'video/3gpp'
    if (brand === 'M4A ' || brand === 'M4B ') return 'audio/mp4'
    if (brand === 'qt  ') return 'video/quicktime'
    return 'video/mp4'
  }
  if (ascii(b, 0, '\x1aE\xdf\xa3')) return 'video/webm'
  if (b[0] === 0xff && ((b[1] ?? 0) & 0xf6) === 0xf0) return 'audio/aac' // ADTS
  if (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0) return 'audio/mpeg' // MPEG audio frame
  return null
}

const MP4_FAMILY = new Set(['video/mp4', 'audio/mp4', 'video/3gpp', 'audio/3gpp', 'video/quicktime'])
const RASTER = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp'])
const BY_EXTENSION: Record<string, string> = {
  pdf: 'application/pdf',
  txt: 'text/plain',
  csv: 'text/csv',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  zip: 'application/zip',
  opus: 'audio/opus',
  aac: 'audio/aac',
}

const baseMime = (m: string | null | undefined) =>
  (m ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9.+/-]/g, '')
    .slice(0, 100)

/**
 * The type to store: the claim when the bytes agree (or cannot say), what the bytes prove otherwise.
 * An unproven raster image claim is not believed (it could be anything): it becomes a download.
 */
export function sniffMime(
  data: Uint8Array,
  claimed: string | null | undefined,
  filename?: string | null,
): string {
  const claim = baseMime(claimed)
  const seen = detectMime(data)
  if (seen) {
    if (claim === seen) return claim
    if (MP4_FAMILY.has(seen) && MP4_FAMILY.has(claim)) return claim
    if (seen === 'audio/ogg' && (claim === 'audio/opus' || claim === 'video/ogg')) return claim
    return seen
  }
  if (claim && claim !== 'application/octet-stream' && /^[a-z]+\/[a-z0-9.+-]+$/.test(claim))
    return RASTER.has(claim) ? 'application/octet-stream' : claim
  const ext = /\.([a-z0-9]{1,5})$/i.exec(filename ?? '')?.[1]?.toLowerCase()
  return (ext && BY_EXTENSION[ext]) || 'application/octet-stream'
}

const SEND_AS: Record<Exclude<MediaKind, 'document'>, ReadonlySet<string>> = {
  image: new Set(['image/jpeg', 'image/png']),
  video: new Set(['video/mp4', 'video/3gpp']),
  audio: new Set(['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg', 'audio/opus']),
}

/** How a file of this type is sent on WhatsApp: as an image, a video, an audio, or a document. */
export function mediaKindOf(mime: string): MediaKind {
  const m = baseMime(mime)
  for (const kind of ['image', 'video', 'audio'] as const) if (SEND_AS[kind].has(m)) return kind
  return 'document'
}

/** Served inline (the browser shows or plays it): raster images, audio and video. Never SVG/HTML. */
export function inlineSafe(mime: string): boolean {
  const m = baseMime(mime)
  return RASTER.has(m) || /^(audio|video)\/[a-z0-9.+-]+$/.test(m)
}

const EXT: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
  'audio/amr': 'amr',
  'video/mp4': 'mp4',
  'video/3gpp': '3gp',
  'application/pdf': 'pdf',
}

/** A name safe to store and to hand back in Content-Disposition (no paths, no control characters). */
export function cleanFilename(name: string | null | undefined): string | null {
  const base = (name ?? '').split(/[\\/]/).pop() ?? ''
  const clean = [...base]
    .map((c) => (c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127 || '"<>|*?:'.includes(c) ? '_' : c))
    .join('')
    .trim()
    .slice(-255)
  return clean && !/^\.+$/.test(clean) ? clean : null
}

/** The name a download gets when the file has none ("image-<id>.jpg"). */
export function downloadName(file: { id: string; mime: string; filename: string | null }): string {
  if (file.filename) return file.filename
  const kind = mediaKindOf(file.mime)
  return `${kind}-${file.id.slice(-8)}.${EXT[baseMime(file.mime)] ?? 'bin'}`
}

/** `attachment; filename="..."; filename*=UTF-8''...` (RFC 6266 / 5987). */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_')
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name)}`
}

export const sha256Hex = (data: Uint8Array) => new Bun.CryptoHasher('sha256').update(data).digest('hex')

// Uploads ----------------------------------------------------------------------------------------

/** A file the rep (or the sandbox form) uploaded, its type checked against its bytes. */
export interface Attachment {
  data: Uint8Array
  mime: string
  filename: string | null
}

export function prepareAttachment(input: {
  data: Uint8Array
  mime?: string | null
  filename?: string | null
}): Attachment {
  const filename = cleanFilename(input.filename)
  return { data: input.data, mime: sniffMime(input.data, input.mime, filename), filename }
}

/** Field errors of an attachment: empty, over the cap (the route answers 413), caption too long. */
export function checkAttachment(check: Check, a: Attachment | null | undefined, caption: string) {
  if (!a) return
  if (a.data.byteLength === 0) check.add('file', 'inbox.media.error.empty')
  else if (a.data.byteLength > MEDIA_MAX_BYTES)
    check.add('file', 'inbox.media.error.too_large', { max: MEDIA_MAX_BYTES >> 20 })
  if (caption.length > MEDIA_CAPTION_MAX)
    check.add('body', 'inbox.media.error.caption_too_long', { max: MEDIA_CAPTION_MAX })
}

// Store ------------------------------------------------------------------------------------------

export interface MediaFileMeta {
  id: string
  messageId: string | null
  mime: string
  filename: string | null
  size: number
  sha256: string
}

/**
 * Writes a file (row + chunks) in the caller's transaction. The caller checked the size; this
 * refuses past the cap anyway (a programming error, not a user error).
 */
export async function storeMediaFile(
  tx: OrgTx,
  input: { id?: string; data: Uint8Array; mime: string; filename?: string | null; messageId?: string | null },
): Promise<MediaFileMeta> {
  if (input.data.byteLength > MEDIA_MAX_BYTES) throw new Error('media file over the cap')
  const id = input.id ?? Bun.randomUUIDv7()
  const meta: MediaFileMeta = {
    id,
    messageId: input.messageId ?? null,
    mime: baseMime(input.mime) || 'application/octet-stream',
    filename: cleanFilename(input.filename),
    size: input.data.byteLength,
    sha256: sha256Hex(input.data),
  }
  const org = sql`nullif(current_setting('app.org_id', true), '')::uuid` as unknown as string
  await tx.insert(mediaFiles).values({
    id,
    organizationId: org,
    messageId: meta.messageId,
    mime: meta.mime,
    filename: meta.filename,
    size: meta.size,
    sha256: meta.sha256,
  })
  for (let seq = 0, at = 0; at < input.data.byteLength || seq === 0; seq++, at += MEDIA_CHUNK_BYTES)
    await tx.insert(mediaFileChunks).values({
      organizationId: org,
      fileId: id,
      seq,
      data: input.data.subarray(at, at + MEDIA_CHUNK_BYTES),
    })
  return meta
}

export async function findMediaFile(tx: OrgTx, id: string): Promise<MediaFileMeta | null> {
  if (!isUuid(id)) return null
  const [r] = await tx.select().from(mediaFiles).where(eq(mediaFiles.id, id))
  return r
    ? {
        id: r.id,
        messageId: r.messageId,
        mime: r.mime,
        filename: r.filename,
        size: Number(r.size),
        sha256: r.sha256,
      }
    : null
}

/** Bytes [start, end] (inclusive) of a stored file, reading only the chunks they span. */
export async function readMediaBytes(tx: OrgTx, file: MediaFileMeta, start = 0, end = file.size - 1) {
  if (file.size === 0 || end < start) return new Uint8Array(0)
  const first = Math.floor(start / MEDIA_CHUNK_BYTES)
  const last = Math.floor(end / MEDIA_CHUNK_BYTES)
  const rows = await tx
    .select({ seq: mediaFileChunks.seq, data: mediaFileChunks.data })
    .from(mediaFileChunks)
    .where(and(eq(mediaFileChunks.fileId, file.id), between(mediaFileChunks.seq, first, last)))
    .orderBy(asc(mediaFileChunks.seq))
  const out = new Uint8Array(end - start + 1)
  for (const r of rows) {
    const data = r.data instanceof Uint8Array ? r.data : new Uint8Array(r.data as ArrayBuffer)
    const chunkStart = r.seq * MEDIA_CHUNK_BYTES
    const from = Math.max(start, chunkStart)
    const to = Math.min(end, chunkStart + data.byteLength - 1)
    if (to >= from) out.set(data.subarray(from - chunkStart, to - chunkStart + 1), from - start)
  }
  return out
}

// Outbound ---------------------------------------------------------------------------------------

/**
 * The send job's view of an outbound message's attachment: its bytes from the store and how to send
 * it; null for a message without one; 'missing' when the stored file is gone (permanent).
 */
export async function outboundMedia(
  tx: OrgTx,
  m: { type: string; body: string | null; media: unknown },
): Promise<Omit<MediaSend, 'kind' | 'to'> | 'missing' | null> {
  const media = parseJson<StoredMediaRef>(m.media)
  if (!media?.fileId) return null
  const file = await findMediaFile(tx, media.fileId)
  if (!file) return 'missing'
  const data = await readMediaBytes(tx, file)
  const mediaType = MEDIA_KINDS.has(m.type) ? (m.type as MediaKind) : mediaKindOf(file.mime)
  return {
    mediaType,
    data,
    mime: file.mime,
    ...(file.filename ? { filename: file.filename } : {}),
    ...(m.body ? { caption: m.body } : {}),
  }
}

// Inbound ----------------------------------------------------------------------------------------

/**
 * In the transaction that stored a received message: attach a file already in the store (sandbox
 * upload), or enqueue the download of the provider's media.
 */
export async function attachInboundMedia(tx: OrgTx, messageId: string, media: MediaRef): Promise<void> {
  if (media.fileId) {
    const rows = isUuid(media.fileId)
      ? await query<{ size: string | number; sha256: string; mime: string }>(
          tx,
          sql`update media_files set message_id = ${messageId}::uuid
            where id = ${media.fileId}::uuid and message_id is null returning size, sha256, mime`,
        )
      : []
    const f = rows[0]
    const patch = f
      ? { fileId: media.fileId, size: Number(f.size), sha256: f.sha256, mime: f.mime }
      : { fileId: null, error: { code: 'file_missing', message: 'The uploaded file is not available' } }
    await tx.execute(
      sql`update messages set media = coalesce(media, '{}'::jsonb) || ${JSON.stringify(patch)}::jsonb
        where id = ${messageId}::uuid`,
    )
    return
  }
  if (media.providerMediaId || media.url || media.providerData)
    await enqueue(tx, inboxMediaJob, { messageId }, { idempotencyKey: `inbox.media:${messageId}` })
}

interface PendingMedia {
  id: string
  conversation_id: string
  channel_id: string
  media: unknown
}

const parseJson = <T>(v: unknown): T | null => (typeof v === 'string' ? JSON.parse(v) : ((v as T) ?? null))

/** The provider reference of a stored message's media, back in the normalized shape. */
function refOf(m: StoredMediaRef): MediaRef {
  return {
    mime: m.mime ?? 'application/octet-stream',
    ...(m.providerMediaId ? { providerMediaId: m.providerMediaId } : {}),
    ...(m.url ? { url: m.url } : {}),
    ...(m.filename ? { filename: m.filename } : {}),
    ...(m.size ? { size: m.size } : {}),
    ...(m.providerData ? { providerData: m.providerData } : {}),
  }
}

async function finishMedia(tx: OrgTx, m: Pick<PendingMedia, 'id' | 'conversation_id'>, patch: object) {
  await tx.execute(
    sql`update messages set media = (coalesce(media, '{}'::jsonb) - 'providerData') || ${JSON.stringify(patch)}::jsonb
      where id = ${m.id}::uuid`,
  )
  await recordEvent(tx, {
    type: 'inbox.media',
    payload: { conversationId: m.conversation_id, messageId: m.id },
  })
}

/**
 * Downloads one inbound message's media into the store. Idempotent: a message whose media already
 * has a file (or a permanent error) is left alone, and the write re-checks under the row lock, so two
 * runs racing (a lost lease) store one file.
 */
export const inboxMediaJob = defineOrgJob<{ messageId: string }>({
  name: 'inbox.media_download',
  // Its own queue: a slow download never holds up sends.
  queue: 'media',
  maxAttempts: 8,
  backoff: { baseMs: 2_000, maxMs: 5 * 60_000 },
  async run(ctx) {
    const { messageId } = ctx.payload
    const last = ctx.job.attempt >= ctx.job.maxAttempts
    const prep = await ctx.tx(async (tx) => {
      const [m] = await query<PendingMedia>(
        tx,
        sql`select id::text as id, conversation_id::text as conversation_id, channel_id::text as channel_id, media
          from messages where id = ${messageId}::uuid and direction = 'in'`,
      )
      const media = m ? parseJson<StoredMediaRef>(m.media) : null
      if (!m || !media || media.fileId || media.error) return null
      return { m, media, channel: await loadChannel(tx, m.channel_id) }
    })
    if (!prep) return
    const { m, media, channel } = prep
    const fail = (code: string, message: string) =>
      ctx.tx((tx) => finishMedia(tx, m, { error: { code, message: message.slice(0, 300) } }))
    if (!channel) return fail('channel_gone', 'The channel no longer exists')
    let got: DownloadedMedia
    try {
      const sender = await senderFor(ctx.db, ctx.orgId, channel)
      if (!sender.download)
        throw Object.assign(new Error('This channel cannot download media'), {
          permanent: true,
          code: 'unsupported',
        })
      got = await sender.download(refOf(media), { maxBytes: MEDIA_MAX_BYTES })
      if (got.data.byteLength > MEDIA_MAX_BYTES)
        throw Object.assign(new Error(`The file is larger than ${MEDIA_MAX_BYTES >> 20} MB`), {
          permanent: true,
          code: 'media_too_large',
        })
    } catch (err) {
      const permanent = isSendError(err) && err.permanent
      if (permanent || last)
        return fail(isSendError(err) ? String(err.code) : 'error', (err as Error)?.message ?? String(err))
      throw err
    }
    await ctx.tx(async (tx) => {
      const [row] = await query<{ media: unknown }>(
        tx,
        sql`select media from messages where id = ${m.id}::uuid for update`,
      )
      const now = row ? parseJson<StoredMediaRef>(row.media) : null
      if (!now || now.fileId) return // another run stored it meanwhile
      const mime = sniffMime(got.data, got.mime || media.mime, got.filename ?? media.filename)
      const file = await storeMediaFile(tx, {
        data: got.data,
        mime,
        filename: got.filename ?? media.filename ?? null,
        messageId: m.id,
      })
      await finishMedia(tx, m, {
        fileId: file.id,
        size: file.size,
        sha256: file.sha256,
        mime: file.mime,
        error: null,
      })
    })
  },
})
