import type { JobView } from '../../src/platform/jobs/jobs.queue'
import { JOB_STATES, type JobState } from '../../src/platform/jobs/jobs.table'
import { SettingsLayout } from '../orgs/settings-pages'
import { formatDate, orgLabel, type Ui } from '../ui'

export interface JobsPageProps {
  ui: Ui
  scope: 'org' | 'system'
  state: JobState | null
  counts: Record<JobState, number>
  jobs: JobView[]
  /** Instance admins also get a link to the system jobs. */
  canSeeSystem: boolean
}

const RETRYABLE: JobState[] = ['failed', 'dead', 'cancelled']
const DISCARDABLE: JobState[] = ['queued', 'failed', 'dead']

export function JobsPage({ ui, scope, state, counts, jobs, canSeeSystem }: JobsPageProps) {
  const { t } = ui
  const base = scope === 'system' ? '/settings/jobs/system' : '/settings/jobs'
  const title = scope === 'system' ? t('jobs.system_title') : t('jobs.title')
  const subtitle =
    scope === 'system' ? t('jobs.system_subtitle') : t('jobs.subtitle', { org: orgLabel(ui.org!) })
  return (
    <SettingsLayout ui={ui} tab="jobs" title={title} subtitle={subtitle}>
      <nav class="chips" aria-label={t('jobs.state')}>
        <a class="chip" href={base} aria-current={state === null ? 'page' : undefined} safe>
          {t('jobs.all')}
        </a>
        {JOB_STATES.map((s) => (
          <a class="chip" href={`${base}?state=${s}`} aria-current={state === s ? 'page' : undefined}>
            <span safe>{t(`jobs.state.${s}`)}</span>
            <span class="chip-count" data-testid={`count-${s}`}>
              {counts[s]}
            </span>
          </a>
        ))}
        {canSeeSystem ? (
          <a
            class="chip"
            href={scope === 'system' ? '/settings/jobs' : '/settings/jobs/system'}
            style="margin-left:auto"
            safe
          >
            {scope === 'system' ? t('jobs.title') : t('jobs.system_title')}
          </a>
        ) : (
          ''
        )}
      </nav>
      <section class="card">
        {jobs.length ? (
          <div class="table-wrap">
            <table class="table" data-testid="jobs-table">
              <thead>
                <tr>
                  <th safe>{t('jobs.name')}</th>
                  <th safe>{t('jobs.state')}</th>
                  <th safe>{t('jobs.attempts')}</th>
                  <th class="hide-sm" safe>
                    {t('jobs.when')}
                  </th>
                  <th>
                    <span class="sr-only" safe>
                      {t('audit.action')}
                    </span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {jobs.map((j) => (
                  <tr>
                    <td>
                      <div style="font-weight:550" safe>
                        {j.name}
                      </div>
                      <div class="subtle" style="font-size:12px" safe>
                        {`${j.queue} · ${j.id}`}
                      </div>
                      {j.lastError ? (
                        <div class="field-error" style="font-weight:400" safe>
                          {`${t('jobs.error')}: ${j.lastError.slice(0, 300)}`}
                        </div>
                      ) : (
                        ''
                      )}
                    </td>
                    <td>
                      <span class={`badge state-${j.state}`} style="margin:0" safe>
                        {t(`jobs.state.${j.state}`)}
                      </span>
                    </td>
                    <td safe>{`${j.attempts}/${j.maxAttempts}`}</td>
                    <td class="hide-sm muted" safe>
                      {formatDate(j.updatedAt, ui.locale, ui.org?.timezone)}
                    </td>
                    <td>
                      <div class="row-actions">
                        {RETRYABLE.includes(j.state) ? (
                          <form method="post" action={`${base}/${j.id}/retry`}>
                            <button class="btn btn-sm" type="submit" safe>
                              {t('jobs.retry')}
                            </button>
                          </form>
                        ) : (
                          ''
                        )}
                        {DISCARDABLE.includes(j.state) ? (
                          <form method="post" action={`${base}/${j.id}/discard`}>
                            <button class="btn btn-sm btn-danger" type="submit" safe>
                              {t('jobs.discard')}
                            </button>
                          </form>
                        ) : (
                          ''
                        )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <div class="card-body muted" safe>
            {t('jobs.empty')}
          </div>
        )}
      </section>
    </SettingsLayout>
  )
}
