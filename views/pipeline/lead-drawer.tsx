/**
 * The lead drawer (its own URL: /pipeline/leads/:id) and the new-lead drawer. Forms post with htmx
 * into #drawer-root; without JavaScript they are plain posts that redirect back to the lead's page.
 */

import messageIn from 'lucide-static/dist/esm/icons/message-circle.mjs'
import messageOut from 'lucide-static/dist/esm/icons/send-horizontal.mjs'
import type { CustomFieldDef } from '../../src/modules/leads/leads.table'
import type {
  Activity,
  LeadDetail,
  MemberRef,
  ReasonRef,
} from '../../src/modules/pipeline/pipeline.repository'
import type { Stage } from '../../src/modules/pipeline/pipeline.table'
import type { MessageKey } from '../../src/shared/i18n'
import { formatPhone } from '../../src/shared/phone'
import { Field, FieldError, type FormState } from '../components/form'
import { iconSet } from '../components/icon'
import { CustomFacts, CustomFieldInputs, customFormValues } from '../leads/custom-fields'
import { LIcon } from '../leads/icons'
import { ScoreExplain } from '../leads/score-explain'
import { formatDate, initials, type Ui } from '../ui'
import { boardUrl, leadUrl } from './board-page'
import { ago, avatarColor, money, moneyInput, scoreClass } from './format'
import { PIcon } from './icons'

const drawerForm = (action: string) => ({
  method: 'post',
  action,
  'hx-post': action,
  'hx-target': '#drawer-root',
  'hx-swap': 'innerHTML',
})

export interface LeadDrawerProps {
  ui: Ui
  lead: LeadDetail
  activities: Activity[]
  stages: Stage[]
  members: MemberRef[]
  reasons: ReasonRef[]
  /** The edit form with errors (422), shown open. */
  edit?: FormState
  /** A form error outside the edit form: which section, which message. */
  error?: { section: 'move' | 'won' | 'lost' | 'note' | 'assign'; key: MessageKey }
  notice?: MessageKey
  /** The board to return to (its filters). */
  backQuery?: string
  /** The organization's custom fields (facts, edit form, timeline labels). */
  customFields?: CustomFieldDef[]
  /** Scores come from the scoring rules: the form shows the score read-only. */
  scoreComputed?: boolean
}

export function leadFormValues(
  lead: LeadDetail,
  ui: Ui,
  customFields: CustomFieldDef[] = [],
): Record<string, string> {
  return {
    ...customFormValues(customFields, lead.custom ?? {}),
    fullName: lead.fullName,
    email: lead.email ?? '',
    phone: lead.phone ?? '',
    company: lead.company ?? '',
    jobTitle: lead.jobTitle ?? '',
    value: lead.valueCents ? moneyInput(lead.valueCents, ui.locale) : '',
    source: lead.source ?? '',
    ownerId: lead.ownerId ?? '',
    tags: lead.tags.join(', '),
    score: lead.score ? String(lead.score) : '',
  }
}

export function LeadDrawer(p: LeadDrawerProps) {
  const { ui, lead } = p
  const { t } = ui
  const tz = ui.org?.timezone
  const closed = lead.stageKind !== 'open'
  const owner = p.members.find((m) => m.id === lead.ownerId)
  const value = money(lead.valueCents, lead.currency, ui.locale)
  const base = leadUrl(lead.id)
  return (
    <aside
      class="drawer"
      id="lead-drawer"
      role="dialog"
      aria-modal="false"
      aria-labelledby="drawer-title"
      data-drawer
      data-lead-id={lead.id}
      data-version={String(lead.version)}
      data-pipeline-id={lead.pipelineId}
      data-back={boardUrl(lead.pipelineId, p.backQuery ?? '')}
      tabindex="-1"
    >
      <header class="drawer-head" style={`--stage:${lead.stageColor}`}>
        <div class="drawer-bar">
          <span class="stage-pill" data-testid="drawer-stage">
            <span class="dot" aria-hidden="true"></span>
            <span safe>{lead.stageName}</span>
          </span>
          <span class="subtle drawer-pipeline" safe>
            {lead.pipelineName}
          </span>
          <span class="spacer"></span>
          <button
            type="button"
            class="icon-btn"
            data-copy={base}
            data-copy-absolute
            data-copied={t('pipeline.lead.link_copied')}
            aria-label={t('pipeline.lead.copy_link')}
            title={t('pipeline.lead.copy_link')}
          >
            <PIcon name="link" />
          </button>
          <a
            class="icon-btn"
            href={boardUrl(lead.pipelineId, p.backQuery ?? '')}
            data-drawer-close
            aria-label={t('pipeline.close')}
            title={t('pipeline.close')}
          >
            <PIcon name="x" />
          </a>
        </div>
        <h2 id="drawer-title" safe>
          {lead.fullName}
        </h2>
        {lead.company || lead.jobTitle ? (
          <p class="muted" safe>
            {[lead.jobTitle, lead.company].filter(Boolean).join(' · ')}
          </p>
        ) : (
          ''
        )}
        <div class="kpis">
          <div class="kpi">
            <span class="kpi-label" safe>
              {t('pipeline.lead.value')}
            </span>
            <span class="kpi-value" data-testid="drawer-value" safe>
              {value}
            </span>
          </div>
          <div class="kpi">
            <span class="kpi-label" safe>
              {t('pipeline.lead.owner')}
            </span>
            <span class="kpi-value person-inline">
              {owner ? (
                <>
                  <span
                    class="avatar avatar-xs"
                    style={`--av:${avatarColor(owner.id)}`}
                    aria-hidden="true"
                    safe
                  >
                    {initials(owner.name)}
                  </span>
                  <span safe>{owner.name}</span>
                </>
              ) : (
                <span class="subtle" safe>
                  {t('pipeline.unassigned')}
                </span>
              )}
            </span>
          </div>
          <div class="kpi">
            <span class="kpi-label" safe>
              {t('pipeline.lead.score')}
            </span>
            <span class={`kpi-value score-text-${scoreClass(lead.score)}`}>{lead.score}</span>
          </div>
        </div>
        {lead.wonAt ? (
          <div class="status-banner status-won" role="status">
            <PIcon name="trophy" />
            <span safe>
              {t('pipeline.lead.won_at', { date: formatDate(lead.wonAt, ui.locale, tz, false) })}
            </span>
          </div>
        ) : lead.lostAt ? (
          <div class="status-banner status-lost" role="status">
            <PIcon name="circleX" />
            <span safe>
              {`${t('pipeline.lead.lost_at', { date: formatDate(lead.lostAt, ui.locale, tz, false) })}${lead.lostReason ? ` — ${lead.lostReason}` : ''}`}
            </span>
          </div>
        ) : (
          ''
        )}
      </header>
      <div class="drawer-body">
        {p.notice ? (
          <div class="alert alert-info" role="status" safe>
            {t(p.notice)}
          </div>
        ) : (
          ''
        )}
        <section class="drawer-section quick" aria-label={t('pipeline.lead.move')}>
          <form class="inline-form" {...drawerForm(`${base}/move`)}>
            <input type="hidden" name="version" value={String(lead.version)} />
            <label for="drawer-stage" class="sr-only" safe>
              {t('pipeline.lead.stage')}
            </label>
            <select class="input input-sm" id="drawer-stage" name="stageId">
              {p.stages.map((s) => (
                <option value={s.id} selected={s.id === lead.stageId} safe>
                  {s.name}
                </option>
              ))}
            </select>
            <button type="submit" class="btn btn-sm">
              <PIcon name="move" />
              <span safe>{t('pipeline.lead.move')}</span>
            </button>
          </form>
          {closed ? (
            <form {...drawerForm(`${base}/reopen`)}>
              <input type="hidden" name="version" value={String(lead.version)} />
              <button type="submit" class="btn btn-sm">
                <PIcon name="rotate" />
                <span safe>{t('pipeline.reopen')}</span>
              </button>
            </form>
          ) : (
            <div class="close-actions">
              <details class="pop" open={p.error?.section === 'won'}>
                <summary class="btn btn-sm btn-won-soft" data-testid="drawer-won">
                  <PIcon name="trophy" />
                  <span safe>{t('pipeline.mark_won')}</span>
                </summary>
                <form class="pop-body" {...drawerForm(`${base}/won`)}>
                  <input type="hidden" name="version" value={String(lead.version)} />
                  <label for="drawer-won-value" safe>
                    {t('pipeline.won_value')}
                  </label>
                  <input
                    class="input input-sm"
                    id="drawer-won-value"
                    name="value"
                    inputmode="decimal"
                    value={lead.valueCents ? moneyInput(lead.valueCents, ui.locale) : ''}
                  />
                  {p.error?.section === 'won' ? <FieldError id="won-err" text={t(p.error.key)} /> : ''}
                  <button type="submit" class="btn btn-sm btn-primary btn-won" safe>
                    {t('pipeline.won_submit')}
                  </button>
                </form>
              </details>
              <details class="pop" open={p.error?.section === 'lost'}>
                <summary class="btn btn-sm btn-lost-soft" data-testid="drawer-lost">
                  <PIcon name="circleX" />
                  <span safe>{t('pipeline.mark_lost')}</span>
                </summary>
                <form class="pop-body" {...drawerForm(`${base}/lost`)}>
                  <input type="hidden" name="version" value={String(lead.version)} />
                  <label for="drawer-lost-reason" safe>
                    {t('pipeline.lost_reason')}
                  </label>
                  <select class="input input-sm" id="drawer-lost-reason" name="reason">
                    <option value="">—</option>
                    {p.reasons.map((r) => (
                      <option value={r.label} safe>
                        {r.label}
                      </option>
                    ))}
                  </select>
                  <input
                    class="input input-sm"
                    name="detail"
                    maxlength={200}
                    aria-label={t('pipeline.lost_detail')}
                    placeholder={t('pipeline.lost_detail')}
                  />
                  {p.error?.section === 'lost' ? <FieldError id="lost-err" text={t(p.error.key)} /> : ''}
                  <button type="submit" class="btn btn-sm btn-primary btn-lost" safe>
                    {t('pipeline.lost_submit')}
                  </button>
                </form>
              </details>
            </div>
          )}
        </section>
        {p.error?.section === 'move' ? (
          <div class="alert alert-error" role="alert" safe>
            {t(p.error.key)}
          </div>
        ) : (
          ''
        )}

        {/* The lead's WhatsApp conversations (src/modules/inbox): loaded lazily, refreshed live. */}
        <div
          hx-get={`/inbox/lead/${lead.id}`}
          hx-trigger="load"
          hx-swap="outerHTML"
          data-testid="lead-conversations-slot"
        ></div>

        <ScoreExplain
          ui={ui}
          score={lead.score}
          detail={lead.scoreDetail}
          winProbability={lead.winProbability}
          scoredAt={lead.scoredAt}
        />

        <section class="drawer-section">
          <div class="section-head">
            <h3 safe>{t('pipeline.lead.details')}</h3>
          </div>
          <dl class="facts">
            <Fact
              label={t('pipeline.lead.email')}
              value={lead.email}
              href={lead.email ? `mailto:${lead.email}` : undefined}
            />
            <Fact
              label={t('pipeline.lead.phone')}
              value={lead.phone ? formatPhone(lead.phone) : lead.phone}
              href={lead.phone ? `tel:${lead.phone.replace(/[^\d+]/g, '')}` : undefined}
            />
            <Fact label={t('pipeline.lead.company')} value={lead.company} />
            <Fact label={t('pipeline.lead.job_title')} value={lead.jobTitle} />
            <Fact label={t('pipeline.lead.source')} value={lead.source} />
            <div class="fact">
              <dt safe>{t('pipeline.lead.tags')}</dt>
              <dd>
                {lead.tags.length ? (
                  <span class="card-tags">
                    {lead.tags.map((tag) => (
                      <span class="tag" safe>
                        {tag}
                      </span>
                    ))}
                  </span>
                ) : (
                  <span class="subtle">—</span>
                )}
              </dd>
            </div>
            <CustomFacts ui={ui} defs={p.customFields ?? []} custom={lead.custom ?? {}} />
            <Fact label={t('pipeline.lead.created')} value={formatDate(lead.createdAt, ui.locale, tz)} />
          </dl>
          <details class="edit-box" open={!!p.edit}>
            <summary class="btn btn-sm" data-testid="drawer-edit">
              <PIcon name="pencil" />
              <span safe>{t('pipeline.lead.edit')}</span>
            </summary>
            <LeadForm
              ui={ui}
              form={p.edit ?? { values: leadFormValues(lead, ui, p.customFields), errors: null }}
              members={p.members}
              customFields={p.customFields}
              action={base}
              currency={lead.currency}
              version={lead.version}
              submit={t('action.save')}
              scoreComputed={p.scoreComputed}
            />
          </details>
        </section>

        <section class="drawer-section">
          <form class="inline-form" {...drawerForm(`${base}/assign`)}>
            <label for="drawer-owner" class="inline-label" safe>
              {t('pipeline.lead.assign_to')}
            </label>
            <select class="input input-sm" id="drawer-owner" name="ownerId">
              <option value="" selected={!lead.ownerId} safe>
                {t('pipeline.unassigned')}
              </option>
              {p.members.map((m) => (
                <option value={m.id} selected={m.id === lead.ownerId} safe>
                  {m.name}
                </option>
              ))}
            </select>
            <button type="submit" class="btn btn-sm" safe>
              {t('pipeline.lead.assign')}
            </button>
          </form>
          {p.error?.section === 'assign' ? <FieldError id="assign-err" text={t(p.error.key)} /> : ''}
        </section>

        <section class="drawer-section">
          <div class="section-head">
            <h3 safe>{t('pipeline.lead.timeline')}</h3>
          </div>
          <form class="note-form" {...drawerForm(`${base}/notes`)}>
            <label for="drawer-note" class="sr-only" safe>
              {t('pipeline.lead.note')}
            </label>
            <textarea
              class="input"
              id="drawer-note"
              name="note"
              rows="2"
              maxlength={5000}
              placeholder={t('pipeline.lead.note_placeholder')}
              aria-invalid={p.error?.section === 'note' ? 'true' : undefined}
            ></textarea>
            {p.error?.section === 'note' ? <FieldError id="note-err" text={t(p.error.key)} /> : ''}
            <div class="note-actions">
              <button type="submit" class="btn btn-sm btn-primary">
                <PIcon name="note" />
                <span safe>{t('pipeline.lead.note_submit')}</span>
              </button>
            </div>
          </form>
          <ol class="timeline" data-testid="timeline">
            {p.activities.length ? (
              p.activities.map((a) => (
                <ActivityItem
                  ui={ui}
                  a={a}
                  members={p.members}
                  currency={lead.currency}
                  labels={customLabels(p.customFields)}
                />
              ))
            ) : (
              <li class="subtle" safe>
                {t('pipeline.lead.no_activity')}
              </li>
            )}
          </ol>
        </section>
        {ui.org && ui.org.role !== 'member' ? (
          <section class="drawer-section lgpd" aria-labelledby="lgpd-title">
            <div class="section-head">
              <h3 id="lgpd-title" safe>
                {t('leads.lgpd.title')}
              </h3>
            </div>
            <div class="lgpd-actions">
              <a
                class="btn btn-sm"
                href={`/leads/${lead.id}/personal-data.json`}
                download=""
                hx-boost="false"
                data-testid="lgpd-export"
              >
                <LIcon name="fileDown" />
                <span safe>{t('leads.lgpd.export')}</span>
              </a>
              <a
                class="btn btn-sm btn-danger-soft"
                href={`/leads/${lead.id}/erase`}
                hx-boost="false"
                data-testid="lgpd-erase"
              >
                <LIcon name="shieldAlert" />
                <span safe>{t('leads.lgpd.erase')}</span>
              </a>
            </div>
          </section>
        ) : (
          ''
        )}
      </div>
    </aside>
  )
}

const customLabels = (defs: CustomFieldDef[] = []) => new Map(defs.map((d) => [d.key, d.label]))

function Fact({ label, value, href }: { label: string; value: string | null; href?: string }) {
  return (
    <div class="fact">
      <dt safe>{label}</dt>
      <dd>
        {value ? (
          href ? (
            <a class="link" href={href} safe>
              {value}
            </a>
          ) : (
            <span safe>{value}</span>
          )
        ) : (
          <span class="subtle">—</span>
        )}
      </dd>
    </div>
  )
}

const ACT_ICON: Record<string, 'trophy' | 'circleX' | 'move' | 'note' | 'pencil' | 'userPlus' | 'plus'> = {
  won: 'trophy',
  lost: 'circleX',
  moved: 'move',
  note: 'note',
  edited: 'pencil',
  assigned: 'userPlus',
  created: 'plus',
  merged: 'move',
}

/** The timeline's WhatsApp messages (the inbox writes `message.inbound` / `message.outbound`). */
const MessageIcon = iconSet({ 'message.inbound': messageIn, 'message.outbound': messageOut })
const isMessageKind = (kind: string): kind is 'message.inbound' | 'message.outbound' =>
  kind === 'message.inbound' || kind === 'message.outbound'
const PREVIEW_MAX = 80
/** What `previewOf` (inbox.inbound.ts) writes for media without a caption: the type label reads better. */
const PLACEHOLDER_PREVIEWS = new Set(['📷', '🎤', '🎬', '📍', '…'])
const MESSAGE_TYPES = new Set(['text', 'image', 'audio', 'video', 'document', 'location', 'template'])
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * A message activity as the timeline shows it: "WhatsApp message received: «preview…»" (or "sent by
 * Rita"), the preview on one line and cut at 80 characters, else the message type's label ("Image"),
 * and the conversation it belongs to. `before` + «preview» + `after` is the whole sentence, split so the
 * preview can be the link.
 */
export function messageActivity(ui: Ui, a: Activity) {
  if (!isMessageKind(a.kind)) return null
  const d = a.data as Record<string, unknown>
  const raw = typeof d.preview === 'string' ? d.preview.replace(/\s+/g, ' ').trim() : ''
  const chars = [...raw]
  const type = typeof d.type === 'string' && MESSAGE_TYPES.has(d.type) ? d.type : 'text'
  const preview =
    raw && !PLACEHOLDER_PREVIEWS.has(raw)
      ? chars.length > PREVIEW_MAX
        ? `${chars
            .slice(0, PREVIEW_MAX - 1)
            .join('')
            .trimEnd()}…`
        : raw
      : ui.t(`pipeline.act.message_type.${type}` as MessageKey)
  const key = a.kind === 'message.inbound' ? 'pipeline.act.message_in' : 'pipeline.act.message_out'
  const who = a.actorName ?? ui.t('pipeline.act.someone')
  const MARK = '\u0000'
  const [before = '', after = ''] = ui.t(key, { who, preview: MARK }).split(MARK)
  const conversationId =
    typeof d.conversationId === 'string' && UUID.test(d.conversationId) ? d.conversationId : null
  return {
    before,
    preview,
    after,
    text: `${before}${preview}${after}`,
    href: conversationId ? `/inbox/c/${conversationId}` : null,
  }
}

export function activityText(
  ui: Ui,
  a: Activity,
  members: MemberRef[],
  currency: string,
  labels: Map<string, string> = new Map(),
): string {
  const { t } = ui
  const who = a.actorName ?? t('pipeline.act.someone')
  const d = a.data as Record<string, any>
  const message = messageActivity(ui, a)
  if (message) return message.text
  switch (a.kind) {
    case 'created':
      // Nobody behind it (WhatsApp, a capture form, an import run by the system): say where it came from.
      if (!a.actorId && typeof d.source === 'string' && d.source)
        return t('pipeline.act.created_from', { source: d.source })
      return t('pipeline.act.created', { who })
    case 'moved':
      return t('pipeline.act.moved', { who, from: String(d.fromStage ?? '?'), to: String(d.toStage ?? '?') })
    case 'won':
      return t('pipeline.act.won', { who, value: money(Number(d.valueCents ?? 0), currency, ui.locale) })
    case 'lost':
      return t('pipeline.act.lost', { who, reason: String(d.reason ?? '—') })
    case 'note':
      return t('pipeline.act.note', { who })
    case 'assigned': {
      const to = (d.changes?.ownerId as [string | null, string | null] | undefined)?.[1]
      if (!to) return t('pipeline.act.unassigned', { who })
      const owner = members.find((m) => m.id === to)?.name ?? '?'
      // Automatic assignment (leads.assignment): no actor, the rule that chose.
      if (d.auto) return t('assignment.act.auto', { owner, rule: String(d.rule ?? '') })
      return t('pipeline.act.assigned', { who, owner })
    }
    case 'edited': {
      const fields = Object.keys(d.changes ?? {})
        .map((k) =>
          k.startsWith('custom.')
            ? (labels.get(k.slice(7)) ?? k.slice(7))
            : t(`pipeline.field.${k}` as MessageKey),
        )
        .join(', ')
      return t('pipeline.act.edited', { who, fields })
    }
    case 'merged':
      // leads.dedup: another lead merged into this one, or the same person captured again.
      return d.mergedName
        ? t('pipeline.act.merged', { who, name: String(d.mergedName) })
        : t('pipeline.act.merged_capture', { via: String(d.via ?? '') })
    default:
      return t('pipeline.act.other', { who, kind: a.kind })
  }
}

function ActivityItem({
  ui,
  a,
  members,
  currency,
  labels,
}: {
  ui: Ui
  a: Activity
  members: MemberRef[]
  currency: string
  labels?: Map<string, string>
}) {
  const note = a.kind === 'note' ? String((a.data as { body?: unknown }).body ?? '') : ''
  const message = messageActivity(ui, a)
  return (
    <li
      class={`tl-item tl-${message ? (a.kind === 'message.inbound' ? 'message-in' : 'message-out') : a.kind}`}
    >
      <span class="tl-icon" aria-hidden="true">
        {isMessageKind(a.kind) ? (
          <MessageIcon name={a.kind} />
        ) : (
          <PIcon name={ACT_ICON[a.kind] ?? 'pencil'} />
        )}
      </span>
      <div class="tl-body">
        {message ? (
          <p class="tl-text tl-message">
            <span safe>{message.before}</span>
            {message.href ? (
              <a class="link" href={message.href} title={ui.t('pipeline.act.message_open')} safe>
                {message.preview}
              </a>
            ) : (
              <span safe>{message.preview}</span>
            )}
            <span safe>{message.after}</span>
          </p>
        ) : (
          <p class="tl-text" safe>
            {activityText(ui, a, members, currency, labels)}
          </p>
        )}
        {note ? (
          <p class="tl-note" safe>
            {note}
          </p>
        ) : (
          ''
        )}
        <time
          class="subtle"
          datetime={a.createdAt.toISOString()}
          title={formatDate(a.createdAt, ui.locale, ui.org?.timezone)}
          safe
        >
          {ago(a.createdAt, ui.locale)}
        </time>
      </div>
    </li>
  )
}

export function LeadForm(p: {
  ui: Ui
  form: FormState
  members: MemberRef[]
  action: string
  currency: string
  version?: number
  submit: string
  hidden?: Record<string, string>
  customFields?: CustomFieldDef[]
  /** New leads: warn about possible duplicates while the user types (leads.dedup.routes). */
  dupCheck?: boolean
  /** Scores come from the scoring rules: shown read-only and not posted. */
  scoreComputed?: boolean
}) {
  const { ui, form } = p
  const { t } = ui
  const ownerErr = form.errors?.fields.ownerId
  return (
    <form class="form-grid lead-form" {...drawerForm(p.action)} novalidate>
      {p.version !== undefined ? <input type="hidden" name="version" value={String(p.version)} /> : ''}
      {Object.entries(p.hidden ?? {}).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
      <Field
        name="fullName"
        label={t('pipeline.lead.full_name')}
        form={form}
        t={t}
        required
        maxlength={200}
        autocomplete="off"
      />
      <div class="form-row">
        <Field
          name="company"
          label={t('pipeline.lead.company')}
          form={form}
          t={t}
          maxlength={200}
          autocomplete="off"
        />
        <Field
          name="jobTitle"
          label={t('pipeline.lead.job_title')}
          form={form}
          t={t}
          maxlength={120}
          autocomplete="off"
        />
      </div>
      <div class="form-row">
        <Field
          name="email"
          type="email"
          label={t('pipeline.lead.email')}
          form={form}
          t={t}
          maxlength={254}
          autocomplete="off"
        />
        <Field
          name="phone"
          type="tel"
          label={t('pipeline.lead.phone')}
          form={form}
          t={t}
          maxlength={40}
          autocomplete="off"
        />
      </div>
      {p.dupCheck ? (
        <div
          id="dup-warning"
          hx-get="/leads/duplicates/check"
          hx-trigger="input delay:400ms from:closest form, load"
          hx-include="closest form"
          hx-target="this"
          hx-swap="innerHTML"
          aria-live="polite"
        ></div>
      ) : (
        ''
      )}
      <div class="form-row">
        <Field
          name="value"
          label={t('pipeline.lead.value')}
          form={form}
          t={t}
          maxlength={40}
          hint={t('pipeline.lead.value_hint', { currency: p.currency })}
          autocomplete="off"
        />
        <Field
          name="source"
          label={t('pipeline.lead.source')}
          form={form}
          t={t}
          maxlength={60}
          autocomplete="off"
        />
      </div>
      <div class="form-row">
        <div class="field">
          <label for="f-ownerId" safe>
            {t('pipeline.lead.owner')}
          </label>
          <select class="input" id="f-ownerId" name="ownerId" aria-invalid={ownerErr ? 'true' : undefined}>
            <option value="" selected={!form.values.ownerId} safe>
              {t('pipeline.unassigned')}
            </option>
            {p.members.map((m) => (
              <option value={m.id} selected={form.values.ownerId === m.id} safe>
                {m.name}
              </option>
            ))}
          </select>
          {ownerErr ? <FieldError id="f-ownerId-err" text={t(ownerErr)} /> : ''}
        </div>
        {p.scoreComputed ? (
          <div class="field">
            <label for="f-score" safe>
              {t('pipeline.lead.score')}
            </label>
            <input
              class="input"
              id="f-score"
              type="text"
              value={form.values.score || '0'}
              readonly
              aria-invalid={form.errors?.fields.score ? 'true' : undefined}
              aria-describedby={form.errors?.fields.score ? 'f-score-hint f-score-err' : 'f-score-hint'}
            />
            <small class="hint" id="f-score-hint" safe>
              {t('pipeline.lead.score_computed')}
            </small>
            {form.errors?.fields.score ? (
              <FieldError id="f-score-err" text={t(form.errors.fields.score)} />
            ) : (
              ''
            )}
          </div>
        ) : (
          <Field name="score" type="number" label={t('pipeline.lead.score')} form={form} t={t} />
        )}
      </div>
      <Field
        name="tags"
        label={t('pipeline.lead.tags')}
        form={form}
        t={t}
        hint={t('pipeline.lead.tags_hint')}
        autocomplete="off"
      />
      <CustomFieldInputs ui={ui} defs={p.customFields ?? []} form={form} />
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" safe>
          {p.submit}
        </button>
      </div>
    </form>
  )
}

export function NewLeadDrawer(p: {
  ui: Ui
  pipelineId: string
  pipelineName: string
  stageId: string
  stages: Stage[]
  members: MemberRef[]
  currency: string
  form: FormState
  customFields?: CustomFieldDef[]
  scoreComputed?: boolean
}) {
  const { ui } = p
  const { t } = ui
  const stage = p.stages.find((s) => s.id === p.stageId)
  return (
    <aside
      class="drawer"
      id="lead-drawer"
      role="dialog"
      aria-modal="false"
      aria-labelledby="drawer-title"
      data-drawer
      tabindex="-1"
    >
      <header class="drawer-head" style={`--stage:${stage?.color ?? '#64748b'}`}>
        <div class="drawer-bar">
          <span class="stage-pill">
            <span class="dot" aria-hidden="true"></span>
            <span safe>{stage?.name ?? ''}</span>
          </span>
          <span class="subtle drawer-pipeline" safe>
            {p.pipelineName}
          </span>
          <span class="spacer"></span>
          <a
            class="icon-btn"
            href={boardUrl(p.pipelineId)}
            data-drawer-close
            aria-label={t('pipeline.close')}
          >
            <PIcon name="x" />
          </a>
        </div>
        <h2 id="drawer-title" safe>
          {t('pipeline.new_lead')}
        </h2>
      </header>
      <div class="drawer-body">
        <section class="drawer-section">
          <LeadForm
            ui={ui}
            form={p.form}
            members={p.members}
            action="/pipeline/leads"
            currency={p.currency}
            submit={t('pipeline.lead.create')}
            hidden={{ pipelineId: p.pipelineId, stageId: p.stageId }}
            customFields={p.customFields}
            scoreComputed={p.scoreComputed}
            dupCheck
          />
        </section>
      </div>
    </aside>
  )
}
