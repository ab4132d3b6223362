/**
 * Pipeline queries. Everything takes an `OrgTx` (RLS scopes it to one organization); the few writes
 * made at sign-up also accept the `SystemTx` of createOrganizationTx and then name the organization
 * explicitly. The hot paths are single statements:
 *   - the board: every stage of a pipeline with its count, total and first page of cards (one query);
 *   - a move: the compare-and-set update, its new position and the timeline entry (one query).
 */
import { and, asc, eq, type SQL, sql } from 'drizzle-orm'
import { rowsOf } from '../../platform/db/client'
import type { OrgTx, SystemTx } from '../../platform/db/tenancy'
import { outboxCtes } from '../../platform/events/events.outbox'
import { toDate, toDateOrNull, toNumber } from '../../platform/events/events.pg'
import { searchSql } from '../leads/leads.search'
import type { BoardFilters } from './pipeline.schemas'
import { lossReasons, pipelines, type ScoreContribution, type StageKind, stages } from './pipeline.table'

/** Positions are 2^20 apart when appended or renumbered: 20 moves into the same gap before a renumber. */
export const GAP = 1_048_576
export const PAGE_SIZE = 25

const CURRENT_ORG = sql`(select nullif(current_setting('app.org_id', true), '')::uuid)`

async function rows<T>(tx: OrgTx | SystemTx, q: SQL): Promise<T[]> {
  return rowsOf<T>(await tx.execute(q))
}

export interface FilterScope {
  userId: string
  timezone: string
}

/** The WHERE fragment of the board filters, for the alias `l` of `leads`. */
export function filterSql(f: BoardFilters, scope: FilterScope): SQL {
  const parts: SQL[] = [sql`true`]
  if (f.owner === 'mine') parts.push(sql`l.owner_id = ${scope.userId}::uuid`)
  else if (f.owner === 'none') parts.push(sql`l.owner_id is null`)
  else if (f.owner) parts.push(sql`l.owner_id = ${f.owner}::uuid`)
  if (f.source) parts.push(sql`l.source = ${f.source}`)
  if (f.tag) parts.push(sql`l.tags @> array[${f.tag}::text]`)
  if (f.scoreMin !== undefined) parts.push(sql`l.score >= ${f.scoreMin}::int`)
  if (f.scoreMax !== undefined) parts.push(sql`l.score <= ${f.scoreMax}::int`)
  if (f.createdFrom)
    parts.push(sql`l.created_at >= (${f.createdFrom}::date::timestamp at time zone ${scope.timezone}::text)`)
  if (f.createdTo)
    parts.push(
      sql`l.created_at < ((${f.createdTo}::date + 1)::timestamp at time zone ${scope.timezone}::text)`,
    )
  // The lead list's search (accent-free word prefixes over the full-text index), so both agree.
  if (f.q) parts.push(searchSql(f.q, 'l'))
  return sql.join(parts, sql` and `)
}

// Cards ------------------------------------------------------------------------------------------

export interface Card {
  id: string
  stageId: string
  position: number
  version: number
  fullName: string
  company: string | null
  valueCents: number
  currency: string
  ownerId: string | null
  score: number
  tags: string[]
  lastActivityAt: Date
  hasEmail: boolean
  hasPhone: boolean
  wonAt: Date | null
  lostAt: Date | null
}

const CARD_COLUMNS = sql`l.id, l.stage_id, l.position, l.version, l.full_name, l.company, l.value_cents,
  l.currency, l.owner_id, l.score, l.tags, l.last_activity_at, l.email is not null as has_email,
  l.phone is not null as has_phone, l.won_at, l.lost_at`

type CardRow = {
  id: string
  stage_id: string
  position: unknown
  version: unknown
  full_name: string
  company: string | null
  value_cents: unknown
  currency: string
  owner_id: string | null
  score: unknown
  tags: string[] | string | null
  last_activity_at: unknown
  has_email: boolean
  has_phone: boolean
  won_at: unknown
  lost_at: unknown
}

/** postgres.js may hand a text[] over as its literal when it does not know the type. */
function textArray(v: string[] | string | null): string[] {
  if (Array.isArray(v)) return v
  if (!v || v === '{}') return []
  return v
    .slice(1, -1)
    .split(',')
    .map((s) => s.replace(/^"|"$/g, '').replace(/\\(.)/g, '$1'))
}

function toCard(r: CardRow): Card {
  return {
    id: r.id,
    stageId: r.stage_id,
    position: toNumber(r.position),
    version: toNumber(r.version),
    fullName: r.full_name,
    company: r.company,
    valueCents: toNumber(r.value_cents),
    currency: r.currency,
    ownerId: r.owner_id,
    score: toNumber(r.score),
    tags: textArray(r.tags),
    lastActivityAt: toDate(r.last_activity_at),
    hasEmail: !!r.has_email,
    hasPhone: !!r.has_phone,
    wonAt: toDateOrNull(r.won_at),
    lostAt: toDateOrNull(r.lost_at),
  }
}

export interface Column {
  id: string
  name: string
  color: string
  probability: number
  kind: StageKind
  count: number
  totalCents: number
  cards: Card[]
  /** More cards after the last one shown. */
  more: boolean
}

/** The next page of one stage, after the card at (position, id). */
export async function columnPage(
  tx: OrgTx,
  stageId: string,
  filters: BoardFilters,
  scope: FilterScope,
  after: { position: number; id: string } | null,
  pageSize = PAGE_SIZE,
): Promise<{ cards: Card[]; more: boolean }> {
  const result = await rows<CardRow>(
    tx,
    sql`select ${CARD_COLUMNS} from leads l
      where l.stage_id = ${stageId}::uuid and ${filterSql(filters, scope)}
        ${after ? sql`and (l.position, l.id) > (${after.position}::bigint, ${after.id}::uuid)` : sql``}
      order by l.position, l.id limit ${pageSize + 1}`,
  )
  return { cards: result.slice(0, pageSize).map(toCard), more: result.length > pageSize }
}

/** One card, if it exists and passes the filters (a live update asks whether to show it). */
export async function cardById(
  tx: OrgTx,
  leadId: string,
  filters: BoardFilters,
  scope: FilterScope,
): Promise<(Card & { pipelineId: string }) | null> {
  const [r] = await rows<CardRow & { pipeline_id: string }>(
    tx,
    sql`select ${CARD_COLUMNS}, l.pipeline_id from leads l
      where l.id = ${leadId}::uuid and ${filterSql(filters, scope)}`,
  )
  return r ? { ...toCard(r), pipelineId: r.pipeline_id } : null
}

// Board context ----------------------------------------------------------------------------------

export interface PipelineRef {
  id: string
  name: string
  currency: string
}
export interface MemberRef {
  id: string
  name: string
}
export interface ReasonRef {
  id: string
  label: string
}
export interface ViewRef {
  id: string
  name: string
  pipelineId: string
  query: string
}
export interface BoardContext {
  pipelines: PipelineRef[]
  members: MemberRef[]
  reasons: ReasonRef[]
  views: ViewRef[]
  /** The organization's last event version: the board's live connection resumes from it. */
  version: number
}

const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T

/** The select-list of the board context (pipelines, members, reasons, the user's views, version). */
function contextColumns(userId: string, org: Org = rls): SQL {
  return sql`coalesce((select json_agg(json_build_object('id', p.id, 'name', p.name, 'currency', p.currency)
        order by p.position, p.id) from pipelines p where ${org('p')}), '[]') as pipelines,
      coalesce((select json_agg(json_build_object('id', u.id, 'name', u.name) order by u.name, u.id)
        from organization_members m join users u on u.id = m.user_id where ${org('m')}), '[]') as members,
      coalesce((select json_agg(json_build_object('id', r.id, 'label', r.label) order by r.position, r.id)
        from loss_reasons r where ${org('r')}), '[]') as reasons,
      coalesce((select json_agg(json_build_object('id', v.id, 'name', v.name, 'pipelineId', v.pipeline_id,
        'query', v.query) order by v.name, v.id) from saved_views v
        where ${org('v')} and v.user_id = ${userId}::uuid), '[]') as views,
      -- the platform's outbox counter (events.outbox latestVersion), read here to save a round trip
      coalesce((select c.version from outbox_counters c where c.organization_id = ${CURRENT_ORG}), 0) as version`
}

/**
 * The organization predicate of a table alias: under RLS the policy adds it (`true` here); the
 * benchmark's owner variant spells it out (`alias.organization_id = $org`) to compare the two.
 */
type Org = (alias: string) => SQL
const rls: Org = () => sql`true`
const explicitOrg =
  (orgId: string): Org =>
  (alias) =>
    sql`${sql.raw(alias)}.organization_id = ${orgId}::uuid`

type ContextRow = { pipelines: unknown; members: unknown; reasons: unknown; views: unknown; version: unknown }
const toContext = (r: ContextRow): BoardContext => ({
  pipelines: json(r.pipelines),
  members: json(r.members),
  reasons: json(r.reasons),
  views: json(r.views),
  version: toNumber(r.version),
})

/**
 * Everything around the board in one statement: pipelines, members (owners, the owner filter),
 * loss reasons, the user's saved views and the event version the page is current with.
 */
export async function boardContext(tx: OrgTx, userId: string): Promise<BoardContext> {
  const [r] = await rows<ContextRow>(tx, sql`select ${contextColumns(userId)}`)
  return toContext(r!)
}

/** The statement of `boardSnapshot`; `explicitOrgId` spells out every organization predicate (bench). */
export function boardSnapshotSql(
  userId: string,
  pipelineId: string | null,
  filters: BoardFilters,
  scope: FilterScope,
  pageSize = PAGE_SIZE,
  explicitOrgId?: string,
): SQL {
  const org = explicitOrgId ? explicitOrg(explicitOrgId) : rls
  const where = filterSql(filters, scope)
  return sql`with p as (
      select id, name, currency from pipelines
      where ${org('pipelines')} and id = coalesce(${pipelineId}::uuid,
        (select id from pipelines q where ${org('q')} order by position, id limit 1))
    ), a as (
      select l.stage_id, count(*) as n, sum(l.value_cents) as total
      from leads l where ${org('l')} and l.pipeline_id = (select id from p) and ${where}
      group by l.stage_id
    ), cols as (
      select s.id, s.name, s.color, s.probability, s.kind, s.position,
        coalesce(a.n, 0) as n, coalesce(a.total, 0) as total,
        (select coalesce(json_agg(c order by c.position, c.id), '[]') from (
          select ${CARD_COLUMNS} from leads l
          where ${org('l')} and l.stage_id = s.id and ${where}
          order by l.position, l.id limit ${pageSize + 1}
        ) c) as cards
      from stages s left join a on a.stage_id = s.id
      where ${org('s')} and s.pipeline_id = (select id from p)
    )
    select ${contextColumns(userId, org)},
      (select row_to_json(p) from p) as pipeline,
      coalesce((select json_agg(cols order by cols.position, cols.id) from cols), '[]') as columns`
}

/**
 * The whole board in ONE statement: the context above, the pipeline (`pipelineId`, or the first
 * one), each of its stages with the filtered count and total (one pass over the pipeline's leads) and
 * the first page of cards (an index range per stage), as JSON. `pipeline` is null when not found.
 */
export async function boardSnapshot(
  tx: OrgTx,
  userId: string,
  pipelineId: string | null,
  filters: BoardFilters,
  scope: FilterScope,
  pageSize = PAGE_SIZE,
): Promise<{ ctx: BoardContext; pipeline: PipelineRef | null; columns: Column[] }> {
  const [r] = await rows<ContextRow & { pipeline: unknown; columns: unknown }>(
    tx,
    boardSnapshotSql(userId, pipelineId, filters, scope, pageSize),
  )
  const cols = json<
    Array<{
      id: string
      name: string
      color: string
      probability: number
      kind: StageKind
      n: unknown
      total: unknown
      cards: CardRow[]
    }>
  >(r!.columns)
  return {
    ctx: toContext(r!),
    pipeline: json<PipelineRef | null>(r!.pipeline),
    columns: cols.map((c) => ({
      id: c.id,
      name: c.name,
      color: c.color,
      probability: toNumber(c.probability),
      kind: c.kind,
      count: toNumber(c.n),
      totalCents: toNumber(c.total),
      cards: c.cards.slice(0, pageSize).map(toCard),
      more: c.cards.length > pageSize,
    })),
  }
}

/** Distinct sources and tags in use (filter suggestions, loaded when the filter panel opens). */
export async function filterSuggestions(tx: OrgTx): Promise<{ sources: string[]; tags: string[] }> {
  const [r] = await rows<{ sources: unknown; tags: unknown }>(
    tx,
    sql`select
      coalesce((select json_agg(s) from (select distinct source as s from leads where source is not null
        order by 1 limit 100) x), '[]') as sources,
      coalesce((select json_agg(t) from (select distinct unnest(tags) as t from leads order by 1 limit 200) y),
        '[]') as tags`,
  )
  return { sources: json(r!.sources), tags: json(r!.tags) }
}

// Lead detail ------------------------------------------------------------------------------------

export interface LeadDetail extends Card {
  pipelineId: string
  email: string | null
  phone: string | null
  jobTitle: string | null
  source: string | null
  lostReason: string | null
  createdAt: Date
  updatedAt: Date
  ownerName: string | null
  stageName: string
  stageKind: StageKind
  stageColor: string
  pipelineName: string
  /** Custom field values (validated by leads.custom-fields on every write). */
  custom: Record<string, unknown>
  /** Each scoring rule's contribution (leads.scoring), the model's win probability, when scored. */
  scoreDetail: ScoreContribution[]
  winProbability: number | null
  scoredAt: Date | null
}

export async function leadDetail(tx: OrgTx, leadId: string): Promise<LeadDetail | null> {
  const [r] = await rows<
    CardRow & {
      pipeline_id: string
      email: string | null
      phone: string | null
      job_title: string | null
      source: string | null
      lost_reason: string | null
      created_at: unknown
      updated_at: unknown
      owner_name: string | null
      stage_name: string
      stage_kind: StageKind
      stage_color: string
      pipeline_name: string
      custom: unknown
      score_detail: unknown
      win_probability: unknown
      scored_at: unknown
    }
  >(
    tx,
    sql`select ${CARD_COLUMNS}, l.pipeline_id, l.email, l.phone, l.job_title, l.source, l.lost_reason, l.custom,
        l.created_at, l.updated_at, u.name as owner_name, s.name as stage_name, s.kind as stage_kind,
        s.color as stage_color, p.name as pipeline_name, l.score_detail, l.win_probability, l.scored_at
      from leads l
      join stages s on s.id = l.stage_id
      join pipelines p on p.id = l.pipeline_id
      left join users u on u.id = l.owner_id
      where l.id = ${leadId}::uuid`,
  )
  if (!r) return null
  return {
    ...toCard(r),
    pipelineId: r.pipeline_id,
    email: r.email,
    phone: r.phone,
    jobTitle: r.job_title,
    source: r.source,
    lostReason: r.lost_reason,
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
    ownerName: r.owner_name,
    stageName: r.stage_name,
    stageKind: r.stage_kind,
    stageColor: r.stage_color,
    pipelineName: r.pipeline_name,
    custom: json<Record<string, unknown>>(r.custom) ?? {},
    scoreDetail: json<ScoreContribution[]>(r.score_detail) ?? [],
    winProbability: r.win_probability == null ? null : Number(r.win_probability),
    scoredAt: toDateOrNull(r.scored_at),
  }
}

export interface Activity {
  id: string
  kind: string
  data: Record<string, unknown>
  actorId: string | null
  actorName: string | null
  createdAt: Date
}

export async function leadActivities(tx: OrgTx, leadId: string, limit = 100): Promise<Activity[]> {
  const result = await rows<{
    id: string
    kind: string
    data: unknown
    actor_id: string | null
    actor_name: string | null
    created_at: unknown
  }>(
    tx,
    sql`select a.id, a.kind, a.data, a.actor_id, u.name as actor_name, a.created_at
      from lead_activities a left join users u on u.id = a.actor_id
      where a.lead_id = ${leadId}::uuid
      order by a.created_at desc, a.id desc limit ${limit}`,
  )
  return result.map((r) => ({
    id: r.id,
    kind: r.kind,
    data: json<Record<string, unknown>>(r.data) ?? {},
    actorId: r.actor_id,
    actorName: r.actor_name,
    createdAt: toDate(r.created_at),
  }))
}

export async function insertActivity(
  tx: OrgTx,
  a: { leadId: string; actorId: string | null; kind: string; data?: Record<string, unknown> },
) {
  await tx.execute(
    sql`insert into lead_activities (id, organization_id, lead_id, actor_id, kind, data)
      values (${Bun.randomUUIDv7()}::uuid, ${CURRENT_ORG}, ${a.leadId}::uuid, ${a.actorId}::uuid, ${a.kind},
        ${JSON.stringify(a.data ?? {})}::jsonb)`,
  )
}

// Writes -----------------------------------------------------------------------------------------

export interface NewLead {
  pipelineId: string
  stageId: string
  fullName: string
  email: string | null
  phone: string | null
  company: string | null
  jobTitle: string | null
  valueCents: number
  currency: string
  source: string | null
  ownerId: string | null
  tags: string[]
  score: number
  createdBy: string | null
  emailKey: string | null
  nameKey: string
  region: string | null
  searchText: string
  custom?: Record<string, unknown>
}

/** Inserts a lead at the top of its stage and its `created` timeline entry, in one statement. */
export async function insertLead(
  tx: OrgTx,
  l: NewLead,
): Promise<{ id: string; position: number; version: number }> {
  const id = Bun.randomUUIDv7()
  const [r] = await rows<{ id: string; position: unknown; version: unknown }>(
    tx,
    sql`with ins as (
        insert into leads (id, organization_id, pipeline_id, stage_id, position, full_name, email, phone, company,
          job_title, value_cents, currency, source, owner_id, tags, score, created_by,
          email_key, name_key, region, search_text, custom)
        values (${id}::uuid, ${CURRENT_ORG}, ${l.pipelineId}::uuid, ${l.stageId}::uuid,
          (select coalesce(min(position), ${GAP}::bigint) - ${GAP}::bigint from leads where stage_id = ${l.stageId}::uuid),
          ${l.fullName}, ${l.email}, ${l.phone}, ${l.company}, ${l.jobTitle}, ${l.valueCents}::bigint, ${l.currency},
          ${l.source}, ${l.ownerId}::uuid, ${pgTextArray(l.tags)}::text[], ${l.score}::int, ${l.createdBy}::uuid,
          ${l.emailKey}, ${l.nameKey}, ${l.region}, ${l.searchText}, ${JSON.stringify(l.custom ?? {})}::jsonb)
        returning id, organization_id, position, version
      ), act as (
        insert into lead_activities (id, organization_id, lead_id, actor_id, kind, data)
        select ${Bun.randomUUIDv7()}::uuid, ins.organization_id, ins.id, ${l.createdBy}::uuid, 'created',
          jsonb_strip_nulls(jsonb_build_object('source', ${l.source}::text))
        from ins
      )
      select id, position, version from ins`,
  )
  return { id: r!.id, position: toNumber(r!.position), version: toNumber(r!.version) }
}

/** A Postgres text[] literal: bound as one text parameter, so drivers never guess the array type. */
export function pgTextArray(items: string[]): string {
  return `{${items.map((s) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`
}

export interface MoveInput {
  leadId: string
  toStageId: string
  afterId: string | null
  expectedVersion: number
  actorId: string
  /** Closing value (won); null keeps the current value. */
  valueCents: number | null
  lostReason: string | null
  /** The target stage was renumbered just before (carried in the event). */
  rebalanced: boolean
}

export interface MoveRow {
  found: boolean
  stageFound: boolean
  seenVersion: number | null
  fromStageId: string | null
  fromStageName: string | null
  fromPipelineId: string | null
  toKind: StageKind | null
  toStageName: string | null
  toPipelineId: string | null
  anchorMissing: boolean
  needsReason: boolean
  noRoom: boolean
  moved: { position: number; version: number; valueCents: number } | null
  /** The outbox version of the `lead.moved` event written with the move (null: nothing moved). */
  eventVersion: number | null
}

/**
 * The move, in one statement: read the lead and the target stage, place it right after `afterId`
 * (or at the top) halfway between its new neighbours, compare-and-set on `version`, and write the
 * timeline entry when the stage changes. Under concurrency the update re-checks `version` on the
 * latest row (READ COMMITTED re-evaluation), so of two moves that saw the same version one wins.
 */
export async function moveLeadRow(tx: OrgTx, m: MoveInput): Promise<MoveRow> {
  const after = m.afterId
  // The `lead.moved` event goes into the outbox in the same statement: one round trip per move.
  const event = outboxCtes('lead.moved', {
    from: sql`upd, me, tgt`,
    payload: {
      leadId: sql`me.id`,
      pipelineId: sql`tgt.pipeline_id`,
      fromPipelineId: sql`me.pipeline_id`,
      fromStageId: sql`me.stage_id`,
      toStageId: sql`tgt.id`,
      afterId: sql`${after}::uuid`,
      position: sql`upd.position`,
      version: sql`upd.version`,
      valueCents: sql`upd.value_cents`,
      rebalanced: sql`${m.rebalanced}::boolean`,
    },
  })
  const [r] = await rows<Record<string, unknown>>(
    tx,
    sql`with me as (
        select l.id, l.stage_id, l.pipeline_id, l.version, l.value_cents, s.name as stage_name
        from leads l join stages s on s.id = l.stage_id where l.id = ${m.leadId}::uuid
      ), tgt as (
        select id, pipeline_id, kind, name from stages where id = ${m.toStageId}::uuid
      ), anchor as (
        select position from leads
        where id = ${after}::uuid and stage_id = ${m.toStageId}::uuid and id <> ${m.leadId}::uuid
      ), b as (
        select (select position from anchor) as lo,
          case when ${after}::uuid is null
            then (select min(position) from leads where stage_id = ${m.toStageId}::uuid and id <> ${m.leadId}::uuid)
            else (select min(position) from leads where stage_id = ${m.toStageId}::uuid and id <> ${m.leadId}::uuid
              and position > (select position from anchor))
          end as hi
      ), np as (
        select case
            when ${after}::uuid is not null and b.lo is null then null
            when b.lo is null and b.hi is null then 0
            when b.lo is null then b.hi - ${GAP}::bigint
            when b.hi is null then b.lo + ${GAP}::bigint
            when b.hi - b.lo >= 2 then b.lo + (b.hi - b.lo) / 2
            else null
          end as pos,
          (${after}::uuid is not null and b.lo is null) as anchor_missing,
          (b.lo is not null and b.hi is not null and b.hi - b.lo < 2) as no_room
        from b
      ), upd as (
        update leads l set
          stage_id = tgt.id,
          pipeline_id = tgt.pipeline_id,
          position = np.pos,
          version = l.version + 1,
          updated_at = now(),
          last_activity_at = case when me.stage_id <> tgt.id then now() else l.last_activity_at end,
          value_cents = case when tgt.kind = 'won' and ${m.valueCents}::bigint is not null
            then ${m.valueCents}::bigint else l.value_cents end,
          won_at = case when tgt.kind <> 'won' then null
            when me.stage_id = tgt.id then l.won_at else now() end,
          lost_at = case when tgt.kind <> 'lost' then null
            when me.stage_id = tgt.id then l.lost_at else now() end,
          lost_reason = case when tgt.kind <> 'lost' then null
            else coalesce(${m.lostReason}::text, l.lost_reason) end
        from me, tgt, np
        where l.id = me.id and l.version = ${m.expectedVersion}::int and np.pos is not null
          and (tgt.kind <> 'lost' or me.stage_id = tgt.id or ${m.lostReason}::text is not null)
        returning l.organization_id, l.position, l.version, l.value_cents
      ), act as (
        insert into lead_activities (id, organization_id, lead_id, actor_id, kind, data)
        select ${Bun.randomUUIDv7()}::uuid, upd.organization_id, me.id, ${m.actorId}::uuid,
          case tgt.kind when 'won' then 'won' when 'lost' then 'lost' else 'moved' end,
          jsonb_build_object('fromStageId', me.stage_id, 'fromStage', me.stage_name, 'toStageId', tgt.id,
            'toStage', tgt.name, 'valueCents', upd.value_cents, 'reason', ${m.lostReason}::text)
        from upd, me, tgt where me.stage_id <> tgt.id
      ), ${event.ctes}
      select
        (select count(*) from me) > 0 as found,
        (select count(*) from tgt) > 0 as stage_found,
        (select version from me) as seen_version,
        (select stage_id from me) as from_stage_id,
        (select stage_name from me) as from_stage_name,
        (select pipeline_id from me) as from_pipeline_id,
        (select kind from tgt) as to_kind,
        (select name from tgt) as to_stage_name,
        (select pipeline_id from tgt) as to_pipeline_id,
        (select anchor_missing from np) as anchor_missing,
        (select no_room from np) as no_room,
        ((select kind from tgt) = 'lost' and ${m.lostReason}::text is null
          and (select stage_id from me) is distinct from ${m.toStageId}::uuid) as needs_reason,
        upd.position, upd.version, upd.value_cents, ${event.notify} as event_version
      from (select 1) one left join upd on true`,
  )
  const row = r!
  return {
    found: !!row.found,
    stageFound: !!row.stage_found,
    seenVersion: row.seen_version == null ? null : toNumber(row.seen_version),
    fromStageId: (row.from_stage_id as string) ?? null,
    fromStageName: (row.from_stage_name as string) ?? null,
    fromPipelineId: (row.from_pipeline_id as string) ?? null,
    toKind: (row.to_kind as StageKind) ?? null,
    toStageName: (row.to_stage_name as string) ?? null,
    toPipelineId: (row.to_pipeline_id as string) ?? null,
    anchorMissing: !!row.anchor_missing,
    noRoom: !!row.no_room,
    needsReason: !!row.needs_reason,
    moved:
      row.version == null
        ? null
        : {
            position: toNumber(row.position),
            version: toNumber(row.version),
            valueCents: toNumber(row.value_cents),
          },
    eventVersion: row.event_version == null ? null : toNumber(row.event_version),
  }
}

/** Renumbers a stage GAP apart (when a gap ran out). Returns the number of leads renumbered. */
export async function rebalanceStage(tx: OrgTx, stageId: string): Promise<number> {
  const r = await rows<{ n: unknown }>(
    tx,
    sql`with r as (
        select id, row_number() over (order by position, id) as rn from leads where stage_id = ${stageId}::uuid
      ), u as (
        update leads l set position = r.rn * ${GAP}::bigint from r where l.id = r.id and l.position <> r.rn * ${GAP}::bigint
        returning 1
      ) select count(*) as n from u`,
  )
  return toNumber(r[0]?.n ?? 0)
}

/** Moves every lead of `fromStageId` to the end of `toStageId`, keeping their order. */
export async function reassignStageLeads(
  tx: OrgTx,
  fromStageId: string,
  to: { id: string; pipelineId: string },
): Promise<number> {
  const r = await rows<{ n: unknown }>(
    tx,
    sql`with base as (
        select coalesce(max(position), 0) as p from leads where stage_id = ${to.id}::uuid
      ), r as (
        select id, row_number() over (order by position, id) as rn from leads where stage_id = ${fromStageId}::uuid
      ), u as (
        update leads l set stage_id = ${to.id}::uuid, pipeline_id = ${to.pipelineId}::uuid,
          position = base.p + r.rn * ${GAP}::bigint, version = l.version + 1, updated_at = now()
        from r, base where l.id = r.id
        returning 1
      ) select count(*) as n from u`,
  )
  return toNumber(r[0]?.n ?? 0)
}

export async function countLeadsInStage(tx: OrgTx, stageId: string): Promise<number> {
  const r = await rows<{ n: unknown }>(
    tx,
    sql`select count(*) as n from leads where stage_id = ${stageId}::uuid`,
  )
  return toNumber(r[0]?.n ?? 0)
}

export async function countLeadsInPipeline(tx: OrgTx, pipelineId: string): Promise<number> {
  const r = await rows<{ n: unknown }>(
    tx,
    sql`select count(*) as n from leads where pipeline_id = ${pipelineId}::uuid`,
  )
  return toNumber(r[0]?.n ?? 0)
}

// Pipelines and stages ---------------------------------------------------------------------------

export interface StageSeed {
  name: string
  color: string
  probability: number
  kind: StageKind
}

/** A pipeline with its stages. `orgId` is explicit: this also runs as the system at sign-up. */
export async function insertPipeline(
  tx: OrgTx | SystemTx,
  orgId: string,
  p: { name: string; currency?: string; stages: StageSeed[] },
): Promise<string> {
  const [pos] = await tx
    .select({ next: sql<number>`coalesce(max(${pipelines.position}), -1) + 1` })
    .from(pipelines)
    .where(eq(pipelines.organizationId, orgId))
  const [row] = await tx
    .insert(pipelines)
    .values({
      organizationId: orgId,
      name: p.name,
      currency: p.currency ?? 'BRL',
      position: toNumber(pos?.next ?? 0),
    })
    .returning({ id: pipelines.id })
  await tx.insert(stages).values(
    p.stages.map((s, i) => ({
      organizationId: orgId,
      pipelineId: row!.id,
      name: s.name,
      color: s.color,
      probability: s.probability,
      kind: s.kind,
      position: i,
    })),
  )
  return row!.id
}

/** Adds loss reasons unless the organization already has some. */
export async function seedLossReasons(tx: OrgTx | SystemTx, orgId: string, labels: string[]) {
  const [have] = await tx
    .select({ n: sql<number>`count(*)` })
    .from(lossReasons)
    .where(eq(lossReasons.organizationId, orgId))
  if (toNumber(have?.n ?? 0) > 0) return
  await tx
    .insert(lossReasons)
    .values(labels.map((label, i) => ({ organizationId: orgId, label, position: i })))
}

export async function listStages(tx: OrgTx, pipelineId: string) {
  return tx
    .select()
    .from(stages)
    .where(eq(stages.pipelineId, pipelineId))
    .orderBy(asc(stages.position), asc(stages.id))
}

export async function stageCounts(tx: OrgTx, pipelineId: string): Promise<Map<string, number>> {
  const r = await rows<{ stage_id: string; n: unknown }>(
    tx,
    sql`select stage_id, count(*) as n from leads where pipeline_id = ${pipelineId}::uuid group by stage_id`,
  )
  return new Map(r.map((x) => [x.stage_id, toNumber(x.n)]))
}

export async function findStage(tx: OrgTx, stageId: string, pipelineId?: string) {
  const [s] = await tx
    .select()
    .from(stages)
    .where(
      pipelineId ? and(eq(stages.id, stageId), eq(stages.pipelineId, pipelineId)) : eq(stages.id, stageId),
    )
  return s ?? null
}

export async function findPipeline(tx: OrgTx, pipelineId: string) {
  const [p] = await tx.select().from(pipelines).where(eq(pipelines.id, pipelineId))
  return p ?? null
}
