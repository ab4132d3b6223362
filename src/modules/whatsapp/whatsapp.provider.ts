/**
 * WhatsApp providers: one interface, one registry, one file per provider (DESIGN.md "Provider
 * adapters"). The inbox, the send job and the webhook route only ever talk to `WhatsAppProvider`
 * and the normalized types of whatsapp.types.ts, so a channel switches provider without its threads
 * noticing.
 *
 * How to add a provider:
 *   1. Write `whatsapp.<name>.ts` exporting `create<Name>Provider: WhatsAppProviderFactory`. It gets
 *      everything by injection (`ProviderDeps`: the channel, its decrypted secrets, `fetch` and base
 *      URLs — tests point them at a local fake — and `deliver` for what a socket receives). A factory
 *      must not throw on missing secrets: methods that need one throw a permanent `SendError`.
 *   2. Implement `sendText`; every other capability is an optional method (leave it out when the
 *      provider cannot do it: callers check, `sendRequest` answers a permanent `unsupported` error).
 *      Webhook providers implement `verifyWebhook` + `parseWebhook` (and `webhookHandshake` when the
 *      vendor does a GET challenge); socket providers implement `start`/`stop` and call `deliver`.
 *   3. Add it to `whatsappProviders` below, to the provider check of migrations (a new migration
 *      altering `whatsapp_channels_provider_check` and `webhook_inbox_provider_check`), to
 *      `WHATSAPP_PROVIDER_NAMES` (whatsapp.table.ts), and its settings fields to the channel form.
 *   4. Link the vendor's documentation next to every quirk; test against a local fake.
 * Unknown names throw `whatsapp.unknown_provider`: never a null provider, never a `switch` on the
 * provider name outside this registry.
 */
import { AppError } from '../../platform/http/errors'
import type { BaileysSupervisor } from './whatsapp.baileys'
import { createBaileysProvider } from './whatsapp.baileys'
import { createCloudApiProvider } from './whatsapp.cloud-api'
import { createSandboxProvider, type SandboxClock } from './whatsapp.sandbox'
import { WHATSAPP_PROVIDER_NAMES } from './whatsapp.table'
import {
  type ChannelInfo,
  type ConnectionInfo,
  type DownloadedMedia,
  type E164,
  type InboundBatch,
  type MediaDownloadOptions,
  type MediaRef,
  type MediaSend,
  type MessageTemplate,
  SendError,
  type SendRequest,
  type SendResult,
  type TemplateSend,
  type TextSend,
  type WebhookRequest,
  type WhatsAppProviderName,
} from './whatsapp.types'

export * from './whatsapp.types'

export interface ProviderDeps {
  channel: ChannelInfo
  /** The channel's decrypted secrets ({} when the caller only parses). */
  secrets: Record<string, string>
  fetch: typeof fetch
  /** Graph API base (FACEBOOK_GRAPH_URL): the Cloud API lives on it. */
  graphUrl: string
  /** Socket providers hand what they receive here: it is stored (webhook_inbox) and processed by a job. */
  deliver(batch: InboundBatch): Promise<void>
  /** The process's Baileys supervisor (Baileys only: it owns the sockets). */
  baileys?: BaileysSupervisor
  /** Timers for the sandbox's simulated receipts and replies (tests use a manual clock). */
  sandboxClock?: SandboxClock
}

export interface WhatsAppProvider {
  readonly name: WhatsAppProviderName
  sendText(req: TextSend): Promise<SendResult>
  sendMedia?(req: MediaSend): Promise<SendResult>
  /**
   * The bytes of an inbound attachment (Cloud API: GET /{media-id}, then its URL; Baileys: the
   * socket decrypts the media message). Throws a SendError (permanent: too large, gone, unsupported).
   */
  downloadMedia?(media: MediaRef, opts: MediaDownloadOptions): Promise<DownloadedMedia>
  sendTemplate?(req: TemplateSend): Promise<SendResult>
  listTemplates?(): Promise<MessageTemplate[]>
  /**
   * Webhook providers: are the saved credentials good? One cheap authenticated read (a provider
   * switch counts the channel connected once it answers). Throws a SendError otherwise.
   */
  checkConnection?(): Promise<ConnectionInfo>
  /** The vendor's GET verification: the challenge to echo, or null (refused). */
  webhookHandshake?(query: URLSearchParams): string | null
  /** Is this POST really from the vendor (signature over the raw body)? */
  verifyWebhook?(req: WebhookRequest): boolean
  /** A stored webhook body -> normalized messages and receipts (pure: no secrets, no I/O). */
  parseWebhook?(body: string): InboundBatch
  /** Stateful providers (a socket): connect / disconnect. */
  start?(): Promise<void>
  stop?(opts?: { logout?: boolean }): Promise<void>
  /** Baileys: pair by an 8-character code typed on the phone instead of scanning the QR. */
  requestPairingCode?(phone: E164): Promise<string>
}

export type WhatsAppProviderFactory = (deps: ProviderDeps) => WhatsAppProvider

export const whatsappProviders = {
  'cloud-api': createCloudApiProvider,
  baileys: createBaileysProvider,
  sandbox: createSandboxProvider,
} as const satisfies Record<WhatsAppProviderName, WhatsAppProviderFactory>

export const WHATSAPP_ERRORS = {
  unknownProvider: (name: string) =>
    new AppError('whatsapp.unknown_provider', 422, 'whatsapp.error.unknown_provider', { name }),
} as const

export const isProviderName = (v: unknown): v is WhatsAppProviderName =>
  typeof v === 'string' && (WHATSAPP_PROVIDER_NAMES as readonly string[]).includes(v)

export function createProvider(name: string, deps: ProviderDeps): WhatsAppProvider {
  if (!isProviderName(name) || !Object.hasOwn(whatsappProviders, name))
    throw WHATSAPP_ERRORS.unknownProvider(name)
  return whatsappProviders[name](deps)
}

/** One entry point for the send job: routes a request to the capability, or refuses it (permanent). */
export function sendRequest(provider: WhatsAppProvider, req: SendRequest): Promise<SendResult> {
  switch (req.kind) {
    case 'text':
      return provider.sendText(req)
    case 'media':
      if (!provider.sendMedia) throw unsupported(provider, 'media')
      return provider.sendMedia(req)
    case 'template':
      if (!provider.sendTemplate) throw unsupported(provider, 'template')
      return provider.sendTemplate(req)
  }
}

/** One entry point for the media download job: the capability, or a permanent refusal. */
export function downloadRequest(
  provider: WhatsAppProvider,
  media: MediaRef,
  opts: MediaDownloadOptions,
): Promise<DownloadedMedia> {
  if (!provider.downloadMedia)
    throw new SendError(true, 'unsupported', `The ${provider.name} provider cannot download media`)
  return provider.downloadMedia(media, opts)
}

const unsupported = (p: WhatsAppProvider, what: string) =>
  new SendError(true, 'unsupported', `The ${p.name} provider cannot send ${what} messages`)
