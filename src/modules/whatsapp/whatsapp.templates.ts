/**
 * Message templates of Cloud API channels, synced from Meta for the inbox's template picker.
 *
 * - `whatsapp.sync_templates` (one channel): GET {graph}/v21.0/{waba-id}/message_templates through
 *   the provider's `listTemplates` (every page), then one transaction replaces the channel's rows in
 *   `whatsapp_templates` and stamps `templates_synced_at`; a failure is kept in `templates_error`
 *   (transient ones retry). Enqueued on demand from the channel page, when a switch to the Cloud
 *   API completes, and for every Cloud API channel by the daily schedule below.
 * - A template is offered in the composer when its status is APPROVED and the composer can fill
 *   everything it needs: body parameters only. Templates with a media header, a header variable or
 *   a button variable (URL suffix, copy code, one-time password) are stored but not `sendable`.
 * - Parameters: POSITIONAL templates number them ({{1}}, {{2}}…) and are sent as
 *   `{type: "text", text}` in order; NAMED ones ({{first_name}}) as `{type: "text", parameter_name,
 *   text}` (https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates).
 */
import { and, asc, eq, ne, sql } from 'drizzle-orm'
import { rowsOf } from '../../platform/db/client'
import type { OrgTx } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { Check } from '../../platform/http/errors'
import { defineOrgJob, defineSystemJob } from '../../platform/jobs/jobs.define'
import { enqueue, enqueueForOrg } from '../../platform/jobs/jobs.queue'
import type { Schedule } from '../../platform/jobs/jobs.worker'
import './whatsapp.events'
import { providerFor, whatsappRuntime } from './whatsapp.runtime'
import { whatsappChannels, whatsappTemplates } from './whatsapp.table'
import { type MessageTemplate, SendError, type TemplateComponent } from './whatsapp.types'

export interface ParsedTemplate {
  name: string
  language: string
  status: string
  category: string | null
  parameterFormat: 'POSITIONAL' | 'NAMED'
  body: string
  params: string[]
  sendable: boolean
  components: unknown[]
  providerTemplateId: string | null
}

type Obj = Record<string, unknown>
const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : '')
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g
/** Buttons whose sending needs a parameter the composer does not ask for. */
const PARAM_BUTTONS = new Set(['COPY_CODE', 'OTP', 'CATALOG', 'MPM', 'SPM'])

/** A template as Meta lists it -> what the picker needs (pure). */
export function parseTemplate(t: MessageTemplate): ParsedTemplate {
  const components = (Array.isArray(t.components) ? t.components : []).filter(
    (c): c is Obj => !!c && typeof c === 'object',
  )
  const body = components.find((c) => upper(c.type) === 'BODY')
  const text = typeof body?.text === 'string' ? body.text : ''
  const found = [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))]
  const named = upper(t.parameterFormat) === 'NAMED' || found.some((p) => !/^\d+$/.test(p))
  const params = named ? found : found.sort((a, b) => Number(a) - Number(b))
  const header = components.find((c) => upper(c.type) === 'HEADER')
  const buttons = components.find((c) => upper(c.type) === 'BUTTONS')?.buttons
  const headerOk =
    !header ||
    ((!header.format || upper(header.format) === 'TEXT') &&
      !(typeof header.text === 'string' && /\{\{/.test(header.text)))
  const buttonsOk = (Array.isArray(buttons) ? buttons : []).every((b: Obj) => {
    if (PARAM_BUTTONS.has(upper(b?.type))) return false
    return !(upper(b?.type) === 'URL' && typeof b.url === 'string' && /\{\{/.test(b.url))
  })
  return {
    name: t.name,
    language: t.language,
    status: upper(t.status) || 'UNKNOWN',
    category: t.category ? upper(t.category).slice(0, 40) : null,
    parameterFormat: named ? 'NAMED' : 'POSITIONAL',
    body: text.slice(0, 4096),
    params,
    sendable: headerOk && buttonsOk && upper(t.category) !== 'AUTHENTICATION',
    components,
    providerTemplateId: t.id ? String(t.id).slice(0, 100) : null,
  }
}

/** Replaces the channel's templates with the provider's list, in one transaction. */
export async function storeTemplates(tx: OrgTx, channelId: string, list: MessageTemplate[]) {
  const stamp = new Date()
  let stored = 0
  for (const t of list) {
    const p = parseTemplate(t)
    if (!/^[a-z0-9_]{1,512}$/.test(p.name) || !/^[A-Za-z_]{2,15}$/.test(p.language)) continue
    const values = {
      name: p.name,
      language: p.language,
      status: p.status.slice(0, 40),
      category: p.category,
      parameterFormat: p.parameterFormat,
      body: p.body,
      params: p.params,
      sendable: p.sendable,
      components: p.components,
      providerTemplateId: p.providerTemplateId,
      syncedAt: stamp,
    }
    await tx
      .insert(whatsappTemplates)
      .values({
        ...values,
        organizationId: sql`nullif(current_setting('app.org_id', true), '')::uuid`,
        channelId,
      })
      .onConflictDoUpdate({
        target: [
          whatsappTemplates.organizationId,
          whatsappTemplates.channelId,
          whatsappTemplates.name,
          whatsappTemplates.language,
        ],
        set: values,
      })
    stored++
  }
  // Deleted at Meta (or renamed): gone here too.
  await tx
    .delete(whatsappTemplates)
    .where(and(eq(whatsappTemplates.channelId, channelId), ne(whatsappTemplates.syncedAt, stamp)))
  await tx
    .update(whatsappChannels)
    .set({ templatesSyncedAt: stamp, templatesError: null })
    .where(eq(whatsappChannels.id, channelId))
  await recordEvent(tx, { type: 'whatsapp.templates.synced', payload: { channelId, count: stored } })
  return stored
}

export async function recordTemplatesError(tx: OrgTx, channelId: string, message: string) {
  await tx
    .update(whatsappChannels)
    .set({ templatesError: message.slice(0, 500) })
    .where(eq(whatsappChannels.id, channelId))
  await recordEvent(tx, {
    type: 'whatsapp.templates.synced',
    payload: { channelId, count: 0, error: true },
  })
}

export const syncTemplatesJob = defineOrgJob<{ channelId: string }>({
  name: 'whatsapp.sync_templates',
  queue: 'default',
  maxAttempts: 4,
  backoff: { baseMs: 30_000, maxMs: 30 * 60_000 },
  async run(ctx) {
    const { channelId } = ctx.payload
    const [c] = await ctx.tx((tx) =>
      tx.select().from(whatsappChannels).where(eq(whatsappChannels.id, channelId)),
    )
    // Deleted, or switched to a provider without templates meanwhile: nothing to sync.
    if (c?.provider !== 'cloud-api') return
    const provider = providerFor(whatsappRuntime(ctx.db), c)
    if (!provider.listTemplates) return
    let list: MessageTemplate[]
    try {
      list = await provider.listTemplates()
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      const code = err instanceof SendError ? ` (${err.code})` : ''
      await ctx.tx((tx) => recordTemplatesError(tx, channelId, `${message}${code}`))
      const permanent = err instanceof SendError && err.permanent
      if (permanent || ctx.job.attempt >= ctx.job.maxAttempts) return
      throw err
    }
    await ctx.tx((tx) => storeTemplates(tx, channelId, list))
  },
})

/**
 * "Sync now" on the channel page, and a completed switch to the Cloud API. The channel shows the sync
 * as pending (no sync time, no error) until the job stores the list or its error: the channel page
 * polls while it is pending, so a result that lands while the page is being swapped is not missed.
 */
export async function requestTemplateSync(tx: OrgTx, channelId: string) {
  await tx
    .update(whatsappChannels)
    .set({ templatesSyncedAt: null, templatesError: null })
    .where(eq(whatsappChannels.id, channelId))
  return enqueue(
    tx,
    syncTemplatesJob,
    { channelId },
    { idempotencyKey: `whatsapp.templates:${channelId}:${Date.now()}` },
  )
}

/** Once a day, every Cloud API channel (not in the middle of a switch) syncs its templates. */
export const syncTemplatesDailyJob = defineSystemJob<Record<string, never>>({
  name: 'whatsapp.sync_templates_daily',
  queue: 'maintenance',
  maxAttempts: 3,
  async run(ctx) {
    const day = ctx.clock.now().toISOString().slice(0, 10)
    await ctx.tx(async (tx) => {
      const channels = rowsOf<{ id: string; org: string }>(
        await tx.execute(sql`select id::text as id, organization_id::text as org from whatsapp_channels
          where provider = 'cloud-api' and switch_from is null`),
      )
      for (const c of channels)
        await enqueueForOrg(
          tx,
          c.org,
          syncTemplatesJob,
          { channelId: c.id },
          { idempotencyKey: `whatsapp.templates:${c.id}:${day}` },
        )
    })
  },
})

export const syncTemplatesSchedule: Schedule<Record<string, never>> = {
  name: 'whatsapp.sync_templates_daily',
  cron: '41 5 * * *',
  job: syncTemplatesDailyJob,
  payload: {},
}

export const TEMPLATE_JOBS = [syncTemplatesJob, syncTemplatesDailyJob]

// The picker -----------------------------------------------------------------------------------------

export interface TemplateOption {
  id: string
  name: string
  language: string
  category: string | null
  parameterFormat: 'POSITIONAL' | 'NAMED'
  body: string
  params: string[]
}

/** The templates a rep can send on the channel: approved and fillable, by name then language. */
export async function sendableTemplates(tx: OrgTx, channelId: string): Promise<TemplateOption[]> {
  return tx
    .select({
      id: whatsappTemplates.id,
      name: whatsappTemplates.name,
      language: whatsappTemplates.language,
      category: whatsappTemplates.category,
      parameterFormat: whatsappTemplates.parameterFormat,
      body: whatsappTemplates.body,
      params: whatsappTemplates.params,
    })
    .from(whatsappTemplates)
    .where(
      and(
        eq(whatsappTemplates.channelId, channelId),
        eq(whatsappTemplates.status, 'APPROVED'),
        eq(whatsappTemplates.sendable, true),
      ),
    )
    .orderBy(asc(whatsappTemplates.name), asc(whatsappTemplates.language))
}

/** Every synced template of a channel (the settings page lists them with their status). */
export async function channelTemplates(tx: OrgTx, channelId: string) {
  return tx
    .select()
    .from(whatsappTemplates)
    .where(eq(whatsappTemplates.channelId, channelId))
    .orderBy(asc(whatsappTemplates.name), asc(whatsappTemplates.language))
}

/** The form field of one parameter value (unique per template, so several can share a page). */
export const paramField = (templateId: string, param: string) => `tp.${templateId}.${param}`

/**
 * A chosen template and the values typed for its parameters -> the components to send (the Graph
 * API's shape) and the text the bubble shows. Field errors (422) for missing or invalid values:
 * WhatsApp refuses empty values, new lines, tabs and more than four spaces in a row.
 */
export function fillTemplate(
  tpl: Pick<TemplateOption, 'id' | 'parameterFormat' | 'params' | 'body'>,
  values: Record<string, string>,
): { components: TemplateComponent[]; text: string } {
  const check = new Check()
  const clean: Record<string, string> = {}
  for (const p of tpl.params) {
    const field = paramField(tpl.id, p)
    const v = (values[p] ?? '').trim()
    if (!v) check.add(field, 'inbox.templates.error.param_required', { param: `{{${p}}}` })
    else if (v.length > 1024) check.add(field, 'inbox.error.body_too_long', { max: 1024 })
    else if (/[\n\t]| {5,}/.test(v)) check.add(field, 'inbox.templates.error.param_format')
    clean[p] = v
  }
  check.throwIfAny()
  const named = tpl.parameterFormat === 'NAMED'
  const components: TemplateComponent[] = tpl.params.length
    ? [
        {
          type: 'body',
          parameters: tpl.params.map((p) =>
            named ? { type: 'text', parameter_name: p, text: clean[p]! } : { type: 'text', text: clean[p]! },
          ),
        },
      ]
    : []
  const text = tpl.body.replace(PLACEHOLDER, (m, k: string) => clean[k] ?? m)
  return { components, text }
}
