import { AppShell } from '../layouts/app-shell'
import { formatDate, orgLabel, type Ui } from '../ui'

export interface NotificationRow {
  id: string
  text: string
  link: string | null
  readAt: Date | null
  createdAt: Date
}

export function NotificationsPage({
  ui,
  rows,
  nextCursor,
}: {
  ui: Ui
  rows: NotificationRow[]
  nextCursor?: string
}) {
  const { t } = ui
  const unread = rows.some((r) => !r.readAt)
  return (
    <AppShell ui={ui} title={t('notifications.title')}>
      <div class="page-head">
        <div class="titles">
          <h1 safe>{t('notifications.title')}</h1>
          <p class="muted" safe>
            {t('notifications.subtitle', { org: orgLabel(ui.org!) })}
          </p>
        </div>
        {unread ? (
          <form method="post" action="/notifications/read-all">
            <button class="btn" type="submit" safe>
              {t('notifications.mark_all')}
            </button>
          </form>
        ) : (
          ''
        )}
      </div>
      <section class="card">
        {rows.length ? (
          <ul class="feed notif-list" data-testid="notifications">
            {rows.map((n) => (
              <li class={`feed-item${n.readAt ? '' : ' unread'}`}>
                <span class="notif-dot" aria-hidden="true"></span>
                <div style="flex:1;min-width:0">
                  <div safe>{n.text}</div>
                  <div class="subtle" style="font-size:12.5px" safe>
                    {formatDate(n.createdAt, ui.locale, ui.org?.timezone)}
                  </div>
                </div>
                <div class="row-actions">
                  {n.link ? (
                    <a class="btn btn-sm" href={n.link} safe>
                      {t('notifications.open')}
                    </a>
                  ) : (
                    ''
                  )}
                  {n.readAt ? (
                    ''
                  ) : (
                    <form method="post" action={`/notifications/${n.id}/read`}>
                      <button class="btn btn-sm btn-ghost" type="submit" safe>
                        {t('notifications.mark_read')}
                      </button>
                    </form>
                  )}
                </div>
              </li>
            ))}
          </ul>
        ) : (
          <div class="empty">
            <p class="muted" safe>
              {t('notifications.empty')}
            </p>
          </div>
        )}
      </section>
      {nextCursor ? (
        <div>
          <a class="btn" href={`/notifications?before=${encodeURIComponent(nextCursor)}`} safe>
            {t('notifications.older')}
          </a>
        </div>
      ) : (
        ''
      )}
    </AppShell>
  )
}
