import type { PropsWithChildren } from '@kitajs/html'
import type { Role } from '../../src/modules/orgs/orgs.table'
import { LOCALES, type MessageKey } from '../../src/shared/i18n'
import { Field, FormAlert, type FormState, Select } from '../components/form'
import { Icon } from '../components/icon'
import { AppShell } from '../layouts/app-shell'
import { formatDate, initials, orgLabel, type Ui } from '../ui'

export interface AuditRow {
  id: string
  action: string
  targetType: string | null
  targetId: string | null
  before: unknown
  after: unknown
  createdAt: Date
  actorName: string | null
  actorEmail: string | null
}

const AUDIT_KEYS = new Set([
  'org.created',
  'org.updated',
  'member.invited',
  'invitation.revoked',
  'invitation.accepted',
  'member.role_changed',
  'member.removed',
  'member.left',
  'user.password_changed',
  'pipeline.created',
  'pipeline.renamed',
  'pipeline.deleted',
  'stage.created',
  'stage.updated',
  'stage.reordered',
  'stage.deleted',
  'loss_reason.created',
  'loss_reason.deleted',
  'lead.merged',
  'lead_settings.updated',
  'custom_field.created',
  'custom_field.updated',
  'custom_field.deleted',
  'custom_field.reordered',
  'lead.erased',
  'capture_source.created',
  'capture_source.token_rotated',
  'capture_source.deleted',
  'facebook_connection.created',
  'facebook_connection.secrets_changed',
  'facebook_connection.deleted',
  'quick_reply.created',
  'quick_reply.deleted',
  'conversation.status_changed',
  'whatsapp_channel.created',
  'whatsapp_channel.deleted',
  'whatsapp_channel.disconnected',
  'whatsapp_channel.reconnected',
  'whatsapp_channel.provider_switched',
  'whatsapp_channel.provider_switch_completed',
  'whatsapp_channel.provider_switch_cancelled',
  'scoring_rule.created',
  'scoring_rule.updated',
  'scoring_rule.enabled',
  'scoring_rule.disabled',
  'scoring_rule.deleted',
  'scoring_rule.reordered',
  'assignment_rule.created',
  'assignment_rule.updated',
  'assignment_rule.enabled',
  'assignment_rule.disabled',
  'assignment_rule.deleted',
  'assignment_rule.reordered',
  'member.availability_changed',
])

/** Stage fields an audit entry can name, by their settings-form label. */
const STAGE_FIELDS: Record<string, MessageKey> = {
  name: 'pipeline.stages.name',
  color: 'pipeline.stages.color',
  probability: 'pipeline.stages.probability',
  kind: 'pipeline.stages.kind',
}

/** "Ana Souza invited bob@x.com as Member" in the reader's language. */
export function auditText(ui: Ui, r: AuditRow): string {
  const { t } = ui
  const before = (r.before ?? {}) as Record<string, string>
  const after = (r.after ?? {}) as Record<string, string>
  const role = (x?: string) =>
    x === 'owner' || x === 'admin' || x === 'member' ? t(`org.role.${x}`) : (x ?? '')
  const who = r.actorName ?? t('audit.system')
  let key = (AUDIT_KEYS.has(r.action) ? `audit.a.${r.action}` : 'audit.a.unknown') as MessageKey
  const str = (v: unknown) => (v === undefined || v === null ? '' : String(v))
  const params: Record<string, string> = {
    action: r.action,
    email: after.email ?? before.email ?? '',
    role: role(after.role),
    from: role(before.role),
    to: role(after.role),
    name: before.name ?? r.targetId ?? '',
    fields: Object.keys(after).join(', '),
  }
  // An erased lead is named by its id only: the entry must not hold personal data.
  if (r.action === 'lead.erased') params.name = str(r.targetId)
  if (r.action.startsWith('quick_reply.')) params.name = str(after.shortcut ?? before.shortcut)
  const provider = (p: unknown) =>
    p === 'cloud-api' || p === 'baileys' || p === 'sandbox' ? t(`whatsapp.provider.${p}`) : str(p)
  if (r.action.startsWith('whatsapp_channel.')) {
    params.name = str(after.name ?? before.name)
    params.provider = provider(after.provider)
    params.from = provider(before.provider)
    params.to = provider(after.provider)
    // Away from WhatsApp Web: was the old device logged out of the phone, or must it be removed there?
    if (r.action === 'whatsapp_channel.provider_switch_completed' && after.oldDevice)
      key =
        after.oldDevice === 'unlinked'
          ? 'audit.a.whatsapp_channel.provider_switch_completed_unlinked'
          : 'audit.a.whatsapp_channel.provider_switch_completed_remove'
  }
  if (r.action === 'conversation.status_changed') {
    const state = (s: unknown) =>
      s === 'open' || s === 'pending' || s === 'closed' ? t(`inbox.state.${s}`) : str(s)
    params.from = state(before.status)
    params.to = state(after.status)
  }
  switch (r.action.split('.')[0]) {
    case 'pipeline':
      params.name = str(after.name ?? before.name)
      params.from = str(before.name)
      params.to = str(after.name)
      break
    case 'stage':
      // An edit names the stage by its new name, or by `stage` (the unchanged name, kept as context).
      params.name = str(after.name ?? before.stage ?? before.name)
      params.pipeline = str(after.pipeline)
      params.order = str(after.order)
      params.count = str(before.leads)
      params.target = str(after.leadsMovedTo)
      params.fields = Object.keys(after)
        .map((k) => (STAGE_FIELDS[k] ? t(STAGE_FIELDS[k]).toLowerCase() : k))
        .join(', ')
      if (r.action === 'stage.updated' && !params.name) key = 'audit.a.stage.updated_unnamed'
      if (r.action === 'stage.deleted' && after.leadsMovedTo) key = 'audit.a.stage.deleted_moved'
      break
    case 'loss_reason':
      params.label = str(after.label ?? before.label)
      break
    case 'lead':
      // A merge names the fields taken from the other lead (ids only: no personal data here).
      if (r.action === 'lead.merged') params.fields = str(after.fields)
      break
    case 'custom_field':
      params.label = str(after.label ?? before.field ?? before.label)
      params.order = str(after.order)
      break
    case 'capture_source':
    case 'facebook_connection':
      params.name = str(after.name ?? before.name)
      break
    case 'scoring_rule':
    case 'assignment_rule':
      params.name = str(after.name ?? before.name)
      if (after.direction === 'up' || after.direction === 'down')
        params.direction = t(`audit.dir.${after.direction}`)
      break
  }
  if (r.action === 'member.availability_changed')
    params.state = t(
      (after as Record<string, unknown>).available ? 'audit.state.available' : 'audit.state.away',
    )
  return `${who} ${t(key, params)}`
}

/** One side of an audit row's before/after, as `key value` chips (JSON only for non-objects). */
function AuditChange({ kind, value, label }: { kind: 'before' | 'after'; value: unknown; label: string }) {
  if (value === null || value === undefined) return ''
  const pairs =
    typeof value === 'object' && !Array.isArray(value)
      ? Object.entries(value as Record<string, unknown>).map(([k, v]) => [
          k,
          typeof v === 'string' ? v : JSON.stringify(v),
        ])
      : [['', JSON.stringify(value)]]
  return (
    <div class={`diff diff-${kind}`}>
      <span class="sign" aria-hidden="true">
        {kind === 'before' ? '−' : '+'}
      </span>
      <span class="sr-only" safe>
        {label}
      </span>
      {pairs.map(([k, v]) => (
        <span class="kv-pair">
          {k ? (
            <span class="k" safe>
              {k}
            </span>
          ) : (
            ''
          )}
          <span safe>{v}</span>
        </span>
      ))}
    </div>
  )
}

type Tab =
  | 'organization'
  | 'members'
  | 'audit'
  | 'jobs'
  | 'profile'
  | 'fields'
  | 'scoring'
  | 'assignment'
  | 'capture'
  | 'dedup'
  | 'quick_replies'
  | 'channels'

export function SettingsLayout(
  props: PropsWithChildren<{ ui: Ui; tab: Tab; title: string; subtitle?: string }>,
) {
  const { ui } = props
  const { t } = ui
  const admin = ui.org && ui.org.role !== 'member'
  const tabs: { id: Tab; href: string; label: MessageKey; show: boolean }[] = [
    { id: 'organization', href: '/settings/organization', label: 'settings.organization', show: !!admin },
    { id: 'members', href: '/settings/members', label: 'settings.members', show: !!ui.org },
    { id: 'audit', href: '/settings/audit', label: 'settings.audit', show: !!admin },
    { id: 'jobs', href: '/settings/jobs', label: 'settings.jobs', show: !!admin },
    { id: 'fields', href: '/settings/fields', label: 'leads.fields.tab', show: !!admin },
    { id: 'scoring', href: '/settings/scoring', label: 'scoring.tab', show: !!admin },
    { id: 'assignment', href: '/settings/assignment', label: 'assignment.tab', show: !!admin },
    { id: 'capture', href: '/settings/capture', label: 'capture.tab', show: !!admin },
    { id: 'dedup', href: '/settings/dedup', label: 'dedup.settings.tab', show: !!admin },
    { id: 'quick_replies', href: '/settings/quick-replies', label: 'inbox.qr.tab', show: !!admin },
    { id: 'channels', href: '/settings/channels', label: 'whatsapp.tab', show: !!admin },
    { id: 'profile', href: '/settings/profile', label: 'settings.profile', show: true },
  ]
  return (
    <AppShell ui={ui} title={props.title}>
      <div class="page-head">
        <div class="titles">
          <h1 safe>{t('settings.title')}</h1>
        </div>
      </div>
      <nav class="tabs" aria-label={t('settings.title')}>
        {tabs
          .filter((x) => x.show)
          .map((x) => (
            <a href={x.href} aria-current={x.id === props.tab ? 'page' : undefined} safe>
              {t(x.label)}
            </a>
          ))}
      </nav>
      <div class="titles" style="display:grid;gap:4px">
        <h2 safe>{props.title}</h2>
        {props.subtitle ? (
          <p class="muted" safe>
            {props.subtitle}
          </p>
        ) : (
          ''
        )}
      </div>
      {props.children}
    </AppShell>
  )
}

export function OrgSettingsPage({ ui, form, timezones }: { ui: Ui; form: FormState; timezones: string[] }) {
  const { t } = ui
  return (
    <SettingsLayout ui={ui} tab="organization" title={t('settings.organization')}>
      <form method="post" action="/settings/organization" class="card card-body form-grid" novalidate>
        <FormAlert form={form} t={t} />
        <div class="form-row">
          <Field name="name" label={t('org.field.name')} form={form} t={t} required maxlength={120} />
          <Field name="slug" label={t('org.field.slug')} form={form} t={t} required maxlength={63} />
        </div>
        <Field
          name="displayName"
          label={t('org.field.display_name')}
          hint={t('org.field.display_name_hint')}
          form={form}
          t={t}
          maxlength={60}
        />
        <div class="form-row">
          <Field
            name="logoUrl"
            type="url"
            label={t('org.field.logo_url')}
            hint={t('org.field.logo_url_hint')}
            form={form}
            t={t}
            placeholder="https://"
          />
          <Field
            name="primaryColor"
            label={t('org.field.primary_color')}
            form={form}
            t={t}
            placeholder="#4f46e5"
            maxlength={7}
          />
        </div>
        <div class="form-row">
          <Select
            name="locale"
            label={t('org.field.locale')}
            form={form}
            t={t}
            options={LOCALES.map((l) => ({ value: l, label: t(`locale.${l}`) }))}
          />
          <Select
            name="timezone"
            label={t('org.field.timezone')}
            form={form}
            t={t}
            options={timezones.map((z) => ({ value: z, label: z }))}
          />
        </div>
        <div class="form-actions">
          <button class="btn btn-primary" type="submit" safe>
            {t('settings.save')}
          </button>
        </div>
      </form>
    </SettingsLayout>
  )
}

export interface MemberRow {
  userId: string
  role: Role
  joinedAt: Date
  name: string
  email: string
}

export interface PendingInvite {
  id: string
  email: string
  role: Role
  expiresAt: Date
}

export function MembersPage(props: {
  ui: Ui
  members: MemberRow[]
  pending: PendingInvite[]
  form: FormState
  newLink?: string
}) {
  const { ui, members, pending, form } = props
  const { t } = ui
  const org = ui.org!
  const me = ui.user!.id
  const manage = org.role !== 'member'
  const grantable: Role[] = org.role === 'owner' ? ['member', 'admin', 'owner'] : ['member', 'admin']
  return (
    <SettingsLayout
      ui={ui}
      tab="members"
      title={t('members.title')}
      subtitle={t('members.subtitle', { org: orgLabel(org) })}
    >
      {manage ? (
        <section class="card">
          <div class="card-head">
            <h3 safe>{t('members.invite')}</h3>
          </div>
          <form method="post" action="/settings/members/invite" class="card-body form-grid" novalidate>
            <FormAlert form={form} t={t} />
            <div class="invite-row">
              <Field
                name="email"
                type="email"
                label={t('auth.field.email')}
                form={form}
                t={t}
                required
                placeholder={t('members.email_placeholder')}
              />
              <Select
                name="role"
                label={t('members.role')}
                form={form}
                t={t}
                options={grantable.map((r) => ({ value: r, label: t(`org.role.${r}`) }))}
              />
              <button class="btn btn-primary" type="submit" safe>
                {t('members.invite_submit')}
              </button>
            </div>
            {props.newLink ? (
              <div class="alert alert-success invite-link" role="status">
                <span safe>{t('members.invite_sent', { email: form.values.sentTo ?? '' })}</span>
                <div class="link-row">
                  <code class="code" data-testid="invite-link" safe>
                    {props.newLink}
                  </code>
                  <button
                    type="button"
                    class="btn btn-sm"
                    data-copy={props.newLink}
                    data-copied={t('members.copied')}
                    safe
                  >
                    {t('members.copy_link')}
                  </button>
                </div>
              </div>
            ) : (
              ''
            )}
          </form>
        </section>
      ) : (
        ''
      )}
      <section class="card">
        <div class="table-wrap">
          <table class="table table-stack" data-testid="members-table">
            <thead>
              <tr>
                <th safe>{t('members.col_name')}</th>
                <th safe>{t('members.role')}</th>
                <th class="hide-sm" safe>
                  {t('members.joined')}
                </th>
                <th>
                  <span class="sr-only" safe>
                    {t('audit.action')}
                  </span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.map((m) => {
                const self = m.userId === me
                const canEdit = manage && !self && (org.role === 'owner' || m.role !== 'owner')
                return (
                  <tr>
                    <td class="cell-main">
                      <div class="person">
                        <span class="avatar avatar-lg" aria-hidden="true" safe>
                          {initials(m.name)}
                        </span>
                        <div class="who">
                          <span style="font-weight:550">
                            <span safe>{m.name}</span>
                            {self ? (
                              <span class="subtle" safe>
                                {` (${t('members.you')})`}
                              </span>
                            ) : (
                              ''
                            )}
                          </span>
                          <span class="muted" style="font-size:12.5px" safe>
                            {m.email}
                          </span>
                        </div>
                      </div>
                    </td>
                    <td>
                      {canEdit ? (
                        <form
                          method="post"
                          action={`/settings/members/${m.userId}/role`}
                          style="display:flex;gap:6px"
                        >
                          <label class="sr-only" for={`role-${m.userId}`} safe>
                            {t('members.role_of', { name: m.name })}
                          </label>
                          <select
                            class="input input-sm"
                            id={`role-${m.userId}`}
                            name="role"
                            onchange="this.form.requestSubmit()"
                          >
                            {grantable.map((r) => (
                              <option value={r} selected={r === m.role} safe>
                                {t(`org.role.${r}`)}
                              </option>
                            ))}
                          </select>
                          <noscript>
                            <button class="btn btn-sm" type="submit" safe>
                              {t('action.save')}
                            </button>
                          </noscript>
                        </form>
                      ) : (
                        <span class="badge" style="margin:0" safe>
                          {t(`org.role.${m.role}`)}
                        </span>
                      )}
                    </td>
                    <td class="hide-sm muted" safe>
                      {formatDate(m.joinedAt, ui.locale, org.timezone, false)}
                    </td>
                    <td class="cell-end">
                      <div class="row-actions">
                        {self ? (
                          <form
                            method="post"
                            action={`/settings/members/${m.userId}/remove`}
                            data-confirm={t('members.leave_confirm', { org: orgLabel(org) })}
                          >
                            <button class="btn btn-sm btn-danger" type="submit" safe>
                              {t('members.leave')}
                            </button>
                          </form>
                        ) : canEdit ? (
                          <form
                            method="post"
                            action={`/settings/members/${m.userId}/remove`}
                            data-confirm={t('members.remove_confirm', { name: m.name, org: orgLabel(org) })}
                          >
                            <button class="btn btn-sm btn-danger" type="submit" safe>
                              {t('members.remove')}
                            </button>
                          </form>
                        ) : (
                          ''
                        )}
                      </div>
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      </section>
      {manage ? (
        <section class="card">
          <div class="card-head">
            <h3 safe>{t('members.pending')}</h3>
            {pending.length ? <span class="badge">{pending.length}</span> : ''}
          </div>
          {pending.length ? (
            <div class="table-wrap">
              <table class="table table-stack" data-testid="pending-table">
                <tbody>
                  {pending.map((p) => (
                    <tr>
                      <td class="cell-main">
                        <div class="person">
                          <span class="avatar" aria-hidden="true">
                            <Icon name="mail" />
                          </span>
                          <span class="truncate" safe>
                            {p.email}
                          </span>
                        </div>
                      </td>
                      <td>
                        <span class="badge" style="margin:0" safe>
                          {t(`org.role.${p.role}`)}
                        </span>
                      </td>
                      <td class="muted" style="font-size:13px" safe>
                        {t('members.expires', {
                          date: formatDate(p.expiresAt, ui.locale, org.timezone, false),
                        })}
                      </td>
                      <td class="cell-end">
                        <div class="row-actions">
                          <form method="post" action={`/settings/invitations/${p.id}/revoke`}>
                            <button class="btn btn-sm btn-danger" type="submit" safe>
                              {t('members.revoke')}
                            </button>
                          </form>
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <div class="card-body muted" safe>
              {t('members.none_pending')}
            </div>
          )}
        </section>
      ) : (
        ''
      )}
    </SettingsLayout>
  )
}

export function AuditPage({ ui, rows, nextCursor }: { ui: Ui; rows: AuditRow[]; nextCursor?: string }) {
  const { t } = ui
  const org = ui.org!
  return (
    <SettingsLayout ui={ui} tab="audit" title={t('audit.title')} subtitle={t('audit.subtitle')}>
      <section class="card">
        {rows.length ? (
          <div class="table-wrap">
            <table class="table table-stack" data-testid="audit-table">
              <thead>
                <tr>
                  <th safe>{t('audit.when')}</th>
                  <th safe>{t('audit.action')}</th>
                  <th class="hide-sm" safe>
                    {t('audit.details')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr>
                    <td class="muted cell-main cell-date" safe>
                      {formatDate(r.createdAt, ui.locale, org.timezone)}
                    </td>
                    <td class="cell-main">
                      <div safe>{auditText(ui, r)}</div>
                      <div class="subtle" style="font-size:12px" safe>
                        {r.action}
                      </div>
                    </td>
                    <td class="hide-sm kv">
                      <AuditChange kind="before" value={r.before} label={t('audit.before')} />
                      <AuditChange kind="after" value={r.after} label={t('audit.after')} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <div class="card-body muted" safe>
            {t('audit.empty')}
          </div>
        )}
      </section>
      {nextCursor ? (
        <div>
          <a class="btn" href={`/settings/audit?before=${encodeURIComponent(nextCursor)}`} safe>
            {t('audit.older')}
          </a>
        </div>
      ) : (
        ''
      )}
    </SettingsLayout>
  )
}

/** "I'm away" / "I'm back": the Leads assignment rules skip members who are away. */
function AvailabilityCard({ ui, available }: { ui: Ui; available: boolean }) {
  const { t } = ui
  return (
    <form
      method="post"
      action="/settings/availability"
      class="card availability-card"
      data-testid="availability"
    >
      <input type="hidden" name="available" value={available ? 'false' : 'true'} />
      <input type="hidden" name="back" value="/settings/profile" />
      <div class="card-body availability-row">
        <span class={`status-dot ${available ? 'is-on' : 'is-off'}`} aria-hidden="true" />
        <div class="availability-text">
          <strong safe>{available ? t('assignment.self.available') : t('assignment.self.away')}</strong>
          <p class="muted" safe>
            {available ? t('assignment.self.available_hint') : t('assignment.self.away_hint')}
          </p>
        </div>
        <button type="submit" class={`btn ${available ? '' : 'btn-primary'}`} safe>
          {available ? t('assignment.self.go_away') : t('assignment.self.come_back')}
        </button>
      </div>
    </form>
  )
}

export function ProfilePage({
  ui,
  form,
  passwordForm,
  available = null,
}: {
  ui: Ui
  form: FormState
  passwordForm: FormState
  /** Takes new leads in the active organization (null: no organization). */
  available?: boolean | null
}) {
  const { t } = ui
  return (
    <SettingsLayout ui={ui} tab="profile" title={t('profile.title')}>
      {available === null ? '' : <AvailabilityCard ui={ui} available={available} />}
      <form method="post" action="/settings/profile" class="card card-body form-grid" novalidate>
        <FormAlert form={form} t={t} />
        <div class="form-row">
          <Field
            name="name"
            label={t('auth.field.name')}
            form={form}
            t={t}
            required
            maxlength={120}
            autocomplete="name"
          />
          <Select
            name="locale"
            label={t('profile.field.locale')}
            form={form}
            t={t}
            options={[
              { value: '', label: t('profile.locale_auto') },
              ...LOCALES.map((l) => ({ value: l, label: t(`locale.${l}`) })),
            ]}
          />
        </div>
        <div class="form-actions">
          <button class="btn btn-primary" type="submit" safe>
            {t('settings.save')}
          </button>
        </div>
      </form>
      <form method="post" action="/settings/password" class="card" novalidate>
        <div class="card-head">
          <h3 safe>{t('profile.password')}</h3>
        </div>
        <div class="card-body form-grid">
          <FormAlert form={passwordForm} t={t} />
          <div class="form-row">
            <Field
              name="current"
              type="password"
              label={t('profile.current_password')}
              form={passwordForm}
              t={t}
              autocomplete="current-password"
              required
            />
            <Field
              name="password"
              type="password"
              label={t('auth.field.new_password')}
              hint={t('auth.field.password_hint')}
              form={passwordForm}
              t={t}
              autocomplete="new-password"
              required
            />
          </div>
          <div class="form-actions">
            <button class="btn" type="submit" safe>
              {t('profile.password')}
            </button>
          </div>
        </div>
      </form>
    </SettingsLayout>
  )
}

export function NewOrgPage({ ui, form }: { ui: Ui; form: FormState }) {
  const { t } = ui
  return (
    <AppShell ui={ui} title={t('org.new.title')}>
      <div class="page-head">
        <div class="titles">
          <h1 safe>{t('org.new.title')}</h1>
          <p class="muted" safe>
            {t('org.new.subtitle')}
          </p>
        </div>
      </div>
      <form
        method="post"
        action="/orgs"
        class="card card-body form-grid"
        style="max-width:560px"
        novalidate
        hx-boost="false"
      >
        <FormAlert form={form} t={t} />
        <Field name="name" label={t('org.field.name')} form={form} t={t} required autofocus maxlength={120} />
        <div class="form-actions">
          <button class="btn btn-primary" type="submit" safe>
            {t('org.new.submit')}
          </button>
        </div>
      </form>
    </AppShell>
  )
}
