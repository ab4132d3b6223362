/**
 * The composer's WhatsApp-specific parts (views/inbox/inbox-page.tsx places them): the template
 * picker (approved templates of the channel, synced from Meta: name, language, a live preview of
 * the body with the values typed for its parameters), its free-text fallback for channels without
 * synced templates, the "sending paused" note of a channel being switched or disconnected (refreshed
 * live), and the bulk-send warning of WhatsApp Web channels with its "Send anyway" button.
 * Pure views. Without JavaScript every template's fields show (each under its name) and only the
 * chosen one's are used; Alpine shows just the chosen one and previews it as the rep types.
 */

import pause from 'lucide-static/dist/esm/icons/circle-pause.mjs'
import tplIcon from 'lucide-static/dist/esm/icons/file-text.mjs'
import alert from 'lucide-static/dist/esm/icons/triangle-alert.mjs'
import type { ConversationSummary } from '../../src/modules/inbox/inbox.usecases'
import { paramField, type TemplateOption } from '../../src/modules/whatsapp/whatsapp.templates'
import type { MessageKey } from '../../src/shared/i18n'
import { iconSet } from '../components/icon'
import type { Ui } from '../ui'

const TIcon = iconSet({ alert, pause, tpl: tplIcon })

/** What the composer keeps after a refused template send: the choice and the values typed. */
export interface TemplateChoice {
  id: string
  values: Record<string, string>
  error?: { key: MessageKey; params?: Record<string, string | number> }
}

/** Placeholders as Meta writes them: {{1}}, {{first_name}}. */
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g
const fill = (body: string, values: Record<string, string>) =>
  body.replace(PLACEHOLDER, (m, k: string) => values[k]?.trim() || m)
const PREVIEW_JS =
  "body.replace(/\\{\\{\\s*([A-Za-z0-9_]+)\\s*\\}\\}/g, (m, k) => ((v[k] || '').trim() || m))"

/**
 * Outside the 24-hour window: the notice and the picker (open), or the free-text form when the
 * channel has no synced templates. Inside it: the picker behind a "Template" button, when there
 * are templates.
 */
export function TemplateArea(p: {
  ui: Ui
  action: string
  windowOpen: boolean
  templates: TemplateOption[]
  chosen?: TemplateChoice
}) {
  const { ui, templates } = p
  const { t } = ui
  if (p.windowOpen && !templates.length) return ''
  const picker = templates.length ? (
    <TemplatePicker ui={ui} action={p.action} templates={templates} chosen={p.chosen} open={!p.windowOpen} />
  ) : (
    <FreeTextTemplateForm ui={ui} action={p.action} />
  )
  if (p.windowOpen) return picker
  return (
    <div class="alert alert-info window-note" role="status" data-testid="window-closed">
      <span safe>{t('inbox.window_closed')}</span>
      {picker}
    </div>
  )
}

function TemplatePicker(p: {
  ui: Ui
  action: string
  templates: TemplateOption[]
  chosen?: TemplateChoice
  open: boolean
}) {
  const { ui } = p
  const { t } = ui
  const chosenId = p.templates.some((x) => x.id === p.chosen?.id) ? p.chosen!.id : ''
  return (
    <details class="tpl-picker" open={p.open || !!p.chosen || undefined} data-testid="tpl-picker">
      <summary class="btn btn-sm btn-ghost tpl-summary" data-testid="tpl-open">
        <TIcon name="tpl" />
        <span safe>{t('inbox.templates.open')}</span>
      </summary>
      <form
        method="post"
        action={p.action}
        class="tpl-form"
        novalidate
        x-data={`{ tpl: ${JSON.stringify(chosenId)} }`}
        data-testid="tpl-form"
        aria-label={t('inbox.templates.picker')}
      >
        <p class="tpl-title" safe>
          {t('inbox.templates.picker')}
        </p>
        {p.chosen?.error ? (
          <p class="field-error" role="alert" id="tpl-error" safe>
            {t(p.chosen.error.key, p.chosen.error.params)}
          </p>
        ) : (
          ''
        )}
        <div class="field">
          <label for="tpl-id" safe>
            {t('inbox.templates.choose')}
          </label>
          <select class="input input-sm" id="tpl-id" name="templateId" x-model="tpl" data-testid="tpl-select">
            <option value="" safe>
              {t('inbox.templates.choose_placeholder')}
            </option>
            {p.templates.map((x) => (
              <option value={x.id} selected={x.id === chosenId} safe>
                {`${x.name} · ${x.language}`}
              </option>
            ))}
          </select>
        </div>
        {p.templates.map((x) => {
          const values = x.id === chosenId ? (p.chosen?.values ?? {}) : {}
          const model = JSON.stringify(Object.fromEntries(x.params.map((k) => [k, values[k] ?? ''])))
          return (
            <fieldset
              class="tpl-fields"
              data-template={x.id}
              x-show={`tpl === ${JSON.stringify(x.id)}`}
              x-bind:disabled={`tpl !== ${JSON.stringify(x.id)}`}
              x-data={`{ body: $el.dataset.body, v: ${model} }`}
              data-body={x.body}
            >
              <legend class="tpl-legend">
                <TemplateTitle name={x.name} language={x.language} category={x.category} />
              </legend>
              <div class="tpl-preview" data-testid="tpl-preview">
                <span class="tpl-preview-label subtle" safe>
                  {t('inbox.templates.preview')}
                </span>
                <p class="tpl-preview-text" x-text={PREVIEW_JS} safe>
                  {fill(x.body, values)}
                </p>
              </div>
              {x.params.length ? (
                <div class="tpl-params">
                  {x.params.map((k) => {
                    const id = `tp-${x.id}-${k}`
                    return (
                      <div class="field">
                        <label for={id} safe>
                          {t('inbox.templates.param', { param: `{{${k}}}` })}
                        </label>
                        <input
                          class="input input-sm"
                          id={id}
                          name={paramField(x.id, k)}
                          value={values[k] ?? ''}
                          maxlength={1024}
                          autocomplete="off"
                          x-model={`v[${JSON.stringify(k)}]`}
                          aria-describedby={x.id === chosenId && p.chosen?.error ? 'tpl-error' : undefined}
                        />
                      </div>
                    )
                  })}
                </div>
              ) : (
                <p class="subtle tpl-none" safe>
                  {t('inbox.templates.no_params')}
                </p>
              )}
            </fieldset>
          )
        })}
        <div class="tpl-actions">
          <button
            type="submit"
            class="btn btn-sm btn-primary"
            x-bind:disabled="!tpl"
            data-testid="tpl-send"
            safe
          >
            {t('inbox.templates.send')}
          </button>
        </div>
      </form>
    </details>
  )
}

/** A channel without synced templates: the template's name and language, typed. */
function FreeTextTemplateForm({ ui, action }: { ui: Ui; action: string }) {
  const { t } = ui
  return (
    <form method="post" action={action} class="template-form" data-testid="tpl-free-form">
      <p class="subtle tpl-fallback" safe>
        {t('inbox.templates.fallback_hint')}
      </p>
      <label for="tpl-name" safe>
        {t('inbox.template_name')}
      </label>
      <input class="input input-sm" id="tpl-name" name="templateName" required pattern="[a-z0-9_]+" />
      <label for="tpl-lang" safe>
        {t('inbox.template_language')}
      </label>
      <select class="input input-sm" id="tpl-lang" name="templateLanguage">
        <option value="pt_BR">pt_BR</option>
        <option value="en_US">en_US</option>
        <option value="es">es</option>
      </select>
      <button type="submit" class="btn btn-sm btn-primary" safe>
        {t('inbox.send_template')}
      </button>
    </form>
  )
}

/**
 * "Sending paused while the new provider connects" (a switch) or "disconnected" (an admin): above
 * the composer, refreshed when the channel's switch or status moves. Empty when the channel sends.
 */
export function ChannelNote({
  ui,
  conversation: c,
}: {
  ui: Ui
  conversation: Pick<
    ConversationSummary,
    'id' | 'channelId' | 'channelPaused' | 'channelSwitching' | 'channelWaiting'
  >
}) {
  const { t } = ui
  const text = c.channelSwitching
    ? t('whatsapp.switch.composer_paused')
    : c.channelPaused
      ? t('whatsapp.switch.composer_disconnected')
      : c.channelWaiting
        ? t(`whatsapp.composer.waiting.${c.channelWaiting}`)
        : ''
  const trigger = ['whatsapp.channel.switch', 'whatsapp.channel.status']
    .map((e) => `rt:${e}[detail.data.channelId=='${c.channelId}'] from:body`)
    .join(', ')
  return (
    <div
      id="channel-note"
      class={text ? 'channel-note is-paused' : 'channel-note'}
      role="status"
      hx-get={`/inbox/c/${c.id}/channel-note`}
      hx-trigger={trigger}
      hx-swap="outerHTML"
      data-testid="channel-note"
      data-state={
        c.channelSwitching
          ? 'switching'
          : c.channelPaused
            ? 'paused'
            : c.channelWaiting
              ? `waiting-${c.channelWaiting}`
              : 'sending'
      }
    >
      {text ? (
        <>
          <TIcon name="pause" />
          <span safe>{text}</span>
        </>
      ) : (
        ''
      )}
    </div>
  )
}

/** What a refused bulk send shows (inside the composer form, so "Send anyway" submits it). */
export interface BulkWarningProps {
  key: MessageKey
  params: Record<string, string | number>
}

export function BulkWarning({ ui, warning }: { ui: Ui; warning?: BulkWarningProps | null }) {
  const { t } = ui
  if (!warning) return <div id="composer-warning" hidden></div>
  return (
    <div class="bulk-warning" id="composer-warning" role="alert" data-testid="bulk-warning">
      <TIcon name="alert" />
      <div class="bulk-text">
        <strong safe>{t('inbox.bulk.title')}</strong>
        <p safe>{t(warning.key, warning.params)}</p>
        <p class="subtle" safe>
          {t('inbox.bulk.pacing', warning.params)}
        </p>
      </div>
      <button
        type="submit"
        name="bulkConfirmed"
        value="1"
        class="btn btn-sm btn-danger"
        data-testid="bulk-confirm"
        safe
      >
        {t('inbox.bulk.confirm')}
      </button>
    </div>
  )
}

/** A template's name, language badge and category (composer picker and channel page). */
export function TemplateTitle(p: {
  name: string
  language: string
  category: string | null
  nameClass?: string
}) {
  return (
    <>
      <span class={p.nameClass ?? 'wa-mono'} safe>
        {p.name}
      </span>
      <span class="badge" safe>
        {p.language}
      </span>
      {p.category ? (
        <span class="subtle wa-tpl-cat" safe>
          {p.category.toLowerCase()}
        </span>
      ) : (
        ''
      )}
    </>
  )
}
