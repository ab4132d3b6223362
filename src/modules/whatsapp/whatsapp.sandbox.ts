/**
 * The sandbox provider: a pretend WhatsApp for trying the inbox with no credentials. Everything it
 * produces is labelled (message ids start with `sandbox.`, channels show a "Sandbox" badge).
 *
 * - A send is accepted at once; the receipts follow as the real ones would: sent, delivered, read
 *   (short delays), and a scripted auto-reply from the "contact" comes after.
 * - Attachments (`sendMedia`) are accepted the same way; the bytes go nowhere.
 * - Numbers ending in 0000 are unreachable: the send fails permanently (to try the failed state).
 * - `sandboxInbound()` builds an "inbound" message a user typed as if they were the contact; the
 *   inbox stores it like any received message (whatsapp.inbound.ts `simulateInbound`).
 * Receipts and replies are delivered through `deps.deliver`, i.e. stored in webhook_inbox and
 * processed by the same job as real webhooks.
 */
import type { ProviderDeps, WhatsAppProvider } from './whatsapp.provider'
import {
  type E164,
  type InboundMessage,
  type MediaSend,
  SendError,
  type StatusUpdate,
  type TextSend,
} from './whatsapp.types'

export interface SandboxClock {
  setTimeout(fn: () => void, ms: number): unknown
}
export const realSandboxClock: SandboxClock = { setTimeout: (fn, ms) => setTimeout(fn, ms) }

/** Delays (ms after the send) of the simulated receipts and of the auto-reply. */
export const SANDBOX_TIMING = { sent: 400, delivered: 1200, read: 2500, reply: 4000 } as const

const REPLIES: Array<{ match: RegExp; text: string }> = [
  {
    match: /pre[çc]o|valor|quanto|or[çc]amento/i,
    text: 'Obrigado! Pode me mandar a proposta com os valores por aqui mesmo? (resposta automática do sandbox)',
  },
  {
    match: /reuni[ãa]o|agenda|hor[áa]rio|amanh[ãa]/i,
    text: 'Pode ser amanhã às 10h? (resposta automática do sandbox)',
  },
]
export const SANDBOX_GREETING =
  'Olá! Aqui é o sandbox do Loved CRM 👋 Eu respondo como um cliente responderia, para você testar a caixa de entrada sem credenciais.'

/** The contact's scripted answer to what the rep wrote. */
export function sandboxReply(text: string, firstContact: boolean): string {
  if (firstContact) return SANDBOX_GREETING
  return (
    REPLIES.find((r) => r.match.test(text))?.text ??
    'Entendi, obrigado pelo retorno! (resposta automática do sandbox)'
  )
}

export function sandboxInbound(input: {
  from: E164
  to?: E164 | null
  text: string
  contactName?: string
  replyToProviderId?: string
  at?: number
  /** An attachment the user uploaded with the form, already in the media store (its caption is `text`). */
  media?: { type: 'image' | 'audio' | 'video' | 'document'; fileId: string; mime: string; filename?: string }
}): InboundMessage {
  const m = input.media
  return {
    providerMessageId: `sandbox.in.${Bun.randomUUIDv7()}`,
    from: input.from,
    ...(input.to ? { to: input.to } : {}),
    timestamp: input.at ?? Date.now(),
    type: m ? m.type : 'text',
    ...(input.text ? { text: input.text } : {}),
    ...(m
      ? {
          media: {
            fileId: m.fileId,
            mime: m.mime,
            ...(m.filename ? { filename: m.filename } : {}),
            ...(input.text ? { caption: input.text } : {}),
          },
        }
      : {}),
    ...(input.contactName ? { contactName: input.contactName } : {}),
    ...(input.replyToProviderId ? { replyToProviderId: input.replyToProviderId } : {}),
  }
}

/** Contacts greeted already (per channel, in this process): the first reply is the greeting. */
const greeted = new Set<string>()

export function createSandboxProvider(deps: ProviderDeps): WhatsAppProvider {
  const clock = deps.sandboxClock ?? realSandboxClock
  const later = (ms: number, fn: () => Promise<void>) =>
    clock.setTimeout(() => {
      fn().catch(() => {}) // a failed simulated receipt is not worth an error anywhere
    }, ms)

  /** A send is accepted (or refused for 0000 numbers), then receipts and the scripted reply follow. */
  function accept(req: TextSend | MediaSend, text: string) {
    if (/0000$/.test(req.to))
      throw new SendError(
        true,
        'sandbox.unreachable',
        'Sandbox: this number is not on WhatsApp (it ends in 0000)',
      )
    const id = `sandbox.out.${Bun.randomUUIDv7()}`
    const receipt = (status: StatusUpdate['status']) => () =>
      deps.deliver({
        messages: [],
        statuses: [{ providerMessageId: id, status, timestamp: Date.now(), recipient: req.to }],
      })
    later(SANDBOX_TIMING.sent, receipt('sent'))
    later(SANDBOX_TIMING.delivered, receipt('delivered'))
    later(SANDBOX_TIMING.read, receipt('read'))
    const key = `${deps.channel.id}:${req.to}`
    const first = !greeted.has(key)
    if (greeted.size > 10_000) greeted.clear()
    greeted.add(key)
    later(SANDBOX_TIMING.reply, () =>
      deps.deliver({
        messages: [
          sandboxInbound({
            from: req.to,
            to: deps.channel.phoneNumber,
            text: sandboxReply(text, first),
            replyToProviderId: id,
          }),
        ],
        statuses: [],
      }),
    )
    return { providerMessageId: id }
  }

  return {
    name: 'sandbox',
    async sendText(req: TextSend) {
      return accept(req, req.text)
    },
    // Attachments are accepted like text (the bytes go nowhere); the contact "answers" the caption.
    async sendMedia(req: MediaSend) {
      if (!req.data?.byteLength && !req.providerMediaId)
        throw new SendError(true, 'no_media', 'Sandbox: nothing to send')
      return accept(req, req.caption ?? '')
    },
  }
}
