/**
 * Switching a channel's provider from its settings page (cloud-api ⇄ baileys ⇄ sandbox), without
 * losing a conversation: the channel id stays, so conversations, messages and leads stay attached to
 * it, and new inbound messages continue the same threads by phone number.
 *
 *   1. `startSwitch` (one transaction, audited): the inbox's `beginProviderSwitch` pauses the channel
 *      (messages sent meanwhile wait, parked, inbox.send.ts) and swaps provider, config, sealed
 *      secrets and number, keeping the old ones in `switch_from`; status `connecting`, events
 *      `whatsapp.channel.switch` (started) and `whatsapp.channel.status` for live pages.
 *   2. `connectSwitch` (no transaction: provider I/O): the old provider lets go (a Baileys socket
 *      closes, its credentials kept for a cancel), then the new one connects —
 *        sandbox:   at once;
 *        cloud-api: after ONE successful check call with the new credentials (GET /{phone-number-id};
 *                   a refusal leaves the switch in progress with status `error` and Meta's reason,
 *                   the admin checks again or cancels);
 *        baileys:   fresh credentials, a socket, the QR / pairing code on the same page; the switch
 *                   completes when the socket reports `open`.
 *   3. Status `open` while a switch is in progress → `finishSwitch` (called by setChannelStatus, in
 *      its transaction): the inbox's `resumeChannel` sends what waited through the new provider; the
 *      old Baileys credentials are forgotten; audited (by the system) and broadcast; a Cloud API
 *      channel gets its templates synced. Away from WhatsApp Web, just before that, the kept
 *      credentials log the old device out of the phone (`unlinkOldDevice`, bounded by a timeout);
 *      when that fails the audit entry and the channel page say to remove it on the phone.
 *   Cancel (`cancelSwitch`) puts `switch_from` back: the old provider, config, secrets, number and
 *   paused state; sending resumes through it (a Baileys socket restarts with its kept credentials).
 */
import { eq } from 'drizzle-orm'
import { secretBox } from '../../platform/crypto/secrets'
import { type OrgTx, withOrg } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { Check, forbidden } from '../../platform/http/errors'
import { beginProviderSwitch, resumeChannel } from '../inbox/inbox.usecases'
import { recordAudit } from '../orgs/orgs.audit'
import type { Actor } from '../orgs/orgs.usecases'
import { clearAuthState } from './whatsapp.baileys-auth'
import {
  type ChannelForm,
  canAdmin,
  getChannel,
  providerSettings,
  secretsContext,
  setChannelStatus,
} from './whatsapp.channels'
import { WHATSAPP_CHANNEL_ERRORS } from './whatsapp.errors'
import './whatsapp.events'
import type { UnlinkOutcome } from './whatsapp.baileys'
import { providerFor, type WhatsAppRuntime } from './whatsapp.runtime'
import { type SwitchFrom, type WhatsAppChannel, whatsappChannels } from './whatsapp.table'
import { requestTemplateSync } from './whatsapp.templates'
import { SendError } from './whatsapp.types'

export interface SwitchForm extends Omit<ChannelForm, 'name'> {
  /** The admin ticked "I understand sending pauses until the new provider is connected". */
  confirm: string
}
export const SWITCH_FIELDS: (keyof SwitchForm)[] = [
  'provider',
  'phoneNumber',
  'phoneNumberId',
  'wabaId',
  'accessToken',
  'appSecret',
  'verifyToken',
  'confirm',
]

/** Field errors of a switch request (pure): the new provider's settings, not the current one, confirmed. */
export function validateSwitch(channel: Pick<WhatsAppChannel, 'provider'>, input: SwitchForm) {
  const check = new Check()
  const v = providerSettings(check, input)
  if (!check.has('provider') && v.provider === channel.provider)
    check.add('provider', 'whatsapp.switch.error.same_provider')
  if (input.confirm !== '1' && input.confirm !== 'on') check.add('confirm', 'whatsapp.switch.error.confirm')
  check.throwIfAny()
  return v
}

/** Step 1: validated, paused, swapped, audited, broadcast. Returns the channel as it is now. */
export async function startSwitch(
  tx: OrgTx,
  actor: Actor,
  channelId: string,
  input: SwitchForm,
  secretKey: string,
): Promise<WhatsAppChannel> {
  if (!canAdmin(actor)) throw forbidden()
  const c = await getChannel(tx, channelId)
  if (c.switchFrom) throw WHATSAPP_CHANNEL_ERRORS.switchPending()
  const v = validateSwitch(c, input)
  const secretsEnc = Object.keys(v.secrets).length
    ? secretBox(secretKey).seal(JSON.stringify(v.secrets), secretsContext(c.id))
    : null
  // A WhatsApp Web channel learns its number when the phone links it.
  const phoneNumber = v.provider === 'baileys' ? null : (v.phoneNumber ?? c.phoneNumber)
  await beginProviderSwitch(tx, actor, c.id, {
    provider: v.provider,
    config: v.config,
    secretsEnc,
    phoneNumber,
  })
  await setChannelStatus(tx, c.id, { status: 'connecting', detail: null, pairingQr: null, pairingCode: null })
  await recordEvent(tx, {
    type: 'whatsapp.channel.switch',
    payload: { channelId: c.id, phase: 'started', from: c.provider, to: v.provider },
  })
  return getChannel(tx, c.id)
}

export type ConnectOutcome = 'connected' | 'pairing' | 'failed'

/**
 * Step 2, outside any transaction: the old provider lets go, the new one connects. The caller
 * stops an old Baileys socket BEFORE step 1 (`releaseOldProvider`), so none of its status writes
 * can land during the switch.
 */
export async function connectSwitch(rt: WhatsAppRuntime, c: WhatsAppChannel): Promise<ConnectOutcome> {
  if (!c.switchFrom) return 'connected'
  if (c.provider === 'baileys') {
    // Fresh credentials: the QR links the phone the admin holds now.
    await withOrg(rt.db, c.organizationId, (tx) => clearAuthState(tx, c.id))
    await providerFor(rt, c).start?.()
    return 'pairing'
  }
  return checkSwitch(rt, c)
}

/** Closes a channel's WhatsApp Web socket (credentials kept), when it has one in this process. */
export async function releaseOldProvider(rt: WhatsAppRuntime, c: Pick<WhatsAppChannel, 'id' | 'provider'>) {
  if (c.provider === 'baileys') await rt.baileys.stop(c.id)
}

/**
 * A webhook provider's connection check: its credentials answer → status `open` (which finishes the
 * switch); otherwise status `error` with the provider's reason, and the switch stays in progress.
 */
export async function checkSwitch(rt: WhatsAppRuntime, c: WhatsAppChannel): Promise<ConnectOutcome> {
  const provider = providerFor(rt, c)
  let phoneNumber: string | undefined
  if (provider.checkConnection) {
    try {
      phoneNumber = (await provider.checkConnection()).phoneNumber
    } catch (err) {
      const reason = err instanceof SendError ? `${err.message} (${err.code})` : String(err)
      rt.log.warn('whatsapp.switch.check_failed', { channelId: c.id, provider: c.provider, reason })
      await withOrg(rt.db, c.organizationId, (tx) =>
        setChannelStatus(tx, c.id, { status: 'error', detail: `check_failed:${reason}` }, { alert: true }),
      )
      return 'failed'
    }
  }
  const unlinked = await unlinkOldDevice(rt, c)
  await withOrg(rt.db, c.organizationId, (tx) =>
    setChannelStatus(tx, c.id, {
      status: 'open',
      // Read by finishSwitch (the audit entry) and shown on the channel page until the next status.
      detail: unlinked === 'unreachable' ? OLD_DEVICE_LINKED : null,
      // The number Meta reports wins over the one typed in, when the admin left it out.
      ...(phoneNumber && !c.phoneNumber ? { phoneNumber } : {}),
    }),
  )
  return 'connected'
}

/** Status detail of a channel whose switch completed while the phone still lists the old device. */
export const OLD_DEVICE_LINKED = 'old_device_linked'

/**
 * A switch away from WhatsApp Web is about to complete: log the old device out of the phone with
 * the credentials kept for a cancel (the same `logout()` as deleting a channel, through a short-lived
 * socket: the old one was closed when the switch started). Null when the switch is not from it.
 */
async function unlinkOldDevice(rt: WhatsAppRuntime, c: WhatsAppChannel): Promise<UnlinkOutcome | null> {
  if (c.switchFrom?.provider !== 'baileys' || c.provider === 'baileys') return null
  const outcome = await rt.baileys
    .unlink({ orgId: c.organizationId, channelId: c.id })
    .catch((err): UnlinkOutcome => {
      rt.log.error('whatsapp.switch.unlink_failed', { channelId: c.id, err })
      return 'unreachable'
    })
  if (outcome === 'unreachable')
    rt.log.warn('whatsapp.switch.old_device_linked', { channelId: c.id, provider: c.provider })
  return outcome
}

/**
 * Step 3 (in the transaction that recorded status `open`): the switch is done. Sending resumes
 * through the new provider; the old WhatsApp Web credentials are forgotten (after `checkSwitch` used
 * them to log the device out of the phone).
 */
export async function finishSwitch(tx: OrgTx, channelId: string): Promise<boolean> {
  const c = await getChannel(tx, channelId)
  const from = c.switchFrom
  if (!from) return false
  const leftWeb = from.provider === 'baileys' && c.provider !== 'baileys'
  if (leftWeb) await clearAuthState(tx, c.id)
  const queued = await resumeChannel(tx, c.id)
  await recordAudit(tx, {
    orgId: c.organizationId,
    actorId: null,
    action: 'whatsapp_channel.provider_switch_completed',
    targetType: 'whatsapp_channel',
    targetId: c.id,
    before: { provider: from.provider },
    after: {
      provider: c.provider,
      queued,
      // Away from WhatsApp Web: was the old device logged out of the phone, or must it be removed there?
      ...(leftWeb
        ? { oldDevice: c.statusDetail === OLD_DEVICE_LINKED ? 'remove_on_phone' : 'unlinked' }
        : {}),
    },
  })
  await recordEvent(tx, {
    type: 'whatsapp.channel.switch',
    payload: { channelId: c.id, phase: 'completed', from: from.provider, to: c.provider },
  })
  if (c.provider === 'cloud-api') await requestTemplateSync(tx, c.id)
  return true
}

/** Cancel: the channel as it was before the switch; sending resumes through the old provider. */
export async function cancelSwitch(
  tx: OrgTx,
  actor: Actor,
  channelId: string,
): Promise<{ abandoned: WhatsAppChannel; restored: WhatsAppChannel; from: SwitchFrom }> {
  if (!canAdmin(actor)) throw forbidden()
  const c = await getChannel(tx, channelId)
  const from = c.switchFrom
  if (!from) throw WHATSAPP_CHANNEL_ERRORS.noSwitch()
  const status = from.paused ? 'disconnected' : from.provider === 'baileys' ? 'connecting' : 'open'
  await tx
    .update(whatsappChannels)
    .set({
      provider: from.provider,
      config: from.config ?? {},
      secretsEnc: from.secretsEnc,
      phoneNumber: from.phoneNumber,
      paused: from.paused,
      switchFrom: null,
      status,
      statusDetail: null,
      pairingQr: null,
      pairingCode: null,
      updatedAt: new Date(),
    })
    .where(eq(whatsappChannels.id, c.id))
  if (!from.paused) await resumeChannel(tx, c.id)
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'whatsapp_channel.provider_switch_cancelled',
    targetType: 'whatsapp_channel',
    targetId: c.id,
    before: { provider: c.provider },
    after: { provider: from.provider },
    ip: actor.ip,
  })
  await recordEvent(tx, { type: 'whatsapp.channel.status', payload: { channelId: c.id, status } })
  await recordEvent(tx, {
    type: 'whatsapp.channel.switch',
    payload: { channelId: c.id, phase: 'cancelled', from: from.provider, to: c.provider },
  })
  return { abandoned: c, restored: await getChannel(tx, c.id), from }
}
