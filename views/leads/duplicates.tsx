/**
 * Deduplication views: the review queue (/leads/duplicates), the side-by-side merge screen
 * (/leads/duplicates/:id: one radio group per field, keyboard-usable as native radios), the warning
 * under the new-lead form while typing, and Settings → Duplicates. Pure functions of their props.
 */
import type { DuplicatePair, LeadSnapshot, MergeField } from '../../src/modules/leads/leads.dedup'
import type { DedupMode, MatchReason } from '../../src/modules/leads/leads.dedup.table'
import type { MemberRef } from '../../src/modules/pipeline/pipeline.repository'
import { assetUrl } from '../../src/platform/http/assets'
import type { MessageKey } from '../../src/shared/i18n'
import { formatPhone } from '../../src/shared/phone'
import { FieldError, FormAlert, type FormState } from '../components/form'
import { Icon } from '../components/icon'
import { AppShell } from '../layouts/app-shell'
import { SettingsLayout } from '../orgs/settings-pages'
import { leadUrl } from '../pipeline/board-page'
import { money } from '../pipeline/format'
import { formatDate, initials, type Ui } from '../ui'

const CSS = () => <link rel="stylesheet" href={assetUrl('leads-dedup.css')} />

export const duplicatesUrl = '/leads/duplicates'
export const pairUrl = (id: string) => `/leads/duplicates/${id}`

function reasonText(ui: Ui, r: MatchReason): string {
  const key = `dedup.reason.${r.code}` as MessageKey
  return ui.t(key, { similarity: Math.round((r.similarity ?? 0) * 100) })
}

/** Reasons as chips: evidence for in green, against in grey. */
export function Reasons({ ui, reasons }: { ui: Ui; reasons: MatchReason[] }) {
  return (
    <ul class="dd-reasons" aria-label={ui.t('dedup.reasons')}>
      {reasons.map((r) => (
        <li class={r.points > 0 ? 'dd-reason dd-for' : 'dd-reason dd-against'}>
          <span aria-hidden="true">{r.points > 0 ? '+' : '−'}</span>
          <span safe>{reasonText(ui, r)}</span>
        </li>
      ))}
    </ul>
  )
}

function ScoreBadge({ ui, score }: { ui: Ui; score: number }) {
  const level = score >= 90 ? 'high' : score >= 70 ? 'mid' : 'low'
  return (
    <span class={`dd-score dd-score-${level}`} safe>
      {ui.t('dedup.score', { score })}
    </span>
  )
}

const phoneText = (_ui: Ui, p: string | null) => (p ? formatPhone(p) : '')

function LeadSummary({ ui, lead }: { ui: Ui; lead: LeadSnapshot }) {
  const facts = [phoneText(ui, lead.phone), lead.email, lead.company].filter(Boolean) as string[]
  return (
    <div class="dd-lead">
      <span class="avatar" aria-hidden="true" safe>
        {initials(lead.fullName)}
      </span>
      <div class="dd-lead-text">
        <span class="dd-name" safe>
          {lead.fullName}
        </span>
        {facts.map((f) => (
          <span class="dd-fact" safe>
            {f}
          </span>
        ))}
        <span class="dd-stage subtle" safe>
          {lead.stageName}
        </span>
      </div>
    </div>
  )
}

// The queue ----------------------------------------------------------------------------------------

export function DuplicatesPage({ ui, pairs, total }: { ui: Ui; pairs: DuplicatePair[]; total: number }) {
  const { t } = ui
  return (
    <AppShell ui={ui} title={t('dedup.title')}>
      <CSS />
      <div class="page-head">
        <div class="titles">
          <h1 safe>{t('dedup.title')}</h1>
          <p class="muted" safe>
            {t('dedup.subtitle')}
          </p>
        </div>
        {total ? (
          <span class="badge badge-brand" data-testid="dup-total" safe>
            {t('dedup.count', { count: total })}
          </span>
        ) : (
          ''
        )}
      </div>
      {pairs.length ? (
        <ul class="dd-queue" data-testid="dup-queue">
          {pairs.map((p) => (
            <li class="card dd-pair" id={`pair-${p.id}`}>
              <div class="dd-pair-head">
                <ScoreBadge ui={ui} score={p.score} />
                <Reasons ui={ui} reasons={p.reasons} />
              </div>
              <div class="dd-pair-leads">
                <LeadSummary ui={ui} lead={p.a} />
                <span class="dd-vs" aria-hidden="true">
                  ⇄
                </span>
                <LeadSummary ui={ui} lead={p.b} />
              </div>
              <div class="dd-pair-actions">
                <form method="post" action={`${pairUrl(p.id)}/dismiss`}>
                  <button type="submit" class="btn btn-ghost btn-sm" safe>
                    {t('dedup.dismiss')}
                  </button>
                </form>
                <a class="btn btn-primary btn-sm" href={pairUrl(p.id)}>
                  <span safe>{t('dedup.compare')}</span>
                  <Icon name="arrowRight" />
                </a>
              </div>
            </li>
          ))}
        </ul>
      ) : (
        <div class="card empty dd-empty">
          <Icon name="check" />
          <h2 safe>{t('dedup.empty_title')}</h2>
          <p class="muted" safe>
            {t('dedup.empty')}
          </p>
        </div>
      )}
    </AppShell>
  )
}

// The merge screen -------------------------------------------------------------------------------

const FIELD_LABEL: Record<MergeField, MessageKey> = {
  fullName: 'pipeline.lead.full_name',
  email: 'pipeline.lead.email',
  phone: 'pipeline.lead.phone',
  company: 'pipeline.lead.company',
  jobTitle: 'pipeline.lead.job_title',
  value: 'pipeline.lead.value',
  source: 'pipeline.lead.source',
  owner: 'pipeline.lead.owner',
  stage: 'pipeline.lead.stage',
}

export interface MergeView {
  field: MergeField
  a: string
  b: string
}

/** Display values of each field, side by side. */
export function mergeRows(ui: Ui, pair: DuplicatePair, members: MemberRef[], currency: string): MergeView[] {
  const show = (l: LeadSnapshot, f: MergeField): string => {
    switch (f) {
      case 'fullName':
        return l.fullName
      case 'email':
        return l.email ?? ''
      case 'phone':
        return phoneText(ui, l.phone)
      case 'company':
        return l.company ?? ''
      case 'jobTitle':
        return l.jobTitle ?? ''
      case 'value':
        return l.valueCents ? money(l.valueCents, currency, ui.locale) : ''
      case 'source':
        return l.source ?? ''
      case 'owner':
        return l.ownerId ? (members.find((m) => m.id === l.ownerId)?.name ?? '?') : ''
      case 'stage':
        return l.stageName
    }
  }
  const fields: MergeField[] = [
    'fullName',
    'email',
    'phone',
    'company',
    'jobTitle',
    'value',
    'source',
    'owner',
    'stage',
  ]
  return fields.map((field) => ({ field, a: show(pair.a, field), b: show(pair.b, field) }))
}

export function MergePage(p: {
  ui: Ui
  pair: DuplicatePair
  rows: MergeView[]
  keep: 'a' | 'b'
  /** The choices posted (a 409 re-renders them). */
  chosen?: Partial<Record<MergeField, 'a' | 'b'>>
  notice?: MessageKey
}) {
  const { ui, pair, rows, keep } = p
  const { t } = ui
  const other = keep === 'a' ? 'b' : 'a'
  const lead = (side: 'a' | 'b') => (side === 'a' ? pair.a : pair.b)
  const tags = [...new Set([...pair.a.tags, ...pair.b.tags])]
  return (
    <AppShell ui={ui} title={t('dedup.merge_title', { a: pair.a.fullName, b: pair.b.fullName })}>
      <CSS />
      <nav class="dd-crumbs">
        <a class="link" href={duplicatesUrl} safe>
          {`← ${t('dedup.back')}`}
        </a>
      </nav>
      <div class="page-head">
        <div class="titles">
          <h1 safe>{t('dedup.merge_title', { a: pair.a.fullName, b: pair.b.fullName })}</h1>
          <p class="muted" safe>
            {t('dedup.merge_help')}
          </p>
        </div>
        <ScoreBadge ui={ui} score={pair.score} />
      </div>
      <Reasons ui={ui} reasons={pair.reasons} />
      {p.notice ? (
        <div class="alert alert-error" role="alert" safe>
          {t(p.notice)}
        </div>
      ) : (
        ''
      )}
      <form method="post" action={`${pairUrl(pair.id)}/merge`} class="card dd-merge" data-testid="merge-form">
        <input type="hidden" name="versionA" value={String(pair.a.version)} />
        <input type="hidden" name="versionB" value={String(pair.b.version)} />
        <div class="dd-grid dd-grid-head" aria-hidden="true">
          <span safe>{t('dedup.field')}</span>
          {(['a', 'b'] as const).map((side) => (
            <span class="dd-col-head">
              <span class="dd-name" safe>
                {lead(side).fullName}
              </span>
              <span class={side === keep ? 'badge badge-brand' : 'badge'} safe>
                {side === keep ? t('dedup.kept') : t('dedup.merged_into')}
              </span>
              <span class="subtle" safe>
                {t('dedup.created_on', {
                  date: formatDate(lead(side).createdAt, ui.locale, ui.org?.timezone, false),
                })}
              </span>
            </span>
          ))}
        </div>
        {rows.map((r) => {
          if (!r.a && !r.b) return ''
          const label = t(FIELD_LABEL[r.field])
          if (r.a === r.b)
            return (
              <div class="dd-grid dd-row dd-same">
                <span class="dd-label" safe>
                  {label}
                </span>
                <span class="dd-both" safe>
                  {r.a}
                </span>
                <span class="subtle dd-same-note" safe>
                  {t('dedup.same_value')}
                </span>
              </div>
            )
          // Default: the kept lead's value, or the other's when the kept one is empty.
          const def = p.chosen?.[r.field] ?? ((keep === 'a' ? r.a : r.b) ? keep : other)
          return (
            <div
              class="dd-grid dd-row"
              role="radiogroup"
              aria-labelledby={`m-${r.field}`}
              data-field={r.field}
            >
              <span class="dd-label" id={`m-${r.field}`} safe>
                {label}
              </span>
              {(['a', 'b'] as const).map((side) => {
                const value = side === 'a' ? r.a : r.b
                const id = `m-${r.field}-${side}`
                return (
                  <label class="dd-choice" for={id}>
                    <input type="radio" id={id} name={`f_${r.field}`} value={side} checked={def === side} />
                    <span class={value ? 'dd-value' : 'dd-value subtle'} safe>
                      {value || '—'}
                    </span>
                  </label>
                )
              })}
            </div>
          )
        })}
        {tags.length ? (
          <div class="dd-grid dd-row dd-same">
            <span class="dd-label" safe>
              {t('dedup.tags_union')}
            </span>
            <span class="dd-tags">
              {tags.map((tag) => (
                <span class="chip" safe>
                  {tag}
                </span>
              ))}
            </span>
          </div>
        ) : (
          ''
        )}
        <div class="form-actions dd-actions">
          <button type="submit" class="btn btn-primary" data-testid="merge-submit">
            <span safe>{t('dedup.merge')}</span>
          </button>
          <button
            type="submit"
            class="btn btn-ghost"
            formaction={`${pairUrl(pair.id)}/dismiss`}
            data-testid="dismiss-submit"
            safe
          >
            {t('dedup.dismiss')}
          </button>
        </div>
      </form>
    </AppShell>
  )
}

// The warning under the new-lead form ------------------------------------------------------------

export interface WarningMatch {
  id: string
  fullName: string
  phone: string | null
  email: string | null
  stageName: string
  score: number
}

export function DuplicateWarning({ ui, matches }: { ui: Ui; matches: WarningMatch[] }) {
  if (!matches.length) return ''
  const { t } = ui
  return (
    // Inline layout: this fragment lives in the board's drawer, where leads-dedup.css is not loaded.
    <div
      class="alert alert-info dd-warning"
      role="status"
      data-testid="dup-warning"
      style="display:grid;grid-template-columns:1fr;gap:4px;font-size:13px"
    >
      <strong safe>{t('dedup.warning_title')}</strong>
      <ul style="margin:0;padding-left:18px">
        {matches.map((m) => {
          const details = [phoneText(ui, m.phone), m.email, m.stageName].filter(Boolean).join(' · ')
          return (
            <li>
              <span safe>{t('dedup.warning_item', { name: m.fullName, details })}</span>{' '}
              <a class="link" href={leadUrl(m.id)} hx-target="#drawer-root" hx-swap="innerHTML" safe>
                {t('dedup.warning_open')}
              </a>
            </li>
          )
        })}
      </ul>
      <p class="hint" style="margin:0" safe>
        {t('dedup.warning_help')}
      </p>
    </div>
  )
}

/** The nav badge: the number of open pairs (empty when none). */
export function DuplicatesBadge({ count }: { count: number }) {
  return count > 0 ? <span class="badge badge-brand">{count > 99 ? '99+' : count}</span> : ''
}

// Settings ---------------------------------------------------------------------------------------

export function DedupSettingsPage({ ui, form }: { ui: Ui; form: FormState }) {
  const { t } = ui
  const modes: DedupMode[] = ['auto', 'review', 'off']
  const err = (name: string) => {
    const key = form.errors?.fields[name]
    return key ? <FieldError id={`f-${name}-err`} text={t(key, form.errors?.params[name])} /> : ''
  }
  const num = (name: string, label: MessageKey, hint: MessageKey, min: number) => (
    <div class="field">
      <label for={`f-${name}`} safe>
        {t(label)}
      </label>
      <input
        class="input"
        id={`f-${name}`}
        name={name}
        type="number"
        min={String(min)}
        max="100"
        step="1"
        value={form.values[name] ?? ''}
        aria-invalid={form.errors?.fields[name] ? 'true' : undefined}
        aria-describedby={`f-${name}-hint`}
      />
      <p class="hint" id={`f-${name}-hint`} safe>
        {t(hint)}
      </p>
      {err(name)}
    </div>
  )
  return (
    <SettingsLayout
      ui={ui}
      tab="dedup"
      title={t('dedup.settings.title')}
      subtitle={t('dedup.settings.subtitle')}
    >
      <CSS />
      <form method="post" action="/settings/dedup" class="card card-body form-grid" novalidate>
        <FormAlert form={form} t={t} />
        <fieldset class="dd-modes">
          <legend safe>{t('dedup.settings.mode')}</legend>
          {modes.map((m) => (
            <label class="dd-mode">
              <input type="radio" name="mode" value={m} checked={(form.values.mode ?? 'auto') === m} />
              <span safe>{t(`dedup.settings.mode.${m}`)}</span>
            </label>
          ))}
          {err('mode')}
        </fieldset>
        <div class="form-row">
          {num('autoMergeMin', 'dedup.settings.auto_min', 'dedup.settings.auto_min_hint', 50)}
          {num('reviewMin', 'dedup.settings.review_min', 'dedup.settings.review_min_hint', 30)}
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
