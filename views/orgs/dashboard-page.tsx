import type { MessageKey } from '../../src/shared/i18n'
import { Icon } from '../components/icon'
import { AppShell } from '../layouts/app-shell'
import { formatDate, initials, orgLabel, type Ui } from '../ui'
import { type AuditRow, auditText } from './settings-pages'

export interface DashboardProps {
  ui: Ui
  stats: { members: number; pendingInvites: number }
  branded: boolean
  recent: AuditRow[]
}

export function DashboardPage({ ui, stats, branded, recent }: DashboardProps) {
  const { t } = ui
  const org = ui.org!
  const steps: { done: boolean; href: string; title: MessageKey; hint: MessageKey }[] = [
    {
      done: stats.members > 1 || stats.pendingInvites > 0,
      href: '/settings/members',
      title: 'dashboard.step_invite',
      hint: 'dashboard.step_invite_hint',
    },
    {
      done: branded,
      href: '/settings/organization',
      title: 'dashboard.step_brand',
      hint: 'dashboard.step_brand_hint',
    },
    {
      done: !!ui.user?.locale,
      href: '/settings/profile',
      title: 'dashboard.step_profile',
      hint: 'dashboard.step_profile_hint',
    },
  ]
  return (
    <AppShell ui={ui} title={t('dashboard.title')}>
      <div class="page-head">
        <div class="titles">
          <h1 safe>{t('dashboard.hello', { name: ui.user!.name.split(' ')[0] ?? '' })}</h1>
          <p class="muted" safe>
            {t('dashboard.subtitle', { org: orgLabel(org) })}
          </p>
        </div>
        {org.role !== 'member' ? (
          <a class="btn btn-primary" href="/settings/members">
            <Icon name="plus" />
            <span safe>{t('members.invite')}</span>
          </a>
        ) : (
          ''
        )}
      </div>
      <section class="stats" aria-label={t('dashboard.title')}>
        <div class="card stat">
          <span class="muted" safe>
            {t('dashboard.members')}
          </span>
          <span class="value" data-testid="stat-members">
            {stats.members}
          </span>
        </div>
        <div class="card stat">
          <span class="muted" safe>
            {t('dashboard.pending_invites')}
          </span>
          <span class="value">{stats.pendingInvites}</span>
        </div>
        <div class="card stat">
          <span class="muted" safe>
            {t('dashboard.your_role')}
          </span>
          <span class="value" style="font-size:20px" safe>
            {t(`org.role.${org.role}`)}
          </span>
        </div>
      </section>
      <div class="grid-2">
        <section class="card">
          <div class="empty">
            <div class="empty-icon">
              <Icon name="kanban" />
            </div>
            <h2 safe>{t('dashboard.empty_title')}</h2>
            <p class="muted" safe>
              {t('dashboard.empty_body')}
            </p>
          </div>
        </section>
        <section class="card">
          <div class="card-head">
            <h2 safe>{t('dashboard.getting_started')}</h2>
            <span class="badge badge-brand">
              {steps.filter((s) => s.done).length}/{steps.length}
            </span>
          </div>
          <div class="steps">
            {steps.map((s) => (
              <a class={`step${s.done ? ' done' : ''}`} href={s.href}>
                <span class="dot">{s.done ? <Icon name="check" /> : ''}</span>
                <span class="text">
                  <strong safe>{t(s.title)}</strong>
                  <span class="muted" style="font-size:13px" safe>
                    {t(s.hint)}
                  </span>
                </span>
                <span class="arrow">
                  <Icon name="arrowRight" />
                </span>
              </a>
            ))}
          </div>
        </section>
      </div>
      {/* The activity feed comes from the audit log, which only admins may read. */}
      {org.role === 'member' ? (
        ''
      ) : (
        <section class="card">
          <div class="card-head">
            <h2 safe>{t('dashboard.recent_activity')}</h2>
          </div>
          {recent.length ? (
            <div class="feed">
              {recent.map((r) => (
                <div class="feed-item">
                  <span class="avatar" aria-hidden="true" safe>
                    {initials(r.actorName ?? '?')}
                  </span>
                  <div>
                    <div safe>{auditText(ui, r)}</div>
                    <div class="subtle" style="font-size:12.5px" safe>
                      {formatDate(r.createdAt, ui.locale, org.timezone)}
                    </div>
                  </div>
                </div>
              ))}
            </div>
          ) : (
            <div class="card-body muted" safe>
              {t('dashboard.no_activity')}
            </div>
          )}
        </section>
      )}
    </AppShell>
  )
}
