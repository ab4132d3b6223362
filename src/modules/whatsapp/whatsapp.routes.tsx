/**
 * WhatsApp routes.
 *
 * Webhooks (CSRF-exempt by the `/webhooks/` prefix in src/app.ts; they authenticate by signature):
 *   GET  /webhooks/whatsapp/:channelId   the provider's verification handshake (Cloud API: hub.*)
 *   POST /webhooks/whatsapp/:channelId   verified per provider (401 + a log line, nothing stored, when
 *                                        the signature is bad or missing), stored raw in webhook_inbox
 *                                        with its processing job BEFORE the 200
 * Settings (owners and admins): /settings/channels (list + create), /settings/channels/:id (pairing
 * QR / code live through the hub, webhook URL, reconnect / disconnect / delete), the provider switch
 * (POST …/switch, …/switch/check, …/switch/cancel; whatsapp.switch.ts) and the Cloud API templates
 * (POST …/templates/sync; whatsapp.templates.ts). Another organization's channel id is a 404.
 */
import { Elysia } from 'elysia'
import { renderSVG } from 'uqr'
import whatsappCss from '../../../public/whatsapp.css' with { type: 'file' }
import { emptyForm, type FormState } from '../../../views/components/form'
import {
  ChannelDetails,
  ChannelPage,
  ChannelStatusLive,
  ChannelsPage,
  PairingPanel,
  SwitchPanel,
  TemplatesPanel,
} from '../../../views/whatsapp/channels-page'
import { withOrg } from '../../platform/db/tenancy'
import { registerAsset } from '../../platform/http/assets'
import { type AppDeps, type OrgCtx, requestMeta, requireOrg, setFlash } from '../../platform/http/context'
import { AppError, Check, FormError } from '../../platform/http/errors'
import { field, fields, html, redirect, uiOf, withForm } from '../../platform/http/respond'
import { toE164 } from '../../shared/phone'
import { resumeChannel } from '../inbox/inbox.usecases'
import { clearAuthState } from './whatsapp.baileys-auth'
import {
  CHANNEL_FIELDS,
  type ChannelForm,
  channelSecrets,
  createChannel,
  deleteChannel,
  getChannel,
  listChannels,
  resolveChannel,
  setChannelStatus,
  setPaused,
} from './whatsapp.channels'
import { WHATSAPP_CHANNEL_ERRORS } from './whatsapp.errors'
import { headerSubset, storeWebhookEvent } from './whatsapp.inbound'
import { createProvider, type WhatsAppProvider } from './whatsapp.provider'
import { configureWhatsApp, providerFor, type WhatsAppRuntime, whatsappRuntime } from './whatsapp.runtime'
import {
  cancelSwitch,
  checkSwitch,
  connectSwitch,
  releaseOldProvider,
  SWITCH_FIELDS,
  type SwitchForm,
  startSwitch,
  validateSwitch,
} from './whatsapp.switch'
import type { WhatsAppChannel } from './whatsapp.table'
import { channelTemplates, requestTemplateSync } from './whatsapp.templates'
import { SendError } from './whatsapp.types'

registerAsset('whatsapp.css', whatsappCss, 'text/css; charset=utf-8')

const ADMINS = ['owner', 'admin'] as const
/** Meta's deliveries are small; anything above this is not a WhatsApp webhook. */
export const MAX_WEBHOOK_BYTES = 1024 * 1024

export function whatsappRoutes(deps: AppDeps) {
  const { db, config, log } = deps
  configureWhatsApp(db, { config, log })
  // Read per use: server.ts and tests may attach another supervisor after the routes are built.
  const rt = (): WhatsAppRuntime => whatsappRuntime(db)
  // The inbox reaches the channel's active provider through `whatsappSender` (registered by
  // inboxRoutes): send and media download. Registering a second resolver here replaced that one
  // (the routes are used after the inbox's) with a send-only one, and every download failed.

  const scope = (r: OrgCtx) => ({ orgId: r.org.orgId, userId: r.auth.user.id })
  const admin = (request: Request) => requireOrg(deps, request, [...ADMINS])
  const webhookUrl = (id: string) => new URL(`/webhooks/whatsapp/${id}`, config.baseUrl).toString()
  const reqId = (request: Request) => requestMeta.get(request)?.id ?? ''
  const isFragment = (r: OrgCtx) => r.isHtmx && r.request.headers.get('hx-boosted') !== 'true'
  const text = (body: string, status: number) =>
    new Response(body, {
      status,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
    })

  /** A provider for verifying/parsing a webhook (secrets decrypted; no I/O). */
  const webhookProvider = (c: NonNullable<Awaited<ReturnType<typeof resolveChannel>>>): WhatsAppProvider =>
    createProvider(c.provider, {
      channel: { id: c.id, orgId: c.organizationId, phoneNumber: c.phoneNumber, config: c.config },
      secrets: channelSecrets({ id: c.id, secretsEnc: c.secretsEnc }, config.secretKey),
      fetch: rt().fetch,
      graphUrl: rt().graphUrl,
      deliver: async () => {},
    })

  const pairingProps = (r: OrgCtx, c: WhatsAppChannel, form: FormState = emptyForm()) => ({
    ui: uiOf(r),
    channel: c,
    // renderSVG output is markup we generate from WhatsApp's QR string (no user text inside).
    // A switch to WhatsApp Web pairs while the channel is paused (its sends wait).
    safeQrSvg:
      c.pairingQr && c.status === 'qr' && (!c.paused || c.switchFrom)
        ? renderSVG(c.pairingQr, { border: 1 })
        : null,
    form,
  })

  async function channelPage(
    r: OrgCtx,
    id: string,
    form?: FormState,
    status = 200,
    switchForm: FormState = emptyForm(),
  ) {
    const { c, templates } = await withOrg(db, scope(r), async (tx) => {
      const c = await getChannel(tx, id)
      return { c, templates: c.provider === 'cloud-api' ? await channelTemplates(tx, c.id) : [] }
    })
    const verifyToken =
      c.provider === 'cloud-api' ? (channelSecrets(c, config.secretKey).verifyToken ?? null) : null
    return html(
      r,
      <ChannelPage
        ui={uiOf(r)}
        channel={c}
        webhookUrl={webhookUrl(c.id)}
        verifyToken={verifyToken}
        pairing={pairingProps(r, c, form)}
        switchForm={switchForm}
        templates={templates}
      />,
      status,
    )
  }

  /** Disconnect / reconnect would fight a switch in progress (cancel it instead). */
  const refuseDuringSwitch = (c: WhatsAppChannel) => {
    if (c.switchFrom) throw WHATSAPP_CHANNEL_ERRORS.switchPending()
  }
  const providerName = (r: OrgCtx, p: string) => r.t(`whatsapp.provider.${p}` as 'whatsapp.provider.sandbox')

  /** Start / stop a channel's provider (Baileys: the socket). */
  async function startChannel(c: WhatsAppChannel) {
    const p = providerFor(rt(), c)
    if (p.start) await p.start()
  }

  return (
    new Elysia({ name: 'whatsapp.routes' })
      // Webhooks ----------------------------------------------------------------------------------
      .get('/webhooks/whatsapp/:channelId', async ({ request, params }) => {
        const c = await resolveChannel(db, params.channelId)
        if (!c) return text('Not found', 404)
        const provider = webhookProvider(c)
        if (!provider.webhookHandshake) return text('Not found', 404)
        const challenge = provider.webhookHandshake(new URL(request.url).searchParams)
        if (challenge === null) {
          log.warn('whatsapp.webhook.handshake_refused', { reqId: reqId(request), channelId: c.id })
          return text('Forbidden', 403)
        }
        return text(challenge, 200)
      })
      .post(
        '/webhooks/whatsapp/:channelId',
        async ({ request, params }) => {
          const c = await resolveChannel(db, params.channelId)
          if (!c) return text('Not found', 404)
          const provider = webhookProvider(c)
          if (!provider.verifyWebhook || !provider.parseWebhook) return text('Not found', 404)
          const declared = Number(request.headers.get('content-length') ?? '')
          if (Number.isFinite(declared) && declared > MAX_WEBHOOK_BYTES) return text('Payload too large', 413)
          const raw = new Uint8Array(await request.arrayBuffer())
          if (raw.byteLength > MAX_WEBHOOK_BYTES) return text('Payload too large', 413)
          if (!provider.verifyWebhook({ raw, headers: request.headers })) {
            log.warn('whatsapp.webhook.bad_signature', {
              reqId: reqId(request),
              channelId: c.id,
              ip: requestMeta.get(request)?.ip ?? null,
              signature: request.headers.has('x-hub-signature-256') ? 'wrong' : 'missing',
            })
            return text('Invalid signature', 401)
          }
          const body = new TextDecoder().decode(raw)
          const stored = await withOrg(db, c.organizationId, (tx) =>
            storeWebhookEvent(tx, {
              channelId: c.id,
              orgId: c.organizationId,
              provider: c.provider,
              body,
              headers: headerSubset(request.headers),
            }),
          )
          log.info('whatsapp.webhook.stored', {
            reqId: reqId(request),
            channelId: c.id,
            inboxId: stored.id,
            created: stored.created,
          })
          return text('EVENT_RECEIVED', 200)
        },
        { parse: 'none' },
      )

      // Settings -----------------------------------------------------------------------------------
      .get('/settings/channels', async ({ request }) => {
        const r = await admin(request)
        const channels = await withOrg(db, scope(r), listChannels)
        return html(
          r,
          <ChannelsPage ui={uiOf(r)} channels={channels} form={emptyForm({ provider: 'sandbox' })} />,
        )
      })
      .post('/settings/channels', async ({ request, body }) => {
        const r = await admin(request)
        const input = fields(body, CHANNEL_FIELDS) as unknown as ChannelForm
        const res = await withForm(
          () => withOrg(db, scope(r), (tx) => createChannel(tx, r.actor, input, config.secretKey)),
          async (e) => {
            const channels = await withOrg(db, scope(r), listChannels)
            // Secrets are never echoed back into the form.
            const values = { ...input, accessToken: '', appSecret: '' } as unknown as Record<string, string>
            return html(
              r,
              <ChannelsPage ui={uiOf(r)} channels={channels} form={{ values, errors: e }} />,
              422,
            )
          },
        )
        if (!res.ok) return res.response
        const c = res.value
        if (c.provider === 'baileys') await startChannel(c)
        if (c.provider === 'cloud-api') await withOrg(db, scope(r), (tx) => requestTemplateSync(tx, c.id))
        setFlash(r, 'success', r.t('whatsapp.created', { name: c.name }))
        return redirect(r, `/settings/channels/${c.id}`)
      })
      .get('/settings/channels/:id', async ({ request, params }) =>
        channelPage(await admin(request), params.id),
      )
      .get('/settings/channels/:id/pairing', async ({ request, params }) => {
        const r = await admin(request)
        const c = await withOrg(db, scope(r), (tx) => getChannel(tx, params.id))
        if (!isFragment(r)) return redirect(r, `/settings/channels/${c.id}`)
        return html(r, <PairingPanel {...pairingProps(r, c)} />)
      })
      .get('/settings/channels/:id/details', async ({ request, params }) => {
        const r = await admin(request)
        const c = await withOrg(db, scope(r), (tx) => getChannel(tx, params.id))
        if (!isFragment(r)) return redirect(r, `/settings/channels/${c.id}`)
        return html(r, <ChannelDetails ui={uiOf(r)} channel={c} />)
      })
      .get('/settings/channels/:id/status', async ({ request, params }) => {
        const r = await admin(request)
        const c = await withOrg(db, scope(r), (tx) => getChannel(tx, params.id))
        if (!isFragment(r)) return redirect(r, `/settings/channels/${c.id}`)
        return html(r, <ChannelStatusLive ui={uiOf(r)} channel={c} />)
      })
      .post('/settings/channels/:id/pairing-code', async ({ request, params, body }) => {
        const r = await admin(request)
        const c = await withOrg(db, scope(r), (tx) => getChannel(tx, params.id))
        const raw = field(body, 'phone')
        const phone = toE164(raw)
        const fail = (
          key: 'whatsapp.error.phone' | 'whatsapp.error.wrong_provider' | 'whatsapp.error.pairing_failed',
          reason = '',
        ) => {
          const check = new Check().add('phone', key, { reason })
          return channelPage(
            r,
            c.id,
            { values: { phone: raw }, errors: new FormError(check.fields, check.params) },
            422,
          )
        }
        if (c.provider !== 'baileys') return fail('whatsapp.error.wrong_provider')
        if (!phone) return fail('whatsapp.error.phone')
        const provider = providerFor(rt(), c)
        try {
          await provider.requestPairingCode!(phone)
        } catch (err) {
          log.warn('whatsapp.pairing_code_failed', { channelId: c.id, err })
          return fail('whatsapp.error.pairing_failed', err instanceof SendError ? err.message : 'error')
        }
        return redirect(r, `/settings/channels/${c.id}`)
      })
      .post('/settings/channels/:id/disconnect', async ({ request, params }) => {
        const r = await admin(request)
        const c = await withOrg(db, scope(r), async (tx) => {
          refuseDuringSwitch(await getChannel(tx, params.id))
          const c = await setPaused(tx, r.actor, params.id, true)
          await setChannelStatus(tx, c.id, {
            status: 'disconnected',
            detail: null,
            pairingQr: null,
            pairingCode: null,
          })
          return c
        })
        const p = providerFor(rt(), c)
        if (p.stop) await p.stop()
        setFlash(r, 'success', r.t('whatsapp.disconnected_flash'))
        return redirect(r, `/settings/channels/${c.id}`)
      })
      .post('/settings/channels/:id/reconnect', async ({ request, params }) => {
        const r = await admin(request)
        const c = await withOrg(db, scope(r), async (tx) => {
          refuseDuringSwitch(await getChannel(tx, params.id))
          const c = await setPaused(tx, r.actor, params.id, false)
          // Messages that waited while it was disconnected go out now.
          await resumeChannel(tx, c.id)
          // Webhook providers are "connected" as soon as they are enabled; a socket reports its own.
          await setChannelStatus(tx, c.id, {
            status: c.provider === 'baileys' ? 'connecting' : 'open',
            detail: null,
          })
          return getChannel(tx, c.id)
        })
        if (c.provider === 'baileys') {
          // A channel stopped by the loop guard or an alert starts over from a fresh socket.
          const p = providerFor(rt(), c)
          await p.stop?.()
          await startChannel(c)
        }
        setFlash(r, 'success', r.t('whatsapp.reconnected_flash'))
        return redirect(r, `/settings/channels/${c.id}`)
      })
      // Provider switch ---------------------------------------------------------------------------
      .get('/settings/channels/:id/switch', async ({ request, params }) => {
        const r = await admin(request)
        const c = await withOrg(db, scope(r), (tx) => getChannel(tx, params.id))
        if (!isFragment(r)) return redirect(r, `/settings/channels/${c.id}`)
        // Started, completed or cancelled since the page was drawn: other cards change too (the
        // pairing panel, the webhook, the templates): the whole page reloads.
        const shown = r.url.searchParams.get('state')
        if (shown && shown !== (c.switchFrom ? 'switching' : 'idle'))
          return new Response('', {
            status: 200,
            headers: { 'hx-refresh': 'true', 'cache-control': 'no-store' },
          })
        return html(r, <SwitchPanel ui={uiOf(r)} channel={c} form={emptyForm()} />)
      })
      .post('/settings/channels/:id/switch', async ({ request, params, body }) => {
        const r = await admin(request)
        const input = fields(body, SWITCH_FIELDS) as unknown as SwitchForm
        const current = await withOrg(db, scope(r), (tx) => getChannel(tx, params.id))
        if (current.switchFrom) throw WHATSAPP_CHANNEL_ERRORS.switchPending()
        // Secrets are never echoed back into the form.
        const refused = (errors: FormError) =>
          channelPage(r, current.id, undefined, 422, {
            values: { ...input, accessToken: '', appSecret: '' } as unknown as Record<string, string>,
            errors,
          })
        // A refused form must not touch the running provider: validate before anything else.
        try {
          validateSwitch(current, input)
        } catch (err) {
          if (err instanceof FormError) return refused(err)
          throw err
        }
        // An old WhatsApp Web socket closes first, so none of its status writes lands mid-switch.
        await releaseOldProvider(rt(), current)
        let c: WhatsAppChannel
        try {
          c = await withOrg(db, scope(r), (tx) =>
            startSwitch(tx, r.actor, current.id, input, config.secretKey),
          )
        } catch (err) {
          if (current.provider === 'baileys' && !current.paused) await startChannel(current)
          if (err instanceof FormError) return refused(err)
          throw err
        }
        const outcome = await connectSwitch(rt(), c)
        const to = providerName(r, c.provider)
        if (outcome === 'connected')
          setFlash(r, 'success', r.t('whatsapp.switch.done_flash', { provider: to }))
        else if (outcome === 'pairing')
          setFlash(r, 'info', r.t('whatsapp.switch.started_flash', { provider: to }))
        else setFlash(r, 'error', r.t('whatsapp.switch.failed_flash'))
        return redirect(r, `/settings/channels/${c.id}`)
      })
      .post('/settings/channels/:id/switch/check', async ({ request, params }) => {
        const r = await admin(request)
        const c = await withOrg(db, scope(r), (tx) => getChannel(tx, params.id))
        if (!c.switchFrom) throw WHATSAPP_CHANNEL_ERRORS.noSwitch()
        if (c.provider === 'baileys') throw WHATSAPP_CHANNEL_ERRORS.wrongProvider()
        const outcome = await checkSwitch(rt(), c)
        if (outcome === 'connected')
          setFlash(r, 'success', r.t('whatsapp.switch.done_flash', { provider: providerName(r, c.provider) }))
        else setFlash(r, 'error', r.t('whatsapp.switch.failed_flash'))
        return redirect(r, `/settings/channels/${c.id}`)
      })
      .post('/settings/channels/:id/switch/cancel', async ({ request, params }) => {
        const r = await admin(request)
        const c = await withOrg(db, scope(r), (tx) => getChannel(tx, params.id))
        if (!c.switchFrom) throw WHATSAPP_CHANNEL_ERRORS.noSwitch()
        // The new WhatsApp Web socket (pairing) stops before the channel goes back.
        await releaseOldProvider(rt(), c)
        let done: Awaited<ReturnType<typeof cancelSwitch>>
        try {
          done = await withOrg(db, scope(r), (tx) => cancelSwitch(tx, r.actor, c.id))
        } catch (err) {
          // It completed meanwhile (the phone linked just now): keep the socket that won.
          if (err instanceof AppError && err.code === 'whatsapp.no_switch' && c.provider === 'baileys')
            await startChannel(c)
          throw err
        }
        if (done.abandoned.provider === 'baileys')
          await withOrg(db, scope(r), (tx) => clearAuthState(tx, c.id))
        // An old WhatsApp Web socket comes back with the credentials it kept.
        if (done.restored.provider === 'baileys' && !done.restored.paused) await startChannel(done.restored)
        setFlash(
          r,
          'success',
          r.t('whatsapp.switch.cancelled_flash', { provider: providerName(r, done.restored.provider) }),
        )
        return redirect(r, `/settings/channels/${c.id}`)
      })
      // Message templates (Cloud API) ----------------------------------------------------------------
      .get('/settings/channels/:id/templates', async ({ request, params }) => {
        const r = await admin(request)
        const { c, templates } = await withOrg(db, scope(r), async (tx) => {
          const c = await getChannel(tx, params.id)
          return { c, templates: await channelTemplates(tx, c.id) }
        })
        if (!isFragment(r)) return redirect(r, `/settings/channels/${c.id}`)
        return html(r, <TemplatesPanel ui={uiOf(r)} channel={c} templates={templates} />)
      })
      .post('/settings/channels/:id/templates/sync', async ({ request, params }) => {
        const r = await admin(request)
        const c = await withOrg(db, scope(r), async (tx) => {
          const c = await getChannel(tx, params.id)
          if (c.provider !== 'cloud-api') throw WHATSAPP_CHANNEL_ERRORS.wrongProvider()
          await requestTemplateSync(tx, c.id)
          return c
        })
        setFlash(r, 'info', r.t('inbox.templates.sync_started'))
        return redirect(r, `/settings/channels/${c.id}`)
      })
      .post('/settings/channels/:id/delete', async ({ request, params }) => {
        const r = await admin(request)
        const c = await withOrg(db, scope(r), (tx) => getChannel(tx, params.id))
        let stillLinked = false
        if (c.provider === 'baileys') {
          // Unlink the device from the phone, then forget the credentials with the channel: through
          // the live socket when this process holds it, else (disconnected, held by another instance)
          // through a short-lived one with the stored credentials, bounded by a timeout.
          if (rt().baileys.isRunning(c.id)) await providerFor(rt(), c).stop?.({ logout: true })
          else
            stillLinked =
              (await rt()
                .baileys.unlink({ orgId: c.organizationId, channelId: c.id })
                .catch(() => 'unreachable' as const)) === 'unreachable'
          await withOrg(db, scope(r), (tx) => clearAuthState(tx, c.id))
        }
        await withOrg(db, scope(r), (tx) => deleteChannel(tx, r.actor, c.id))
        if (stillLinked) setFlash(r, 'error', r.t('whatsapp.deleted_still_linked', { name: c.name }))
        else setFlash(r, 'success', r.t('whatsapp.deleted', { name: c.name }))
        return redirect(r, '/settings/channels')
      })
  )
}
