import { Elysia } from 'elysia'
import { NotificationsPage } from '../../../views/notifications/notifications-page'
import { withOrg } from '../../platform/db/tenancy'
import { type AppDeps, type OrgCtx, requireOrg } from '../../platform/http/context'
import { notFound } from '../../platform/http/errors'
import { html, redirect, uiOf } from '../../platform/http/respond'
import { nextCursor, parseCursor } from '../../shared/cursor'
import { isUuid } from '../../shared/ids'
import { listNotifications, markRead, renderNotification, unreadCount } from './notifications.usecases'

export function notificationRoutes(deps: AppDeps) {
  const { db } = deps
  const scope = (r: OrgCtx) => ({ orgId: r.org.orgId, userId: r.auth.user.id })
  return (
    new Elysia({ name: 'notifications.routes' })
      .get('/notifications', async ({ request, query }) => {
        const r = await requireOrg(deps, request)
        const { rows, more } = await withOrg(db, scope(r), (tx) =>
          listNotifications(tx, parseCursor(query.before)),
        )
        const view = rows.map((n) => ({ ...n, text: renderNotification(r.locale, n.kind, n.params) }))
        return html(r, <NotificationsPage ui={uiOf(r)} rows={view} nextCursor={nextCursor(rows, more)} />)
      })
      // The top bar badge, refreshed by htmx when a notification event arrives.
      .get('/notifications/badge', async ({ request }) => {
        const r = await requireOrg(deps, request)
        const n = await withOrg(db, scope(r), unreadCount)
        return html(r, n > 0 ? <span class="bell-count">{n > 99 ? '99+' : n}</span> : '')
      })
      .post('/notifications/read-all', async ({ request }) => {
        const r = await requireOrg(deps, request)
        await withOrg(db, scope(r), (tx) => markRead(tx))
        return redirect(r, '/notifications')
      })
      .post('/notifications/:id/read', async ({ request, params }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.id)) throw notFound()
        const changed = await withOrg(db, scope(r), (tx) => markRead(tx, params.id))
        if (!changed) throw notFound()
        return redirect(r, '/notifications')
      })
  )
}
