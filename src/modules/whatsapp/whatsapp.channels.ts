/**
 * WhatsApp channels: create (provider + config + sealed secrets), list, read, delete, and the status
 * the providers report (recorded with a `whatsapp.channel.status` event for live pages).
 * Admin actions (owners and admins) are audited.
 */
import { asc, eq, sql } from 'drizzle-orm'
import { secretBox } from '../../platform/crypto/secrets'
import { type Db, rowsOf } from '../../platform/db/client'
import { type OrgTx, readAsSystem } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { Check, forbidden } from '../../platform/http/errors'
import { isUuid } from '../../shared/ids'
import { toE164 } from '../../shared/phone'
import { wakeChannelSends } from '../inbox/inbox.usecases'
import { type NotificationKind, notify } from '../notifications/notifications.usecases'
import { recordAudit } from '../orgs/orgs.audit'
import type { Actor } from '../orgs/orgs.usecases'
import { WHATSAPP_CHANNEL_ERRORS } from './whatsapp.errors'
import { finishSwitch } from './whatsapp.switch'
import './whatsapp.events'
import {
  type ChannelStatus,
  WHATSAPP_PROVIDER_NAMES,
  type WhatsAppChannel,
  type WhatsAppProviderName,
  whatsappChannels,
} from './whatsapp.table'
import type { ChannelInfo } from './whatsapp.types'

export const secretsContext = (channelId: string) => `whatsapp.secrets:${channelId}`

export interface ChannelForm {
  name: string
  provider: string
  phoneNumber: string
  phoneNumberId: string
  wabaId: string
  accessToken: string
  appSecret: string
  verifyToken: string
}
export const CHANNEL_FIELDS: (keyof ChannelForm)[] = [
  'name',
  'provider',
  'phoneNumber',
  'phoneNumberId',
  'wabaId',
  'accessToken',
  'appSecret',
  'verifyToken',
]

export const canAdmin = (actor: Actor) => actor.role === 'owner' || actor.role === 'admin'
const requireAdmin = (actor: Actor) => {
  if (!canAdmin(actor)) throw forbidden()
}

export const newVerifyToken = () =>
  Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64url')

function validate(input: ChannelForm) {
  const check = new Check()
  const name = input.name.trim()
  if (!name) check.add('name', 'error.required')
  else if (name.length > 80) check.add('name', 'whatsapp.error.too_long', { max: 80 })
  const v = providerSettings(check, input)
  check.throwIfAny()
  return { name, ...v }
}

/**
 * A provider and its settings from the form (the new channel form and the provider switch share
 * the fields): adds field errors to `check`, never throws.
 */
export function providerSettings(check: Check, input: Omit<ChannelForm, 'name'>) {
  const provider = input.provider as WhatsAppProviderName
  if (!(WHATSAPP_PROVIDER_NAMES as readonly string[]).includes(provider))
    check.add('provider', 'whatsapp.error.provider')
  const config: Record<string, string> = {}
  const secrets: Record<string, string> = {}
  let phoneNumber: string | null = null
  if (provider === 'cloud-api') {
    const id = (k: 'phoneNumberId' | 'wabaId') => {
      const v = input[k].trim()
      if (!v) check.add(k, 'error.required')
      else if (!/^\d{5,30}$/.test(v)) check.add(k, 'whatsapp.error.numeric_id')
      return v
    }
    config.phoneNumberId = id('phoneNumberId')
    config.wabaId = id('wabaId')
    const secret = (k: 'accessToken' | 'appSecret' | 'verifyToken', min: number) => {
      const v = input[k].trim()
      if (!v) check.add(k, 'error.required')
      else if (v.length < min || v.length > 2000 || /\s/.test(v)) check.add(k, 'whatsapp.error.secret')
      return v
    }
    secrets.accessToken = secret('accessToken', 16)
    secrets.appSecret = secret('appSecret', 8)
    secrets.verifyToken = input.verifyToken.trim() ? secret('verifyToken', 8) : newVerifyToken()
  }
  if (input.phoneNumber.trim()) {
    phoneNumber = toE164(input.phoneNumber)
    if (!phoneNumber) check.add('phoneNumber', 'whatsapp.error.phone')
  } else if (provider === 'cloud-api') check.add('phoneNumber', 'error.required')
  return { provider, config, secrets, phoneNumber }
}

export async function createChannel(tx: OrgTx, actor: Actor, input: ChannelForm, secretKey: string) {
  requireAdmin(actor)
  const v = validate(input)
  const id = Bun.randomUUIDv7()
  const [row] = await tx
    .insert(whatsappChannels)
    .values({
      id,
      organizationId: actor.orgId,
      name: v.name,
      provider: v.provider,
      phoneNumber: v.phoneNumber,
      config: v.config,
      secretsEnc: Object.keys(v.secrets).length
        ? secretBox(secretKey).seal(JSON.stringify(v.secrets), secretsContext(id))
        : null,
      // Webhook and sandbox channels are usable at once; a Baileys one connects (then shows its QR).
      status: v.provider === 'baileys' ? 'connecting' : 'open',
      createdBy: actor.userId,
    })
    .returning()
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'whatsapp_channel.created',
    targetType: 'whatsapp_channel',
    targetId: id,
    after: { name: v.name, provider: v.provider },
    ip: actor.ip,
  })
  await recordEvent(tx, { type: 'whatsapp.channel.status', payload: { channelId: id, status: row!.status } })
  return row!
}

export async function getChannel(tx: OrgTx, id: string): Promise<WhatsAppChannel> {
  if (!isUuid(id)) throw WHATSAPP_CHANNEL_ERRORS.notFound()
  const [row] = await tx.select().from(whatsappChannels).where(eq(whatsappChannels.id, id))
  if (!row) throw WHATSAPP_CHANNEL_ERRORS.notFound()
  return row
}

export const listChannels = (tx: OrgTx) =>
  tx.select().from(whatsappChannels).orderBy(asc(whatsappChannels.createdAt), asc(whatsappChannels.id))

export async function deleteChannel(tx: OrgTx, actor: Actor, id: string) {
  requireAdmin(actor)
  const c = await getChannel(tx, id)
  await tx.delete(whatsappChannels).where(eq(whatsappChannels.id, id))
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'whatsapp_channel.deleted',
    targetType: 'whatsapp_channel',
    targetId: id,
    before: { name: c.name, provider: c.provider },
    ip: actor.ip,
  })
  return c
}

/** Pause (disconnect) or resume sending, audited. */
export async function setPaused(tx: OrgTx, actor: Actor, id: string, paused: boolean) {
  requireAdmin(actor)
  const c = await getChannel(tx, id)
  await tx.update(whatsappChannels).set({ paused, updatedAt: new Date() }).where(eq(whatsappChannels.id, id))
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: paused ? 'whatsapp_channel.disconnected' : 'whatsapp_channel.reconnected',
    targetType: 'whatsapp_channel',
    targetId: id,
    after: { name: c.name },
    ip: actor.ip,
  })
  return c
}

export interface StatusPatch {
  status?: ChannelStatus
  detail?: string | null
  phoneNumber?: string | null
  pairingQr?: string | null
  pairingCode?: string | null
}

/**
 * Why a WhatsApp Web session stopped and needs a person: the notification each owner and admin gets
 * (in-app, with the live toast), linking to the channel page.
 */
export const CHANNEL_ALERTS = {
  forbidden: 'whatsapp.forbidden',
  multidevice_mismatch: 'whatsapp.multidevice_mismatch',
  too_many_reconnects: 'whatsapp.reconnect_loop',
  logged_out: 'whatsapp.logged_out',
} as const satisfies Record<string, NotificationKind>
export type ChannelAlert = keyof typeof CHANNEL_ALERTS

/** Notifies the organization's owners and admins (each in their language) that the channel needs them. */
export async function alertAdmins(tx: OrgTx, channel: { id: string; name: string }, alert: ChannelAlert) {
  const admins = rowsOf<{ user_id: string; org_id: string; locale: string | null }>(
    await tx.execute(sql`select m.user_id::text as user_id, m.organization_id::text as org_id,
        coalesce(u.locale, o.locale) as locale
      from organization_members m
      join users u on u.id = m.user_id
      join organizations o on o.id = m.organization_id
      where m.role in ('owner', 'admin')
      order by m.user_id`),
  )
  for (const a of admins)
    await notify(tx, {
      orgId: a.org_id,
      userId: a.user_id,
      kind: CHANNEL_ALERTS[alert],
      params: { channel: channel.name },
      link: `/settings/channels/${channel.id}`,
      actorId: null,
      locale: a.locale,
    })
  return admins.length
}

/**
 * What a provider reports; records the events live pages listen to. `notify`: the session stopped
 * and needs a person — the owners and admins are notified, when the status moves into it (the
 * caller sends it once per incident, not on every retry).
 */
export async function setChannelStatus(
  tx: OrgTx,
  id: string,
  patch: StatusPatch,
  opts: { alert?: boolean; notify?: ChannelAlert } = {},
) {
  const [before] = await tx
    .select({
      status: whatsappChannels.status,
      name: whatsappChannels.name,
      switching: sql<boolean>`switch_from is not null`,
    })
    .from(whatsappChannels)
    .where(eq(whatsappChannels.id, id))
    .for('update')
  if (!before) return false
  await tx
    .update(whatsappChannels)
    .set({
      ...(patch.status ? { status: patch.status } : {}),
      ...(patch.detail !== undefined ? { statusDetail: patch.detail?.slice(0, 500) ?? null } : {}),
      ...(patch.phoneNumber !== undefined ? { phoneNumber: patch.phoneNumber } : {}),
      ...(patch.pairingQr !== undefined ? { pairingQr: patch.pairingQr?.slice(0, 2000) ?? null } : {}),
      ...(patch.pairingCode !== undefined ? { pairingCode: patch.pairingCode } : {}),
      updatedAt: new Date(),
    })
    .where(eq(whatsappChannels.id, id))
  if (patch.status && (patch.status !== before.status || opts.alert))
    await recordEvent(tx, {
      type: 'whatsapp.channel.status',
      payload: { channelId: id, status: patch.status, ...(opts.alert ? { alert: true } : {}) },
    })
  if (opts.notify && patch.status && patch.status !== before.status)
    await alertAdmins(tx, { id, name: before.name }, opts.notify)
  if (patch.pairingQr || patch.pairingCode)
    await recordEvent(tx, {
      type: 'whatsapp.channel.qr',
      payload: { channelId: id, kind: patch.pairingCode ? 'code' : 'qr' },
    })
  // The new provider of a switch in progress is connected: the switch is done, sending resumes.
  if (patch.status === 'open' && before.switching) await finishSwitch(tx, id)
  // A session open again (a new QR scanned, a reconnect): what waited for it goes out now
  // (inbox.send.ts parks sends while a WhatsApp Web session waits for an admin).
  else if (patch.status === 'open' && before.status !== 'open') await wakeChannelSends(tx, id)
  return true
}

export function channelSecrets(
  c: Pick<WhatsAppChannel, 'id' | 'secretsEnc'>,
  secretKey: string,
): Record<string, string> {
  if (!c.secretsEnc) return {}
  return JSON.parse(secretBox(secretKey).open(c.secretsEnc, secretsContext(c.id)))
}

export const channelInfo = (
  c: Pick<WhatsAppChannel, 'id' | 'organizationId' | 'phoneNumber' | 'config'>,
): ChannelInfo => ({
  id: c.id,
  orgId: c.organizationId,
  phoneNumber: c.phoneNumber,
  config: c.config ?? {},
})

export interface ResolvedChannel {
  id: string
  organizationId: string
  provider: WhatsAppProviderName
  phoneNumber: string | null
  config: Record<string, string>
  secretsEnc: string | null
}

/** A webhook's channel id -> the channel (as the system: its organization is not known yet). */
export async function resolveChannel(db: Db, id: string): Promise<ResolvedChannel | null> {
  if (!isUuid(id)) return null
  const [r] = await readAsSystem<{
    id: string
    org: string
    provider: WhatsAppProviderName
    phone: string | null
    config: Record<string, string> | string
    secrets: string | null
  }>(
    db,
    sql`select id::text as id, organization_id::text as org, provider, phone_number as phone, config, secrets_enc as secrets
        from whatsapp_channels where id = ${id}::uuid`,
  )
  if (!r) return null
  return {
    id: r.id,
    organizationId: r.org,
    provider: r.provider,
    phoneNumber: r.phone,
    config: typeof r.config === 'string' ? JSON.parse(r.config) : (r.config ?? {}),
    secretsEnc: r.secrets,
  }
}

/**
 * Baileys channels that had a socket when the process stopped (resumed at start): connected,
 * connecting, or waiting for a QR to be scanned (a dead QR must not stay on the page: a fresh socket
 * brings a fresh one) — including those a provider switch is pairing (paused until then). Not those
 * an admin disconnected, nor those stopped by an alert (forbidden, the reconnect-loop guard's error).
 */
export async function channelsToResume(db: Db) {
  return readAsSystem<{ id: string; org: string }>(
    db,
    sql`select id::text as id, organization_id::text as org from whatsapp_channels
        where provider = 'baileys' and status in ('open', 'connecting', 'qr', 'logged_out')
          and (not paused or switch_from is not null)
        order by created_at, id`,
  )
}
