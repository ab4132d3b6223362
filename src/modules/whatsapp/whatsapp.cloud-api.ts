/**
 * WhatsApp Business Platform, Cloud API (https://developers.facebook.com/docs/whatsapp/cloud-api).
 *
 * Config (non-secret): `phoneNumberId`, `wabaId`. Secrets: `accessToken` (system-user token),
 * `appSecret` (signs webhooks), `verifyToken` (the GET handshake). Base URL: FACEBOOK_GRAPH_URL.
 *
 * - Send: POST {graph}/v21.0/{phone-number-id}/messages, `Authorization: Bearer <token>`, JSON
 *   `{messaging_product: "whatsapp", recipient_type: "individual", to, type, <type>: {...}, context?}`
 *   (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages). Answer:
 *   `{messaging_product, contacts: [{input, wa_id}], messages: [{id}]}`.
 * - Media: upload first, POST {graph}/v21.0/{phone-number-id}/media (multipart: messaging_product,
 *   type, file) -> `{id}`, then send `{type: "image", image: {id, caption}}`
 *   (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media).
 *   Inbound media: GET {graph}/v21.0/{media-id} -> `{url, mime_type, sha256, file_size, id}`, then GET
 *   that URL with the same bearer token (it expires after 5 minutes). Types and sizes Meta accepts
 *   are `CLOUD_MEDIA` below; anything else is refused before uploading (permanent).
 * - Templates: GET {graph}/v21.0/{waba-id}/message_templates -> `{data: [...], paging: {next}}`.
 * - Errors: `{error: {message, type, code, error_subcode, error_data: {messaging_product, details},
 *   fbtrace_id}}` (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes):
 *   decide on `code`, not the HTTP status nor the (deprecated) subcode.
 * - Webhooks (https://developers.facebook.com/docs/graph-api/webhooks/getting-started): GET
 *   `hub.mode=subscribe&hub.verify_token=..&hub.challenge=..` -> echo the challenge; POST signed
 *   `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(raw body, app secret)>`; payloads
 *   (https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components):
 *   `entry[].changes[].value.{metadata, contacts[], messages[], statuses[]}`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { toE164 } from '../../shared/phone'
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
  type MessageTemplate,
  type MessageType,
  SendError,
  type SendResult,
  type StatusUpdate,
  type TemplateSend,
  type TextSend,
  type WebhookRequest,
} from './whatsapp.types'

export const GRAPH_VERSION = 'v21.0'

/**
 * Error codes retrying cannot fix at all (the rest of 4xx too), and those worth retrying later.
 * https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
 */
const TRANSIENT_CODES = new Set([
  1, // API Unknown: possible server error
  2, // API Service: temporary downtime or overload
  4, // API Too Many Calls (app rate limit)
  80007, // WABA rate limit
  130429, // Cloud API throughput reached
  131000, // Something went wrong
  131016, // Service unavailable
  131048, // Spam rate limit hit
  131056, // Pair rate limit: too many messages to the same number
  133004, // Server temporarily unavailable
])
const RATE_LIMIT_CODES = new Set([4, 80007, 130429, 131048, 131056])

interface GraphErrorBody {
  error?: {
    message?: string
    type?: string
    code?: number
    error_subcode?: number
    error_data?: { messaging_product?: string; details?: string }
    fbtrace_id?: string
  }
}

/** The documented error shape -> a SendError (permanent or transient). */
export function graphError(status: number, body: unknown, retryAfter?: string | null): SendError {
  const e = (body as GraphErrorBody | null)?.error
  const code = typeof e?.code === 'number' ? e.code : null
  const message = e?.message ?? `Graph API HTTP ${status}`
  const detail = e?.error_data?.details
  const transient = status >= 500 || status === 429 || (code !== null && TRANSIENT_CODES.has(code))
  const hint = Number(retryAfter)
  const retryAfterMs =
    Number.isFinite(hint) && hint > 0
      ? hint * 1000
      : code !== null && RATE_LIMIT_CODES.has(code)
        ? 60_000
        : undefined
  return new SendError(
    !transient,
    code !== null ? String(code) : `http_${status}`,
    message,
    detail,
    retryAfterMs,
  )
}

const digits = (to: E164) => to.replace(/[^\d]/g, '')

/**
 * What the Cloud API accepts per media type, and how big (the upload refuses other types with error
 * 100 "Param file must be a file with one of the following types…").
 * https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types
 */
export const CLOUD_MEDIA: Record<MediaSend['mediaType'], { types: string[]; maxBytes: number }> = {
  image: { types: ['image/jpeg', 'image/png'], maxBytes: 5 * 1024 * 1024 },
  audio: {
    types: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg', 'audio/opus'],
    maxBytes: 16 * 1024 * 1024,
  },
  video: { types: ['video/mp4', 'video/3gpp'], maxBytes: 16 * 1024 * 1024 },
  document: {
    types: [
      'text/plain',
      'application/pdf',
      'application/msword',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.ms-excel',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'application/vnd.ms-powerpoint',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    ],
    maxBytes: 100 * 1024 * 1024,
  },
}

const mb = (n: number) => `${Math.round((n / (1024 * 1024)) * 10) / 10} MB`
const tooLarge = (size: number, max: number) =>
  new SendError(true, 'media_too_large', `The file has ${mb(size)}; the limit is ${mb(max)}`)

/** Refuses (permanently) what Meta would refuse anyway, before uploading anything. */
function checkCloudMedia(req: MediaSend) {
  const rule = CLOUD_MEDIA[req.mediaType]
  const base = req.mime.split(';')[0]!.trim().toLowerCase()
  if (!rule?.types.includes(base))
    throw new SendError(
      true,
      'media_unsupported',
      `WhatsApp Cloud API does not accept ${base || 'this file type'} as ${req.mediaType}`,
    )
  if (req.data && req.data.byteLength > rule.maxBytes) throw tooLarge(req.data.byteLength, rule.maxBytes)
}

/** The body, refused (permanently) past `max` bytes even when the server did not say its size. */
async function readLimited(res: Response, max: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > max) throw tooLarge(declared, max)
  const parts: Uint8Array[] = []
  let total = 0
  const reader = res.body?.getReader()
  if (!reader) return new Uint8Array(0)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.byteLength
      if (total > max) {
        await reader.cancel().catch(() => {})
        throw tooLarge(total, max)
      }
      parts.push(value)
    }
  } catch (err) {
    if (err instanceof SendError) throw err
    throw new SendError(false, 'network', `Media download interrupted: ${(err as Error).message}`)
  }
  const out = new Uint8Array(total)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

export function createCloudApiProvider(deps: ProviderDeps): WhatsAppProvider {
  const base = `${deps.graphUrl.replace(/\/+$/, '')}/${GRAPH_VERSION}`
  const need = (value: string | undefined, what: string) => {
    if (!value) throw new SendError(true, 'config', `The channel has no ${what}: edit its settings`)
    return value
  }
  const phoneNumberId = () => need(deps.channel.config.phoneNumberId, 'phone number id')
  const token = () => need(deps.secrets.accessToken, 'access token')

  async function call(url: string, init: RequestInit): Promise<unknown> {
    let res: Response
    try {
      res = await deps.fetch(url, init)
    } catch (err) {
      throw new SendError(false, 'network', `Graph API unreachable: ${(err as Error).message}`)
    }
    const body = await res.json().catch(() => null)
    if (!res.ok || (body as GraphErrorBody | null)?.error)
      throw graphError(res.status, body, res.headers.get('retry-after'))
    return body
  }

  async function postMessage(payload: Record<string, unknown>, replyTo?: string): Promise<SendResult> {
    const body = {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      ...payload,
      ...(replyTo ? { context: { message_id: replyTo } } : {}),
    }
    const res = (await call(`${base}/${encodeURIComponent(phoneNumberId())}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })) as { messages?: Array<{ id?: string }> }
    const id = res.messages?.[0]?.id
    if (!id) throw new SendError(false, 'no_id', 'Graph API answered without a message id')
    return { providerMessageId: id }
  }

  async function upload(req: MediaSend): Promise<string> {
    if (req.providerMediaId) return req.providerMediaId
    if (!req.data) throw new SendError(true, 'no_media', 'Nothing to upload')
    const form = new FormData()
    form.append('messaging_product', 'whatsapp')
    form.append('type', req.mime)
    form.append(
      'file',
      new Blob([req.data as Uint8Array<ArrayBuffer>], { type: req.mime }),
      req.filename ?? 'file',
    )
    const res = (await call(`${base}/${encodeURIComponent(phoneNumberId())}/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token()}` },
      body: form,
    })) as { id?: string }
    if (!res.id) throw new SendError(false, 'no_id', 'Graph API media upload answered without an id')
    return res.id
  }

  return {
    name: 'cloud-api',

    sendText(req: TextSend) {
      return postMessage(
        { to: digits(req.to), type: 'text', text: { preview_url: req.previewUrl ?? false, body: req.text } },
        req.replyToProviderId,
      )
    },

    async sendMedia(req: MediaSend) {
      checkCloudMedia(req)
      const id = await upload(req)
      const media: Record<string, unknown> = { id }
      // Audio takes no caption; documents carry their filename.
      if (req.caption && req.mediaType !== 'audio') media.caption = req.caption
      if (req.mediaType === 'document' && req.filename) media.filename = req.filename
      return postMessage(
        { to: digits(req.to), type: req.mediaType, [req.mediaType]: media },
        req.replyToProviderId,
      )
    },

    // GET /{media-id} -> {messaging_product, url, mime_type, sha256, file_size, id}; then GET url with
    // the same bearer token (the URL lasts 5 minutes: every attempt asks for a fresh one).
    // https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#download-media
    async downloadMedia(media: MediaRef, opts: MediaDownloadOptions): Promise<DownloadedMedia> {
      const mediaId = media.providerMediaId
      if (!mediaId) throw new SendError(true, 'no_media', 'The message names no media id')
      const info = (await call(`${base}/${encodeURIComponent(mediaId)}`, {
        headers: { authorization: `Bearer ${token()}` },
      })) as { url?: string; mime_type?: string; sha256?: string; file_size?: number | string }
      const size = Number(info.file_size)
      if (Number.isFinite(size) && size > opts.maxBytes) throw tooLarge(size, opts.maxBytes)
      if (!info.url) throw new SendError(false, 'no_url', 'Graph API answered without a media URL')
      let res: Response
      try {
        res = await deps.fetch(info.url, { headers: { authorization: `Bearer ${token()}` } })
      } catch (err) {
        throw new SendError(false, 'network', `Media download failed: ${(err as Error).message}`)
      }
      if (!res.ok) {
        const body = await res.json().catch(() => null)
        // 404: the media is gone (deleted by the sender, or older than Meta keeps it).
        if (res.status === 404) throw new SendError(true, 'media_gone', 'The media is no longer available')
        throw graphError(res.status, body, res.headers.get('retry-after'))
      }
      const data = await readLimited(res, opts.maxBytes)
      // A body cut short is worth another try (Meta said how big the file is).
      if (Number.isFinite(size) && size > 0 && data.byteLength !== size)
        throw new SendError(
          false,
          'truncated',
          `Media download cut short (${data.byteLength} of ${size} bytes)`,
        )
      return {
        data,
        mime: info.mime_type || media.mime,
        ...(media.filename ? { filename: media.filename } : {}),
        ...(info.sha256 ? { sha256: info.sha256 } : {}),
      }
    },

    sendTemplate(req: TemplateSend) {
      const t = req.template
      return postMessage(
        {
          to: digits(req.to),
          type: 'template',
          template: {
            name: t.name,
            language: { code: t.language },
            ...(t.components?.length ? { components: t.components } : {}),
          },
        },
        req.replyToProviderId,
      )
    },

    async listTemplates() {
      const waba = need(deps.channel.config.wabaId, 'WhatsApp Business Account id')
      const out: MessageTemplate[] = []
      let url: string | null =
        `${base}/${encodeURIComponent(waba)}/message_templates?fields=name,status,language,category,parameter_format,components&limit=100`
      // Follow the cursor, a bounded number of pages.
      for (let page = 0; url && page < 20; page++) {
        const res = (await call(url, { headers: { authorization: `Bearer ${token()}` } })) as {
          data?: Array<Record<string, unknown>>
          paging?: { next?: string }
        }
        for (const t of res.data ?? [])
          out.push({
            id: typeof t.id === 'string' ? t.id : undefined,
            name: String(t.name ?? ''),
            language: String(t.language ?? ''),
            status: String(t.status ?? ''),
            category: typeof t.category === 'string' ? t.category : undefined,
            parameterFormat: typeof t.parameter_format === 'string' ? t.parameter_format : undefined,
            components: Array.isArray(t.components) ? t.components : [],
          })
        url = res.paging?.next ?? null
      }
      return out
    },

    // GET /{phone-number-id}: {verified_name, display_phone_number, id, quality_rating}
    // (https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account-to-number-current-status/).
    async checkConnection() {
      const res = (await call(
        `${base}/${encodeURIComponent(phoneNumberId())}?fields=display_phone_number,verified_name`,
        { headers: { authorization: `Bearer ${token()}` } },
      )) as { display_phone_number?: string; verified_name?: string }
      const phone = waIdToE164(res.display_phone_number)
      return {
        ...(phone ? { phoneNumber: phone } : {}),
        ...(typeof res.verified_name === 'string' ? { name: res.verified_name } : {}),
      }
    },

    webhookHandshake(query) {
      const expected = deps.secrets.verifyToken
      if (!expected || query.get('hub.mode') !== 'subscribe') return null
      if (!sameText(query.get('hub.verify_token') ?? '', expected)) return null
      return query.get('hub.challenge') ?? ''
    },

    verifyWebhook(req: WebhookRequest) {
      const secret = deps.secrets.appSecret
      const m = /^sha256=([0-9a-f]{64})$/i.exec(req.headers.get('x-hub-signature-256')?.trim() ?? '')
      if (!secret || !m) return false
      const mac = createHmac('sha256', secret).update(req.raw).digest()
      return timingSafeEqual(mac, Buffer.from(m[1]!.toLowerCase(), 'hex'))
    },

    parseWebhook: parseCloudWebhook,
  }
}

function sameText(a: string, b: string) {
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && timingSafeEqual(x, y)
}

// Webhook payloads -----------------------------------------------------------------------------------

type Obj = Record<string, unknown>
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {})
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined
/** wa_id / display number ("5511999998888") -> "+5511999998888"; null when it is not a number. */
export const waIdToE164 = (v: unknown): E164 | null => {
  const s = str(v)?.replace(/[^\d]/g, '')
  return s && s.length >= 7 && s.length <= 15 ? (toE164(`+${s}`, 'BR') ?? `+${s}`) : null
}
const seconds = (v: unknown) => {
  const n = Number(str(v))
  return Number.isFinite(n) && n > 0 ? n * 1000 : Date.now()
}

const MEDIA_TYPES = new Set(['image', 'audio', 'video', 'document', 'sticker'])

/** `entry[].changes[].value` (field "messages") -> normalized messages and receipts. */
export function parseCloudWebhook(body: string): InboundBatch {
  const out: InboundBatch = { messages: [], statuses: [] }
  let root: Obj
  try {
    root = obj(JSON.parse(body))
  } catch {
    return out
  }
  for (const entry of arr(root.entry)) {
    for (const change of arr(obj(entry).changes)) {
      const c = obj(change)
      if (c.field !== undefined && c.field !== 'messages') continue
      const value = obj(c.value)
      const to = waIdToE164(obj(value.metadata).display_phone_number) ?? undefined
      const names = new Map<string, string>()
      for (const contact of arr(value.contacts)) {
        const k = obj(contact)
        const name = str(obj(k.profile).name)
        const id = waIdToE164(k.wa_id)
        if (id && name) names.set(id, name)
      }
      for (const m of arr(value.messages)) {
        const msg = parseMessage(obj(m), to, names)
        if (msg) out.messages.push(msg)
      }
      for (const s of arr(value.statuses)) {
        const st = parseStatus(obj(s))
        if (st) out.statuses.push(st)
      }
    }
  }
  return out
}

function parseMessage(m: Obj, to: E164 | undefined, names: Map<string, string>): InboundMessage | null {
  const id = str(m.id)
  const from = waIdToE164(m.from)
  if (!id || !from) return null
  const rawType = str(m.type) ?? 'unknown'
  const msg: InboundMessage = {
    providerMessageId: id,
    from,
    ...(to ? { to } : {}),
    timestamp: seconds(m.timestamp),
    type: 'unknown',
  }
  const name = names.get(from)
  if (name) msg.contactName = name
  const replyTo = str(obj(m.context).id)
  if (replyTo) msg.replyToProviderId = replyTo

  if (rawType === 'text') {
    msg.type = 'text'
    msg.text = str(obj(m.text).body) ?? ''
  } else if (MEDIA_TYPES.has(rawType)) {
    const media = obj(m[rawType])
    msg.type = (rawType === 'sticker' ? 'image' : rawType) as MessageType
    msg.media = {
      ...(str(media.id) ? { providerMediaId: str(media.id) } : {}),
      ...(str(media.url) ? { url: str(media.url) } : {}),
      mime: str(media.mime_type) ?? 'application/octet-stream',
      ...(str(media.filename) ? { filename: str(media.filename) } : {}),
      ...(str(media.caption) ? { caption: str(media.caption) } : {}),
      ...(media.voice === true ? { voice: true } : {}),
    }
    if (msg.media.caption) msg.text = msg.media.caption
  } else if (rawType === 'location') {
    const l = obj(m.location)
    msg.type = 'location'
    msg.location = {
      latitude: Number(l.latitude),
      longitude: Number(l.longitude),
      ...(str(l.name) ? { name: str(l.name) } : {}),
      ...(str(l.address) ? { address: str(l.address) } : {}),
    }
  } else if (rawType === 'interactive') {
    // A tap on a reply button or a list row we sent: its title is what the customer "said".
    const i = obj(m.interactive)
    const reply = obj(i.button_reply ?? i.list_reply)
    msg.type = 'text'
    msg.text = str(reply.title) ?? ''
  } else if (rawType === 'button') {
    // A quick-reply button of a template.
    msg.type = 'text'
    msg.text = str(obj(m.button).text) ?? str(obj(m.button).payload) ?? ''
  } else {
    msg.type = 'unknown'
    const err = obj(arr(m.errors)[0])
    const title = str(err.title)
    if (title) msg.text = title
  }
  return msg
}

const STATUSES: Record<string, DeliveryStatus> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  failed: 'failed',
}

function parseStatus(s: Obj): StatusUpdate | null {
  const id = str(s.id)
  const status = STATUSES[str(s.status) ?? '']
  if (!id || !status) return null
  const out: StatusUpdate = { providerMessageId: id, status, timestamp: seconds(s.timestamp) }
  const recipient = waIdToE164(s.recipient_id)
  if (recipient) out.recipient = recipient
  const err = obj(arr(s.errors)[0])
  if (status === 'failed' || Object.keys(err).length) {
    const code = str(err.code)
    if (code || str(err.title))
      out.error = {
        code: code ?? 'unknown',
        title: str(err.title) ?? str(err.message) ?? '',
        ...(str(obj(err.error_data).details) ? { detail: str(obj(err.error_data).details) } : {}),
      }
  }
  return out
}
