/**
 * Facebook Lead Ads (https://developers.facebook.com/docs/graph-api/webhooks/getting-started and
 * https://developers.facebook.com/docs/marketing-api/guides/lead-ads/retrieving):
 *
 * - `GET /capture/facebook/:connectionId` answers Meta's verification handshake
 *   (`hub.mode=subscribe`, `hub.verify_token` must match, echo `hub.challenge`).
 * - `POST` carries `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, key = app secret>`;
 *   each `entry[].changes[]` with `field: "leadgen"` (value: leadgen_id, form_id, page_id, ad_id,
 *   created_time) is stored as a submission (once per leadgen_id), then answered 200 at once.
 * - A durable job fetches the lead, `GET {FACEBOOK_GRAPH_URL}/v21.0/{leadgen_id}?access_token=...`
 *   -> `{id, created_time, field_data: [{name, values}]}`, and passes it to captureLead. 5xx and
 *   network errors retry with backoff; other 4xx mark the submission rejected (fix the page token,
 *   then "try again" from the review list).
 *
 * The app secret, verify token and page access token are sealed at rest (secrets.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { and, asc, eq, sql } from 'drizzle-orm'
import type { Config } from '../../config/config'
import { secretBox } from '../../platform/crypto/secrets'
import type { Db } from '../../platform/db/client'
import { type OrgTx, readAsSystem } from '../../platform/db/tenancy'
import { Check } from '../../platform/http/errors'
import { defineOrgJob } from '../../platform/jobs/jobs.define'
import { enqueue } from '../../platform/jobs/jobs.queue'
import { isUuid } from '../../shared/ids'
import { recordAudit } from '../orgs/orgs.audit'
import { parseTags } from '../pipeline/pipeline.schemas'
import { facebookFields } from './leads.capture-fields'
import { captureFromFields } from './leads.capture-intake'
import {
  CAPTURE_ERRORS,
  type CaptureActor,
  encodeReasons,
  markSubmission,
  requireCaptureAdmin,
} from './leads.capture-sources'
import {
  captureSubmissions,
  type FacebookConnection,
  facebookConnections,
} from './leads.capture-sources.table'

export const GRAPH_VERSION = 'v21.0'
export const MAX_WEBHOOK_BYTES = 1024 * 1024
const CTX = {
  appSecret: 'facebook.app_secret',
  verifyToken: 'facebook.verify_token',
  pageToken: 'facebook.page_token',
} as const

// Runtime: the job needs the Graph URL and SECRET_KEY. createApp (captureRoutes) sets them from the
// configuration, per database (the job finds them by `ctx.db`); the worker runs in the same process.
interface FacebookRuntime {
  graphUrl: string
  secretKey: string
  fetch: typeof fetch
}
const runtimes = new WeakMap<Db, FacebookRuntime>()
export function configureFacebookCapture(
  db: Db,
  config: Pick<Config, 'facebookGraphUrl' | 'secretKey'>,
  fetcher = fetch,
) {
  runtimes.set(db, { graphUrl: config.facebookGraphUrl, secretKey: config.secretKey, fetch: fetcher })
}

// Admin ------------------------------------------------------------------------------------------

export interface ConnectionForm {
  name: string
  appSecret: string
  verifyToken: string
  pageToken: string
  tags: string
  active: string
}
export const CONNECTION_FIELDS: (keyof ConnectionForm)[] = [
  'name',
  'appSecret',
  'verifyToken',
  'pageToken',
  'tags',
  'active',
]

export const newVerifyToken = () =>
  Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64url')

/** Secrets left empty on an edit keep their stored value. */
function validateConnection(input: ConnectionForm, editing: boolean) {
  const check = new Check()
  const name = input.name.trim()
  if (!name) check.add('name', 'error.required')
  else if (name.length > 80) check.add('name', 'capture.error.too_long', { max: 80 })
  const secret = (k: 'appSecret' | 'verifyToken' | 'pageToken', min: number) => {
    const v = input[k].trim()
    if (!v && !editing) check.add(k, 'error.required')
    else if (v && (v.length < min || v.length > 1000 || /\s/.test(v))) check.add(k, 'capture.error.secret')
    return v
  }
  const appSecret = secret('appSecret', 8)
  const verifyToken = secret('verifyToken', 8)
  const pageToken = secret('pageToken', 8)
  check.throwIfAny()
  return {
    name,
    appSecret,
    verifyToken,
    pageToken,
    tags: parseTags(input.tags),
    active: input.active === 'on' || input.active === 'true',
  }
}

export async function createConnection(
  tx: OrgTx,
  actor: CaptureActor,
  input: ConnectionForm,
  secretKey: string,
) {
  requireCaptureAdmin(actor)
  const v = validateConnection({ ...input, active: 'on' }, false)
  const box = secretBox(secretKey)
  const [row] = await tx
    .insert(facebookConnections)
    .values({
      organizationId: actor.orgId,
      name: v.name,
      appSecretEnc: box.seal(v.appSecret, CTX.appSecret),
      verifyTokenEnc: box.seal(v.verifyToken, CTX.verifyToken),
      pageTokenEnc: box.seal(v.pageToken, CTX.pageToken),
      tags: v.tags,
      createdBy: actor.userId,
    })
    .returning({ id: facebookConnections.id })
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'facebook_connection.created',
    targetType: 'facebook_connection',
    targetId: row!.id,
    after: { name: v.name },
    ip: actor.ip,
  })
  return row!.id
}

export async function updateConnection(
  tx: OrgTx,
  actor: CaptureActor,
  id: string,
  input: ConnectionForm,
  secretKey: string,
) {
  requireCaptureAdmin(actor)
  await getConnection(tx, id)
  const v = validateConnection(input, true)
  const box = secretBox(secretKey)
  await tx
    .update(facebookConnections)
    .set({
      name: v.name,
      tags: v.tags,
      active: v.active,
      ...(v.appSecret ? { appSecretEnc: box.seal(v.appSecret, CTX.appSecret) } : {}),
      ...(v.verifyToken ? { verifyTokenEnc: box.seal(v.verifyToken, CTX.verifyToken) } : {}),
      ...(v.pageToken ? { pageTokenEnc: box.seal(v.pageToken, CTX.pageToken) } : {}),
      updatedAt: new Date(),
    })
    .where(eq(facebookConnections.id, id))
  if (v.appSecret || v.verifyToken || v.pageToken)
    await recordAudit(tx, {
      orgId: actor.orgId,
      actorId: actor.userId,
      action: 'facebook_connection.secrets_changed',
      targetType: 'facebook_connection',
      targetId: id,
      after: {
        name: v.name,
        changed: [v.appSecret && 'appSecret', v.verifyToken && 'verifyToken', v.pageToken && 'pageToken']
          .filter(Boolean)
          .join(', '),
      },
      ip: actor.ip,
    })
}

export async function deleteConnection(tx: OrgTx, actor: CaptureActor, id: string) {
  requireCaptureAdmin(actor)
  const c = await getConnection(tx, id)
  await tx.delete(facebookConnections).where(eq(facebookConnections.id, id))
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'facebook_connection.deleted',
    targetType: 'facebook_connection',
    targetId: id,
    before: { name: c.name },
    ip: actor.ip,
  })
}

export async function getConnection(tx: OrgTx, id: string): Promise<FacebookConnection> {
  if (!isUuid(id)) throw CAPTURE_ERRORS.notFound()
  const [row] = await tx.select().from(facebookConnections).where(eq(facebookConnections.id, id))
  if (!row) throw CAPTURE_ERRORS.notFound()
  return row
}

export const listConnections = (tx: OrgTx) =>
  tx.select().from(facebookConnections).orderBy(asc(facebookConnections.createdAt))

/** The verify token, shown to the admin to paste into Meta's dashboard. */
export const connectionVerifyToken = (c: FacebookConnection, secretKey: string) =>
  secretBox(secretKey).open(c.verifyTokenEnc, CTX.verifyToken)

// Webhook ----------------------------------------------------------------------------------------

interface ConnectionSecrets {
  id: string
  organizationId: string
  appSecretEnc: string
  verifyTokenEnc: string
}

/** connection id -> its organization and sealed secrets (as the system: the org is not known yet). */
export async function resolveConnection(db: Db, id: string): Promise<ConnectionSecrets | null> {
  if (!isUuid(id)) return null
  const [r] = await readAsSystem<{ id: string; org: string; app: string; verify: string }>(
    db,
    sql`select id::text as id, organization_id::text as org, app_secret_enc as app, verify_token_enc as verify
        from facebook_connections where id = ${id}::uuid and active`,
  )
  return r ? { id: r.id, organizationId: r.org, appSecretEnc: r.app, verifyTokenEnc: r.verify } : null
}

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && timingSafeEqual(x, y)
}

/** The handshake: the challenge to echo, or null (403). */
export function verifyHandshake(
  conn: ConnectionSecrets,
  secretKey: string,
  q: URLSearchParams,
): string | null {
  const expected = secretBox(secretKey).open(conn.verifyTokenEnc, CTX.verifyToken)
  if (q.get('hub.mode') !== 'subscribe') return null
  if (!sameText(q.get('hub.verify_token') ?? '', expected)) return null
  return q.get('hub.challenge') ?? ''
}

/** `X-Hub-Signature-256: sha256=<hex>` over the raw body, compared in constant time. */
export function verifySignature(
  conn: ConnectionSecrets,
  secretKey: string,
  raw: Uint8Array,
  header: string | null,
) {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '')
  if (!m) return false
  const secret = secretBox(secretKey).open(conn.appSecretEnc, CTX.appSecret)
  const mac = createHmac('sha256', secret).update(raw).digest()
  return timingSafeEqual(mac, Buffer.from(m[1]!.toLowerCase(), 'hex'))
}

export interface LeadgenChange {
  leadgen_id: string
  form_id?: string
  page_id?: string
  ad_id?: string
  created_time?: number
}

/** The leadgen changes of a webhook body (anything else is ignored). */
export function leadgenChanges(body: unknown): LeadgenChange[] {
  const out: LeadgenChange[] = []
  const entries = (body as { entry?: unknown })?.entry
  if (!Array.isArray(entries)) return out
  for (const e of entries) {
    const changes = (e as { changes?: unknown })?.changes
    if (!Array.isArray(changes)) continue
    for (const c of changes) {
      const { field, value } = (c ?? {}) as { field?: unknown; value?: Record<string, unknown> }
      const id = value?.leadgen_id
      if (field !== 'leadgen' || (typeof id !== 'string' && typeof id !== 'number')) continue
      out.push({ ...(value as object), leadgen_id: String(id) } as LeadgenChange)
    }
  }
  return out
}

/** Stores each new leadgen change and enqueues its fetch, in the connection's organization. */
export async function storeLeadgen(
  tx: OrgTx,
  conn: { id: string; organizationId: string },
  changes: LeadgenChange[],
  meta: { contentType: string | null; remoteIp: string | null },
) {
  let stored = 0
  for (const change of changes) {
    const [row] = await tx
      .insert(captureSubmissions)
      .values({
        organizationId: conn.organizationId,
        connectionId: conn.id,
        contentType: meta.contentType?.slice(0, 200) ?? null,
        payload: change as unknown as Record<string, unknown>,
        remoteIp: meta.remoteIp?.slice(0, 64) ?? null,
        externalId: change.leadgen_id.slice(0, 200),
        status: 'accepted',
      })
      .onConflictDoNothing()
      .returning({ id: captureSubmissions.id })
    if (!row) continue // the same leadgen_id again: Meta retries deliveries
    stored++
    await enqueue(
      tx,
      facebookLeadJob,
      { submissionId: row.id },
      { idempotencyKey: `facebook.lead:${row.id}` },
    )
  }
  return stored
}

// The job ----------------------------------------------------------------------------------------

export class GraphError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export const facebookLeadJob = defineOrgJob<{ submissionId: string }>({
  name: 'leads.facebook_lead',
  queue: 'default',
  maxAttempts: 8,
  backoff: { baseMs: 5_000, maxMs: 30 * 60_000 },
  async run(ctx) {
    const rt = runtimes.get(ctx.db)
    if (!rt)
      throw new Error('facebook capture is not configured for this database (createApp was not called)')
    const box = secretBox(rt.secretKey)
    const work = await ctx.tx(async (tx) => {
      const [s] = await tx
        .select()
        .from(captureSubmissions)
        .where(eq(captureSubmissions.id, ctx.payload.submissionId))
      if (!s || s.status === 'processed' || !s.connectionId || !s.externalId) return null
      const [c] = await tx
        .select()
        .from(facebookConnections)
        .where(eq(facebookConnections.id, s.connectionId))
      if (!c) return null
      return { sub: s, conn: c, token: box.open(c.pageTokenEnc, CTX.pageToken) }
    })
    if (!work) return
    // Network I/O outside any transaction.
    const url = `${rt.graphUrl}/${GRAPH_VERSION}/${encodeURIComponent(work.sub.externalId!)}?access_token=${encodeURIComponent(work.token)}`
    const res = await rt.fetch(url, { signal: ctx.signal, headers: { accept: 'application/json' } })
    if (res.status >= 500 || res.status === 429) throw new GraphError(res.status, `graph ${res.status}`)
    const body = (await res.json().catch(() => null)) as {
      field_data?: unknown
      error?: { message?: string }
    } | null
    await ctx.tx(async (tx) => {
      // Lock the row: a second run of the same lead (retry after a lost lease) waits and then sees it done.
      const [s] = await tx
        .select()
        .from(captureSubmissions)
        .where(eq(captureSubmissions.id, work.sub.id))
        .for('update')
      if (!s || s.status === 'processed') return
      if (!res.ok || !body) {
        const msg = body?.error?.message ?? `HTTP ${res.status}`
        await markSubmission(tx, s.id, {
          status: 'rejected',
          error: encodeReasons({ _: 'capture.error.graph', graph: msg.slice(0, 300) }),
        })
        return
      }
      await tx
        .update(captureSubmissions)
        .set({ payload: { ...(s.payload as object), field_data: body.field_data ?? [] } })
        .where(eq(captureSubmissions.id, s.id))
      const done = await captureFromFields(tx, facebookFields(body.field_data), {
        sourceLabel: work.conn.sourceLabel,
        tags: work.conn.tags,
        pipelineId: null,
        stageId: null,
        actorId: null,
      })
      if (done.ok)
        await markSubmission(tx, s.id, { status: 'processed', leadId: done.leadId, outcome: done.outcome })
      else await markSubmission(tx, s.id, { status: 'rejected', error: encodeReasons(done.reasons) })
    })
  },
})

/** "Try again" on a rejected Facebook submission: fetch it again (a new job). */
export async function refetchFacebookSubmission(tx: OrgTx, submissionId: string) {
  await tx
    .update(captureSubmissions)
    .set({ status: 'accepted', error: null })
    .where(and(eq(captureSubmissions.id, submissionId)))
  await enqueue(
    tx,
    facebookLeadJob,
    { submissionId },
    { idempotencyKey: `facebook.lead:${submissionId}:${Date.now()}` },
  )
}
