/**
 * Settings → Scoring (owners and admins): the organization's rules (ordered, each a condition and
 * +/- points with optional decay), "rescore every lead" with its live progress, and the learned
 * win-probability model (status, sample, held-out accuracy beside the baseline, "train now").
 */
import {
  type Condition,
  conditionFormValues,
  SCORING_CONDITIONS,
} from '../../src/modules/leads/leads.conditions'
import type { ScoringModelRow, ScoringRule, ScoringRun } from '../../src/modules/leads/leads.scoring.table'
import type { CustomFieldDef } from '../../src/modules/leads/leads.table'
import type { MessageKey } from '../../src/shared/i18n'
import { FieldError, FormAlert, type FormState } from '../components/form'
import { SettingsLayout } from '../orgs/settings-pages'
import { formatDate, type Ui } from '../ui'
import { ConditionFields, conditionText, PField, RuleActions } from './rule-parts'

export type RuleView = ScoringRule & { parsed: Condition | null }

export interface ScoringPageProps {
  ui: Ui
  rules: RuleView[]
  fields: CustomFieldDef[]
  kinds: string[]
  run: ScoringRun | null
  model: ScoringModelRow | null
  closed: { won: number; lost: number }
  training: boolean
  /** The new-rule form (422 keeps the input). */
  form: FormState
  /** An existing rule's edit form with errors, opened. */
  edit?: { id: string; form: FormState }
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n))
const pct = (x: number | null | undefined) => (x == null ? '—' : `${Math.round(x * 1000) / 10}%`)

function decayText(ui: Ui, r: Pick<ScoringRule, 'decay' | 'decayDays'>) {
  if (r.decay === 'none' || !r.decayDays) return ''
  return ui.t(r.decay === 'linear' ? 'scoring.decay.linear_text' : 'scoring.decay.half_life_text', {
    days: r.decayDays,
  })
}

export function ruleFormValues(r: RuleView, cond: Record<string, string>): Record<string, string> {
  return {
    name: r.name,
    points: String(r.points),
    decay: r.decay,
    decayDays: r.decayDays ? String(r.decayDays) : '',
    ...cond,
  }
}

function RuleForm(p: {
  ui: Ui
  form: FormState
  action: string
  prefix: string
  fields: CustomFieldDef[]
  kinds: string[]
  submit: string
}) {
  const { ui, form } = p
  const { t } = ui
  const v = form.values
  const err = (name: string) => form.errors?.fields[name]
  return (
    <form
      method="post"
      action={p.action}
      class="form-grid rule-form"
      novalidate
      x-data={`{ type: ${JSON.stringify(v.condType || 'source')}, decay: ${JSON.stringify(v.decay || 'none')} }`}
    >
      <FormAlert form={form} t={t} />
      <div class="form-row">
        <PField
          ui={ui}
          form={form}
          prefix={p.prefix}
          name="name"
          label={t('rules.name')}
          required
          maxlength={80}
          placeholder={t('scoring.name_placeholder')}
        />
        <PField
          ui={ui}
          form={form}
          prefix={p.prefix}
          name="points"
          type="number"
          label={t('scoring.points')}
          hint={t('scoring.points_hint')}
          required
        />
      </div>
      <ConditionFields
        ui={ui}
        form={form}
        types={SCORING_CONDITIONS}
        fields={p.fields}
        kinds={p.kinds}
        prefix={p.prefix}
      />
      <div class="form-row">
        <div class="field">
          <label for={`${p.prefix}-decay`} safe>
            {t('scoring.decay')}
          </label>
          <select class="input" id={`${p.prefix}-decay`} name="decay" x-model="decay">
            {(['none', 'linear', 'half_life'] as const).map((d) => (
              <option value={d} selected={(v.decay || 'none') === d} safe>
                {t(`scoring.decay.${d}`)}
              </option>
            ))}
          </select>
          <p class="hint" safe>
            {t('scoring.decay_hint')}
          </p>
        </div>
        <div class="field" x-show="decay !== 'none'">
          <label for={`${p.prefix}-decayDays`} safe>
            {t('scoring.decay_days')}
          </label>
          <input
            class="input"
            id={`${p.prefix}-decayDays`}
            name="decayDays"
            type="number"
            min="1"
            max="3650"
            value={v.decayDays ?? ''}
            aria-invalid={err('decayDays') ? 'true' : undefined}
            aria-describedby={err('decayDays') ? `${p.prefix}-decayDays-err` : undefined}
          />
          {err('decayDays') ? (
            <FieldError
              id={`${p.prefix}-decayDays-err`}
              text={t(err('decayDays')!, form.errors?.params.decayDays)}
            />
          ) : (
            ''
          )}
        </div>
      </div>
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" safe>
          {p.submit}
        </button>
      </div>
    </form>
  )
}

/** The "rescore every lead" status, refreshed live (hub) and by polling while a run is active. */
export function ScoringProgress({ ui, run }: { ui: Ui; run: ScoringRun | null }) {
  const { t } = ui
  const active = run && (run.state === 'queued' || run.state === 'running')
  const pctDone = run?.total ? Math.min(100, Math.round((run.done / run.total) * 100)) : active ? 0 : 100
  return (
    <div
      id="scoring-progress"
      class="scoring-progress"
      data-testid="scoring-progress"
      data-state={run?.state ?? 'none'}
      hx-get="/settings/scoring/progress"
      hx-trigger={`rt:scoring.progress from:body${active ? ', every 2s' : ''}`}
      hx-swap="outerHTML"
    >
      {run ? (
        <>
          <div class="progress-head">
            <span safe>{t(`scoring.run.${run.state}` as MessageKey)}</span>
            <span class="subtle" safe>
              {t('scoring.run.count', { done: run.done, total: run.total })}
            </span>
          </div>
          <div
            class="progress"
            role="progressbar"
            aria-valuemin="0"
            aria-valuemax="100"
            aria-valuenow={String(pctDone)}
            aria-label={t('scoring.rescore_all')}
          >
            <span class="progress-fill" style={`width:${pctDone}%`}></span>
          </div>
          {run.state === 'done' ? (
            <p class="subtle" safe>
              {t('scoring.run.changed', {
                changed: run.changed,
                date: run.finishedAt ? formatDate(run.finishedAt, ui.locale, ui.org?.timezone) : '',
              })}
            </p>
          ) : (
            ''
          )}
        </>
      ) : (
        <p class="subtle" safe>
          {t('scoring.run.never')}
        </p>
      )}
    </div>
  )
}

function ModelCard({ ui, p }: { ui: Ui; p: ScoringPageProps }) {
  const { t } = ui
  const m = p.model
  const total = p.closed.won + p.closed.lost
  const enough = total >= 40 && p.closed.won >= 5 && p.closed.lost >= 5
  const trained = m?.status === 'trained'
  const sample: string = m ? String(m.sampleSize) : '—'
  const accuracy: string = trained
    ? t('scoring.model.accuracy_value', {
        accuracy: pct(m.accuracy),
        baseline: pct(m.baseline),
        n: m.holdoutSize,
      })
    : '—'
  const aucText: string = trained && m.auc != null ? (Math.round(m.auc * 100) / 100).toFixed(2) : '—'
  return (
    <section class="card" aria-labelledby="model-title" data-testid="model-card">
      <div class="card-head">
        <div>
          <h2 id="model-title" safe>
            {t('scoring.model.title')}
          </h2>
          <p class="subtle" safe>
            {t('scoring.model.subtitle')}
          </p>
        </div>
        <span class={`badge model-${m?.status ?? 'none'}`} data-testid="model-status" safe>
          {t(`scoring.model.status.${m?.status ?? 'none'}` as MessageKey)}
        </span>
      </div>
      <div class="card-body">
        <dl class="model-stats">
          <div>
            <dt safe>{t('scoring.model.closed')}</dt>
            <dd safe>{t('scoring.model.closed_value', { won: p.closed.won, lost: p.closed.lost })}</dd>
          </div>
          <div>
            <dt safe>{t('scoring.model.sample')}</dt>
            <dd safe>{sample}</dd>
          </div>
          <div>
            <dt safe>{t('scoring.model.accuracy')}</dt>
            <dd data-testid="model-accuracy" safe>
              {accuracy}
            </dd>
          </div>
          <div>
            <dt safe>{t('scoring.model.auc')}</dt>
            <dd safe>{aucText}</dd>
          </div>
          <div>
            <dt safe>{t('scoring.model.trained_at')}</dt>
            <dd safe>
              {m ? formatDate(m.trainedAt, ui.locale, ui.org?.timezone) : t('scoring.model.never')}
            </dd>
          </div>
        </dl>
        {!enough ? (
          <p class="hint" safe>
            {t('scoring.model.need', { total })}
          </p>
        ) : (
          ''
        )}
        <form method="post" action="/settings/scoring/train" class="form-actions">
          <button type="submit" class="btn" disabled={p.training} data-testid="train-now" safe>
            {p.training ? t('scoring.model.training') : t('scoring.model.train')}
          </button>
        </form>
      </div>
    </section>
  )
}

export function ScoringSettingsPage(p: ScoringPageProps) {
  const { ui } = p
  const { t } = ui
  return (
    <SettingsLayout ui={ui} tab="scoring" title={t('scoring.title')} subtitle={t('scoring.subtitle')}>
      <section class="card" aria-labelledby="rules-title">
        <div class="card-head">
          <div>
            <h2 id="rules-title" safe>
              {t('scoring.rules')}
            </h2>
            <p class="subtle" safe>
              {t('scoring.rules_hint')}
            </p>
          </div>
        </div>
        {p.rules.length ? (
          <ol class="rules-list" data-testid="scoring-rules">
            {p.rules.map((r, i) => {
              const editing = p.edit?.id === r.id
              return (
                <li class={`rule-row${r.active ? '' : ' inactive'}`} data-rule-id={r.id}>
                  <div class="rule-main">
                    <span class={`pts ${r.points > 0 ? 'pos' : 'neg'}`} safe>
                      {signed(r.points)}
                    </span>
                    <div class="rule-text">
                      <strong safe>{r.name}</strong>
                      <span class="subtle" safe>
                        {[conditionText(ui, r.parsed, p.fields), decayText(ui, r)]
                          .filter(Boolean)
                          .join(' · ')}
                      </span>
                    </div>
                    <RuleActions
                      ui={ui}
                      base={`/settings/scoring/rules/${r.id}`}
                      name={r.name}
                      active={r.active}
                      first={i === 0}
                      last={i === p.rules.length - 1}
                    />
                  </div>
                  <details class="rule-edit" open={editing}>
                    <summary class="btn btn-sm btn-ghost" safe>
                      {t('rules.edit')}
                    </summary>
                    <RuleForm
                      ui={ui}
                      form={
                        editing ? p.edit!.form : { values: ruleFormValues(r, condValues(r)), errors: null }
                      }
                      action={`/settings/scoring/rules/${r.id}`}
                      prefix={`r${i}`}
                      fields={p.fields}
                      kinds={p.kinds}
                      submit={t('action.save')}
                    />
                  </details>
                </li>
              )
            })}
          </ol>
        ) : (
          <div class="card-body">
            <p class="subtle" safe>
              {t('scoring.empty')}
            </p>
          </div>
        )}
      </section>

      <section class="card" aria-labelledby="new-rule-title">
        <div class="card-head">
          <h2 id="new-rule-title" safe>
            {t('scoring.new_rule')}
          </h2>
        </div>
        <div class="card-body">
          <RuleForm
            ui={ui}
            form={p.form}
            action="/settings/scoring/rules"
            prefix="new"
            fields={p.fields}
            kinds={p.kinds}
            submit={t('scoring.add_rule')}
          />
        </div>
      </section>

      <section class="card" aria-labelledby="rescore-title">
        <div class="card-head">
          <div>
            <h2 id="rescore-title" safe>
              {t('scoring.rescore_title')}
            </h2>
            <p class="subtle" safe>
              {t('scoring.rescore_hint')}
            </p>
          </div>
        </div>
        <div class="card-body">
          <ScoringProgress ui={ui} run={p.run} />
          <form method="post" action="/settings/scoring/rescore" class="form-actions">
            <button type="submit" class="btn" data-testid="rescore-all" safe>
              {t('scoring.rescore_all')}
            </button>
          </form>
        </div>
      </section>

      <ModelCard ui={ui} p={p} />
    </SettingsLayout>
  )
}

const condValues = (r: RuleView) => conditionFormValues(r.parsed) as unknown as Record<string, string>
