/**
 * Pipeline settings (owners and admins): stages (create, rename, recolor, probability, kind, reorder,
 * delete with "where do its leads go"), the organization's pipelines and its loss reasons.
 * Reordering drags with SortableJS; the up/down buttons do the same without a mouse or JavaScript.
 */

import type { LossReason, Pipeline, Stage } from '../../src/modules/pipeline/pipeline.table'
import { assetUrl } from '../../src/platform/http/assets'
import { Field, FieldError, type FormState } from '../components/form'
import { AppShell } from '../layouts/app-shell'
import type { Ui } from '../ui'
import { boardUrl } from './board-page'
import { PIcon } from './icons'

export interface SettingsForms {
  stage?: { id: string; form: FormState }
  newStage?: FormState
  newPipeline?: FormState
  rename?: FormState
  reason?: FormState
  order?: string
}

export interface SettingsPageProps {
  ui: Ui
  pipeline: Pipeline
  pipelines: Pipeline[]
  stages: Stage[]
  counts: Map<string, number>
  reasons: LossReason[]
  forms?: SettingsForms
  /** An error outside any form (e.g. "this pipeline still has leads"). */
  alert?: string
}

const KINDS = ['open', 'won', 'lost'] as const

export function PipelineSettingsPage(p: SettingsPageProps) {
  const { ui, pipeline } = p
  const { t } = ui
  const forms = p.forms ?? {}
  const order = p.stages.map((s) => s.id)
  const swapped = (i: number, j: number) => {
    const o = [...order]
    ;[o[i], o[j]] = [o[j]!, o[i]!]
    return o
  }
  return (
    <AppShell ui={ui} title={`${pipeline.name} · ${t('pipeline.settings_title')}`}>
      <link rel="stylesheet" href={assetUrl('pipeline.css')} />
      <div class="page-head">
        <div class="titles">
          <a class="back-link" href={boardUrl(pipeline.id)}>
            <span aria-hidden="true">←</span>
            <span safe>{t('pipeline.back_to_board')}</span>
          </a>
          <h1 safe>{pipeline.name}</h1>
          <p class="muted" safe>
            {t('pipeline.settings_title')}
          </p>
        </div>
      </div>
      {p.alert ? (
        <div class="alert alert-error" role="alert" safe>
          {p.alert}
        </div>
      ) : (
        ''
      )}
      <section class="card" aria-labelledby="stages-title">
        <div class="card-head">
          <div>
            <h2 id="stages-title" safe>
              {t('pipeline.stages.title')}
            </h2>
            <p class="subtle" safe>
              {t('pipeline.stages.subtitle')}
            </p>
          </div>
        </div>
        {forms.order ? (
          <div class="card-body">
            <div class="alert alert-error" role="alert" safe>
              {forms.order}
            </div>
          </div>
        ) : (
          ''
        )}
        <ol
          class="stage-list"
          data-stage-list
          data-order-url={`/pipeline/${pipeline.id}/stages/order`}
          data-testid="stage-list"
        >
          {p.stages.map((s, i) => {
            const form =
              forms.stage?.id === s.id
                ? forms.stage.form
                : {
                    values: {
                      name: s.name,
                      color: s.color,
                      probability: String(s.probability),
                      kind: s.kind,
                    },
                    errors: null,
                  }
            const err = form.errors?.fields
            const count = p.counts.get(s.id) ?? 0
            return (
              <li class="stage-row" data-stage-id={s.id} style={`--stage:${s.color}`}>
                <span
                  class="drag-handle"
                  title={t('pipeline.stages.drag', { name: s.name })}
                  aria-hidden="true"
                >
                  <PIcon name="grip" />
                </span>
                <form class="stage-form" method="post" action={`/pipeline/${pipeline.id}/stages/${s.id}`}>
                  <input
                    type="color"
                    class="input color-input"
                    name="color"
                    value={form.values.color}
                    aria-label={`${t('pipeline.stages.color')}: ${s.name}`}
                  />
                  <input
                    class="input stage-name"
                    name="name"
                    value={form.values.name}
                    maxlength={60}
                    required
                    aria-label={`${t('pipeline.stages.name')}: ${s.name}`}
                    aria-invalid={err?.name ? 'true' : undefined}
                  />
                  <span class="prob-input">
                    <input
                      class="input"
                      name="probability"
                      type="number"
                      min="0"
                      max="100"
                      value={form.values.probability}
                      aria-label={`${t('pipeline.stages.probability')}: ${s.name}`}
                      aria-invalid={err?.probability ? 'true' : undefined}
                    />
                    <span aria-hidden="true">%</span>
                  </span>
                  <select
                    class="input kind-select"
                    name="kind"
                    aria-label={`${t('pipeline.stages.kind')}: ${s.name}`}
                  >
                    {KINDS.map((k) => (
                      <option value={k} selected={form.values.kind === k} safe>
                        {t(`pipeline.stages.kind.${k}`)}
                      </option>
                    ))}
                  </select>
                  <button type="submit" class="btn btn-sm" safe>
                    {t('action.save')}
                  </button>
                  {err ? (
                    <FieldError
                      id={`stage-err-${s.id}`}
                      text={Object.entries(err)
                        .map(([f, k]) => t(k, form.errors?.params[f]))
                        .join(' ')}
                    />
                  ) : (
                    ''
                  )}
                </form>
                <span class="stage-count subtle" safe>
                  {count === 1 ? t('pipeline.stages.lead_one') : t('pipeline.stages.leads', { count })}
                </span>
                <span class="stage-actions">
                  <form method="post" action={`/pipeline/${pipeline.id}/stages/order`}>
                    {swapped(i, i - 1).map((id) => (
                      <input type="hidden" name="ids" value={id} />
                    ))}
                    <button
                      type="submit"
                      class="icon-btn"
                      disabled={i === 0}
                      aria-label={t('pipeline.stages.move_up', { name: s.name })}
                    >
                      ↑
                    </button>
                  </form>
                  <form method="post" action={`/pipeline/${pipeline.id}/stages/order`}>
                    {swapped(i, i + 1).map((id) => (
                      <input type="hidden" name="ids" value={id} />
                    ))}
                    <button
                      type="submit"
                      class="icon-btn"
                      disabled={i === order.length - 1}
                      aria-label={t('pipeline.stages.move_down', { name: s.name })}
                    >
                      ↓
                    </button>
                  </form>
                  <a
                    class="icon-btn danger"
                    href={`/pipeline/${pipeline.id}/stages/${s.id}/delete`}
                    aria-label={t('pipeline.stages.delete_title', { name: s.name })}
                    title={t('pipeline.stages.delete')}
                  >
                    <PIcon name="trash" />
                  </a>
                </span>
              </li>
            )
          })}
        </ol>
        <form class="card-body add-stage" method="post" action={`/pipeline/${pipeline.id}/stages`} novalidate>
          <NewStageFields
            ui={ui}
            form={forms.newStage ?? { values: { color: '#64748b', probability: '50', kind: 'open' } }}
          />
        </form>
      </section>

      <div class="grid-2 settings-grid">
        <section class="card" aria-labelledby="pipelines-title">
          <div class="card-head">
            <div>
              <h2 id="pipelines-title" safe>
                {t('pipeline.pipelines.title')}
              </h2>
              <p class="subtle" safe>
                {t('pipeline.pipelines.subtitle')}
              </p>
            </div>
          </div>
          <ul class="plain-list">
            {p.pipelines.map((pl) => (
              <li>
                <a
                  class="link"
                  href={`/pipeline/${pl.id}/settings`}
                  aria-current={pl.id === pipeline.id ? 'page' : undefined}
                  safe
                >
                  {pl.name}
                </a>
                {pl.id === pipeline.id && p.pipelines.length > 1 ? (
                  <form
                    method="post"
                    action={`/pipeline/${pl.id}/delete`}
                    data-confirm={t('pipeline.pipelines.delete_confirm', { name: pl.name })}
                  >
                    <button type="submit" class="btn btn-sm btn-danger" safe>
                      {t('pipeline.pipelines.delete')}
                    </button>
                  </form>
                ) : (
                  ''
                )}
              </li>
            ))}
          </ul>
          <form
            class="card-body form-grid"
            method="post"
            action={`/pipeline/${pipeline.id}/rename`}
            novalidate
          >
            <div class="inline-row">
              <Field
                name="name"
                label={t('pipeline.pipelines.name')}
                form={forms.rename ?? { values: { name: pipeline.name } }}
                t={t}
                maxlength={80}
              />
              <button type="submit" class="btn" safe>
                {t('pipeline.pipelines.rename')}
              </button>
            </div>
          </form>
          <form class="card-body form-grid top-line" method="post" action="/pipeline" novalidate>
            <div class="inline-row">
              <Field
                name="name"
                label={t('pipeline.pipelines.add')}
                form={forms.newPipeline ?? { values: {} }}
                t={t}
                maxlength={80}
                placeholder={t('pipeline.pipelines.name')}
              />
              <button type="submit" class="btn">
                <PIcon name="plus" />
                <span safe>{t('pipeline.pipelines.add')}</span>
              </button>
            </div>
          </form>
        </section>

        <section class="card" aria-labelledby="reasons-title">
          <div class="card-head">
            <div>
              <h2 id="reasons-title" safe>
                {t('pipeline.reasons.title')}
              </h2>
              <p class="subtle" safe>
                {t('pipeline.reasons.subtitle')}
              </p>
            </div>
          </div>
          {p.reasons.length ? (
            <ul class="plain-list" data-testid="reasons">
              {p.reasons.map((r) => (
                <li>
                  <span safe>{r.label}</span>
                  <form method="post" action={`/pipeline/loss-reasons/${r.id}/delete`}>
                    <input type="hidden" name="back" value={pipeline.id} />
                    <button
                      type="submit"
                      class="icon-btn"
                      aria-label={t('pipeline.reasons.delete', { label: r.label })}
                    >
                      <PIcon name="x" />
                    </button>
                  </form>
                </li>
              ))}
            </ul>
          ) : (
            <p class="card-body subtle" safe>
              {t('pipeline.reasons.none')}
            </p>
          )}
          <form class="card-body form-grid top-line" method="post" action="/pipeline/loss-reasons" novalidate>
            <input type="hidden" name="back" value={pipeline.id} />
            <div class="inline-row">
              <Field
                name="label"
                label={t('pipeline.reasons.label')}
                form={forms.reason ?? { values: {} }}
                t={t}
                maxlength={80}
              />
              <button type="submit" class="btn">
                <PIcon name="plus" />
                <span safe>{t('pipeline.reasons.add')}</span>
              </button>
            </div>
          </form>
        </section>
      </div>
      <script src={assetUrl('pipeline.js')} data-sortable={assetUrl('sortable.min.js')} defer></script>
    </AppShell>
  )
}

function NewStageFields({ ui, form }: { ui: Ui; form: FormState }) {
  const { t } = ui
  const err = form.errors?.fields
  return (
    <div class="new-stage">
      <div class="field">
        <label for="ns-color" safe>
          {t('pipeline.stages.color')}
        </label>
        <input
          type="color"
          class="input color-input"
          id="ns-color"
          name="color"
          value={form.values.color ?? '#64748b'}
        />
      </div>
      <Field name="name" label={t('pipeline.stages.name')} form={form} t={t} maxlength={60} />
      <div class="field">
        <label for="ns-prob" safe>
          {t('pipeline.stages.probability')}
        </label>
        <input
          class="input"
          id="ns-prob"
          name="probability"
          type="number"
          min="0"
          max="100"
          value={form.values.probability ?? ''}
          aria-invalid={err?.probability ? 'true' : undefined}
        />
        {err?.probability ? <FieldError id="ns-prob-err" text={t(err.probability)} /> : ''}
      </div>
      <div class="field">
        <label for="ns-kind" safe>
          {t('pipeline.stages.kind')}
        </label>
        <select class="input" id="ns-kind" name="kind">
          {KINDS.map((k) => (
            <option value={k} selected={form.values.kind === k} safe>
              {t(`pipeline.stages.kind.${k}`)}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" class="btn btn-primary" data-testid="add-stage">
        <PIcon name="plus" />
        <span safe>{t('pipeline.stages.add')}</span>
      </button>
    </div>
  )
}

export function DeleteStagePage(p: {
  ui: Ui
  pipeline: Pipeline
  stage: Stage
  others: Stage[]
  count: number
  form: FormState
}) {
  const { ui, stage } = p
  const { t } = ui
  const err = p.form.errors?.fields.target
  return (
    <AppShell ui={ui} title={t('pipeline.stages.delete_title', { name: stage.name })}>
      <link rel="stylesheet" href={assetUrl('pipeline.css')} />
      <div class="page-head">
        <div class="titles">
          <a class="back-link" href={`/pipeline/${p.pipeline.id}/settings`}>
            <span aria-hidden="true">←</span>
            <span safe>{t('pipeline.settings_title')}</span>
          </a>
          <h1 safe>{t('pipeline.stages.delete_title', { name: stage.name })}</h1>
        </div>
      </div>
      <section class="card narrow-card">
        <form
          class="card-body form-grid"
          method="post"
          action={`/pipeline/${p.pipeline.id}/stages/${stage.id}/delete`}
        >
          <p safe>
            {p.count === 1
              ? t('pipeline.stages.delete_lead_one')
              : p.count
                ? t('pipeline.stages.delete_leads', { count: p.count })
                : t('pipeline.stages.delete_empty')}
          </p>
          {p.count ? (
            <div class="field">
              <label for="f-target" safe>
                {t('pipeline.stages.delete_target')}
              </label>
              <select
                class="input"
                id="f-target"
                name="target"
                aria-invalid={err ? 'true' : undefined}
                aria-describedby={err ? 'f-target-err' : undefined}
              >
                <option value="">—</option>
                {p.others.map((s) => (
                  <option value={s.id} selected={p.form.values.target === s.id} safe>
                    {s.name}
                  </option>
                ))}
              </select>
              {err ? <FieldError id="f-target-err" text={t(err)} /> : ''}
            </div>
          ) : (
            ''
          )}
          <div class="form-actions">
            <a class="btn" href={`/pipeline/${p.pipeline.id}/settings`} safe>
              {t('action.cancel')}
            </a>
            <button
              type="submit"
              class="btn btn-primary btn-danger-solid"
              data-testid="confirm-delete-stage"
              safe
            >
              {t('pipeline.stages.delete_submit')}
            </button>
          </div>
        </form>
      </section>
    </AppShell>
  )
}
