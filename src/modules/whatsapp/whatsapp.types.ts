/**
 * The normalized WhatsApp vocabulary every provider speaks: what comes in (messages, status
 * receipts), what goes out (send requests) and how a send fails. The inbox only ever sees these
 * types, so a channel can change provider without its conversations noticing.
 * (Kept apart from whatsapp.provider.ts so provider files can import it without an import cycle.)
 */
import type { WhatsAppProviderName } from './whatsapp.table'

export type { WhatsAppProviderName }

/** A phone number in E.164 form: "+5511999998888". */
export type E164 = string

export type MessageType =
  | 'text'
  | 'image'
  | 'audio'
  | 'video'
  | 'document'
  | 'location'
  | 'template'
  | 'unknown'

export interface MediaRef {
  /** The provider's media id (Cloud API) — download it through the provider. */
  providerMediaId?: string
  /** Or a URL the provider hands out directly. */
  url?: string
  mime: string
  filename?: string
  caption?: string
  /** Voice note (push-to-talk) rather than an audio file. */
  voice?: boolean
  /** Size in bytes, when the provider says it. */
  size?: number
  /**
   * What the provider needs to fetch the bytes later, opaque to everyone else (Baileys: the
   * encrypted media's directPath, url, mediaKey… as strings). Dropped once the file is stored.
   */
  providerData?: Record<string, string | number | boolean>
  /**
   * The bytes are already in the organization's media store (the sandbox's "write as a customer"
   * stores the uploaded file first): the message is attached to it, nothing is downloaded.
   */
  fileId?: string
}

/** The bytes of an inbound attachment, fetched by `WhatsAppProvider.downloadMedia`. */
export interface DownloadedMedia {
  data: Uint8Array
  mime: string
  filename?: string
  /** Hex SHA-256 the provider announced (checked against the bytes by the caller). */
  sha256?: string
}

export interface MediaDownloadOptions {
  /** Refuse (permanent `media_too_large`) anything bigger, before downloading when the size is known. */
  maxBytes: number
}

export interface Location {
  latitude: number
  longitude: number
  name?: string
  address?: string
}

export interface InboundMessage {
  providerMessageId: string
  from: E164
  /** The channel's own number, when the provider says it. */
  to?: E164
  /** Unix milliseconds. */
  timestamp: number
  type: MessageType
  text?: string
  media?: MediaRef
  location?: Location
  /** The provider id of the message this one answers (quoted reply). */
  replyToProviderId?: string
  /** The sender's WhatsApp profile name. */
  contactName?: string
}

export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed'

export interface ProviderErrorInfo {
  code: string
  title: string
  detail?: string
}

export interface StatusUpdate {
  providerMessageId: string
  status: DeliveryStatus
  /** Unix milliseconds. */
  timestamp: number
  /** The recipient, when the provider says it. */
  recipient?: E164
  error?: ProviderErrorInfo
}

/** What one stored inbound event (a webhook delivery, a socket batch) amounts to. */
export interface InboundBatch {
  messages: InboundMessage[]
  statuses: StatusUpdate[]
}

export interface TemplateComponent {
  type: 'header' | 'body' | 'button' | 'footer'
  sub_type?: string
  index?: string | number
  parameters?: Array<Record<string, unknown>>
}

export interface TemplateRef {
  name: string
  /** e.g. "pt_BR". */
  language: string
  components?: TemplateComponent[]
}

interface SendBase {
  to: E164
  /** Quote this message (reply context). */
  replyToProviderId?: string
  /**
   * Our own id of the message (the send job passes the message id). A provider that lets the
   * sender choose the message id derives it from this, so a retried send reuses the same id
   * (Baileys); the Cloud API has no idempotency key and ignores it (docs/whatsapp.md).
   */
  idempotencyKey?: string
}
export interface TextSend extends SendBase {
  kind: 'text'
  text: string
  previewUrl?: boolean
}
export interface MediaSend extends SendBase {
  kind: 'media'
  mediaType: 'image' | 'audio' | 'video' | 'document'
  /** The file itself (uploaded by the provider), or a provider media id already uploaded. */
  data?: Uint8Array
  providerMediaId?: string
  mime: string
  filename?: string
  caption?: string
}
export interface TemplateSend extends SendBase {
  kind: 'template'
  template: TemplateRef
}
export type SendRequest = TextSend | MediaSend | TemplateSend

export interface SendResult {
  providerMessageId: string
}

/**
 * A send that did not go out (also what `downloadMedia` throws when a download fails). `permanent`: retrying the same request cannot succeed (bad number,
 * outside the 24-hour window, template rejected): show `message` on the message. Otherwise the send
 * job retries with backoff. `retryAfterMs` is the provider's hint when it gave one.
 */
export class SendError extends Error {
  override name = 'SendError'
  constructor(
    readonly permanent: boolean,
    readonly code: string,
    message: string,
    readonly detail?: string,
    readonly retryAfterMs?: number,
  ) {
    super(message)
  }
}

export interface MessageTemplate {
  id?: string
  name: string
  language: string
  status: string
  category?: string
  /** "POSITIONAL" ({{1}}) or "NAMED" ({{first_name}}). */
  parameterFormat?: string
  components: unknown[]
}

/** What a provider's connection check found (Cloud API: the phone number's Graph node). */
export interface ConnectionInfo {
  phoneNumber?: E164
  /** The verified business name WhatsApp shows. */
  name?: string
}

/** The channel as a provider sees it. */
export interface ChannelInfo {
  id: string
  orgId: string
  phoneNumber: E164 | null
  /** Non-secret settings. */
  config: Record<string, string>
}

export interface WebhookRequest {
  raw: Uint8Array
  headers: Headers
}
