/**
 * Settings → WhatsApp (owners and admins): the organization's channels with live status, the new
 * channel form (provider choice), and a channel's page: pairing (QR / pairing code, refreshed live
 * through the hub), the webhook to paste into Meta, the Cloud API's message templates, the provider
 * switch (form, then the switch in progress with check / cancel), reconnect / disconnect / delete.
 * Pure views.
 */

import type { PropsWithChildren } from '@kitajs/html'
import type {
  ChannelStatus,
  WhatsAppChannel,
  WhatsAppProviderName,
  WhatsAppTemplate,
} from '../../src/modules/whatsapp/whatsapp.table'
import { WHATSAPP_PROVIDER_NAMES } from '../../src/modules/whatsapp/whatsapp.table'
import { assetUrl } from '../../src/platform/http/assets'
import type { MessageKey } from '../../src/shared/i18n'
import { formatPhone } from '../../src/shared/phone'
import { CopyField, Field, FieldError, FormAlert, type FormState } from '../components/form'
import { TemplateTitle } from '../inbox/templates'
import { SettingsLayout } from '../orgs/settings-pages'
import { ago } from '../pipeline/format'
import type { Ui } from '../ui'

const CSS = () => <link rel="stylesheet" href={assetUrl('whatsapp.css')} />

const STATUS_TONE: Record<ChannelStatus, string> = {
  open: 'wa-ok',
  qr: 'wa-warn',
  connecting: 'wa-warn',
  disconnected: 'wa-idle',
  closed: 'wa-idle',
  logged_out: 'wa-bad',
  forbidden: 'wa-bad',
  error: 'wa-bad',
}

export function StatusBadge({
  ui,
  channel,
}: {
  ui: Ui
  channel: Pick<WhatsAppChannel, 'status' | 'paused'> & { switchFrom?: WhatsAppChannel['switchFrom'] }
}) {
  const { t } = ui
  // Paused by a switch in progress: the new provider's own status (connecting, QR, error) matters.
  if (channel.paused && !channel.switchFrom)
    return (
      <span class="wa-status wa-idle" data-status="paused">
        <span class="wa-dot" aria-hidden="true" />
        <span safe>{t('whatsapp.paused')}</span>
      </span>
    )
  return (
    <span class={`wa-status ${STATUS_TONE[channel.status]}`} data-status={channel.status}>
      <span class="wa-dot" aria-hidden="true" />
      <span safe>{t(`whatsapp.status.${channel.status}` as MessageKey)}</span>
    </span>
  )
}

const providerLabel = (ui: Ui, p: WhatsAppProviderName) => ui.t(`whatsapp.provider.${p}` as MessageKey)
const phoneText = (ui: Ui, c: Pick<WhatsAppChannel, 'phoneNumber'>) =>
  c.phoneNumber ? formatPhone(c.phoneNumber) : ui.t('whatsapp.not_paired')

/** Live refresh of a channel's fragment on its own events only. */
const liveTrigger = (channelId: string) =>
  ['whatsapp.channel.status', 'whatsapp.channel.qr']
    .map((e) => `rt:${e}[detail.data.channelId=='${channelId}'] from:body`)
    .join(', ')

// List ---------------------------------------------------------------------------------------------

export function ChannelsPage(p: { ui: Ui; channels: WhatsAppChannel[]; form: FormState }) {
  const { ui } = p
  const { t } = ui
  return (
    <SettingsLayout ui={ui} tab="channels" title={t('whatsapp.title')} subtitle={t('whatsapp.subtitle')}>
      <CSS />
      <section class="card" aria-labelledby="wa-channels-title">
        <div class="card-head">
          <h3 id="wa-channels-title" safe>
            {t('whatsapp.channels')}
          </h3>
        </div>
        {p.channels.length ? (
          <ul
            class="wa-list"
            data-testid="wa-channels"
            hx-get="/settings/channels"
            hx-select="[data-testid=wa-channels]"
            hx-target="this"
            hx-swap="outerHTML"
            hx-trigger="rt:whatsapp.channel.status from:body"
          >
            {p.channels.map((c) => (
              <li class="wa-item">
                <a class="wa-item-main" href={`/settings/channels/${c.id}`}>
                  <span class="wa-avatar" aria-hidden="true">
                    <WaGlyph />
                  </span>
                  <span class="wa-item-text">
                    <span class="wa-name" safe>
                      {c.name}
                    </span>
                    <span class="muted wa-meta" safe>
                      {c.phoneNumber || c.provider === 'baileys'
                        ? `${phoneText(ui, c)} · ${providerLabel(ui, c.provider)}`
                        : providerLabel(ui, c.provider)}
                    </span>
                  </span>
                </a>
                <span class="wa-badges">
                  {c.provider === 'sandbox' ? (
                    <span class="badge wa-sandbox" safe>
                      {t('whatsapp.sandbox_badge')}
                    </span>
                  ) : (
                    ''
                  )}
                  <StatusBadge ui={ui} channel={c} />
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="card-body muted" data-testid="wa-channels" safe>
            {t('whatsapp.no_channels')}
          </p>
        )}
      </section>

      <section class="card" aria-labelledby="wa-new-title">
        <div class="card-head">
          <div>
            <h3 id="wa-new-title" safe>
              {t('whatsapp.new')}
            </h3>
            <p class="subtle" safe>
              {t('whatsapp.new_hint')}
            </p>
          </div>
        </div>
        <NewChannelForm ui={ui} form={p.form} />
      </section>
    </SettingsLayout>
  )
}

function NewChannelForm({ ui, form }: { ui: Ui; form: FormState }) {
  const { t } = ui
  const chosen = (WHATSAPP_PROVIDER_NAMES as readonly string[]).includes(form.values.provider ?? '')
    ? form.values.provider!
    : 'sandbox'
  const providerErr = form.errors?.fields.provider
  return (
    <form
      method="post"
      action="/settings/channels"
      class="card-body form-grid"
      novalidate
      x-data={`{ provider: ${JSON.stringify(chosen)} }`}
      data-testid="wa-new-form"
    >
      <FormAlert form={form} t={t} />
      <Field
        name="name"
        label={t('whatsapp.field.name')}
        hint={t('whatsapp.field.name_hint')}
        form={form}
        t={t}
        required
        maxlength={80}
      />
      <ProviderChoice
        ui={ui}
        legend={t('whatsapp.field.provider')}
        providers={WHATSAPP_PROVIDER_NAMES}
        chosen={chosen}
        errorId="f-provider-err"
        error={providerErr}
      />
      <CloudApiFields ui={ui} form={form} />
      <div class="form-actions">
        <button class="btn btn-primary" type="submit" safe>
          {t('whatsapp.create')}
        </button>
      </div>
    </form>
  )
}

/** The Cloud API's settings (new channel and switch forms; shown when that provider is chosen). */
function CloudApiFields({ ui, form }: { ui: Ui; form: FormState }) {
  const { t } = ui
  return (
    <div class="form-grid wa-cloud-fields" x-show="provider === 'cloud-api'">
      <div class="form-row">
        <Field
          name="phoneNumber"
          label={t('whatsapp.field.phone')}
          hint={t('whatsapp.field.phone_hint')}
          form={form}
          t={t}
        />
        <Field name="phoneNumberId" label={t('whatsapp.field.phone_number_id')} form={form} t={t} />
      </div>
      <Field name="wabaId" label={t('whatsapp.field.waba_id')} form={form} t={t} />
      <Field
        name="accessToken"
        type="password"
        label={t('whatsapp.field.access_token')}
        hint={t('whatsapp.field.access_token_hint')}
        form={form}
        t={t}
        autocomplete="off"
      />
      <div class="form-row">
        <Field
          name="appSecret"
          type="password"
          label={t('whatsapp.field.app_secret')}
          hint={t('whatsapp.field.app_secret_hint')}
          form={form}
          t={t}
          autocomplete="off"
        />
        <Field
          name="verifyToken"
          label={t('whatsapp.field.verify_token')}
          hint={t('whatsapp.field.verify_token_hint')}
          form={form}
          t={t}
          autocomplete="off"
        />
      </div>
    </div>
  )
}

// One channel --------------------------------------------------------------------------------------

export interface ChannelPageProps {
  ui: Ui
  channel: WhatsAppChannel
  webhookUrl: string
  verifyToken: string | null
  pairing: PairingProps
  /** The provider switch form (its errors and input after a refused switch). */
  switchForm: FormState
  /** Cloud API: the synced message templates. */
  templates: WhatsAppTemplate[]
}

export function ChannelPage(p: ChannelPageProps) {
  const { ui, channel: c } = p
  const { t } = ui
  const switching = !!c.switchFrom
  return (
    <SettingsLayout ui={ui} tab="channels" title={c.name}>
      <CSS />
      <a class="back-link" href="/settings/channels" safe>
        {`← ${t('whatsapp.back')}`}
      </a>

      {switching ? <SwitchPanel ui={ui} channel={c} form={p.switchForm} /> : ''}

      {c.provider === 'baileys' ? <PairingPanel {...p.pairing} /> : ''}

      {c.provider === 'cloud-api' ? (
        <section class="card" aria-labelledby="wa-webhook-title">
          <div class="card-head">
            <div>
              <h3 id="wa-webhook-title" safe>
                {t('whatsapp.webhook.title')}
              </h3>
              <p class="subtle" safe>
                {t('whatsapp.webhook.hint')}
              </p>
            </div>
          </div>
          <div class="card-body form-grid">
            <CopyField id="wa-webhook-url" label={t('whatsapp.webhook.url')} value={p.webhookUrl} t={ui.t} />
            {p.verifyToken ? (
              <CopyField
                id="wa-verify-token"
                label={t('whatsapp.webhook.verify_token')}
                value={p.verifyToken}
                t={ui.t}
              />
            ) : (
              ''
            )}
          </div>
        </section>
      ) : (
        ''
      )}

      <ChannelDetails ui={ui} channel={c} />

      {c.provider === 'cloud-api' ? <TemplatesPanel ui={ui} channel={c} templates={p.templates} /> : ''}

      {switching ? '' : <SwitchPanel ui={ui} channel={c} form={p.switchForm} />}

      <section class="card wa-danger" aria-labelledby="wa-danger-title">
        <div class="card-head">
          <h3 id="wa-danger-title" safe>
            {t('whatsapp.danger')}
          </h3>
        </div>
        <form
          method="post"
          action={`/settings/channels/${c.id}/delete`}
          class="card-body"
          hx-confirm={t('whatsapp.delete_confirm')}
        >
          <button class="btn btn-danger" type="submit" safe>
            {t('whatsapp.delete')}
          </button>
        </form>
      </section>
    </SettingsLayout>
  )
}

/**
 * The channel's details (provider, number, status and its explanation) and its disconnect /
 * reconnect buttons, refreshed as a whole when the channel's status changes: a phone linked live
 * shows its number, a channel that reconnects loses its Reconnect button.
 */
export function ChannelDetails({ ui, channel: c }: { ui: Ui; channel: WhatsAppChannel }) {
  const { t } = ui
  const running = !c.paused && c.status !== 'disconnected'
  return (
    <section
      class="card"
      id="wa-details"
      aria-labelledby="wa-details-title"
      hx-get={`/settings/channels/${c.id}/details`}
      hx-trigger={`rt:whatsapp.channel.status[detail.data.channelId=='${c.id}'] from:body`}
      hx-swap="outerHTML"
      data-testid="wa-details"
    >
      <div class="card-head">
        <h3 id="wa-details-title" safe>
          {t('whatsapp.details')}
        </h3>
        <ChannelStatusLive ui={ui} channel={c} live={false} />
      </div>
      <dl class="card-body wa-details">
        <dt safe>{t('whatsapp.provider_label')}</dt>
        <dd>
          <span safe>{providerLabel(ui, c.provider)}</span>
          {c.provider === 'sandbox' ? (
            <span class="badge wa-sandbox" safe>
              {t('whatsapp.sandbox_badge')}
            </span>
          ) : (
            ''
          )}
        </dd>
        <dt safe>{t('whatsapp.number')}</dt>
        <dd data-testid="wa-number" safe>
          {phoneText(ui, c)}
        </dd>
      </dl>
      {c.switchFrom ? (
        ''
      ) : (
        <div class="card-body wa-actions">
          {running ? (
            <form method="post" action={`/settings/channels/${c.id}/disconnect`}>
              <button class="btn" type="submit" id="wa-disconnect" safe>
                {t('whatsapp.disconnect')}
              </button>
            </form>
          ) : (
            ''
          )}
          {/* Connected: nothing to reconnect. Paused, closed, logged out, blocked, stopped: start again. */}
          {running && c.status === 'open' ? (
            ''
          ) : (
            <form method="post" action={`/settings/channels/${c.id}/reconnect`}>
              <button class={running ? 'btn' : 'btn btn-primary'} type="submit" id="wa-reconnect" safe>
                {t('whatsapp.reconnect')}
              </button>
            </form>
          )}
        </div>
      )}
    </section>
  )
}

/**
 * The status badge and its explanation; on its own (the channel list's fragment) it refreshes when
 * the channel's status changes, inside the details card the card does.
 */
export function ChannelStatusLive({
  ui,
  channel: c,
  live = true,
}: {
  ui: Ui
  channel: WhatsAppChannel
  live?: boolean
}) {
  const key = detailKey(c.statusDetail)
  return (
    <div
      id="wa-status"
      class="wa-status-live"
      hx-get={live ? `/settings/channels/${c.id}/status` : undefined}
      hx-trigger={live ? liveTrigger(c.id) : undefined}
      hx-swap={live ? 'outerHTML' : undefined}
      aria-live="polite"
    >
      <StatusBadge ui={ui} channel={c} />
      {key ? (
        <span class="subtle wa-detail" safe>
          {ui.t(key)}
        </span>
      ) : (
        ''
      )}
    </div>
  )
}

const DETAIL_KEYS: Record<string, MessageKey> = {
  too_many_reconnects: 'whatsapp.detail.too_many_reconnects',
  forbidden: 'whatsapp.detail.forbidden',
  multidevice_mismatch: 'whatsapp.detail.multidevice_mismatch',
  replaced: 'whatsapp.detail.replaced',
  logged_out: 'whatsapp.detail.logged_out',
  start_failed: 'whatsapp.detail.start_failed',
  old_device_linked: 'whatsapp.detail.old_device_linked',
}
function detailKey(detail: string | null): MessageKey | null {
  if (!detail) return null
  if (detail.startsWith('retry_in_ms:')) return 'whatsapp.detail.retry'
  return DETAIL_KEYS[detail] ?? null
}

// Provider switch ----------------------------------------------------------------------------------

/** A switch started, completed or was cancelled on this channel, or its status moved. */
const switchTrigger = (channelId: string) =>
  ['whatsapp.channel.switch', 'whatsapp.channel.status']
    .map((e) => `rt:${e}[detail.data.channelId=='${channelId}'] from:body`)
    .join(', ')

/**
 * The switch card: the form (no switch in progress), or the switch in progress — from → to, what
 * it waits for, Meta's refusal, "Check again" and "Cancel". Refreshed live; when the state changed
 * (started, completed, cancelled), the fragment route reloads the whole page.
 */
export function SwitchPanel({ ui, channel: c, form }: { ui: Ui; channel: WhatsAppChannel; form: FormState }) {
  const { t } = ui
  const from = c.switchFrom
  const base = `/settings/channels/${c.id}/switch`
  if (!from) {
    const others = WHATSAPP_PROVIDER_NAMES.filter((p) => p !== c.provider)
    const chosen = (others as readonly string[]).includes(form.values.provider ?? '')
      ? form.values.provider!
      : others[0]!
    const providerErr = form.errors?.fields.provider
    const confirmErr = form.errors?.fields.confirm
    return (
      <SwitchCard
        channelId={c.id}
        state="idle"
        title={t('whatsapp.switch.title')}
        hint={t('whatsapp.switch.hint')}
      >
        <details class="wa-switch-details" open={form.errors ? true : undefined}>
          <summary class="btn" data-testid="wa-switch-open" safe>
            {t('whatsapp.switch.open')}
          </summary>
          <form
            method="post"
            action={base}
            class="card-body form-grid"
            novalidate
            x-data={`{ provider: ${JSON.stringify(chosen)} }`}
            data-testid="wa-switch-form"
          >
            <FormAlert form={form} t={t} />
            <ProviderChoice
              ui={ui}
              legend={t('whatsapp.switch.new_provider')}
              providers={others}
              chosen={chosen}
              errorId="f-switch-provider-err"
              error={providerErr}
            />
            <CloudApiFields ui={ui} form={form} />
            <div class="field">
              <label class="check wa-confirm">
                <input
                  type="checkbox"
                  name="confirm"
                  value="1"
                  id="f-confirm"
                  aria-invalid={confirmErr ? 'true' : undefined}
                  aria-describedby={confirmErr ? 'f-confirm-err' : undefined}
                />
                <span safe>{t('whatsapp.switch.confirm')}</span>
              </label>
              {confirmErr ? <FieldError id="f-confirm-err" text={t(confirmErr)} /> : ''}
            </div>
            <div class="form-actions">
              <button class="btn btn-primary" type="submit" data-testid="wa-switch-submit" safe>
                {t('whatsapp.switch.submit')}
              </button>
            </div>
          </form>
        </details>
      </SwitchCard>
    )
  }
  const failure = c.statusDetail?.startsWith('check_failed:') ? c.statusDetail.slice(13) : null
  const waiting =
    c.provider === 'baileys'
      ? t('whatsapp.switch.waiting_pairing')
      : failure
        ? null
        : t('whatsapp.switch.waiting_check')
  return (
    <SwitchCard
      channelId={c.id}
      state="switching"
      title={t('whatsapp.switch.in_progress')}
      hint={t('whatsapp.switch.in_progress_hint', {
        from: providerLabel(ui, from.provider),
        to: providerLabel(ui, c.provider),
      })}
      safeRoute={
        <span class="wa-switch-route" aria-hidden="true">
          <span class="badge" safe>
            {providerLabel(ui, from.provider)}
          </span>
          <span class="wa-arrow">→</span>
          <span class="badge badge-brand" safe>
            {providerLabel(ui, c.provider)}
          </span>
        </span>
      }
    >
      <div class="card-body wa-switch-body">
        {failure ? (
          <div class="alert alert-error" role="alert" data-testid="wa-switch-failed" safe>
            {t('whatsapp.switch.check_failed', { reason: failure })}
          </div>
        ) : (
          <p class="wa-switch-wait">
            <span class="wa-spinner wa-spinner-sm" aria-hidden="true" />
            <span safe>{waiting ?? ''}</span>
          </p>
        )}
        <div class="wa-switch-actions">
          {c.provider !== 'baileys' ? (
            <form method="post" action={`${base}/check`}>
              <button class="btn btn-primary" type="submit" data-testid="wa-switch-check" safe>
                {t('whatsapp.switch.check_again')}
              </button>
            </form>
          ) : (
            ''
          )}
          <form
            method="post"
            action={`${base}/cancel`}
            hx-confirm={t('whatsapp.switch.cancel_confirm', { from: providerLabel(ui, from.provider) })}
          >
            <button class="btn" type="submit" data-testid="wa-switch-cancel" safe>
              {t('whatsapp.switch.cancel')}
            </button>
          </form>
        </div>
      </div>
    </SwitchCard>
  )
}

/**
 * The switch card's shell, shared by both states: the live-refreshed section (its fragment route
 * answers `?state=`), the title and hint, and in progress the from → to route beside them.
 */
function SwitchCard(
  p: PropsWithChildren<{
    channelId: string
    state: 'idle' | 'switching'
    title: string
    hint: string
    safeRoute?: JSX.Element
  }>,
) {
  const { safeRoute } = p
  const switching = p.state === 'switching'
  return (
    <section
      class={switching ? 'card wa-switch wa-switching' : 'card wa-switch'}
      id="wa-switch"
      aria-labelledby="wa-switch-title"
      hx-get={`/settings/channels/${p.channelId}/switch?state=${p.state}`}
      hx-trigger={switchTrigger(p.channelId)}
      hx-swap="outerHTML"
      data-testid="wa-switch"
      data-state={p.state}
      aria-live={switching ? 'polite' : undefined}
    >
      <div class="card-head">
        <div>
          <h3 id="wa-switch-title" safe>
            {p.title}
          </h3>
          <p class="subtle" safe>
            {p.hint}
          </p>
        </div>
        {safeRoute ?? ''}
      </div>
      {p.children}
    </section>
  )
}

// Message templates --------------------------------------------------------------------------------

const TEMPLATE_STATUS: Record<string, { key: MessageKey; tone: string }> = {
  APPROVED: { key: 'inbox.templates.status.approved', tone: 'wa-ok' },
  PENDING: { key: 'inbox.templates.status.pending', tone: 'wa-warn' },
  IN_APPEAL: { key: 'inbox.templates.status.pending', tone: 'wa-warn' },
  REJECTED: { key: 'inbox.templates.status.rejected', tone: 'wa-bad' },
  PAUSED: { key: 'inbox.templates.status.paused', tone: 'wa-idle' },
  DISABLED: { key: 'inbox.templates.status.disabled', tone: 'wa-idle' },
}

/** A Cloud API channel's synced templates, with "Sync now"; refreshed when a sync ends. */
export function TemplatesPanel({
  ui,
  channel: c,
  templates,
}: {
  ui: Ui
  channel: WhatsAppChannel
  templates: WhatsAppTemplate[]
}) {
  const { t } = ui
  // A sync was asked for and has neither stored the list nor failed yet: poll until it has (the
  // live event alone can land while the page is being swapped, and be missed).
  const syncing = c.provider === 'cloud-api' && !c.templatesSyncedAt && !c.templatesError
  return (
    <section
      class="card wa-templates"
      id="wa-templates"
      aria-labelledby="wa-templates-title"
      hx-get={`/settings/channels/${c.id}/templates`}
      hx-trigger={`rt:whatsapp.templates.synced[detail.data.channelId=='${c.id}'] from:body${syncing ? ', every 2s' : ''}`}
      hx-swap="outerHTML"
      data-testid="wa-templates"
      data-syncing={syncing ? 'true' : undefined}
    >
      <div class="card-head">
        <div>
          <h3 id="wa-templates-title" safe>
            {t('inbox.templates.title')}
          </h3>
          <p class="subtle" safe>
            {t('inbox.templates.hint')}
          </p>
        </div>
        <form method="post" action={`/settings/channels/${c.id}/templates/sync`}>
          <button class="btn btn-sm" type="submit" data-testid="wa-templates-sync" safe>
            {t('inbox.templates.sync')}
          </button>
        </form>
      </div>
      <div class="card-body wa-templates-body">
        <p class="subtle" safe>
          {c.templatesSyncedAt
            ? t('inbox.templates.synced_at', { when: ago(c.templatesSyncedAt, ui.locale) })
            : syncing
              ? t('inbox.templates.syncing')
              : t('inbox.templates.never')}
        </p>
        {c.templatesError ? (
          <div class="alert alert-error" role="alert" safe>
            {t('inbox.templates.failed', { reason: c.templatesError })}
          </div>
        ) : (
          ''
        )}
        {templates.length ? (
          <ul class="wa-tpl-list">
            {templates.map((x) => {
              const st = TEMPLATE_STATUS[x.status]
              return (
                <li class="wa-tpl" data-testid="wa-template">
                  <div class="wa-tpl-head">
                    <TemplateTitle
                      name={x.name}
                      language={x.language}
                      category={x.category}
                      nameClass="wa-tpl-name wa-mono"
                    />
                    <span class={`wa-status ${st?.tone ?? 'wa-idle'}`} data-status={x.status}>
                      <span safe>{st ? t(st.key) : x.status}</span>
                    </span>
                  </div>
                  {x.body ? (
                    <p class="wa-tpl-body" safe>
                      {x.body}
                    </p>
                  ) : (
                    ''
                  )}
                  {x.sendable ? (
                    ''
                  ) : (
                    <p class="subtle wa-tpl-note" safe>
                      {t('inbox.templates.not_sendable')}
                    </p>
                  )}
                </li>
              )
            })}
          </ul>
        ) : c.templatesSyncedAt ? (
          <p class="muted" safe>
            {t('inbox.templates.none')}
          </p>
        ) : (
          ''
        )}
      </div>
    </section>
  )
}

// Pairing ------------------------------------------------------------------------------------------

export interface PairingProps {
  ui: Ui
  channel: WhatsAppChannel
  /** The current QR as SVG, rendered by the server from the code WhatsApp sent (trusted markup). */
  safeQrSvg: string | null
  form: FormState
}

export function PairingPanel(p: PairingProps) {
  const { ui, channel: c, safeQrSvg } = p
  const { t } = ui
  const paired = c.status === 'open' && !c.paused
  return (
    <section
      class="card wa-pairing"
      id="wa-pairing"
      aria-labelledby="wa-pair-title"
      hx-get={`/settings/channels/${c.id}/pairing`}
      hx-trigger={liveTrigger(c.id)}
      hx-swap="outerHTML"
      data-testid="wa-pairing"
      data-status={c.status}
    >
      <div class="card-head">
        <div>
          <h3 id="wa-pair-title" safe>
            {paired ? t('whatsapp.pair.title_linked') : t('whatsapp.pair.title')}
          </h3>
          <p class="subtle" safe>
            {paired ? t('whatsapp.pair.connected', { phone: phoneText(ui, c) }) : t('whatsapp.pair.steps')}
          </p>
        </div>
      </div>
      {paired ? (
        ''
      ) : (
        <div class="card-body wa-pair-body">
          {c.statusDetail === 'logged_out' || c.status === 'logged_out' ? (
            <div class="alert alert-error wa-pair-alert" role="alert" data-testid="wa-logged-out" safe>
              {t('whatsapp.detail.logged_out')}
            </div>
          ) : (
            ''
          )}
          <div class="wa-qr-box">
            {safeQrSvg ? (
              <figure class="wa-qr" role="img" aria-label={t('whatsapp.pair.qr_alt')} data-testid="wa-qr">
                {safeQrSvg}
              </figure>
            ) : (
              <div class="wa-qr wa-qr-wait" aria-busy="true">
                <span class="wa-spinner" aria-hidden="true" />
                <span class="subtle" safe>
                  {t('whatsapp.pair.waiting')}
                </span>
              </div>
            )}
            {safeQrSvg ? (
              <p class="subtle" safe>
                {t('whatsapp.pair.rotates')}
              </p>
            ) : (
              ''
            )}
          </div>
          <div class="wa-code">
            {c.pairingCode ? (
              <div class="wa-code-box" data-testid="wa-pairing-code">
                <span class="subtle" safe>
                  {t('whatsapp.pair.code')}
                </span>
                <strong class="wa-code-value" safe>
                  {c.pairingCode.length === 8
                    ? `${c.pairingCode.slice(0, 4)}-${c.pairingCode.slice(4)}`
                    : c.pairingCode}
                </strong>
              </div>
            ) : (
              ''
            )}
            <details open={!!p.form.errors || undefined}>
              <summary safe>{t('whatsapp.pair.use_code')}</summary>
              <form
                method="post"
                action={`/settings/channels/${c.id}/pairing-code`}
                class="form-grid"
                novalidate
              >
                <p class="subtle" safe>
                  {t('whatsapp.pair.code_hint')}
                </p>
                <FormAlert form={p.form} t={t} />
                <Field
                  name="phone"
                  type="tel"
                  label={t('whatsapp.field.phone')}
                  form={p.form}
                  t={t}
                  autocomplete="tel"
                />
                <div class="form-actions">
                  <button class="btn" type="submit" safe>
                    {t('whatsapp.pair.request_code')}
                  </button>
                </div>
              </form>
            </details>
          </div>
        </div>
      )}
    </section>
  )
}

function WaGlyph() {
  return (
    <svg
      viewBox="0 0 24 24"
      width="18"
      height="18"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
    >
      <path d="M3 21l1.65-3.8a9 9 0 1 1 3.4 2.9L3 21" />
      <path d="M9 10a.5.5 0 0 0 1 0V9a.5.5 0 0 0-1 0v1a5 5 0 0 0 5 5h1a.5.5 0 0 0 0-1h-1a.5.5 0 0 0 0 1" />
    </svg>
  )
}

/** The provider radio cards (create and switch forms); Alpine's `provider` follows the choice. */
function ProviderChoice(p: {
  ui: Ui
  legend: string
  providers: readonly WhatsAppProviderName[]
  chosen: string
  errorId: string
  error: MessageKey | undefined
}) {
  const { ui } = p
  const { t } = ui
  return (
    <fieldset class="wa-providers" aria-describedby={p.error ? p.errorId : undefined}>
      <legend safe>{p.legend}</legend>
      {p.providers.map((name) => (
        <label class="wa-provider">
          <input type="radio" name="provider" value={name} checked={name === p.chosen} x-model="provider" />
          <span class="wa-provider-text">
            <span class="wa-provider-name" safe>
              {providerLabel(ui, name)}
            </span>
            <span class="subtle" safe>
              {t(`whatsapp.provider_hint.${name}` as MessageKey)}
            </span>
          </span>
        </label>
      ))}
      {p.error ? <FieldError id={p.errorId} text={t(p.error)} /> : ''}
    </fieldset>
  )
}
