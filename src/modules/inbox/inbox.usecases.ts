/**
 * Inbox use cases: plain functions of an `OrgTx` (RLS-scoped), the acting member and plain input.
 * Sending stores the message as `pending` and enqueues the durable send job in the same
 * transaction: once the rep's request returns, the message survives any crash and will be sent.
 */
import { sql } from 'drizzle-orm'
import type { OrgTx } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { query, toDate, toDateOrNull, toNumber } from '../../platform/events/events.pg'
import { Check } from '../../platform/http/errors'
import { enqueue } from '../../platform/jobs/jobs.queue'
import { isUuid } from '../../shared/ids'
import { recordAudit } from '../orgs/orgs.audit'
import type { Role } from '../orgs/orgs.table'
import { loadChannel } from './inbox.channel'
import { INBOX_ERRORS } from './inbox.errors'
import './inbox.events'
import type { TemplateComponent } from '../whatsapp/whatsapp.types'
import { bulkRisk, bulkWarning } from './inbox.bulk'
import { previewOf } from './inbox.inbound'
import {
  checkAttachment,
  mediaKindOf,
  prepareAttachment,
  type StoredMediaRef,
  storeMediaFile,
} from './inbox.media'
import { inboxSendJob, waitsForAdmin } from './inbox.send'

export interface InboxActor {
  orgId: string
  userId: string
  role: Role
  ip?: string | null
}

export const WINDOW_MS = 24 * 60 * 60 * 1000
export const MAX_BODY = 4096
const notFound = INBOX_ERRORS.notFound

// Reads --------------------------------------------------------------------------------------------

export type ListFilter = 'all' | 'mine' | 'unassigned' | 'unread'
export type ConversationStatus = 'open' | 'pending' | 'closed'
export interface ListQuery {
  filter: ListFilter
  /** `pending`: waiting on the contact (a rep marked it); it is back to `open` when they write. */
  status: ConversationStatus | 'all'
  q: string
  limit?: number
}

export function parseListQuery(p: URLSearchParams): ListQuery {
  const f = p.get('filter')
  const s = p.get('status')
  return {
    filter: f === 'mine' || f === 'unassigned' || f === 'unread' ? f : 'all',
    status: s === 'pending' || s === 'closed' || s === 'all' ? s : 'open',
    q: (p.get('q') ?? '').trim().slice(0, 100),
  }
}

export function listQueryString(q: ListQuery): string {
  const u = new URLSearchParams()
  if (q.filter !== 'all') u.set('filter', q.filter)
  if (q.status !== 'open') u.set('status', q.status)
  if (q.q) u.set('q', q.q)
  const s = u.toString()
  return s ? `?${s}` : ''
}

export interface ConversationSummary {
  id: string
  channelId: string
  channelName: string | null
  provider: string
  leadId: string
  leadName: string
  contactPhone: string
  contactName: string | null
  assigneeId: string | null
  assigneeName: string | null
  status: ConversationStatus
  unreadCount: number
  lastMessageAt: Date | null
  lastMessagePreview: string | null
  lastInboundAt: Date | null
  /** The channel does not send right now: an admin disconnected it, or a provider switch is connecting. */
  channelPaused: boolean
  /** A provider switch is in progress on the channel (whatsapp.switch.ts). */
  channelSwitching: boolean
  /**
   * The channel's WhatsApp Web session waits for an admin (its status: logged out or a QR to scan,
   * blocked, stopped by the reconnect-loop guard): sends wait in the queue (inbox.send.ts).
   */
  channelWaiting: 'logged_out' | 'forbidden' | 'error' | null
}

const SUMMARY = sql`c.id::text as id, c.channel_id::text as channel_id, ch.name as channel_name, ch.provider,
  c.lead_id::text as lead_id, l.full_name as lead_name, c.contact_phone, c.contact_name,
  c.assignee_id::text as assignee_id, u.name as assignee_name, c.status, c.unread_count, c.last_message_at,
  c.last_message_preview, c.last_inbound_at, ch.paused as channel_paused, ch.status as channel_status,
  (ch.switch_from is not null) as channel_switching`
const SUMMARY_FROM = sql`conversations c
  join whatsapp_channels ch on ch.id = c.channel_id
  join leads l on l.id = c.lead_id
  left join users u on u.id = c.assignee_id`

function channelWaiting(provider: string, status: string): ConversationSummary['channelWaiting'] {
  if (!waitsForAdmin({ provider, status })) return null
  return status === 'qr' ? 'logged_out' : (status as 'logged_out' | 'forbidden' | 'error')
}

function toSummary(r: Record<string, unknown>): ConversationSummary {
  return {
    id: String(r.id),
    channelId: String(r.channel_id),
    channelName: (r.channel_name as string | null) ?? null,
    provider: String(r.provider),
    leadId: String(r.lead_id),
    leadName: String(r.lead_name),
    contactPhone: String(r.contact_phone),
    contactName: (r.contact_name as string | null) ?? null,
    assigneeId: (r.assignee_id as string | null) ?? null,
    assigneeName: (r.assignee_name as string | null) ?? null,
    status: r.status as ConversationSummary['status'],
    unreadCount: toNumber(r.unread_count),
    lastMessageAt: toDateOrNull(r.last_message_at),
    lastMessagePreview: (r.last_message_preview as string | null) ?? null,
    lastInboundAt: toDateOrNull(r.last_inbound_at),
    channelPaused: r.channel_paused === true || r.channel_paused === 't',
    channelSwitching: r.channel_switching === true || r.channel_switching === 't',
    channelWaiting: channelWaiting(String(r.provider), String(r.channel_status)),
  }
}

export async function listConversations(
  tx: OrgTx,
  actor: InboxActor,
  q: ListQuery,
): Promise<ConversationSummary[]> {
  const where = [sql`true`]
  if (q.status !== 'all') where.push(sql`c.status = ${q.status}`)
  if (q.filter === 'mine') where.push(sql`c.assignee_id = ${actor.userId}::uuid`)
  else if (q.filter === 'unassigned') where.push(sql`c.assignee_id is null`)
  else if (q.filter === 'unread') where.push(sql`c.unread_count > 0`)
  if (q.q) {
    const like = `%${q.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`
    const digits = q.q.replace(/\D/g, '')
    where.push(
      sql`(l.full_name ilike ${like} or c.contact_name ilike ${like} or c.last_message_preview ilike ${like}
        ${digits.length >= 3 ? sql`or c.contact_phone like ${`%${digits}%`}` : sql``})`,
    )
  }
  const rows = await query<Record<string, unknown>>(
    tx,
    sql`select ${SUMMARY} from ${SUMMARY_FROM} where ${sql.join(where, sql` and `)}
      order by c.last_message_at desc nulls last, c.id desc limit ${Math.min(q.limit ?? 100, 200)}`,
  )
  return rows.map(toSummary)
}

export async function findConversation(tx: OrgTx, id: string): Promise<ConversationSummary | null> {
  if (!isUuid(id)) return null
  const rows = await query<Record<string, unknown>>(
    tx,
    sql`select ${SUMMARY} from ${SUMMARY_FROM} where c.id = ${id}::uuid`,
  )
  return rows[0] ? toSummary(rows[0]) : null
}

export async function conversationsOfLead(tx: OrgTx, leadId: string): Promise<ConversationSummary[]> {
  if (!isUuid(leadId)) return []
  const rows = await query<Record<string, unknown>>(
    tx,
    sql`select ${SUMMARY} from ${SUMMARY_FROM} where c.lead_id = ${leadId}::uuid order by c.last_message_at desc nulls last`,
  )
  return rows.map(toSummary)
}

export interface MessageView {
  id: string
  direction: 'in' | 'out'
  type: string
  body: string | null
  /** The attachment: a reference, with `fileId` once its bytes are stored (inbox.media.ts). */
  media: StoredMediaRef | null
  status: 'pending' | 'sent' | 'delivered' | 'read' | 'failed'
  error: { code?: string; message?: string } | null
  authorName: string | null
  replyToBody: string | null
  createdAt: Date
}

const MESSAGE_COLUMNS = sql`m.id::text as id, m.direction, m.type, m.body, m.media, m.status, m.error, m.created_at,
  u.name as author_name, r.body as reply_body, r.type as reply_type, r.media as reply_media`

function toMessage(r: Record<string, unknown>): MessageView {
  const j = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : (v ?? null))
  return {
    id: String(r.id),
    direction: r.direction as 'in' | 'out',
    type: String(r.type),
    body: (r.body as string | null) ?? null,
    media: j(r.media),
    status: r.status as MessageView['status'],
    error: j(r.error),
    authorName: (r.author_name as string | null) ?? null,
    // A quoted attachment without a caption reads like the conversation list's preview (📷, 📄 name).
    replyToBody: r.reply_type
      ? previewOf({
          type: String(r.reply_type),
          body: r.reply_body as string | null,
          media: j(r.reply_media),
        })
      : null,
    createdAt: toDate(r.created_at),
  }
}

/** The last `limit` messages, oldest first. */
export async function listMessages(tx: OrgTx, conversationId: string, limit = 200): Promise<MessageView[]> {
  const rows = await query<Record<string, unknown>>(
    tx,
    sql`select * from (select ${MESSAGE_COLUMNS} from messages m
        left join users u on u.id = m.author_id
        left join messages r on r.id = m.reply_to_id
        where m.conversation_id = ${conversationId}::uuid
        order by m.created_at desc, m.id desc limit ${limit}) x
      order by created_at, id`,
  )
  return rows.map(toMessage)
}

export async function findMessage(
  tx: OrgTx,
  conversationId: string,
  messageId: string,
): Promise<MessageView | null> {
  if (!isUuid(messageId) || !isUuid(conversationId)) return null
  const rows = await query<Record<string, unknown>>(
    tx,
    sql`select ${MESSAGE_COLUMNS} from messages m left join users u on u.id = m.author_id
      left join messages r on r.id = m.reply_to_id
      where m.id = ${messageId}::uuid and m.conversation_id = ${conversationId}::uuid`,
  )
  return rows[0] ? toMessage(rows[0]) : null
}

export async function listMembers(tx: OrgTx): Promise<{ id: string; name: string }[]> {
  return query<{ id: string; name: string }>(
    tx,
    sql`select m.user_id::text as id, u.name from organization_members m join users u on u.id = m.user_id order by u.name`,
  )
}

/** Outside the 24-hour customer-service window only templates may be sent on Cloud API channels. */
export function windowOpen(
  c: Pick<ConversationSummary, 'provider' | 'lastInboundAt'>,
  now = new Date(),
): boolean {
  if (c.provider !== 'cloud-api') return true
  return !!c.lastInboundAt && now.getTime() - c.lastInboundAt.getTime() < WINDOW_MS
}

// Writes -------------------------------------------------------------------------------------------

export interface SendInput {
  body: string
  /** An internal note: stored, shown to the team, never sent. */
  note?: boolean
  template?: TemplateInput | null
  replyToId?: string | null
  /** The rep confirmed a bulk-send warning (inbox.bulk.ts): send anyway. */
  bulkConfirmed?: boolean
  /** An attachment (image, audio, video, document): `body` is its caption (inbox.media.ts). */
  file?: { data: Uint8Array; mime?: string | null; filename?: string | null } | null
}

/** A template to send: its name and language, and the components carrying its parameter values. */
export interface TemplateInput {
  name: string
  language: string
  components?: TemplateComponent[]
}

async function requireConversation(tx: OrgTx, id: string): Promise<ConversationSummary> {
  const c = await findConversation(tx, id)
  if (!c) throw notFound()
  return c
}

export async function sendMessage(
  tx: OrgTx,
  actor: InboxActor,
  conversationId: string,
  input: SendInput,
  now = new Date(),
): Promise<{ messageId: string; jobId: string | null }> {
  const conv = await requireConversation(tx, conversationId)
  const body = input.body.replace(/\r\n/g, '\n').trim()
  const check = new Check()
  const attachment = input.file ? prepareAttachment(input.file) : null
  if (attachment && input.template) check.add('file', 'inbox.media.error.with_template')
  checkAttachment(check, attachment, body)
  if (!input.template) {
    if (!body && !attachment) check.add('body', 'inbox.error.body_required')
    else if (body.length > MAX_BODY) check.add('body', 'inbox.error.body_too_long', { max: MAX_BODY })
  } else if (
    !/^[a-z0-9_]{1,512}$/.test(input.template.name) ||
    // Meta's codes: "pt_BR", "en_US", "es", "fil", "zh_HK"… (two or three letters, an optional region).
    !/^[a-z]{2,3}(_[A-Z]{2})?$/.test(input.template.language)
  ) {
    check.add('template', 'inbox.error.template_invalid')
  }
  // A reply quotes a message of this conversation (RLS hides other organizations'), never a note.
  const replyToId = input.replyToId?.trim() || null
  if (
    replyToId &&
    !(
      isUuid(replyToId) &&
      (
        await query(
          tx,
          sql`select 1 from messages where id = ${replyToId}::uuid and conversation_id = ${conversationId}::uuid
            and type <> 'note'`,
        )
      ).length
    )
  )
    check.add('replyToId', 'inbox.error.reply_invalid')
  check.throwIfAny()
  const note = !!input.note
  if (!note && !input.template && !windowOpen(conv, now)) throw INBOX_ERRORS.windowClosed()
  // WhatsApp Web numbers get banned for bulk sending: warn first, send once the rep confirms.
  if (!note && !input.template && !input.bulkConfirmed) {
    const risk = await bulkRisk(tx, conv, body, now)
    if (risk) throw bulkWarning(risk)
  }
  const type = note
    ? 'note'
    : input.template
      ? 'template'
      : attachment
        ? mediaKindOf(attachment.mime)
        : 'text'
  const text = input.template ? body || input.template.name : body
  const messageId = Bun.randomUUIDv7()
  // An attachment is stored with the message, in this transaction: a crash loses neither.
  const fileId = attachment ? Bun.randomUUIDv7() : null
  const media = attachment
    ? { fileId, mime: attachment.mime, filename: attachment.filename, size: attachment.data.byteLength }
    : null
  await tx.execute(
    sql`insert into messages (id, organization_id, channel_id, conversation_id, direction, type, body, template,
        media, reply_to_id, status, author_id, created_at)
      values (${messageId}::uuid, nullif(current_setting('app.org_id', true), '')::uuid, ${conv.channelId}::uuid,
        ${conversationId}::uuid, 'out', ${type}, ${text || null},
        ${input.template ? JSON.stringify(input.template) : null}::jsonb, ${media ? JSON.stringify(media) : null}::jsonb,
        ${replyToId}::uuid, ${note ? 'sent' : 'pending'}, ${actor.userId}::uuid, ${now.toISOString()}::timestamptz)`,
  )
  if (attachment) await storeMediaFile(tx, { ...attachment, id: fileId!, messageId })
  let jobId: string | null = null
  if (!note) {
    const preview = previewOf({ type, body: text, media })
    // A rep answering takes the conversation when nobody has it; reading it clears the unread count.
    await tx.execute(
      sql`update conversations set last_message_at = greatest(last_message_at, ${now.toISOString()}::timestamptz),
          last_message_preview = ${preview}, unread_count = 0,
          assignee_id = coalesce(assignee_id, ${actor.userId}::uuid),
          status = case when status = 'closed' then 'open' else status end, updated_at = now()
        where id = ${conversationId}::uuid`,
    )
    jobId = (await enqueue(tx, inboxSendJob, { messageId }, { idempotencyKey: `inbox.send:${messageId}` })).id
    await insertOutboundActivity(tx, conv.leadId, actor.userId, conversationId, messageId, type, preview)
  }
  await recordEvent(tx, {
    type: 'inbox.message',
    payload: { conversationId, messageId, leadId: conv.leadId, direction: 'out' },
  })
  return { messageId, jobId }
}

async function insertOutboundActivity(
  tx: OrgTx,
  leadId: string,
  actorId: string,
  conversationId: string,
  messageId: string,
  type: string,
  /** The conversation's last-message preview of it (notes write no activity). */
  preview: string,
) {
  await tx.execute(
    sql`insert into lead_activities (id, organization_id, lead_id, actor_id, kind, data)
      values (${Bun.randomUUIDv7()}::uuid, nullif(current_setting('app.org_id', true), '')::uuid, ${leadId}::uuid,
        ${actorId}::uuid, 'message.outbound',
        ${JSON.stringify({ channel: 'whatsapp', conversationId, messageId, type, preview })}::jsonb)`,
  )
}

export async function assignConversation(
  tx: OrgTx,
  _actor: InboxActor,
  id: string,
  assigneeId: string | null,
) {
  await requireConversation(tx, id)
  if (assigneeId) {
    const ok = await query(
      tx,
      sql`select 1 from organization_members where user_id = ${isUuid(assigneeId) ? assigneeId : null}::uuid`,
    )
    if (!ok.length) new Check().add('assigneeId', 'inbox.error.assignee_invalid').throwIfAny()
  }
  await tx.execute(
    sql`update conversations set assignee_id = ${assigneeId}::uuid, updated_at = now() where id = ${id}::uuid`,
  )
  await recordEvent(tx, { type: 'inbox.conversation', payload: { conversationId: id } })
}

/**
 * Close, reopen, or mark pending (waiting on the contact: their next message reopens it, like a
 * closed one). Audited with the status before and after; closing clears the unread count. Setting
 * the status it already has changes nothing and writes nothing.
 */
export async function setConversationStatus(
  tx: OrgTx,
  actor: InboxActor,
  id: string,
  status: ConversationStatus,
) {
  const c = await requireConversation(tx, id)
  if (c.status === status) return
  await tx.execute(
    sql`update conversations set status = ${status}, unread_count = case when ${status} = 'closed' then 0 else unread_count end,
        updated_at = now() where id = ${id}::uuid`,
  )
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'conversation.status_changed',
    targetType: 'conversation',
    targetId: id,
    before: { status: c.status },
    after: { status },
    ip: actor.ip,
  })
  await recordEvent(tx, { type: 'inbox.conversation', payload: { conversationId: id } })
}

/** Opening a conversation reads it: its unread count goes to 0 (an event only when it changed). */
export async function markRead(tx: OrgTx, id: string): Promise<void> {
  const rows = await query(
    tx,
    sql`update conversations set unread_count = 0 where id = ${id}::uuid and unread_count > 0 returning id`,
  )
  if (rows.length) await recordEvent(tx, { type: 'inbox.conversation', payload: { conversationId: id } })
}

/** A failed message sent again: back to pending with a fresh job (a new idempotency key). */
export async function retryMessage(tx: OrgTx, conversationId: string, messageId: string) {
  const rows = await query<{ id: string }>(
    tx,
    sql`update messages set status = 'pending', error = null, failed_at = null
      where id = ${messageId}::uuid and conversation_id = ${conversationId}::uuid and status = 'failed' and direction = 'out'
        and type <> 'note'
      returning id::text as id`,
  )
  if (!rows.length) throw notFound()
  await enqueue(tx, inboxSendJob, { messageId }, { idempotencyKey: `inbox.send:${messageId}:${Date.now()}` })
  await recordEvent(tx, { type: 'inbox.status', payload: { conversationId, messageId, status: 'pending' } })
}

// Quick replies -----------------------------------------------------------------------------------

export interface QuickReply {
  id: string
  shortcut: string
  body: string
}

export async function listQuickReplies(tx: OrgTx): Promise<QuickReply[]> {
  return query<QuickReply>(
    tx,
    sql`select id::text as id, shortcut, body from quick_replies order by shortcut`,
  )
}

export function normalizeShortcut(s: string) {
  return s.trim().replace(/^\/+/, '').toLowerCase()
}

export async function createQuickReply(
  tx: OrgTx,
  actor: InboxActor,
  input: { shortcut: string; body: string },
) {
  const shortcut = normalizeShortcut(input.shortcut)
  const body = input.body.trim()
  const check = new Check()
  if (!/^[a-z0-9][a-z0-9_-]{0,29}$/.test(shortcut)) check.add('shortcut', 'inbox.qr.error.shortcut')
  if (!body) check.add('body', 'inbox.error.body_required')
  else if (body.length > 2000) check.add('body', 'inbox.error.body_too_long', { max: 2000 })
  check.throwIfAny()
  const rows = await query<{ id: string }>(
    tx,
    sql`insert into quick_replies (id, organization_id, shortcut, body)
      values (${Bun.randomUUIDv7()}::uuid, nullif(current_setting('app.org_id', true), '')::uuid, ${shortcut}, ${body})
      on conflict (organization_id, shortcut) do nothing returning id::text as id`,
  )
  if (!rows[0]) new Check().add('shortcut', 'inbox.qr.error.taken').throwIfAny()
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'quick_reply.created',
    targetType: 'quick_reply',
    targetId: rows[0]!.id,
    after: { shortcut },
    ip: actor.ip,
  })
  return rows[0]!.id
}

export async function deleteQuickReply(tx: OrgTx, actor: InboxActor, id: string) {
  if (!isUuid(id)) throw notFound()
  const rows = await query<{ shortcut: string }>(
    tx,
    sql`delete from quick_replies where id = ${id}::uuid returning shortcut`,
  )
  if (!rows[0]) throw notFound()
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'quick_reply.deleted',
    targetType: 'quick_reply',
    targetId: id,
    before: { shortcut: rows[0].shortcut },
    ip: actor.ip,
  })
}

// Provider switch ---------------------------------------------------------------------------------

/**
 * The switch, step one: pause the channel (sends wait) and change its provider, config, secrets and
 * number in one transaction, audited. What the channel was is kept in `switch_from` (a "Cancel"
 * puts it back, whatsapp.switch.ts). Conversations, messages and leads keep pointing at the same
 * channel id. The caller then connects the new provider (outside any transaction) and, once it is
 * connected, calls `resumeChannel`: the messages that waited go out through the new provider.
 */
export async function beginProviderSwitch(
  tx: OrgTx,
  actor: InboxActor,
  channelId: string,
  to: {
    provider: string
    config?: Record<string, unknown>
    /** The new provider's secrets, sealed for the channel (undefined: keep; null: none). */
    secretsEnc?: string | null
    /** The channel's number under the new provider (undefined: keep). */
    phoneNumber?: string | null
  },
) {
  const ch = await loadChannel(tx, channelId)
  if (!ch) throw notFound()
  const from = {
    provider: ch.provider,
    config: ch.config ?? {},
    secretsEnc: ch.secretsEnc,
    phoneNumber: ch.phoneNumber,
    paused: ch.paused,
    status: ch.status,
    startedAt: new Date().toISOString(),
    startedBy: actor.userId,
  }
  await tx.execute(
    sql`update whatsapp_channels set paused = true, provider = ${to.provider},
        ${to.config ? sql`config = ${JSON.stringify(to.config)}::jsonb,` : sql``}
        ${to.secretsEnc !== undefined ? sql`secrets_enc = ${to.secretsEnc},` : sql``}
        ${to.phoneNumber !== undefined ? sql`phone_number = ${to.phoneNumber},` : sql``}
        switch_from = coalesce(switch_from, ${JSON.stringify(from)}::jsonb), updated_at = now()
      where id = ${channelId}::uuid`,
  )
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'whatsapp_channel.provider_switched',
    targetType: 'whatsapp_channel',
    targetId: channelId,
    before: { provider: ch.provider },
    after: { provider: to.provider },
    ip: actor.ip,
  })
  return { from: ch.provider }
}

/**
 * The channel sends again (a switch completed, or an admin reconnected it): not paused, no switch in
 * progress, and every message that waited gets going now — the send jobs still queued or backing off
 * run at once, and the messages whose job parked (it completes without sending while the channel is
 * paused, inbox.send.ts) get a fresh job. Returns how many messages are on their way.
 */
export async function resumeChannel(tx: OrgTx, channelId: string) {
  await tx.execute(
    sql`update whatsapp_channels set paused = false, switch_from = null, updated_at = now()
      where id = ${channelId}::uuid`,
  )
  return wakeChannelSends(tx, channelId)
}

/**
 * The channel can send again (resumed, or its WhatsApp Web session is open again): every pending
 * outbound message is sent now, its parked or backing-off job woken, a job given to any without one.
 * Returns how many were pending.
 */
export async function wakeChannelSends(tx: OrgTx, channelId: string) {
  const pending = await query<{ id: string; job: string | null }>(
    tx,
    sql`select m.id::text as id,
        (select j.id::text from jobs j where j.name = 'inbox.send' and j.payload->>'messageId' = m.id::text
           and j.state in ('queued', 'running', 'failed') limit 1) as job
      from messages m
      where m.channel_id = ${channelId}::uuid and m.direction = 'out' and m.status = 'pending' and m.type <> 'note'
      order by m.created_at, m.id`,
  )
  // Wake the ones waiting for their next backoff rather than let them sleep.
  await tx.execute(
    sql`update jobs set run_at = now() where name = 'inbox.send' and state in ('queued', 'failed')
      and payload->>'messageId' in (select id::text from messages where channel_id = ${channelId}::uuid and status = 'pending')`,
  )
  const stamp = Date.now()
  for (const m of pending)
    if (!m.job)
      await enqueue(
        tx,
        inboxSendJob,
        { messageId: m.id },
        { idempotencyKey: `inbox.send:${m.id}:resume:${stamp}` },
      )
  return pending.length
}
