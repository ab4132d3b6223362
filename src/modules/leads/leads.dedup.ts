/**
 * Deduplication: finding the existing leads an incoming record may be, the queue of possible
 * duplicates, and merging two leads.
 *
 * Candidates come from ONE statement, a union of three index lookups (each arm reads under RLS with
 * leakproof equality only, so each uses its organization-leading btree index): the same phone (both
 * stored forms of a Brazilian mobile, with and without the ninth digit), the same email key, and the
 * first and last name words (lead_name_keys: word order and middle names do not matter, nicknames
 * of the first name count). Each candidate is then scored in TS (leads.match.ts).
 *
 * A merge re-points every row that references the merged lead — found generically in pg_constraint,
 * so tables added later (inbox messages, calls) are covered without touching this file, as long as
 * the app role may update their lead column (a test checks every such table) — then records a
 * `lead_merges` row with a snapshot of the merged lead, deletes it, and writes the kept lead's
 * timeline, the audit log and the events.
 */
import { sql } from 'drizzle-orm'
import { rowsOf } from '../../platform/db/client'
import type { OrgTx } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { toDate, toNumber } from '../../platform/events/events.pg'
import { AppError, Check, forbidden } from '../../platform/http/errors'
import { recordAudit } from '../orgs/orgs.audit'
import { GAP, insertActivity, pgTextArray } from '../pipeline/pipeline.repository'
import './leads.dedup.events'
import { type CaptureCache, cachedRead } from './leads.capture-cache'
import {
  DEDUP_MODES,
  type DedupMode,
  type DuplicateStatus,
  type LeadSettings,
  type MatchReason,
} from './leads.dedup.table'
import {
  isCommonName,
  type MatchRecord,
  type MatchResult,
  matchScore,
  nameSimilarity,
  phoneKey,
  phoneVariants,
} from './leads.match'
import { givenNameVariants } from './leads.nicknames'
import { leadKeys } from './leads.normalize'
import { rescoreLead } from './leads.scoring'

export const DEDUP_ERRORS = {
  notFound: () => new AppError('leads.not_found', 404, 'error.not_found.title'),
  conflict: () => new AppError('leads.merge_conflict', 409, 'dedup.error.conflict'),
  sameLead: () => new AppError('leads.merge_same', 422, 'dedup.error.same'),
  /** A table references leads but the app role may not update its lead column (see the migration). */
  cannotRepoint: (table: string) => new AppError(`leads.merge_repoint:${table}`, 500, 'error.server.title'),
} as const

const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T
const rows = async <T>(tx: OrgTx, q: ReturnType<typeof sql>) => rowsOf<T>(await tx.execute(q))

// Settings ---------------------------------------------------------------------------------------

export const DEFAULT_SETTINGS: Pick<LeadSettings, 'dedupMode' | 'autoMergeMin' | 'reviewMin'> = {
  dedupMode: 'auto',
  autoMergeMin: 90,
  reviewMin: 60,
}
export type DedupSettings = typeof DEFAULT_SETTINGS

export async function loadDedupSettings(tx: OrgTx, cache?: CaptureCache): Promise<DedupSettings> {
  return cachedRead(cache, 'dedupSettings', () => readDedupSettings(tx))
}

async function readDedupSettings(tx: OrgTx): Promise<DedupSettings> {
  const [r] = await rows<{ dedup_mode: DedupMode; auto_merge_min: unknown; review_min: unknown }>(
    tx,
    sql`select dedup_mode, auto_merge_min, review_min from lead_settings`,
  )
  if (!r) return { ...DEFAULT_SETTINGS }
  return {
    dedupMode: r.dedup_mode,
    autoMergeMin: toNumber(r.auto_merge_min),
    reviewMin: toNumber(r.review_min),
  }
}

// Candidates -------------------------------------------------------------------------------------

/** An existing lead as the matcher and the merge need it. */
export interface LeadSnapshot {
  id: string
  version: number
  pipelineId: string
  stageId: string
  stageName: string
  fullName: string
  nameKey: string
  email: string | null
  emailKey: string | null
  phone: string | null
  company: string | null
  jobTitle: string | null
  valueCents: number
  source: string | null
  ownerId: string | null
  tags: string[]
  custom: Record<string, unknown>
  createdAt: Date
}

type SnapshotRow = {
  id: string
  version: unknown
  pipeline_id: string
  stage_id: string
  stage_name: string
  full_name: string
  name_key: string
  email: string | null
  email_key: string | null
  phone: string | null
  company: string | null
  job_title: string | null
  value_cents: unknown
  source: string | null
  owner_id: string | null
  tags: unknown
  custom: unknown
  created_at: unknown
}

const SNAPSHOT_COLUMNS = sql`l.id, l.version, l.pipeline_id, l.stage_id, s.name as stage_name, l.full_name,
  l.name_key, l.email, l.email_key, l.phone, l.company, l.job_title, l.value_cents, l.source, l.owner_id,
  array_to_json(l.tags) as tags, l.custom, l.created_at`

function toSnapshot(r: SnapshotRow): LeadSnapshot {
  return {
    id: r.id,
    version: toNumber(r.version),
    pipelineId: r.pipeline_id,
    stageId: r.stage_id,
    stageName: r.stage_name,
    fullName: r.full_name,
    nameKey: r.name_key,
    email: r.email,
    emailKey: r.email_key,
    phone: r.phone,
    company: r.company,
    jobTitle: r.job_title,
    valueCents: toNumber(r.value_cents),
    source: r.source,
    ownerId: r.owner_id,
    tags: json<string[]>(r.tags) ?? [],
    custom: json<Record<string, unknown>>(r.custom) ?? {},
    createdAt: toDate(r.created_at),
  }
}

export async function leadSnapshots(tx: OrgTx, ids: string[], lock = false): Promise<LeadSnapshot[]> {
  if (!ids.length) return []
  const r = await rows<SnapshotRow>(
    tx,
    sql`select ${SNAPSHOT_COLUMNS} from leads l join stages s on s.id = l.stage_id
      where l.id = any(${pgTextArray(ids)}::uuid[]) order by l.created_at, l.id
      ${lock ? sql`for update of l` : sql``}`,
  )
  return r.map(toSnapshot)
}

/**
 * The lead a capture merges into, as of now, and whether rescoring it could change anything while the
 * organization has no scoring rule and no model (only when it carries an old rule score or a
 * probability).
 */
export async function mergeTarget(tx: OrgTx, id: string): Promise<{ lead: LeadSnapshot; scored: boolean }> {
  const [r] = await rows<SnapshotRow & { scored: boolean }>(
    tx,
    sql`select ${SNAPSHOT_COLUMNS},
        (jsonb_array_length(l.score_detail) > 0 or l.win_probability is not null) as scored
      from leads l join stages s on s.id = l.stage_id where l.id = ${id}::uuid`,
  )
  if (!r) throw DEDUP_ERRORS.notFound()
  return { lead: toSnapshot(r), scored: r.scored === true || (r.scored as unknown) === 't' }
}

/** Per blocking arm: enough for a busy organization's commonest names, bounded for 100k leads. */
export const ARM_LIMIT = 50

/**
 * The name blocking keys of a probe: its first word in any of its forms ("Bia" → beatriz, bia)
 * paired with its last word, and every other pair of its words, as lead_name_keys stores them (the
 * two words sorted): a lead is a candidate when its name has two of the probe's words, in any order,
 * whatever else it has — so a typo in one word ("Gbriela Augusto Ramos") or the surname written
 * first ("Mendes Helena V.") still finds the lead through the other words.
 */
export function nameBlockingKeys(nameKey: string): string[] {
  const tokens = nameKey.split(' ').filter(Boolean)
  if (tokens.length < 2) return []
  const last = tokens.at(-1)!
  return [
    ...new Set([
      ...givenNameVariants(tokens[0]!).map((first) =>
        first <= last ? `${first} ${last}` : `${last} ${first}`,
      ),
      ...namePairs(nameKey),
    ]),
  ]
}

/** Every unordered pair of the first six words, as lead_name_pairs (0015) stores them. */
export function namePairs(nameKey: string): string[] {
  const t = nameKey.split(' ').slice(0, 6)
  const out = new Set<string>()
  for (let i = 0; i < t.length; i++)
    for (let j = i + 1; j < t.length; j++)
      if (t[i] && t[j]) out.add(t[i]! <= t[j]! ? `${t[i]} ${t[j]}` : `${t[j]} ${t[i]}`)
  return [...out]
}

/**
 * Leads sharing a blocking key with `probe`, in one statement: the same phone (either stored form),
 * the same email key, or both the first (or one of its nicknames) and the last word of the name —
 * through lead_name_keys, whose btree index is usable under RLS (0015 says why the tsvector is not);
 * a one-word name looks for that exact name. Each arm keeps its newest ARM_LIMIT leads (ids are
 * time-ordered UUIDv7).
 */
export async function findCandidates(
  tx: OrgTx,
  probe: MatchRecord,
  exclude: string[] = [],
): Promise<LeadSnapshot[]> {
  const tokens = probe.nameKey.split(' ').filter(Boolean)
  const phones = phoneVariants(probe.phone)
  const arms = []
  if (phones.length)
    arms.push(
      sql`(select id from leads where phone = any(${pgTextArray(phones)}::text[]) limit ${ARM_LIMIT})`,
    )
  if (probe.emailKey)
    arms.push(sql`(select id from leads where email_key = ${probe.emailKey} limit ${ARM_LIMIT})`)
  const keys = nameBlockingKeys(probe.nameKey)
  if (keys.length)
    arms.push(
      sql`(select lead_id as id from lead_name_keys where key = any(${pgTextArray(keys)}::text[])
        order by lead_id desc limit ${ARM_LIMIT})`,
    )
  else if (tokens.length === 1)
    arms.push(
      sql`(select id from leads where name_key = any(${pgTextArray(givenNameVariants(tokens[0]!))}::text[])
        order by id desc limit ${ARM_LIMIT})`,
    )
  if (!arms.length) return []
  const r = await rows<SnapshotRow>(
    tx,
    sql`with c as (${sql.join(arms, sql` union `)})
      select ${SNAPSHOT_COLUMNS} from c join leads l on l.id = c.id join stages s on s.id = l.stage_id
      where l.id <> all(${pgTextArray(exclude)}::uuid[])`,
  )
  return r.map(toSnapshot)
}

/** What scoring a candidate needs of it. */
export type CandidateLead = Pick<
  LeadSnapshot,
  'id' | 'nameKey' | 'phone' | 'emailKey' | 'company' | 'createdAt'
>

export interface ScoredCandidate<L extends CandidateLead = LeadSnapshot> {
  lead: L
  match: MatchResult
}

export const matchRecordOf = (l: {
  nameKey: string
  phone: string | null
  emailKey: string | null
  company: string | null
}): MatchRecord => ({ nameKey: l.nameKey, phone: l.phone, emailKey: l.emailKey, company: l.company })

/** Names at least this similar count as "the same name" when judging how common a name is. */
const SAME_NAME = 0.92

/**
 * How many different people a set of leads with (almost) the same name are at least: leads whose
 * phones or emails differ are different people; a lead with only a phone and one with only an email
 * (or neither) may be one person written down twice, so they count once.
 */
export function distinctPeople(leads: Pick<CandidateLead, 'id' | 'phone' | 'emailKey'>[]): number {
  type L = (typeof leads)[number]
  const differ = (a: string | null, b: string | null) => !!a && !!b && a !== b
  const apart = (x: L, y: L) => differ(phoneKey(x.phone), phoneKey(y.phone)) || differ(x.emailKey, y.emailKey)
  // Leads pairwise apart, taken in id order (the same count whatever order the candidates came in).
  const people: L[] = []
  for (const l of [...leads].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)))
    if (people.every((p) => apart(p, l))) people.push(l)
  return people.length
}

/** Scores candidates against `probe`, best first (ties: the older lead first). */
export function scoreCandidates<L extends CandidateLead>(
  probe: MatchRecord,
  candidates: L[],
): ScoredCandidate<L>[] {
  // How many people this name may refer to: the candidates with (almost) the same name — a typo is
  // the same name — counted as distinct people (one person's leads, queued for review, count once),
  // except for the commonest names of the country ("Maria Silva"), where every lead counts and which
  // are never "the only one" (an organization's first two Maria Silva are two people as often as not).
  const same = candidates.filter((c) => nameSimilarity(probe.nameKey, c.nameKey) >= SAME_NAME)
  const sameNameCount = isCommonName(probe.nameKey) ? Math.max(2, same.length) : distinctPeople(same)
  return candidates
    .map((lead) => ({ lead, match: matchScore(probe, matchRecordOf(lead), { sameNameCount }) }))
    .sort(
      (a, b) =>
        b.match.score - a.match.score ||
        a.lead.createdAt.getTime() - b.lead.createdAt.getTime() ||
        (a.lead.id < b.lead.id ? -1 : a.lead.id > b.lead.id ? 1 : 0),
    )
}

/** The best matches of a record at or above `min` (the form's "possible duplicate" warning). */
export async function possibleDuplicates(
  tx: OrgTx,
  probe: MatchRecord,
  min: number,
  limit = 3,
): Promise<ScoredCandidate[]> {
  if (!probe.nameKey && !probe.phone && !probe.emailKey) return []
  const scored = scoreCandidates(probe, await findCandidates(tx, probe))
  return scored.filter((c) => c.match.score >= min).slice(0, limit)
}

/**
 * Serialises captures of the same person: a transaction-level advisory lock per blocking key
 * (phone, email key), taken in a fixed order, so two simultaneous captures of one person cannot both
 * create a lead. Released at commit.
 */
export async function lockKeys(tx: OrgTx, probe: MatchRecord) {
  const keys = [...phoneVariants(probe.phone).slice(0, 1), probe.emailKey ?? ''].filter(Boolean).sort()
  for (const k of keys)
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtextextended(current_setting('app.org_id', true) || ':dedup:' || ${k}, 0))`,
    )
}

// The review queue -------------------------------------------------------------------------------

/** Records a possible duplicate (a no-op when the pair exists, whatever its status: a dismissed pair stays dismissed). */
export async function flagPair(tx: OrgTx, a: string, b: string, score: number, reasons: MatchReason[]) {
  if (a === b) return false
  const [lo, hi] = a < b ? [a, b] : [b, a]
  const r = await rows<{ id: string }>(
    tx,
    sql`insert into lead_duplicates (id, organization_id, lead_a, lead_b, score, reasons)
      values (${Bun.randomUUIDv7()}::uuid, nullif(current_setting('app.org_id', true), '')::uuid, ${lo}::uuid,
        ${hi}::uuid, ${Math.max(0, Math.min(100, Math.round(score)))}::smallint, ${JSON.stringify(reasons)}::jsonb)
      on conflict (organization_id, lead_a, lead_b) do nothing returning id`,
  )
  return r.length > 0
}

export interface DuplicatePair {
  id: string
  score: number
  reasons: MatchReason[]
  status: DuplicateStatus
  createdAt: Date
  a: LeadSnapshot
  b: LeadSnapshot
}

type PairRow = {
  id: string
  score: unknown
  reasons: unknown
  status: DuplicateStatus
  created_at: unknown
  a: unknown
  b: unknown
}

const PAIR_LEAD = (alias: string) =>
  sql.raw(`(select json_build_object('id', l.id, 'version', l.version, 'pipeline_id', l.pipeline_id,
    'stage_id', l.stage_id, 'stage_name', s.name, 'full_name', l.full_name, 'name_key', l.name_key,
    'email', l.email, 'email_key', l.email_key, 'phone', l.phone, 'company', l.company,
    'job_title', l.job_title, 'value_cents', l.value_cents, 'source', l.source, 'owner_id', l.owner_id,
    'tags', array_to_json(l.tags), 'custom', l.custom, 'created_at', l.created_at)
    from leads l join stages s on s.id = l.stage_id where l.id = d.${alias})`)

function toPair(r: PairRow): DuplicatePair {
  return {
    id: r.id,
    score: toNumber(r.score),
    reasons: json<MatchReason[]>(r.reasons) ?? [],
    status: r.status,
    createdAt: toDate(r.created_at),
    a: toSnapshot(json<SnapshotRow>(r.a)),
    b: toSnapshot(json<SnapshotRow>(r.b)),
  }
}

export const QUEUE_PAGE = 50

/** Open pairs whose two leads both exist, best score first (one statement). */
export async function openPairs(
  tx: OrgTx,
  limit = QUEUE_PAGE,
): Promise<{ pairs: DuplicatePair[]; total: number }> {
  const r = await rows<PairRow & { total: unknown }>(
    tx,
    sql`select d.id, d.score, d.reasons, d.status, d.created_at, ${PAIR_LEAD('lead_a')} as a,
        ${PAIR_LEAD('lead_b')} as b, count(*) over () as total
      from lead_duplicates d
      where d.status = 'open' and d.lead_a is not null and d.lead_b is not null
      order by d.score desc, d.id desc limit ${limit}`,
  )
  return { pairs: r.map(toPair), total: r.length ? toNumber(r[0]!.total) : 0 }
}

export async function countOpenPairs(tx: OrgTx): Promise<number> {
  const [r] = await rows<{ n: unknown }>(
    tx,
    sql`select count(*) as n from lead_duplicates
      where status = 'open' and lead_a is not null and lead_b is not null`,
  )
  return toNumber(r?.n ?? 0)
}

export async function findPair(tx: OrgTx, id: string): Promise<DuplicatePair | null> {
  const [r] = await rows<PairRow>(
    tx,
    sql`select d.id, d.score, d.reasons, d.status, d.created_at, ${PAIR_LEAD('lead_a')} as a,
        ${PAIR_LEAD('lead_b')} as b
      from lead_duplicates d where d.id = ${id}::uuid and d.lead_a is not null and d.lead_b is not null`,
  )
  return r ? toPair(r) : null
}

export interface DedupActor {
  orgId: string
  userId: string | null
  ip?: string | null
}

/** "Not a duplicate": the pair leaves the queue for good. */
export async function dismissPair(tx: OrgTx, actor: DedupActor, pairId: string) {
  const r = await rows<{ id: string }>(
    tx,
    sql`update lead_duplicates set status = 'dismissed', resolved_at = now(), resolved_by = ${actor.userId}::uuid
      where id = ${pairId}::uuid and status = 'open' returning id`,
  )
  if (!r.length) throw DEDUP_ERRORS.notFound()
  await recordEvent(tx, { type: 'lead.duplicates_changed', payload: {} })
}

// Merge ------------------------------------------------------------------------------------------

export const MERGE_FIELDS = [
  'fullName',
  'email',
  'phone',
  'company',
  'jobTitle',
  'value',
  'source',
  'owner',
  'stage',
] as const
export type MergeField = (typeof MERGE_FIELDS)[number]
/** For each field, which lead's value the kept lead gets. Missing: the kept one's, or the other's when empty. */
export type MergeChoices = Partial<Record<MergeField, 'keep' | 'merge'>>

const fieldValue = (l: LeadSnapshot, f: MergeField): unknown =>
  ({
    fullName: l.fullName,
    email: l.email,
    phone: l.phone,
    company: l.company,
    jobTitle: l.jobTitle,
    value: l.valueCents || null,
    source: l.source,
    owner: l.ownerId,
    stage: l.stageId,
  })[f]

/**
 * Every (table, column) that references leads, from the catalog: lead_duplicates is handled by the
 * merge itself (its pairs are ordered and unique).
 */
async function leadReferences(tx: OrgTx) {
  return rows<{ tbl: string; col: string; can_update: boolean }>(
    tx,
    sql`select c.conrelid::regclass::text as tbl, a.attname as col,
        has_column_privilege(c.conrelid, a.attname, 'UPDATE') as can_update
      from pg_constraint c
      join lateral unnest(c.conkey) as k(attnum) on true
      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
      where c.contype = 'f' and c.confrelid = 'leads'::regclass and a.attname <> 'organization_id'
        and c.conrelid <> 'lead_duplicates'::regclass
      order by 1, 2`,
  )
}

export { leadReferences as leadReferencesForTest }

export interface MergeResult {
  keptId: string
  mergedId: string
  changes: Record<string, [unknown, unknown]>
  repointed: Record<string, number>
}

/**
 * Merges `mergeId` into `keepId`: field values per `choices`, tags unioned, custom fields filled,
 * every referencing row re-pointed, the merged lead deleted, and the merge recorded (lead_merges
 * snapshot, `merged` timeline entry, audit log, events). `versions` (as seen on the merge screen)
 * turn a concurrent edit into a 409 instead of a silent overwrite.
 */
export async function mergeLeads(
  tx: OrgTx,
  actor: DedupActor,
  keepId: string,
  mergeId: string,
  choices: MergeChoices = {},
  opts: { versions?: { keep: number; merge: number }; via?: string; pairId?: string } = {},
): Promise<MergeResult> {
  if (keepId === mergeId) throw DEDUP_ERRORS.sameLead()
  const both = await leadSnapshots(tx, [keepId, mergeId], true)
  const keep = both.find((l) => l.id === keepId)
  const merge = both.find((l) => l.id === mergeId)
  if (!keep || !merge) throw DEDUP_ERRORS.notFound()
  if (opts.versions && (keep.version !== opts.versions.keep || merge.version !== opts.versions.merge))
    throw DEDUP_ERRORS.conflict()

  const pick = (f: MergeField) => {
    const k = fieldValue(keep, f)
    const m = fieldValue(merge, f)
    const choice = choices[f] ?? (k === null || k === '' ? 'merge' : 'keep')
    return choice === 'merge' && m !== null && m !== '' ? m : k
  }
  const next = {
    fullName: pick('fullName') as string,
    email: pick('email') as string | null,
    phone: pick('phone') as string | null,
    company: pick('company') as string | null,
    jobTitle: pick('jobTitle') as string | null,
    valueCents: (pick('value') as number | null) ?? 0,
    source: pick('source') as string | null,
    ownerId: pick('owner') as string | null,
    stageId: pick('stage') as string,
    tags: [...new Set([...keep.tags, ...merge.tags])].slice(0, 20),
    custom: { ...merge.custom, ...keep.custom },
  }
  const stageChange = next.stageId !== keep.stageId
  const before: Record<string, unknown> = {
    fullName: keep.fullName,
    email: keep.email,
    phone: keep.phone,
    company: keep.company,
    jobTitle: keep.jobTitle,
    valueCents: keep.valueCents,
    source: keep.source,
    ownerId: keep.ownerId,
    stageId: keep.stageId,
    tags: keep.tags,
  }
  const changes: Record<string, [unknown, unknown]> = {}
  for (const [k, v] of Object.entries(before)) {
    const n = (next as Record<string, unknown>)[k]
    if (JSON.stringify(v) !== JSON.stringify(n)) changes[k] = [v, n]
  }

  // Everything that pointed at the merged lead now points at the kept one.
  const refs = await leadReferences(tx)
  const repointed: Record<string, number> = {}
  for (const ref of refs) {
    if (!ref.can_update) throw DEDUP_ERRORS.cannotRepoint(ref.tbl)
    const r = await rows<{ n: unknown }>(
      tx,
      sql`with u as (update ${sql.raw(ref.tbl)} set ${sql.identifier(ref.col)} = ${keepId}::uuid
        where ${sql.identifier(ref.col)} = ${mergeId}::uuid returning 1) select count(*) as n from u`,
    )
    const n = toNumber(r[0]?.n ?? 0)
    if (n) repointed[`${ref.tbl}.${ref.col}`] = n
  }
  // The queue: this pair is resolved; the merged lead's other open pairs move to the kept lead.
  await tx.execute(
    sql`update lead_duplicates set status = 'merged', resolved_at = now(), resolved_by = ${actor.userId}::uuid
      where status = 'open' and lead_a = least(${keepId}::uuid, ${mergeId}::uuid)
        and lead_b = greatest(${keepId}::uuid, ${mergeId}::uuid)`,
  )
  await tx.execute(
    sql`with moved as (
        delete from lead_duplicates
        where status = 'open' and (lead_a = ${mergeId}::uuid or lead_b = ${mergeId}::uuid)
        returning score, reasons, case when lead_a = ${mergeId}::uuid then lead_b else lead_a end as other
      )
      insert into lead_duplicates (id, organization_id, lead_a, lead_b, score, reasons)
      select gen_random_uuid(), nullif(current_setting('app.org_id', true), '')::uuid,
        least(${keepId}::uuid, other), greatest(${keepId}::uuid, other), score, reasons
      from moved where other is not null and other <> ${keepId}::uuid
      on conflict (organization_id, lead_a, lead_b) do nothing`,
  )
  // The record of the merge, with what the merged lead held (for audit and undo by hand).
  await tx.execute(
    sql`insert into lead_merges (id, organization_id, kept_lead_id, merged_lead_id, merged_by, via, snapshot, changes)
      select ${Bun.randomUUIDv7()}::uuid, l.organization_id, ${keepId}::uuid, l.id, ${actor.userId}::uuid,
        ${opts.via ?? 'manual'}, to_jsonb(l) - 'search_text' - 'search_tsv', ${JSON.stringify(changes)}::jsonb
      from leads l where l.id = ${mergeId}::uuid`,
  )
  await tx.execute(sql`delete from leads where id = ${mergeId}::uuid`)

  const keys = leadKeys({ ...next, tags: next.tags })
  const target = stageChange
    ? (
        await rows<{ pipeline_id: string }>(
          tx,
          sql`select pipeline_id from stages where id = ${next.stageId}::uuid`,
        )
      )[0]
    : null
  const [updated] = await rows<{ version: unknown; pipeline_id: string; stage_id: string }>(
    tx,
    sql`update leads set full_name = ${next.fullName}, email = ${next.email}, phone = ${next.phone},
        company = ${next.company}, job_title = ${next.jobTitle}, value_cents = ${next.valueCents}::bigint,
        source = ${next.source}, owner_id = ${next.ownerId}::uuid, tags = ${pgTextArray(next.tags)}::text[],
        custom = ${JSON.stringify(next.custom)}::jsonb, email_key = ${keys.emailKey}, name_key = ${keys.nameKey},
        region = ${keys.region}, search_text = ${keys.searchText},
        ${
          stageChange && target
            ? sql`stage_id = ${next.stageId}::uuid, pipeline_id = ${target.pipeline_id}::uuid,
              position = (select coalesce(min(position), ${GAP}::bigint) - ${GAP}::bigint from leads where stage_id = ${next.stageId}::uuid),`
            : sql``
        }
        version = version + 1, updated_at = now(), last_activity_at = now()
      where id = ${keepId}::uuid returning version, pipeline_id, stage_id`,
  )
  await insertActivity(tx, {
    leadId: keepId,
    actorId: actor.userId,
    kind: 'merged',
    data: { via: opts.via ?? 'manual', mergedId: mergeId, mergedName: merge.fullName, changes, repointed },
  })
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'lead.merged',
    targetType: 'lead',
    targetId: keepId,
    // Ids and field names only: personal data stays in lead_merges, which erasure removes.
    before: { mergedLeadId: mergeId },
    after: { fields: Object.keys(changes).join(', ') || '—', via: opts.via ?? 'manual' },
    ip: actor.ip ?? null,
  })
  await rescoreLead(tx, keepId)
  await recordEvent(tx, {
    type: 'lead.updated',
    payload: {
      leadId: keepId,
      pipelineId: updated!.pipeline_id,
      stageId: updated!.stage_id,
      version: toNumber(updated!.version),
    },
  })
  // Boards drop the merged card (its card URL answers 404 now).
  await recordEvent(tx, {
    type: 'lead.updated',
    payload: {
      leadId: mergeId,
      pipelineId: merge.pipelineId,
      stageId: merge.stageId,
      version: merge.version + 1,
    },
  })
  await recordEvent(tx, { type: 'lead.merged', payload: { keptId: keepId, mergedId: mergeId } })
  return { keptId: keepId, mergedId: mergeId, changes, repointed }
}

/** A field choice on the merge screen: the left (a) or right (b) lead's value. */
export type SideChoices = Partial<Record<MergeField, 'a' | 'b'>>

/** The merge screen's pair, merged: the older lead is kept (its URL lives on). */
export async function mergePair(
  tx: OrgTx,
  actor: DedupActor,
  pairId: string,
  sides: SideChoices,
  versions?: { a: number; b: number },
) {
  const pair = await findPair(tx, pairId)
  if (pair?.status !== 'open') throw DEDUP_ERRORS.notFound()
  const keepSide = keptSide(pair)
  const [keep, merge] = keepSide === 'a' ? [pair.a, pair.b] : [pair.b, pair.a]
  const choices: MergeChoices = {}
  for (const f of MERGE_FIELDS) {
    const side = sides[f]
    if (side) choices[f] = side === keepSide ? 'keep' : 'merge'
  }
  const v = versions
    ? keepSide === 'a'
      ? { keep: versions.a, merge: versions.b }
      : { keep: versions.b, merge: versions.a }
    : undefined
  return mergeLeads(tx, actor, keep.id, merge.id, choices, { versions: v, via: 'manual', pairId })
}

export const keptSide = (pair: DuplicatePair): 'a' | 'b' => (pair.a.createdAt <= pair.b.createdAt ? 'a' : 'b')

// Settings (owners and admins) -------------------------------------------------------------------

export interface DedupSettingsInput {
  mode: string
  autoMergeMin: string
  reviewMin: string
}

export async function saveDedupSettings(
  tx: OrgTx,
  actor: DedupActor & { role: string },
  input: DedupSettingsInput,
): Promise<DedupSettings> {
  if (actor.role !== 'owner' && actor.role !== 'admin') throw forbidden()
  const check = new Check()
  const mode = input.mode as DedupMode
  if (!DEDUP_MODES.includes(mode)) check.add('mode', 'error.required')
  const int = (field: string, v: string, min: number) => {
    const n = Number(v.trim())
    if (!v.trim() || !Number.isInteger(n) || n < min || n > 100) {
      check.add(field, 'dedup.error.percent', { min })
      return min
    }
    return n
  }
  const autoMergeMin = int('autoMergeMin', input.autoMergeMin, 50)
  const reviewMin = int('reviewMin', input.reviewMin, 30)
  if (!check.has('autoMergeMin') && !check.has('reviewMin') && reviewMin > autoMergeMin)
    check.add('reviewMin', 'dedup.error.thresholds')
  check.throwIfAny()
  const before = await loadDedupSettings(tx)
  const next: DedupSettings = { dedupMode: mode, autoMergeMin, reviewMin }
  await tx.execute(
    sql`insert into lead_settings (organization_id, dedup_mode, auto_merge_min, review_min)
      values (nullif(current_setting('app.org_id', true), '')::uuid, ${mode}, ${autoMergeMin}::smallint, ${reviewMin}::smallint)
      on conflict (organization_id) do update set dedup_mode = excluded.dedup_mode,
        auto_merge_min = excluded.auto_merge_min, review_min = excluded.review_min, updated_at = now()`,
  )
  if (JSON.stringify(before) !== JSON.stringify(next))
    await recordAudit(tx, {
      orgId: actor.orgId,
      actorId: actor.userId,
      action: 'lead_settings.updated',
      targetType: 'lead_settings',
      before,
      after: next,
      ip: actor.ip ?? null,
    })
  return next
}
