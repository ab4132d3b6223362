import { AppShell } from '../layouts/app-shell'
import { formatDate, type Ui } from '../ui'

export interface OutboxMail {
  id: string
  toAddress: string
  subject: string
  textBody: string
  createdAt: Date
}

export function OutboxPage({ ui, mails }: { ui: Ui; mails: OutboxMail[] }) {
  const { t } = ui
  return (
    <AppShell ui={ui} title={t('outbox.title')}>
      <div class="page-head">
        <div class="titles">
          <h1 safe>{t('outbox.title')}</h1>
          <p class="muted" safe>
            {t('outbox.subtitle')}
          </p>
        </div>
      </div>
      {mails.length ? (
        mails.map((m) => (
          <article class="card" data-testid="outbox-mail">
            <div class="card-head">
              <div style="display:grid;gap:2px;min-width:0">
                <h3 safe>{m.subject}</h3>
                <span class="muted" style="font-size:12.5px" safe>
                  {`${t('outbox.to')}: ${m.toAddress} · ${formatDate(m.createdAt, ui.locale)}`}
                </span>
              </div>
            </div>
            <div class="card-body">
              <pre class="mail" safe>
                {m.textBody}
              </pre>
            </div>
          </article>
        ))
      ) : (
        <div class="card card-body muted" safe>
          {t('outbox.empty')}
        </div>
      )}
    </AppShell>
  )
}
