/**
 * In-app notifications: the one way other modules tell a person something. `notify` runs inside the
 * caller's tenant transaction (the notification exists iff the change committed) and records a
 * personal domain event, which the hub pushes to the recipient's open tabs as a toast.
 */

import { and, count, desc, eq, isNull } from 'drizzle-orm'
import { beforeCursor, pageOf } from '../../platform/db/keyset'
import type { OrgTx, SystemTx } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import type { Cursor } from '../../shared/cursor'
import { isLocale, type Locale, type MessageKey, translator } from '../../shared/i18n'
import { notifications } from './notifications.table'
import './notifications.events'

/** Kinds and the catalog key that renders them; params fill the message. */
export const NOTIFICATION_KINDS = {
  'member.joined': 'notifications.k.member_joined',
  'member.role_changed': 'notifications.k.role_changed',
  'lead.assigned': 'notifications.k.lead_assigned',
  // A WhatsApp Web session stopped and needs an owner or admin (whatsapp.channels.ts, CHANNEL_ALERTS).
  'whatsapp.forbidden': 'notifications.k.whatsapp_forbidden',
  'whatsapp.multidevice_mismatch': 'notifications.k.whatsapp_multidevice_mismatch',
  'whatsapp.reconnect_loop': 'notifications.k.whatsapp_reconnect_loop',
  'whatsapp.logged_out': 'notifications.k.whatsapp_logged_out',
} as const satisfies Record<string, MessageKey>
export type NotificationKind = keyof typeof NOTIFICATION_KINDS

export interface NotifyInput {
  orgId: string
  userId: string
  kind: NotificationKind
  params: Record<string, string>
  link?: string | null
  actorId?: string | null
  /** The recipient's language for the live toast (their setting, else the organization's). */
  locale: string | null | undefined
}

export function renderNotification(locale: Locale, kind: string, params: Record<string, string>) {
  const key = NOTIFICATION_KINDS[kind as NotificationKind]
  const t = translator(locale)
  return key ? t(key, params) : kind
}

export async function notify(tx: OrgTx, n: NotifyInput) {
  const id = Bun.randomUUIDv7()
  // No RETURNING: the recipient-only select policy hides the row from the sender, as it should.
  await tx.insert(notifications).values({
    id,
    organizationId: n.orgId,
    userId: n.userId,
    kind: n.kind,
    params: n.params,
    link: n.link ?? null,
    actorId: n.actorId ?? null,
  })
  const locale: Locale = isLocale(n.locale) ? n.locale : 'pt-BR'
  await recordEvent(tx, {
    type: 'notification.created',
    userId: n.userId,
    payload: {
      id,
      kind: n.kind,
      text: renderNotification(locale, n.kind, n.params),
      link: n.link ?? null,
    },
  })
  return id
}

export const NOTIFICATION_PAGE = 30

/** The current user's notifications (RLS: the recipient only), newest first, keyset-paginated. */
export async function listNotifications(tx: OrgTx, cursor?: Cursor) {
  const rows = await tx
    .select()
    .from(notifications)
    .where(beforeCursor(notifications.createdAt, notifications.id, cursor))
    .orderBy(desc(notifications.createdAt), desc(notifications.id))
    .limit(NOTIFICATION_PAGE + 1)
  return pageOf(rows, NOTIFICATION_PAGE)
}

export async function unreadCount(tx: OrgTx) {
  const [r] = await tx.select({ n: count() }).from(notifications).where(isNull(notifications.readAt))
  return r?.n ?? 0
}

/** Marks one (or all, without id) as read; returns how many changed. Another user's id changes nothing. */
export async function markRead(tx: OrgTx, id?: string) {
  const rows = await tx
    .update(notifications)
    .set({ readAt: new Date() })
    .where(id ? and(eq(notifications.id, id), isNull(notifications.readAt)) : isNull(notifications.readAt))
    .returning({ id: notifications.id })
  return rows.length
}

/** For the top bar, read with the session (system transaction: one indexed count). */
export async function unreadCountFor(tx: SystemTx, orgId: string, userId: string) {
  const [r] = await tx
    .select({ n: count() })
    .from(notifications)
    .where(
      and(
        eq(notifications.organizationId, orgId),
        eq(notifications.userId, userId),
        isNull(notifications.readAt),
      ),
    )
  return r?.n ?? 0
}
