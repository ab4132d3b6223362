/**
 * Settings → Lead capture (owners and admins): capture sources (token, snippet, curl example,
 * rotation), their kept submissions for review, and Facebook Lead Ads connections. Pure views.
 */
import type {
  CaptureSource,
  CaptureSubmission,
  FacebookConnection,
} from '../../src/modules/leads/leads.capture-sources.table'
import { assetUrl } from '../../src/platform/http/assets'
import type { MessageKey, T } from '../../src/shared/i18n'
import { CopyField, Field, FieldError, FormAlert, type FormState } from '../components/form'
import { SettingsLayout } from '../orgs/settings-pages'
import { formatDate, type Ui } from '../ui'

export interface TargetOption {
  pipelineId: string
  pipeline: string
  stageId: string
  stage: string
}

export interface SourceRow {
  source: CaptureSource
  processed: number
  review: number
}

const CSS = () => <link rel="stylesheet" href={assetUrl('leads-capture.css')} />

// Overview -------------------------------------------------------------------------------------------

export function CapturePage(p: {
  ui: Ui
  sources: SourceRow[]
  connections: FacebookConnection[]
  targets: TargetOption[]
  form: FormState
}) {
  const { ui } = p
  const { t } = ui
  return (
    <SettingsLayout ui={ui} tab="capture" title={t('capture.title')} subtitle={t('capture.subtitle')}>
      <CSS />
      <section class="card" aria-labelledby="sources-title">
        <div class="card-head">
          <h3 id="sources-title" safe>
            {t('capture.sources')}
          </h3>
        </div>
        {p.sources.length ? (
          <ul class="cap-list" data-testid="capture-sources">
            {p.sources.map(({ source: s, processed, review }) => (
              <li class="cap-item">
                <a class="cap-item-main" href={`/settings/capture/${s.id}`}>
                  <span class="cap-name" safe>
                    {s.name}
                  </span>
                  <span class="muted cap-meta" safe>
                    {t('capture.source_meta', { label: s.sourceLabel, count: processed })}
                  </span>
                </a>
                <span class="cap-badges">
                  {s.active ? (
                    <span class="badge badge-ok" safe>
                      {t('capture.active')}
                    </span>
                  ) : (
                    <span class="badge" safe>
                      {t('capture.inactive')}
                    </span>
                  )}
                  {review ? (
                    <a class="badge badge-warn" href={`/settings/capture/${s.id}/submissions`} safe>
                      {t('capture.to_review', { count: review })}
                    </a>
                  ) : (
                    ''
                  )}
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="card-body muted" safe>
            {t('capture.no_sources')}
          </p>
        )}
      </section>

      <section class="card" aria-labelledby="new-source-title">
        <div class="card-head">
          <div>
            <h3 id="new-source-title" safe>
              {t('capture.new_source')}
            </h3>
            <p class="subtle" safe>
              {t('capture.new_source_hint')}
            </p>
          </div>
        </div>
        <form method="post" action="/settings/capture" class="card-body form-grid" novalidate>
          <SourceFields ui={ui} form={p.form} targets={p.targets} />
          <div class="form-actions">
            <button class="btn btn-primary" type="submit" safe>
              {t('capture.create')}
            </button>
          </div>
        </form>
      </section>

      <section class="card" aria-labelledby="fb-title">
        <div class="card-head">
          <div>
            <h3 id="fb-title" safe>
              {t('capture.fb.title')}
            </h3>
            <p class="subtle" safe>
              {t('capture.fb.subtitle')}
            </p>
          </div>
        </div>
        {p.connections.length ? (
          <ul class="cap-list" data-testid="facebook-connections">
            {p.connections.map((c) => (
              <li class="cap-item">
                <a class="cap-item-main" href={`/settings/capture/facebook/${c.id}`}>
                  <span class="cap-name" safe>
                    {c.name}
                  </span>
                  <span class="muted cap-meta" safe>
                    {c.sourceLabel}
                  </span>
                </a>
                <span class="cap-badges">
                  <span class={c.active ? 'badge badge-ok' : 'badge'} safe>
                    {c.active ? t('capture.active') : t('capture.inactive')}
                  </span>
                </span>
              </li>
            ))}
          </ul>
        ) : (
          ''
        )}
        <div class="card-body">
          <a class="btn" href="/settings/capture/facebook/new" safe>
            {t('capture.fb.connect')}
          </a>
        </div>
      </section>
    </SettingsLayout>
  )
}

function TextArea(p: { name: string; label: string; hint?: string; form: FormState; t: T; rows?: number }) {
  const id = `f-${p.name}`
  const err = p.form.errors?.fields[p.name]
  return (
    <div class="field">
      <label for={id} safe>
        {p.label}
      </label>
      <textarea
        class="input"
        id={id}
        name={p.name}
        rows={String(p.rows ?? 2)}
        aria-invalid={err ? 'true' : undefined}
        aria-describedby={err ? `${id}-err` : p.hint ? `${id}-hint` : undefined}
        safe
      >
        {p.form.values[p.name] ?? ''}
      </textarea>
      {p.hint && !err ? (
        <p class="hint" id={`${id}-hint`} safe>
          {p.hint}
        </p>
      ) : (
        ''
      )}
      {err ? <FieldError id={`${id}-err`} text={p.t(err, p.form.errors?.params[p.name])} /> : ''}
    </div>
  )
}

function SourceFields({ ui, form, targets }: { ui: Ui; form: FormState; targets: TargetOption[] }) {
  const { t } = ui
  const current = form.values.target ?? ''
  const err = form.errors?.fields.target
  return (
    <>
      <FormAlert form={form} t={t} />
      <div class="form-row">
        <Field
          name="name"
          label={t('capture.field.name')}
          form={form}
          t={t}
          required
          maxlength={80}
          placeholder={t('capture.field.name_ph')}
        />
        <Field
          name="sourceLabel"
          label={t('capture.field.label')}
          hint={t('capture.field.label_hint')}
          form={form}
          t={t}
          maxlength={60}
          placeholder={t('capture.field.label_ph')}
        />
      </div>
      <div class="form-row">
        <Field
          name="tags"
          label={t('capture.field.tags')}
          hint={t('capture.field.tags_hint')}
          form={form}
          t={t}
          placeholder="site, inbound"
        />
        <div class="field">
          <label for="f-target" safe>
            {t('capture.field.target')}
          </label>
          <select
            class="input"
            id="f-target"
            name="target"
            aria-invalid={err ? 'true' : undefined}
            aria-describedby={err ? 'f-target-err' : undefined}
          >
            <option value="" selected={current === ''} safe>
              {t('capture.field.target_default')}
            </option>
            {targets.map((o) => {
              const v = `${o.pipelineId}/${o.stageId}`
              return (
                <option value={v} selected={v === current} safe>
                  {`${o.pipeline} › ${o.stage}`}
                </option>
              )
            })}
          </select>
          {err ? <FieldError id="f-target-err" text={t(err)} /> : ''}
        </div>
      </div>
      <Field
        name="redirectUrl"
        type="url"
        label={t('capture.field.redirect')}
        hint={t('capture.field.redirect_hint')}
        form={form}
        t={t}
        placeholder="https://www.seusite.com.br/obrigado"
      />
      <TextArea
        name="allowedOrigins"
        label={t('capture.field.origins')}
        hint={t('capture.field.origins_hint')}
        form={form}
        t={t}
      />
    </>
  )
}

function ConnectionFields({ ui, form, editing }: { ui: Ui; form: FormState; editing: boolean }) {
  const { t } = ui
  const keep = editing ? t('capture.fb.keep_hint') : undefined
  return (
    <>
      <div class="form-row">
        <Field
          name="name"
          label={t('capture.fb.name')}
          form={form}
          t={t}
          required
          maxlength={80}
          placeholder={t('capture.fb.name_ph')}
        />
        <Field
          name="tags"
          label={t('capture.field.tags')}
          form={form}
          t={t}
          placeholder="facebook, anuncio"
        />
      </div>
      <div class="form-row">
        <Field
          name="appSecret"
          type="password"
          label={t('capture.fb.app_secret')}
          hint={keep}
          form={form}
          t={t}
          autocomplete="off"
        />
        <Field
          name="verifyToken"
          label={t('capture.fb.verify_token')}
          hint={keep ?? t('capture.fb.verify_hint')}
          form={form}
          t={t}
          autocomplete="off"
        />
      </div>
      <Field
        name="pageToken"
        type="password"
        label={t('capture.fb.page_token')}
        hint={keep ?? t('capture.fb.page_token_hint')}
        form={form}
        t={t}
        autocomplete="off"
      />
    </>
  )
}

// One source -------------------------------------------------------------------------------------

/** The copy-paste form for a website, with the honeypot field bots fill and people never see. */
export function captureSnippet(t: T, endpoint: string): string {
  return [
    `<form action="${endpoint}" method="post">`,
    `  <input name="nome" placeholder="${t('capture.snippet.name')}" required>`,
    `  <input name="email" type="email" placeholder="${t('capture.snippet.email')}">`,
    `  <input name="telefone" type="tel" placeholder="${t('capture.snippet.phone')}">`,
    `  <textarea name="mensagem" placeholder="${t('capture.snippet.message')}"></textarea>`,
    `  <!-- ${t('capture.snippet.honeypot')} -->`,
    `  <input name="_hp" tabindex="-1" autocomplete="off" aria-hidden="true" style="position:absolute;left:-9999px">`,
    `  <button type="submit">${t('capture.snippet.send')}</button>`,
    '</form>',
  ].join('\n')
}

export function captureCurl(endpoint: string): string {
  const body = JSON.stringify({
    nome: 'Maria da Silva',
    email: 'maria@example.com',
    telefone: '(11) 98765-4321',
    mensagem: 'Quero um orçamento',
  })
  return `curl -X POST '${endpoint}' \\\n  -H 'Content-Type: application/json' \\\n  -d '${body}'`
}

function CodeBlock({ ui, id, code, label }: { ui: Ui; id: string; code: string; label: string }) {
  const { t } = ui
  return (
    <section class="cap-code" aria-labelledby={`${id}-label`}>
      <div class="cap-code-head">
        <span id={`${id}-label`} safe>
          {label}
        </span>
        <button
          type="button"
          class="btn btn-sm"
          data-copy={code}
          data-copied={t('capture.copied')}
          aria-describedby={`${id}-label`}
          safe
        >
          {t('capture.copy')}
        </button>
      </div>
      <pre id={id}>
        <code safe>{code}</code>
      </pre>
    </section>
  )
}

export function SourcePage(p: {
  ui: Ui
  source: CaptureSource
  endpoint: string
  targets: TargetOption[]
  form: FormState
  review: number
}) {
  const { ui, source: s } = p
  const { t } = ui
  const activeChecked = (p.form.values.active ?? '') === 'on'
  return (
    <SettingsLayout ui={ui} tab="capture" title={s.name} subtitle={t('capture.source_subtitle')}>
      <CSS />
      <a class="back-link" href="/settings/capture">
        <span aria-hidden="true">←</span> <span safe>{t('capture.back')}</span>
      </a>
      <section class="card" aria-labelledby="install-title">
        <div class="card-head">
          <div>
            <h3 id="install-title" safe>
              {t('capture.install')}
            </h3>
            <p class="subtle" safe>
              {t('capture.install_hint')}
            </p>
          </div>
          <a class="btn btn-sm" href={`/settings/capture/${s.id}/submissions`}>
            <span safe>{t('capture.submissions')}</span>
            {p.review ? (
              <span class="badge badge-warn" safe>
                {String(p.review)}
              </span>
            ) : (
              ''
            )}
          </a>
        </div>
        <div class="card-body cap-install">
          <CopyField
            id="endpoint"
            label={t('capture.endpoint')}
            value={p.endpoint}
            t={t}
            testId="capture-endpoint"
          />
          <CodeBlock
            ui={ui}
            id="snippet-html"
            label={t('capture.snippet_title')}
            code={captureSnippet(t, p.endpoint)}
          />
          <CodeBlock
            ui={ui}
            id="snippet-curl"
            label={t('capture.curl_title')}
            code={captureCurl(p.endpoint)}
          />
          <p class="hint" safe>
            {t('capture.fields_hint')}
          </p>
          <form
            method="post"
            action={`/settings/capture/${s.id}/rotate`}
            data-confirm={t('capture.rotate_confirm')}
            class="cap-inline"
          >
            <button class="btn btn-sm" type="submit" safe>
              {t('capture.rotate')}
            </button>
            <span class="hint" safe>
              {t('capture.rotate_hint')}
            </span>
          </form>
        </div>
      </section>

      <section class="card" aria-labelledby="edit-title">
        <div class="card-head">
          <h3 id="edit-title" safe>
            {t('capture.settings')}
          </h3>
        </div>
        <form method="post" action={`/settings/capture/${s.id}`} class="card-body form-grid" novalidate>
          <SourceFields ui={ui} form={p.form} targets={p.targets} />
          <label class="check">
            <input type="checkbox" name="active" checked={activeChecked} />
            <span safe>{t('capture.field.active')}</span>
          </label>
          <div class="form-actions">
            <button class="btn btn-primary" type="submit" safe>
              {t('settings.save')}
            </button>
          </div>
        </form>
      </section>

      <section class="card cap-danger" aria-labelledby="delete-title">
        <div class="card-head">
          <div>
            <h3 id="delete-title" safe>
              {t('capture.delete')}
            </h3>
            <p class="subtle" safe>
              {t('capture.delete_hint')}
            </p>
          </div>
          <form
            method="post"
            action={`/settings/capture/${s.id}/delete`}
            data-confirm={t('capture.delete_confirm', { name: s.name })}
          >
            <button class="btn btn-sm btn-danger" type="submit" safe>
              {t('capture.delete')}
            </button>
          </form>
        </div>
      </section>
    </SettingsLayout>
  )
}

// Submissions ------------------------------------------------------------------------------------

const STATUS_CLASS: Record<string, string> = {
  processed: 'badge badge-ok',
  accepted: 'badge',
  rejected: 'badge badge-bad',
  spam: 'badge badge-warn',
}

/** The stored reasons (field -> message key) in the reader's language. */
export function reasonText(t: T, reasons: Record<string, string>): string {
  const known = (k: string) => (t(k as MessageKey) ? t(k as MessageKey) : k)
  return Object.entries(reasons)
    .filter(([f]) => f !== 'graph')
    .map(([f, k]) => (f === '_' ? known(k) : `${f}: ${known(k)}`))
    .concat(reasons.graph ? [`Graph API: ${reasons.graph}`] : [])
    .join(' · ')
}

export function SubmissionsPage(p: {
  ui: Ui
  title: string
  backHref: string
  baseHref: string
  filter: 'review' | 'all'
  rows: (CaptureSubmission & { reasons: Record<string, string> })[]
}) {
  const { ui } = p
  const { t } = ui
  const tz = ui.org?.timezone
  return (
    <SettingsLayout ui={ui} tab="capture" title={p.title} subtitle={t('capture.submissions_subtitle')}>
      <CSS />
      <a class="back-link" href={p.backHref}>
        <span aria-hidden="true">←</span> <span safe>{t('capture.back')}</span>
      </a>
      <nav class="chips" aria-label={t('capture.submissions')}>
        <a class="chip" href={p.baseHref} aria-current={p.filter === 'review' ? 'page' : undefined} safe>
          {t('capture.filter.review')}
        </a>
        <a
          class="chip"
          href={`${p.baseHref}?status=all`}
          aria-current={p.filter === 'all' ? 'page' : undefined}
          safe
        >
          {t('capture.filter.all')}
        </a>
      </nav>
      {p.rows.length ? (
        <ol class="cap-subs" data-testid="submissions">
          {p.rows.map((r) => (
            <li class="card cap-sub" data-status={r.status} id={`sub-${r.id}`}>
              <div class="cap-sub-head">
                <span class={STATUS_CLASS[r.status] ?? 'badge'} safe>
                  {t(`capture.status.${r.status}` as MessageKey)}
                </span>
                <span class="muted" safe>
                  {formatDate(r.receivedAt, ui.locale, tz)}
                </span>
                {r.remoteIp ? (
                  <span class="muted hide-sm" safe>
                    {r.remoteIp}
                  </span>
                ) : (
                  ''
                )}
                {r.leadId ? (
                  <a class="link" href={`/pipeline/leads/${r.leadId}`} safe>
                    {t('capture.open_lead')}
                  </a>
                ) : (
                  ''
                )}
              </div>
              {Object.keys(r.reasons).length ? (
                <p class="cap-reason" role="note" safe>
                  {reasonText(t, r.reasons)}
                </p>
              ) : (
                ''
              )}
              <dl class="cap-payload">
                {Object.entries(r.payload ?? {})
                  .slice(0, 40)
                  .map(([k, v]) => (
                    <div>
                      <dt safe>{k}</dt>
                      <dd safe>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
                    </div>
                  ))}
              </dl>
              {r.status === 'rejected' || r.status === 'spam' ? (
                <form method="post" action={`/settings/capture/submissions/${r.id}/retry`} class="cap-inline">
                  <button class="btn btn-sm btn-primary" type="submit" safe>
                    {r.connectionId ? t('capture.retry_fetch') : t('capture.retry')}
                  </button>
                </form>
              ) : (
                ''
              )}
            </li>
          ))}
        </ol>
      ) : (
        <div class="card card-body empty">
          <p class="muted" safe>
            {p.filter === 'review' ? t('capture.no_review') : t('capture.no_submissions')}
          </p>
        </div>
      )}
    </SettingsLayout>
  )
}

// Facebook connection -------------------------------------------------------------------------------

export function NewFacebookPage({ ui, form }: { ui: Ui; form: FormState }) {
  const { t } = ui
  return (
    <SettingsLayout ui={ui} tab="capture" title={t('capture.fb.connect')} subtitle={t('capture.fb.subtitle')}>
      <CSS />
      <a class="back-link" href="/settings/capture">
        <span aria-hidden="true">←</span> <span safe>{t('capture.back')}</span>
      </a>
      <section class="card">
        <form method="post" action="/settings/capture/facebook" class="card-body form-grid" novalidate>
          <FormAlert form={form} t={t} />
          <ConnectionFields ui={ui} form={form} editing={false} />
          <div class="form-actions">
            <button class="btn btn-primary" type="submit" safe>
              {t('capture.fb.connect')}
            </button>
          </div>
        </form>
      </section>
    </SettingsLayout>
  )
}

export function FacebookPage(p: {
  ui: Ui
  connection: FacebookConnection
  webhookUrl: string
  verifyToken: string
  form: FormState
  review: number
}) {
  const { ui, connection: c } = p
  const { t } = ui
  return (
    <SettingsLayout ui={ui} tab="capture" title={c.name} subtitle={t('capture.fb.title')}>
      <CSS />
      <a class="back-link" href="/settings/capture">
        <span aria-hidden="true">←</span> <span safe>{t('capture.back')}</span>
      </a>
      <section class="card" aria-labelledby="fb-setup">
        <div class="card-head">
          <div>
            <h3 id="fb-setup" safe>
              {t('capture.fb.setup')}
            </h3>
            <p class="subtle" safe>
              {t('capture.fb.setup_hint')}
            </p>
          </div>
          <a class="btn btn-sm" href={`/settings/capture/facebook/${c.id}/submissions`}>
            <span safe>{t('capture.submissions')}</span>
            {p.review ? (
              <span class="badge badge-warn" safe>
                {String(p.review)}
              </span>
            ) : (
              ''
            )}
          </a>
        </div>
        <div class="card-body cap-install">
          <CopyField id="fb-url" label={t('capture.fb.callback')} value={p.webhookUrl} t={t} />
          <CopyField id="fb-verify" label={t('capture.fb.verify_token')} value={p.verifyToken} t={t} />
        </div>
      </section>
      <section class="card" aria-labelledby="fb-edit">
        <div class="card-head">
          <h3 id="fb-edit" safe>
            {t('capture.settings')}
          </h3>
        </div>
        <form
          method="post"
          action={`/settings/capture/facebook/${c.id}`}
          class="card-body form-grid"
          novalidate
        >
          <FormAlert form={p.form} t={t} />
          <ConnectionFields ui={ui} form={p.form} editing />
          <label class="check">
            <input type="checkbox" name="active" checked={(p.form.values.active ?? '') === 'on'} />
            <span safe>{t('capture.field.active')}</span>
          </label>
          <div class="form-actions">
            <button class="btn btn-primary" type="submit" safe>
              {t('settings.save')}
            </button>
          </div>
        </form>
      </section>
      <section class="card cap-danger" aria-labelledby="fb-delete">
        <div class="card-head">
          <div>
            <h3 id="fb-delete" safe>
              {t('capture.fb.delete')}
            </h3>
            <p class="subtle" safe>
              {t('capture.delete_hint')}
            </p>
          </div>
          <form
            method="post"
            action={`/settings/capture/facebook/${c.id}/delete`}
            data-confirm={t('capture.delete_confirm', { name: c.name })}
          >
            <button class="btn btn-sm btn-danger" type="submit" safe>
              {t('capture.fb.delete')}
            </button>
          </form>
        </div>
      </section>
    </SettingsLayout>
  )
}
