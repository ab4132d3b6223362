/**
 * Capture sources (owners and admins): each has a secret token behind `POST /capture/TOKEN`, a source
 * label written on its leads, default tags, an optional target pipeline/stage, a redirect URL and the
 * origins allowed to post (CORS). Also the review of kept submissions and "create lead anyway".
 *
 * Tokens: 32 random bytes, base64url. Requests find the source by the token's SHA-256 (unique index);
 * the plain token is never compared in SQL. Since it is public anyway (it sits in the site's HTML),
 * an AES-256-GCM copy (secrets.ts, key from SECRET_KEY) lets the settings page show the snippet.
 */
import { and, asc, count, desc, eq, inArray, sql } from 'drizzle-orm'
import { secretBox } from '../../platform/crypto/secrets'
import { hashToken } from '../../platform/crypto/tokens'
import type { OrgTx } from '../../platform/db/tenancy'
import { AppError, Check, type FormError, forbidden } from '../../platform/http/errors'
import type { MessageKey } from '../../shared/i18n'
import { isUuid } from '../../shared/ids'
import { recordAudit } from '../orgs/orgs.audit'
import type { Role } from '../orgs/orgs.table'
import { parseTags } from '../pipeline/pipeline.schemas'
import { pipelines, stages } from '../pipeline/pipeline.table'
import {
  type CaptureSource,
  captureSources,
  captureSubmissions,
  type SubmissionStatus,
} from './leads.capture-sources.table'

export interface CaptureActor {
  orgId: string
  userId: string
  role: Role
  ip?: string | null
}

export const CAPTURE_ERRORS = {
  notFound: () => new AppError('capture.not_found', 404, 'error.not_found.title'),
}

export const TOKEN_CONTEXT = 'capture.token'
export const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/

export const requireCaptureAdmin = (actor: CaptureActor) => {
  if (actor.role !== 'owner' && actor.role !== 'admin') throw forbidden()
}

export function newCaptureToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
}

export const captureTokenHash = (token: string) => hashToken(token)

export interface SourceForm {
  name: string
  sourceLabel: string
  tags: string
  /** "" (the first pipeline's first stage) or "<pipelineId>/<stageId>". */
  target: string
  redirectUrl: string
  allowedOrigins: string
  active: string
}
export const SOURCE_FIELDS: (keyof SourceForm)[] = [
  'name',
  'sourceLabel',
  'tags',
  'target',
  'redirectUrl',
  'allowedOrigins',
  'active',
]

/** "https://site.com.br/contato" -> "https://site.com.br"; null when not an http(s) URL. */
export function originOf(raw: string): string | null {
  try {
    const u = new URL(raw.trim())
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null
  } catch {
    return null
  }
}

async function validateSource(tx: OrgTx, input: SourceForm) {
  const check = new Check()
  const name = input.name.trim()
  if (!name) check.add('name', 'error.required')
  else if (name.length > 80) check.add('name', 'capture.error.too_long', { max: 80 })
  const sourceLabel = (input.sourceLabel.trim() || name).slice(0, 200)
  if (sourceLabel.length > 60) check.add('sourceLabel', 'capture.error.too_long', { max: 60 })
  const tags = parseTags(input.tags)
  let pipelineId: string | null = null
  let stageId: string | null = null
  if (input.target) {
    const [p, s] = input.target.split('/')
    if (!p || !s || !isUuid(p) || !isUuid(s)) check.add('target', 'capture.error.target')
    else {
      const rows = await tx
        .select({ id: stages.id })
        .from(stages)
        .where(and(eq(stages.id, s), eq(stages.pipelineId, p)))
      if (!rows.length) check.add('target', 'capture.error.target')
      pipelineId = p
      stageId = s
    }
  }
  const redirect = input.redirectUrl.trim()
  if (redirect && (!originOf(redirect) || redirect.length > 500))
    check.add('redirectUrl', 'capture.error.url')
  const origins: string[] = []
  for (const raw of input.allowedOrigins.split(/[\s,]+/).filter(Boolean)) {
    const o = originOf(raw)
    if (!o) {
      check.add('allowedOrigins', 'capture.error.origin', { value: raw.slice(0, 80) })
      break
    }
    if (!origins.includes(o)) origins.push(o)
  }
  if (origins.length > 20) check.add('allowedOrigins', 'capture.error.too_many_origins')
  check.throwIfAny()
  return {
    name,
    sourceLabel,
    tags,
    pipelineId,
    stageId,
    redirectUrl: redirect || null,
    allowedOrigins: origins,
    active: input.active === 'on' || input.active === 'true',
  }
}

export async function createSource(
  tx: OrgTx,
  actor: CaptureActor,
  input: SourceForm,
  secretKey: string,
): Promise<{ id: string; token: string }> {
  requireCaptureAdmin(actor)
  const v = await validateSource(tx, { ...input, active: 'on' })
  const token = newCaptureToken()
  const [row] = await tx
    .insert(captureSources)
    .values({
      organizationId: actor.orgId,
      ...v,
      tokenHash: captureTokenHash(token),
      tokenEnc: secretBox(secretKey).seal(token, TOKEN_CONTEXT),
      createdBy: actor.userId,
    })
    .returning({ id: captureSources.id })
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'capture_source.created',
    targetType: 'capture_source',
    targetId: row!.id,
    after: { name: v.name },
    ip: actor.ip,
  })
  return { id: row!.id, token }
}

export async function updateSource(tx: OrgTx, actor: CaptureActor, id: string, input: SourceForm) {
  requireCaptureAdmin(actor)
  await getSource(tx, id)
  const v = await validateSource(tx, input)
  await tx
    .update(captureSources)
    .set({ ...v, updatedAt: new Date() })
    .where(eq(captureSources.id, id))
}

/** A new token: the old one stops working at once (404, like an unknown token). */
export async function rotateToken(tx: OrgTx, actor: CaptureActor, id: string, secretKey: string) {
  requireCaptureAdmin(actor)
  const src = await getSource(tx, id)
  const token = newCaptureToken()
  await tx
    .update(captureSources)
    .set({
      tokenHash: captureTokenHash(token),
      tokenEnc: secretBox(secretKey).seal(token, TOKEN_CONTEXT),
      updatedAt: new Date(),
    })
    .where(eq(captureSources.id, id))
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'capture_source.token_rotated',
    targetType: 'capture_source',
    targetId: id,
    after: { name: src.name },
    ip: actor.ip,
  })
  return token
}

export async function deleteSource(tx: OrgTx, actor: CaptureActor, id: string) {
  requireCaptureAdmin(actor)
  const src = await getSource(tx, id)
  await tx.delete(captureSources).where(eq(captureSources.id, id))
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'capture_source.deleted',
    targetType: 'capture_source',
    targetId: id,
    before: { name: src.name },
    ip: actor.ip,
  })
}

export async function getSource(tx: OrgTx, id: string): Promise<CaptureSource> {
  if (!isUuid(id)) throw CAPTURE_ERRORS.notFound()
  const [row] = await tx.select().from(captureSources).where(eq(captureSources.id, id))
  if (!row) throw CAPTURE_ERRORS.notFound()
  return row
}

export const sourceToken = (src: CaptureSource, secretKey: string) =>
  secretBox(secretKey).open(src.tokenEnc, TOKEN_CONTEXT)

export const sourceForm = (src: CaptureSource): SourceForm => ({
  name: src.name,
  sourceLabel: src.sourceLabel,
  tags: src.tags.join(', '),
  target: src.pipelineId && src.stageId ? `${src.pipelineId}/${src.stageId}` : '',
  redirectUrl: src.redirectUrl ?? '',
  allowedOrigins: src.allowedOrigins.join('\n'),
  active: src.active ? 'on' : '',
})

export interface SourceSummary {
  source: CaptureSource
  processed: number
  review: number
}

export async function listSources(tx: OrgTx): Promise<SourceSummary[]> {
  const rows = await tx.select().from(captureSources).orderBy(asc(captureSources.createdAt))
  if (!rows.length) return []
  const counts = await tx
    .select({ sourceId: captureSubmissions.sourceId, status: captureSubmissions.status, n: count() })
    .from(captureSubmissions)
    .where(
      inArray(
        captureSubmissions.sourceId,
        rows.map((r) => r.id),
      ),
    )
    .groupBy(captureSubmissions.sourceId, captureSubmissions.status)
  const of = (id: string, s: SubmissionStatus[]) =>
    counts.filter((c) => c.sourceId === id && s.includes(c.status)).reduce((a, c) => a + Number(c.n), 0)
  return rows.map((source) => ({
    source,
    processed: of(source.id, ['processed']),
    review: of(source.id, ['rejected', 'spam']),
  }))
}

/** Pipelines and their stages, for the "where do new leads go" select. */
export async function targetOptions(tx: OrgTx) {
  const rows = await tx
    .select({
      pipelineId: pipelines.id,
      pipeline: pipelines.name,
      stageId: stages.id,
      stage: stages.name,
      kind: stages.kind,
    })
    .from(stages)
    .innerJoin(pipelines, eq(pipelines.id, stages.pipelineId))
    .orderBy(asc(pipelines.position), asc(pipelines.id), asc(stages.position))
  return rows.filter((r) => r.kind === 'open')
}

// Submissions ------------------------------------------------------------------------------------

export type SubmissionFilter = 'review' | 'all'
export const SUBMISSIONS_PAGE = 100

export async function listSubmissions(
  tx: OrgTx,
  where: { sourceId?: string; connectionId?: string },
  filter: SubmissionFilter,
) {
  const conds = [
    where.sourceId ? eq(captureSubmissions.sourceId, where.sourceId) : undefined,
    where.connectionId ? eq(captureSubmissions.connectionId, where.connectionId) : undefined,
    filter === 'review' ? inArray(captureSubmissions.status, ['rejected', 'spam']) : undefined,
  ].filter(Boolean)
  return tx
    .select()
    .from(captureSubmissions)
    .where(and(...conds))
    .orderBy(desc(captureSubmissions.receivedAt), desc(captureSubmissions.id))
    .limit(SUBMISSIONS_PAGE)
}

export async function getSubmission(tx: OrgTx, id: string) {
  if (!isUuid(id)) throw CAPTURE_ERRORS.notFound()
  const [row] = await tx.select().from(captureSubmissions).where(eq(captureSubmissions.id, id))
  if (!row) throw CAPTURE_ERRORS.notFound()
  return row
}

/** Why a submission was rejected: field -> message key, stored as JSON in `error`. */
export type RejectReasons = Record<string, MessageKey | string>
export const encodeReasons = (r: RejectReasons) => JSON.stringify(r).slice(0, 1000)
export function decodeReasons(error: string | null): RejectReasons {
  if (!error) return {}
  try {
    const v = JSON.parse(error)
    return v && typeof v === 'object' ? (v as RejectReasons) : { _: error }
  } catch {
    return { _: error }
  }
}
export const reasonsOf = (err: FormError): RejectReasons => ({ ...err.fields })

export async function markSubmission(
  tx: OrgTx,
  id: string,
  set: {
    status: SubmissionStatus
    error?: string | null
    leadId?: string | null
    outcome?: 'created' | 'merged' | 'flagged' | null
  },
) {
  await tx
    .update(captureSubmissions)
    .set({
      status: set.status,
      error: set.error ?? null,
      leadId: set.leadId ?? null,
      outcome: set.outcome ?? null,
      processedAt: sql`now()`,
    })
    .where(eq(captureSubmissions.id, id))
}
