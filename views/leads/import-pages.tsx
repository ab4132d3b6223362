/**
 * CSV import pages: upload + history (/leads/import), column mapping with a live preview
 * (/leads/import/:id while a draft), then the same URL shows the live progress and the report.
 * Pure views: the routes pass everything in.
 */
import type {
  CustomFieldRef,
  FormatChoice,
  ImportSettings,
  PreviewRow,
  Progress,
  StageRef,
} from '../../src/modules/leads/leads.import'
import { BASE_TARGETS } from '../../src/modules/leads/leads.import'
import type { LeadImport, RowReasons } from '../../src/modules/leads/leads.import.table'
import type { FormError } from '../../src/platform/http/errors'
import type { MessageKey, T } from '../../src/shared/i18n'
import { formatPhone } from '../../src/shared/phone'
import { FieldError } from '../components/form'
import { Icon } from '../components/icon'
import { AppShell } from '../layouts/app-shell'
import { formatDate, type Ui } from '../ui'

export const importUrl = (id: string) => `/leads/import/${id}`

const num = (ui: Ui, n: number) => new Intl.NumberFormat(ui.locale).format(n)

/** A reason's text: our keys or the capture's (FormError keys), with their parameters. */
export function reasonText(t: T, r: RowReasons[string]): string {
  const text = t(r.key as MessageKey, r.params)
  return text === undefined ? r.key : text
}

export const reasonsText = (t: T, reasons: RowReasons) =>
  Object.values(reasons)
    .map((r) => reasonText(t, r))
    .join('; ')

function columnLabel(t: T, headers: string[], i: number) {
  return headers[i] || t('import.unnamed_column', { n: i + 1 })
}

function targetLabel(t: T, target: string, customs: CustomFieldRef[]) {
  if (target.startsWith('custom.')) return customs.find((c) => `custom.${c.key}` === target)?.label ?? target
  return t(`import.field.${target}` as MessageKey)
}

function StatusBadge({ ui, status }: { ui: Ui; status: LeadImport['status'] }) {
  const cls =
    status === 'completed' ? 'state-completed' : status === 'failed' ? 'state-failed' : 'state-running'
  return (
    <span class={`badge ${cls}`} style="margin:0" safe>
      {ui.t(`import.status.${status}`)}
    </span>
  )
}

// Upload + history --------------------------------------------------------------------------------

export interface ImportIndexProps {
  ui: Ui
  imports: { imp: LeadImport; byName: string | null }[]
  maxMb: number
  error?: FormError | null
}

export function ImportIndexPage({ ui, imports, maxMb, error }: ImportIndexProps) {
  const { t } = ui
  const fileErr = error?.fields.file
  return (
    <AppShell ui={ui} title={t('import.title')}>
      <div class="page-head">
        <div class="titles">
          <h1 safe>{t('import.title')}</h1>
          <p class="muted" safe>
            {t('import.subtitle')}
          </p>
        </div>
        <a class="btn" href="/leads/export.csv" hx-boost="false" download="">
          <Icon name="arrowRight" />
          <span safe>{t('import.export_all')}</span>
        </a>
      </div>
      <section class="card">
        <form
          class="card-body import-upload"
          method="post"
          action="/leads/import"
          enctype="multipart/form-data"
          x-data={`{ over: false, name: '', tooBig: false, busy: false, max: ${maxMb * 1024 * 1024} }`}
          {...{ 'x-on:submit': 'if (tooBig || !name) { $event.preventDefault() } else { busy = true }' }}
        >
          <h2 class="import-h2" safe>
            {t('import.upload_title')}
          </h2>
          <label
            class="dropzone"
            for="import-file"
            x-bind:class="over && 'over'"
            {...{
              'x-on:dragover.prevent': 'over = true',
              'x-on:dragleave.prevent': 'over = false',
              'x-on:drop.prevent':
                "over = false; const f = $event.dataTransfer.files[0]; if (f) { const dt = new DataTransfer(); dt.items.add(f); $refs.file.files = dt.files; $refs.file.dispatchEvent(new Event('change')) }",
            }}
          >
            <span class="dropzone-icon" aria-hidden="true">
              <Icon name="plus" />
            </span>
            <span class="dropzone-title" safe>
              {t('import.drop')}
            </span>
            <span class="link" safe>
              {t('import.choose')}
            </span>
            <span class="hint" id="import-file-hint" safe>
              {t('import.drop_hint', { max: maxMb })}
            </span>
            <span class="dropzone-file" x-show="name" x-cloak>
              <span safe>{t('import.selected')}</span> <strong x-text="name"></strong>
            </span>
          </label>
          <input
            id="import-file"
            class="sr-only"
            type="file"
            name="file"
            accept=".csv,.txt,text/csv"
            required
            x-ref="file"
            aria-describedby={fileErr ? 'import-file-err import-file-hint' : 'import-file-hint'}
            aria-invalid={fileErr ? 'true' : undefined}
            {...{
              'x-on:change':
                "const f = $event.target.files[0]; name = f ? f.name : ''; tooBig = !!f && f.size > max",
            }}
          />
          <p class="field-error" role="alert" x-show="tooBig" x-cloak safe>
            {t('import.error.too_large', { max: maxMb })}
          </p>
          {fileErr ? <FieldError id="import-file-err" text={t(fileErr, error?.params.file)} /> : ''}
          <div class="form-actions">
            <button class="btn btn-primary" type="submit" x-bind:disabled="busy || tooBig">
              <span x-show="!busy" safe>
                {t('import.upload')}
              </span>
              <span x-show="busy" x-cloak safe>
                {t('import.uploading')}
              </span>
            </button>
          </div>
        </form>
      </section>
      <section class="card" aria-labelledby="import-history">
        <div class="card-head">
          <h2 id="import-history" class="import-h2" safe>
            {t('import.history')}
          </h2>
        </div>
        {imports.length ? (
          <div class="table-wrap">
            <table class="table table-stack" data-testid="import-history">
              <thead>
                <tr>
                  <th safe>{t('import.col.file')}</th>
                  <th safe>{t('import.col.status')}</th>
                  <th class="hide-sm" safe>
                    {t('import.col.result')}
                  </th>
                  <th safe>{t('import.col.when')}</th>
                </tr>
              </thead>
              <tbody>
                {imports.map(({ imp, byName }) => (
                  <tr>
                    <td class="cell-main">
                      <a class="link" href={importUrl(imp.id)} safe>
                        {imp.filename}
                      </a>
                      <div class="subtle import-sub" safe>
                        {`${num(ui, imp.totalRows)} ${t('import.col.rows').toLowerCase()} · ${
                          imp.channel === 'cli' ? t('import.by_cli') : (byName ?? '')
                        }`}
                      </div>
                    </td>
                    <td>
                      <StatusBadge ui={ui} status={imp.status} />
                    </td>
                    <td class="hide-sm muted" safe>
                      {imp.status === 'draft'
                        ? ''
                        : t('import.result_short', {
                            created: num(ui, imp.createdCount),
                            merged: num(ui, imp.mergedCount),
                            flagged: num(ui, imp.flaggedCount),
                            rejected: num(ui, imp.rejectedCount),
                          })}
                    </td>
                    <td class="cell-date muted" safe>
                      {formatDate(imp.createdAt, ui.locale, ui.org?.timezone)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <div class="card-body muted" safe>
            {t('import.history_empty')}
          </div>
        )}
      </section>
    </AppShell>
  )
}

// Mapping ------------------------------------------------------------------------------------------

export interface MappingProps {
  ui: Ui
  imp: LeadImport
  settings: ImportSettings
  customs: CustomFieldRef[]
  stages: StageRef[]
  preview: PreviewRow[]
  /** The first non-empty value of each column, from the preview rows. */
  samples: string[]
  country: string
  /** The encoding and separator selects ('auto' while they are what detection found). */
  format: FormatChoice
  /** The file was just read again with another format: say so (the columns may have changed). */
  formatChanged?: boolean
  error?: FormError | null
}

const delimName = (d: string) => (d === ';' ? 'semicolon' : d === ',' ? 'comma' : 'tab')
const encodingLabel = (e: string) => (e === 'utf-8' ? 'UTF-8' : 'Latin-1 (Windows-1252)')

/**
 * Encoding and separator, for when detection was wrong. A change re-reads the stored file (htmx:
 * the whole mapping is swapped, as the columns may change); without JS, "Read again" submits.
 */
function FormatCard({ ui, imp, format, error }: MappingProps) {
  const { t } = ui
  const url = importUrl(imp.id)
  const detectedEnc = imp.detectedEncoding ?? imp.encoding
  const detectedDelim = imp.detectedDelimiter ?? imp.delimiter
  const encErr = error?.fields.encoding
  const delimErr = error?.fields.delimiter
  return (
    <section
      class="card import-format"
      aria-labelledby="format-title"
      hx-post={`${url}/preview`}
      hx-trigger="change"
      hx-include="#mapping-form"
      hx-target="#import-mapping"
      hx-select="#import-mapping"
      hx-swap="outerHTML"
      hx-push-url="false"
    >
      <div class="card-body format-body">
        <div class="format-titles">
          <h2 id="format-title" class="import-h2" safe>
            {t('import.format_title')}
          </h2>
          <p class="hint" safe>
            {t('import.format_hint')}
          </p>
        </div>
        <div class="field format-field">
          <label for="f-encoding" safe>
            {t('import.encoding')}
          </label>
          <select
            class="input"
            id="f-encoding"
            name="encoding"
            data-testid="format-encoding"
            aria-invalid={encErr ? 'true' : undefined}
            aria-describedby={encErr ? 'f-encoding-err' : undefined}
          >
            <option value="auto" selected={format.encoding === 'auto'} safe>
              {t('import.format.auto', { value: encodingLabel(detectedEnc) })}
            </option>
            <option value="utf-8" selected={format.encoding === 'utf-8'} safe>
              {t('import.encoding.utf8')}
            </option>
            <option value="windows-1252" selected={format.encoding === 'windows-1252'} safe>
              {t('import.encoding.latin1')}
            </option>
          </select>
          {encErr ? <FieldError id="f-encoding-err" text={t(encErr)} /> : ''}
        </div>
        <div class="field format-field">
          <label for="f-delimiter" safe>
            {t('import.delimiter')}
          </label>
          <select
            class="input"
            id="f-delimiter"
            name="delimiter"
            data-testid="format-delimiter"
            aria-invalid={delimErr ? 'true' : undefined}
            aria-describedby={delimErr ? 'f-delimiter-err' : undefined}
          >
            <option value="auto" selected={format.delimiter === 'auto'} safe>
              {t('import.format.auto', { value: t(`import.delim_opt.${delimName(detectedDelim)}`) })}
            </option>
            <option value=";" selected={format.delimiter === ';'} safe>
              {t('import.delim_opt.semicolon')}
            </option>
            <option value="," selected={format.delimiter === ','} safe>
              {t('import.delim_opt.comma')}
            </option>
            <option value="tab" selected={format.delimiter === '\t'} safe>
              {t('import.delim_opt.tab')}
            </option>
          </select>
          {delimErr ? <FieldError id="f-delimiter-err" text={t(delimErr)} /> : ''}
        </div>
        <button class="btn format-apply" type="submit" formaction={`${url}/preview`} safe>
          {t('import.format_apply')}
        </button>
      </div>
      {error?.fields.file ? (
        <div class="card-body" style="padding-top:0">
          <div class="alert alert-error" role="alert" safe>
            {t(error.fields.file, error.params.file)}
          </div>
        </div>
      ) : (
        ''
      )}
    </section>
  )
}

export function MappingPage(p: MappingProps) {
  const { ui, imp, settings, customs, stages, error } = p
  const { t } = ui
  const url = importUrl(imp.id)
  const delim = delimName(imp.delimiter)
  const target = settings.pipelineId ? `${settings.pipelineId}:${settings.stageId ?? ''}` : ''
  const pipelines = [...new Map(stages.map((s) => [s.pipelineId, s.pipelineName])).entries()]
  return (
    <AppShell ui={ui} title={t('import.title')}>
      <div id="import-mapping" class="import-mapping">
        <div class="page-head">
          <div class="titles">
            <a class="link import-back" href="/leads/import" safe>
              {`← ${t('import.back')}`}
            </a>
            <h1 safe>{t('import.map_title', { file: imp.filename })}</h1>
            <p class="muted" safe>
              {t('import.file_summary', {
                rows: num(ui, imp.totalRows),
                encoding: encodingLabel(imp.encoding),
                delimiter: t(`import.delim.${delim}`),
              })}
            </p>
          </div>
        </div>
        {p.formatChanged ? (
          <div class="alert alert-info" role="status" data-testid="format-changed" safe>
            {t('import.format_changed')}
          </div>
        ) : (
          ''
        )}
        <form method="post" action={`${url}/start`} class="import-form" id="mapping-form">
          <FormatCard {...p} />
          <div
            class="import-grid"
            hx-post={`${url}/preview`}
            hx-trigger="change delay:150ms"
            hx-include="#mapping-form"
            hx-target="#import-preview"
            hx-select="#import-preview"
            hx-swap="outerHTML"
            hx-push-url="false"
          >
            <section class="card" aria-labelledby="cols-title">
              <div class="card-head">
                <div>
                  <h2 id="cols-title" class="import-h2" safe>
                    {t('import.columns_title')}
                  </h2>
                  <p class="hint" safe>
                    {t('import.columns_hint')}
                  </p>
                </div>
              </div>
              {error?.fields.mapping ? (
                <div class="card-body" style="padding-bottom:0">
                  <div class="alert alert-error" role="alert" id="mapping-err" safe>
                    {t(error.fields.mapping, error.params.mapping)}
                  </div>
                </div>
              ) : (
                ''
              )}
              <div class="table-wrap">
                <table class="table map-table">
                  <thead>
                    <tr>
                      <th safe>{t('import.col.column')}</th>
                      <th class="hide-sm" safe>
                        {t('import.col.sample')}
                      </th>
                      <th safe>{t('import.col.field')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {imp.headers.map((_, i) => {
                      const label = columnLabel(t, imp.headers, i)
                      const current = settings.mapping[i] ?? ''
                      return (
                        <tr class={current ? 'mapped' : 'unmapped'}>
                          <td>
                            <label for={`map-${i}`} class="map-col" safe>
                              {label}
                            </label>
                            <div class="subtle map-sample-sm truncate" safe>
                              {p.samples[i] ?? ''}
                            </div>
                          </td>
                          <td class="hide-sm subtle truncate map-sample" safe>
                            {p.samples[i] ?? ''}
                          </td>
                          <td>
                            <select class="input" id={`map-${i}`} name={`map.${i}`} data-testid={`map-${i}`}>
                              <option value="" selected={!current} safe>
                                {t('import.field.ignore')}
                              </option>
                              <optgroup label={t('import.base_group')}>
                                {BASE_TARGETS.map((f) => (
                                  <option value={f} selected={current === f} safe>
                                    {t(`import.field.${f}`)}
                                  </option>
                                ))}
                              </optgroup>
                              {customs.length ? (
                                <optgroup label={t('import.custom_group')}>
                                  {customs.map((c) => (
                                    <option
                                      value={`custom.${c.key}`}
                                      selected={current === `custom.${c.key}`}
                                      safe
                                    >
                                      {c.label}
                                    </option>
                                  ))}
                                </optgroup>
                              ) : (
                                ''
                              )}
                            </select>
                          </td>
                        </tr>
                      )
                    })}
                  </tbody>
                </table>
              </div>
            </section>
            <section class="card" aria-labelledby="opts-title">
              <div class="card-head">
                <h2 id="opts-title" class="import-h2" safe>
                  {t('import.options_title')}
                </h2>
              </div>
              <div class="card-body form-grid">
                <fieldset class="import-fieldset">
                  <legend class="label" safe>
                    {t('import.dedup')}
                  </legend>
                  {(['auto', 'review', 'off'] as const).map((mode) => (
                    <label class="radio-card">
                      <input type="radio" name="dedup" value={mode} checked={settings.dedup === mode} />
                      <span>
                        <span class="radio-title" safe>
                          {t(`import.dedup.${mode}`)}
                        </span>
                        <span class="hint" safe>
                          {t(`import.dedup.${mode}_hint`)}
                        </span>
                      </span>
                    </label>
                  ))}
                </fieldset>
                <div class="field">
                  <label for="f-target" safe>
                    {t('import.target')}
                  </label>
                  <select
                    class="input"
                    id="f-target"
                    name="target"
                    aria-invalid={error?.fields.target ? 'true' : undefined}
                  >
                    <option value="" selected={!target} safe>
                      {t('import.target_default')}
                    </option>
                    {pipelines.map(([pid, pname]) => (
                      <optgroup label={pname}>
                        {stages
                          .filter((s) => s.pipelineId === pid)
                          .map((s) => (
                            <option
                              value={`${pid}:${s.stageId}`}
                              selected={target === `${pid}:${s.stageId}`}
                              safe
                            >
                              {`${pname} › ${s.stageName}`}
                            </option>
                          ))}
                      </optgroup>
                    ))}
                  </select>
                  {error?.fields.target ? <FieldError id="f-target-err" text={t(error.fields.target)} /> : ''}
                </div>
                <div class="field">
                  <label for="f-defaultSource" safe>
                    {t('import.default_source')}
                  </label>
                  <input
                    class="input"
                    id="f-defaultSource"
                    name="defaultSource"
                    maxlength={60}
                    value={settings.defaultSource ?? ''}
                    aria-describedby="f-defaultSource-hint"
                  />
                  <p class="hint" id="f-defaultSource-hint" safe>
                    {t('import.default_source_hint')}
                  </p>
                  {error?.fields.defaultSource ? (
                    <FieldError id="f-defaultSource-err" text={t(error.fields.defaultSource)} />
                  ) : (
                    ''
                  )}
                </div>
                <div class="field">
                  <label for="f-defaultTags" safe>
                    {t('import.default_tags')}
                  </label>
                  <input
                    class="input"
                    id="f-defaultTags"
                    name="defaultTags"
                    value={settings.defaultTags.join(', ')}
                    aria-describedby="f-defaultTags-hint"
                  />
                  <p class="hint" id="f-defaultTags-hint" safe>
                    {t('import.default_tags_hint')}
                  </p>
                </div>
              </div>
            </section>
          </div>
          <ImportPreview {...p} />
          <div class="form-actions import-actions">
            <button class="btn" type="submit" formaction={`${url}/preview`} safe>
              {t('import.preview_refresh')}
            </button>
            <button class="btn btn-primary" type="submit" data-testid="start-import">
              <span safe>{t('import.start', { rows: num(ui, imp.totalRows) })}</span>
              <Icon name="arrowRight" />
            </button>
          </div>
        </form>
      </div>
    </AppShell>
  )
}

/** The preview table: one column per mapped field, invalid cells marked with their reason. */
export function ImportPreview({ ui, imp, settings, customs, preview, country }: MappingProps) {
  const { t } = ui
  const targets = [...new Set(settings.mapping.filter(Boolean))].filter((x) => x !== 'lastName')
  const hasName = targets.includes('fullName')
  const fieldOf: Record<string, keyof PreviewRow['mapped']['input']> = {
    fullName: 'fullName',
    email: 'email',
    phone: 'phone',
    company: 'company',
    jobTitle: 'jobTitle',
    value: 'value',
    source: 'source',
    note: 'note',
  }
  const hasOwner = targets.includes('owner')
  return (
    <section class="card" id="import-preview" aria-labelledby="preview-title" aria-live="polite">
      <div class="card-head">
        <div>
          <h2 id="preview-title" class="import-h2" safe>
            {t('import.preview_title')}
          </h2>
          <p class="hint" safe>
            {t('import.preview_hint')}
          </p>
          {hasOwner ? (
            <p class="hint" safe>
              {t('import.owner_hint')}
            </p>
          ) : (
            ''
          )}
        </div>
      </div>
      {!hasName ? (
        <div class="card-body muted" safe>
          {t('import.preview_nothing')}
        </div>
      ) : (
        <div class="table-wrap preview-wrap">
          <table class="table preview-table" data-testid="preview">
            <thead>
              <tr>
                <th safe>{t('import.row')}</th>
                {targets.map((f) => (
                  <th safe>{targetLabel(t, f, customs)}</th>
                ))}
                <th>
                  <span class="sr-only" safe>
                    {t('import.col.status')}
                  </span>
                </th>
              </tr>
            </thead>
            <tbody>
              {preview.map((row) => {
                const { input, reasons, phoneE164 } = row.mapped
                const bad = Object.keys(reasons).length > 0
                const ownerMiss = hasOwner && row.owner && 'reason' in row.owner ? row.owner.reason : null
                return (
                  <tr class={bad ? 'row-bad' : ''}>
                    <td class="muted">{row.n + 1}</td>
                    {targets.map((f) => {
                      const reason = reasons[f]
                      let value: string
                      if (f === 'owner') {
                        const o = row.owner
                        return (
                          <td class={o && 'reason' in o ? 'cell-warn' : ''}>
                            <span class="preview-value" safe>
                              {o && 'owner' in o ? o.owner.name : (row.mapped.ownerText ?? '')}
                            </span>
                            {o && 'owner' in o ? (
                              <span class="subtle preview-orig" safe>
                                {o.owner.email}
                              </span>
                            ) : (
                              ''
                            )}
                            {o && 'reason' in o ? (
                              <span class="cell-reason cell-reason-warn" safe>
                                {reasonText(t, o.reason)}
                              </span>
                            ) : (
                              ''
                            )}
                          </td>
                        )
                      }
                      if (f === 'tags') value = (input.tags ?? []).join(', ')
                      else if (f.startsWith('custom.')) value = String(input.custom?.[f.slice(7)] ?? '')
                      else if (f === 'phone' && phoneE164) value = formatPhone(phoneE164, country)
                      else value = String(input[fieldOf[f]!] ?? '')
                      return (
                        <td class={reason ? 'cell-bad' : ''}>
                          <span class="preview-value" safe>
                            {value}
                          </span>
                          {f === 'phone' && phoneE164 && input.phone !== value ? (
                            <span class="subtle preview-orig" safe>
                              {input.phone ?? ''}
                            </span>
                          ) : (
                            ''
                          )}
                          {reason ? (
                            <span class="cell-reason" safe>
                              {reasonText(t, reason)}
                            </span>
                          ) : (
                            ''
                          )}
                        </td>
                      )
                    })}
                    <td>
                      {bad ? (
                        <span class="badge state-failed" style="margin:0" safe>
                          {t('import.row_rejected')}
                        </span>
                      ) : ownerMiss ? (
                        <span class="badge state-running" style="margin:0" safe>
                          {t('import.row_warning')}
                        </span>
                      ) : (
                        <span class="badge state-completed" style="margin:0" safe>
                          {t('import.row_ok')}
                        </span>
                      )}
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
      <input type="hidden" name="_rows" value={String(imp.totalRows)} />
    </section>
  )
}

// Progress and report -------------------------------------------------------------------------------

export interface StatusProps {
  ui: Ui
  imp: LeadImport
  rows: {
    rowNumber: number
    outcome: 'created' | 'merged' | 'flagged' | 'rejected'
    leadId: string | null
    reasons: RowReasons
    name: string
  }[]
  /** The next page of report rows (`?after=`), when there is one. */
  nextAfter: number | null
}

const pct = (p: Pick<Progress, 'processed' | 'total' | 'status'>) =>
  p.status === 'completed' ? 100 : p.total ? Math.min(100, Math.floor((p.processed * 100) / p.total)) : 0

export function ImportStatusPage(p: StatusProps) {
  const { ui } = p
  return (
    <AppShell ui={ui} title={ui.t('import.title')}>
      <ImportMain {...p} />
    </AppShell>
  )
}

export function ImportMain({ ui, imp, rows, nextAfter }: StatusProps) {
  const { t } = ui
  const url = importUrl(imp.id)
  const done = imp.status === 'completed' || imp.status === 'failed'
  const percent = pct({ processed: imp.processedRows, total: imp.totalRows, status: imp.status })
  const counts = [
    ['created', imp.createdCount],
    ['merged', imp.mergedCount],
    ['flagged', imp.flaggedCount],
    ['rejected', imp.rejectedCount],
  ] as const
  return (
    <div id="import-main" class="import-main" data-import-live={done ? undefined : imp.id} data-url={url}>
      <div class="page-head">
        <div class="titles">
          <a class="link import-back" href="/leads/import" safe>
            {`← ${t('import.back')}`}
          </a>
          <h1 safe>
            {done
              ? t('import.report_title', { file: imp.filename })
              : t('import.progress_title', { file: imp.filename })}
          </h1>
          <p class="muted" safe>
            {done && imp.finishedAt
              ? t('import.report_done', {
                  when: formatDate(imp.finishedAt, ui.locale, ui.org?.timezone),
                  rows: num(ui, imp.totalRows),
                })
              : imp.status === 'queued'
                ? t('import.queued_hint')
                : t('import.progress_hint')}
          </p>
        </div>
        <StatusBadge ui={ui} status={imp.status} />
      </div>
      <section class="card card-body import-progress">
        <div class="progress-line">
          <span class="label" id="import-progress-label" safe>
            {t('import.progress_label')}
          </span>
          <span class="muted progress-rows">
            <span data-count="percent">{percent}</span>
            {'% · '}
            <span data-count="processed" safe>
              {num(ui, imp.processedRows)}
            </span>
            <span safe>{` / ${num(ui, imp.totalRows)} ${t('import.rows_unit')}`}</span>
          </span>
        </div>
        <div
          class={`progress${imp.status === 'failed' ? ' progress-failed' : ''}`}
          role="progressbar"
          aria-labelledby="import-progress-label"
          aria-valuemin="0"
          aria-valuemax="100"
          aria-valuenow={String(percent)}
          data-testid="import-progress"
        >
          <div class="progress-bar" style={`width:${percent}%`}></div>
        </div>
        <div class="import-stats">
          {counts.map(([k, n]) => (
            <div class={`import-stat stat-${k}`}>
              <span class="value" data-count={k} safe>
                {num(ui, n)}
              </span>
              <span class="muted" safe>
                {t(`import.result.${k}`)}
              </span>
            </div>
          ))}
        </div>
      </section>
      {imp.status === 'failed' ? (
        <div class="alert alert-error" role="alert" safe>
          {t('import.failed', { error: imp.error ?? '' })}
        </div>
      ) : (
        ''
      )}
      {done ? <ReportRows ui={ui} imp={imp} rows={rows} nextAfter={nextAfter} /> : ''}
    </div>
  )
}

function ReportRows({ ui, imp, rows, nextAfter }: StatusProps) {
  const { t } = ui
  const url = importUrl(imp.id)
  return (
    <section class="card" aria-labelledby="report-title">
      <div class="card-head">
        <h2 id="report-title" class="import-h2" safe>
          {t('import.report_rows')}
        </h2>
        <a
          class="btn btn-sm"
          href={`${url}/report.csv`}
          hx-boost="false"
          download=""
          data-testid="report-download"
        >
          <span safe>{t('import.report_download')}</span>
        </a>
      </div>
      {rows.length ? (
        <div class="table-wrap">
          <table class="table table-stack" data-testid="report-rows">
            <thead>
              <tr>
                <th safe>{t('import.report.col.row')}</th>
                <th safe>{t('import.report.col.name')}</th>
                <th safe>{t('import.report.col.outcome')}</th>
                <th safe>{t('import.report.col.reasons')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr>
                  <td class="muted">{r.rowNumber + 1}</td>
                  <td class="cell-main">
                    {r.leadId ? (
                      <a class="link" href={`/pipeline/leads/${r.leadId}`} safe>
                        {r.name || t('import.open_lead')}
                      </a>
                    ) : (
                      <span safe>{r.name || '—'}</span>
                    )}
                  </td>
                  <td>
                    <span
                      class={`badge ${r.outcome === 'rejected' ? 'state-failed' : r.outcome === 'merged' || r.outcome === 'created' ? 'state-completed' : 'state-running'}`}
                      style="margin:0"
                      safe
                    >
                      {t(`import.outcome.${r.outcome}`)}
                    </span>
                  </td>
                  <td class="muted" safe>
                    {reasonsText(t, r.reasons)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <div class="card-body muted" safe>
          {t('import.report_empty')}
        </div>
      )}
      {nextAfter !== null ? (
        <div class="card-body" style="padding-top:12px">
          <a class="btn btn-sm" href={`${url}?after=${nextAfter}`} safe>
            {t('import.report_more')}
          </a>
        </div>
      ) : (
        ''
      )}
    </section>
  )
}
