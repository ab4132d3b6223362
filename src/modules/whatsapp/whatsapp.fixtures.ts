/**
 * Test helpers for WhatsApp channels (imported by *.test.ts and the bench only): the new-channel
 * form's fields — the body posted to /settings/channels (or, without the name, to a channel's
 * /switch) and the input of the `createChannel` use case — a channel made through that use case,
 * Meta's webhook payloads, and `FakeTransport`, the fake Baileys socket the real supervisor runs on
 * in tests.
 */
import { EventEmitter } from 'node:events'
import { Boom } from '@hapi/boom'
import type { AuthenticationState, BaileysEventMap, WAMessage } from '@whiskeysockets/baileys'
import type { Db } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import type { Actor } from '../orgs/orgs.usecases'
import type { WaTransport } from './whatsapp.baileys'
import { type ChannelForm, createChannel } from './whatsapp.channels'

/** The form's fields as a plain object type (an interface is not a `Record<string, string>` body). */
type Form = Pick<ChannelForm, keyof ChannelForm>
type Settings = Omit<Form, 'name'>

/** A Cloud API provider's settings, valid as they are; a test overrides what it is about. */
export const cloudApiFields = (o: Partial<Settings> = {}): Settings => ({
  provider: 'cloud-api',
  phoneNumber: '(11) 98765-0000',
  phoneNumberId: '106540352242922',
  wabaId: '102290129340398',
  accessToken: 'EAAG-test-token-1234',
  appSecret: 'app-secret-123',
  verifyToken: '',
  ...o,
})

/** The new-channel form of a Cloud API channel. */
export const cloudChannelForm = (o: Partial<Form> = {}): Form => ({
  name: 'Vendas',
  ...cloudApiFields(),
  ...o,
})

/** The new-channel form of a provider without settings (Baileys pairs later; sandbox): the Cloud API fields blank. */
export const bareChannelForm = (name: string, provider = 'baileys'): Form => ({
  name,
  provider,
  phoneNumber: '',
  phoneNumberId: '',
  wabaId: '',
  accessToken: '',
  appSecret: '',
  verifyToken: '',
})

/** Creates a channel through the use case, as `actor` (an owner or admin) in its organization. */
export const newChannel = (db: Db, actor: Actor, form: Form, secretKey: string) =>
  withOrg(db, { orgId: actor.orgId, userId: actor.userId }, (tx) => createChannel(tx, actor, form, secretKey))

/** A message handed to `FakeTransport.sendMessage`, as Baileys got it. */
/**
 * Meta's webhook delivery of one `messages` change (the envelope documented at
 * developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components), around `value`'s fields.
 */
export const cloudDelivery = (
  value: Record<string, unknown>,
  meta: { phoneNumberId?: string; displayPhone?: string } = {},
) => ({
  object: 'whatsapp_business_account',
  entry: [
    {
      id: '102290129340398',
      changes: [
        {
          value: {
            messaging_product: 'whatsapp',
            metadata: {
              display_phone_number: meta.displayPhone ?? '15550783881',
              phone_number_id: meta.phoneNumberId ?? '106540352242922',
            },
            ...value,
          },
          field: 'messages',
        },
      ],
    },
  ],
})

/** Meta's documented inbound text message from `from` (a WhatsApp id: digits), as one delivery. */
export const cloudInboundText = (m: {
  from: string
  name: string
  id: string
  body: string
  /** Unix seconds; default now. */
  timestamp?: string
  phoneNumberId?: string
  displayPhone?: string
}) =>
  cloudDelivery(
    {
      contacts: [{ profile: { name: m.name }, wa_id: m.from }],
      messages: [
        {
          from: m.from,
          id: m.id,
          timestamp: m.timestamp ?? String(Math.floor(Date.now() / 1000)),
          type: 'text',
          text: { body: m.body },
        },
      ],
    },
    m,
  )

export interface FakeSent {
  jid: string
  content: any
  /** `options.quoted`: the message this one replies to. */
  quoted?: WAMessage
  /** `options.messageId`: the id the sender chose (our idempotent sends). */
  messageId?: string
}

export interface FakeTransportOptions {
  /** The linked account (`sock.user.id`, a JID); unset until the test pairs the socket. */
  user?: string
  /** What `requestPairingCode` answers. */
  pairingCode?: string
  /** Called as each send reaches "WhatsApp", with the message id it got (a log across sockets). */
  onSend?: (sent: FakeSent, id: string) => void
  /** The process dies right after WhatsApp took the message: `sendMessage` never answers. */
  hangSends?: boolean
}

/**
 * A fake Baileys socket behind our `WaTransport`: the test emits Baileys' real event shapes
 * (`connection.update`, `creds.update`, `messages.upsert`, `messages.update`) to drive the real
 * supervisor, and reads back what the supervisor did (sends, presence, pairing requests, downloads,
 * logout, end).
 */
export class FakeTransport implements WaTransport {
  readonly emitter = new EventEmitter()
  readonly ev = {
    on: <K extends keyof BaileysEventMap>(event: K, fn: (arg: BaileysEventMap[K]) => void) => {
      this.emitter.on(event, fn)
    },
  }
  user: { id: string } | undefined
  ended = false
  loggedOut = false
  sent: FakeSent[] = []
  presence: Array<[string, string | undefined]> = []
  /** The phone numbers `requestPairingCode` was asked for. */
  pairing: string[] = []
  /** Media the "CDN" holds, by hex mediaKey (what downloadMediaMessage decrypts with). */
  media = new Map<string, Uint8Array>()
  downloads: WAMessage[] = []

  constructor(
    readonly auth: AuthenticationState,
    readonly options: FakeTransportOptions = {},
  ) {
    if (options.user) this.user = { id: options.user }
  }

  emit<K extends keyof BaileysEventMap>(event: K, arg: BaileysEventMap[K]) {
    this.emitter.emit(event, arg)
  }

  /** The socket closes the way Baileys reports it: a Boom with `statusCode` (a `DisconnectReason`). */
  close(statusCode: number) {
    this.emit('connection.update', {
      connection: 'close',
      lastDisconnect: { error: new Boom('Connection Failure', { statusCode }), date: new Date() },
    })
  }

  // Like Baileys: the message id is options.messageId when given (lib/Socket/messages-send.js).
  async sendMessage(jid: string, content: any, opts?: { quoted?: WAMessage; messageId?: string }) {
    const sent: FakeSent = { jid, content, quoted: opts?.quoted, messageId: opts?.messageId }
    this.sent.push(sent)
    const id = opts?.messageId ?? `3EB0${this.sent.length}`
    this.options.onSend?.(sent, id)
    if (this.options.hangSends) return new Promise<WAMessage>(() => {})
    return { key: { remoteJid: jid, fromMe: true, id } } as WAMessage
  }

  async sendPresenceUpdate(type: string, jid?: string) {
    this.presence.push([type, jid])
  }

  async requestPairingCode(phone: string) {
    this.pairing.push(phone)
    return this.options.pairingCode ?? 'ABCD1234'
  }

  /** The bytes `media` holds for the message's mediaKey; none: gone, as Baileys throws it. */
  async downloadMedia(m: WAMessage) {
    this.downloads.push(m)
    const c = m.message ?? {}
    const media = c.imageMessage ?? c.documentMessage ?? c.audioMessage ?? c.videoMessage
    const data = this.media.get(Buffer.from(media?.mediaKey ?? []).toString('hex'))
    if (!data) throw new Boom('Failed to fetch stream', { statusCode: 410 })
    return data
  }

  async logout() {
    this.loggedOut = true
  }

  end() {
    this.ended = true
  }
}
