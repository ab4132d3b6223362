/**
 * The lead list (/leads): query model, the page query (keyset paging on (sort key, id)), column
 * choice, saved views and bulk actions. The filters are the board's (parseFilters / filterSql of the
 * pipeline module) plus pipeline and stage; the search is leads.search (shared with the board).
 *
 * Paging: ORDER BY <key> <dir>, id <dir> with the row comparison `(key, id) > (cursor)` (or `<`),
 * one index per sort key (migrations/0010_lead_list.sql), so every page is an index range whatever
 * its depth, and rows inserted meanwhile never shift or repeat what was already shown.
 */
import { type SQL, sql } from 'drizzle-orm'
import { rowsOf } from '../../platform/db/client'
import { pageOf } from '../../platform/db/keyset'
import type { OrgTx } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { toDate, toNumber } from '../../platform/events/events.pg'
import { Check, notFound } from '../../platform/http/errors'
import { isUuid } from '../../shared/ids'
import { fold } from '../../shared/text'
import { type FilterScope, filterSql, GAP, pgTextArray } from '../pipeline/pipeline.repository'
import { type BoardFilters, filtersQuery, parseFilters, parseTags } from '../pipeline/pipeline.schemas'
import type { PipelineActor } from '../pipeline/pipeline.usecases'
import type { CustomFieldDef } from './leads.table'

export const LIST_PAGE = 50

// Columns -----------------------------------------------------------------------------------------

export const BASE_COLUMNS = [
  'name',
  'company',
  'phone',
  'email',
  'stage',
  'owner',
  'score',
  'value',
  'source',
  'tags',
  'created',
  'activity',
] as const
export type BaseColumn = (typeof BASE_COLUMNS)[number]
export const DEFAULT_COLUMNS: BaseColumn[] = [
  'name',
  'company',
  'phone',
  'stage',
  'owner',
  'score',
  'value',
  'created',
]

/** Custom field columns are `cf:<key>`. */
export const customColumn = (key: string) => `cf:${key}`

/** The valid columns of `wanted` in order ('name' always first), or the defaults when none is valid. */
export function cleanColumns(wanted: readonly string[] | null | undefined, defs: CustomFieldDef[]): string[] {
  const valid = new Set<string>([...BASE_COLUMNS, ...defs.map((d) => customColumn(d.key))])
  const out = (wanted ?? []).filter((c, i, all) => valid.has(c) && all.indexOf(c) === i)
  if (!out.length)
    return [...DEFAULT_COLUMNS, ...defs.filter((d) => d.showInList).map((d) => customColumn(d.key))]
  return ['name', ...out.filter((c) => c !== 'name')]
}

// Sorting -----------------------------------------------------------------------------------------

const SORT_KEYS = {
  name: { expr: sql`l.name_key`, kind: 'text' },
  score: { expr: sql`l.score`, kind: 'int' },
  value: { expr: sql`l.value_cents`, kind: 'bigint' },
  created: { expr: sql`l.created_at`, kind: 'time' },
  activity: { expr: sql`l.last_activity_at`, kind: 'time' },
} as const
export type SortKey = keyof typeof SORT_KEYS
export const SORTABLE = Object.keys(SORT_KEYS) as SortKey[]
export interface Sort {
  key: SortKey
  desc: boolean
}
export const DEFAULT_SORT: Sort = { key: 'created', desc: true }

export function parseSort(raw: string | null | undefined): Sort {
  const s = (raw ?? '').trim()
  const desc = s.startsWith('-')
  const key = (desc ? s.slice(1) : s) as SortKey
  return SORTABLE.includes(key) ? { key, desc } : DEFAULT_SORT
}
export const sortParam = (s: Sort) => `${s.desc ? '-' : ''}${s.key}`

// The list query (URL) ----------------------------------------------------------------------------

export interface ListQuery {
  filters: BoardFilters
  pipelineId?: string
  stageId?: string
  sort: Sort
}

export function parseListQuery(params: URLSearchParams): ListQuery {
  const q: ListQuery = { filters: parseFilters(params), sort: parseSort(params.get('sort')) }
  const pipeline = params.get('pipeline')?.trim()
  const stage = params.get('stage')?.trim()
  if (isUuid(pipeline)) q.pipelineId = pipeline
  if (isUuid(stage)) q.stageId = stage
  return q
}

/** Canonical query string: the board's filters, then pipeline, stage and a non-default sort. */
export function listQueryString(q: ListQuery, opts: { sort?: boolean } = {}): string {
  const p = new URLSearchParams(filtersQuery(q.filters))
  if (q.pipelineId) p.set('pipeline', q.pipelineId)
  if (q.stageId) p.set('stage', q.stageId)
  if (opts.sort !== false && sortParam(q.sort) !== sortParam(DEFAULT_SORT)) p.set('sort', sortParam(q.sort))
  return p.toString()
}

export const listUrl = (query: string) => `/leads${query ? `?${query}` : ''}`

/** WHERE of the list for the alias `l`: the board's filters plus pipeline and stage. */
export function listWhere(q: ListQuery, scope: FilterScope): SQL {
  const parts = [filterSql(q.filters, scope)]
  if (q.pipelineId) parts.push(sql`l.pipeline_id = ${q.pipelineId}::uuid`)
  if (q.stageId) parts.push(sql`l.stage_id = ${q.stageId}::uuid`)
  return sql.join(parts, sql` and `)
}

// Cursor: "<sort value>_<id>" (the id is a uuid, so the last '_' splits it) ----------------------

export function parseListCursor(
  raw: string | null | undefined,
  sort: Sort,
): { value: string; id: string } | null {
  if (!raw) return null
  const i = raw.lastIndexOf('_')
  if (i < 1) return null
  const value = raw.slice(0, i)
  const id = raw.slice(i + 1)
  if (!isUuid(id)) return null
  const kind = SORT_KEYS[sort.key].kind
  if ((kind === 'int' || kind === 'bigint') && !/^-?\d{1,20}$/.test(value)) return null
  if (kind === 'time' && Number.isNaN(Date.parse(value))) return null
  if (kind === 'text' && value.length > 400) return null
  return { value, id }
}

function cursorSql(sort: Sort, c: { value: string; id: string }): SQL {
  const { expr, kind } = SORT_KEYS[sort.key]
  const v =
    kind === 'int'
      ? sql`${c.value}::int`
      : kind === 'bigint'
        ? sql`${c.value}::bigint`
        : kind === 'time'
          ? sql`${c.value}::timestamptz`
          : sql`${c.value}::text`
  return sort.desc
    ? sql`(${expr}, l.id) < (${v}, ${c.id}::uuid)`
    : sql`(${expr}, l.id) > (${v}, ${c.id}::uuid)`
}

// Rows --------------------------------------------------------------------------------------------

export interface ListRow {
  id: string
  version: number
  fullName: string
  company: string | null
  phone: string | null
  email: string | null
  pipelineId: string
  pipelineName: string
  stageId: string
  stageName: string
  stageColor: string
  stageKind: string
  ownerId: string | null
  score: number
  valueCents: number
  currency: string
  source: string | null
  tags: string[]
  createdAt: Date
  lastActivityAt: Date
  custom: Record<string, unknown>
  /** This row's cursor (for "load more" after it). */
  cursor: string
}

type Raw = Record<string, unknown>

const textArray = (v: unknown): string[] => {
  if (Array.isArray(v)) return v as string[]
  if (typeof v !== 'string' || v === '{}' || !v) return []
  return v
    .slice(1, -1)
    .split(',')
    .map((s) => s.replace(/^"|"$/g, '').replace(/\\(.)/g, '$1'))
}
const jsonObj = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : (v ?? {})) as Record<string, unknown>

function toRow(r: Raw, sort: Sort): ListRow {
  const kind = SORT_KEYS[sort.key].kind
  const k = r.k
  const keyText =
    kind === 'time' ? toDate(k).toISOString() : kind === 'text' ? String(k) : String(toNumber(k))
  return {
    id: r.id as string,
    version: toNumber(r.version),
    fullName: r.full_name as string,
    company: (r.company as string) ?? null,
    phone: (r.phone as string) ?? null,
    email: (r.email as string) ?? null,
    pipelineId: r.pipeline_id as string,
    pipelineName: r.pipeline_name as string,
    stageId: r.stage_id as string,
    stageName: r.stage_name as string,
    stageColor: r.stage_color as string,
    stageKind: r.stage_kind as string,
    ownerId: (r.owner_id as string) ?? null,
    score: toNumber(r.score),
    valueCents: toNumber(r.value_cents),
    currency: r.currency as string,
    source: (r.source as string) ?? null,
    tags: textArray(r.tags),
    createdAt: toDate(r.created_at),
    lastActivityAt: toDate(r.last_activity_at),
    custom: jsonObj(r.custom),
    cursor: `${keyText}_${r.id as string}`,
  }
}

/** The page statement (exported for the benchmark and its EXPLAIN). */
export function listPageSql(
  q: ListQuery,
  scope: FilterScope,
  after: { value: string; id: string } | null,
  size = LIST_PAGE,
  only?: string,
): SQL {
  const { expr } = SORT_KEYS[q.sort.key]
  const dir = q.sort.desc ? sql`desc` : sql`asc`
  return sql`select l.id, l.version, l.full_name, l.company, l.phone, l.email, l.pipeline_id, l.stage_id,
      l.owner_id, l.score, l.value_cents, l.currency, l.source, l.tags, l.created_at, l.last_activity_at,
      l.custom, ${expr} as k, s.name as stage_name, s.color as stage_color, s.kind as stage_kind,
      p.name as pipeline_name
    from (
      select * from leads l
      where ${listWhere(q, scope)} ${after ? sql`and ${cursorSql(q.sort, after)}` : sql``}
        ${only ? sql`and l.id = ${only}::uuid` : sql``}
      order by ${expr} ${dir}, l.id ${dir} limit ${size + 1}
    ) l
    join stages s on s.id = l.stage_id
    join pipelines p on p.id = l.pipeline_id
    order by ${expr} ${dir}, l.id ${dir}`
}

export async function listPage(
  tx: OrgTx,
  q: ListQuery,
  scope: FilterScope,
  afterRaw: string | null | undefined,
  size = LIST_PAGE,
): Promise<{ rows: ListRow[]; more: boolean; next: string | null }> {
  const after = parseListCursor(afterRaw, q.sort)
  const result = rowsOf<Raw>(await tx.execute(listPageSql(q, scope, after, size)))
  const page = pageOf(
    result.map((r) => toRow(r, q.sort)),
    size,
  )
  return { ...page, next: page.more ? page.rows.at(-1)!.cursor : null }
}

/** One lead as a list row (null when it is not there). */
export async function listRowById(tx: OrgTx, id: string, scope: FilterScope): Promise<ListRow | null> {
  const [r] = rowsOf<Raw>(
    await tx.execute(listPageSql({ filters: {}, sort: DEFAULT_SORT }, scope, null, 1, id)),
  )
  return r ? toRow(r, DEFAULT_SORT) : null
}

export async function countMatching(tx: OrgTx, q: ListQuery, scope: FilterScope): Promise<number> {
  const [r] = rowsOf<{ n: unknown }>(
    await tx.execute(sql`select count(*) as n from leads l where ${listWhere(q, scope)}`),
  )
  return toNumber(r?.n ?? 0)
}

export interface ListContext {
  pipelines: { id: string; name: string; currency: string }[]
  stages: { id: string; pipelineId: string; name: string; kind: string; color: string }[]
  members: { id: string; name: string }[]
}

/** Pipelines, stages and members, for the filters, the bulk menus and the owner column. */
export async function listContext(tx: OrgTx): Promise<ListContext> {
  const [r] = rowsOf<Raw>(
    await tx.execute(sql`select
      coalesce((select json_agg(json_build_object('id', p.id, 'name', p.name, 'currency', p.currency)
        order by p.position, p.id) from pipelines p), '[]') as pipelines,
      coalesce((select json_agg(json_build_object('id', s.id, 'pipelineId', s.pipeline_id, 'name', s.name,
        'kind', s.kind, 'color', s.color) order by p.position, p.id, s.position, s.id)
        from stages s join pipelines p on p.id = s.pipeline_id), '[]') as stages,
      coalesce((select json_agg(json_build_object('id', u.id, 'name', u.name) order by u.name, u.id)
        from organization_members m join users u on u.id = m.user_id), '[]') as members`),
  )
  const j = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v)
  return { pipelines: j(r!.pipelines), stages: j(r!.stages), members: j(r!.members) }
}

// Column choice and saved views (personal: RLS keeps them to their user) --------------------------

export async function savedColumns(tx: OrgTx): Promise<string[] | null> {
  const [r] = rowsOf<{ columns: unknown }>(
    await tx.execute(
      sql`select columns from lead_list_prefs where user_id = nullif(current_setting('app.user_id', true), '')::uuid`,
    ),
  )
  return r ? textArray(r.columns) : null
}

export async function saveColumns(
  tx: OrgTx,
  actor: PipelineActor,
  columns: string[],
  defs: CustomFieldDef[],
) {
  const clean = cleanColumns(columns, defs)
  await tx.execute(
    sql`insert into lead_list_prefs (organization_id, user_id, columns)
      values (${actor.orgId}::uuid, ${actor.userId}::uuid, ${pgTextArray(clean)}::text[])
      on conflict (organization_id, user_id) do update set columns = excluded.columns, updated_at = now()`,
  )
  return clean
}

export interface ListView {
  id: string
  name: string
  query: string
  columns: string[]
}

export async function listViews(tx: OrgTx): Promise<ListView[]> {
  return rowsOf<Raw>(
    await tx.execute(
      sql`select id, name, query, columns from lead_list_views
        where user_id = nullif(current_setting('app.user_id', true), '')::uuid order by name, id`,
    ),
  ).map((r) => ({
    id: r.id as string,
    name: r.name as string,
    query: r.query as string,
    columns: textArray(r.columns),
  }))
}

export async function saveListView(
  tx: OrgTx,
  actor: PipelineActor,
  input: { name: string; query: string; columns: string[] },
  defs: CustomFieldDef[],
) {
  const name = input.name.trim().replace(/\s+/g, ' ')
  const check = new Check()
  if (!name) check.add('viewName', 'error.required')
  else if (name.length > 60) check.add('viewName', 'error.too_long', { max: 60 })
  check.throwIfAny()
  const query = listQueryString(parseListQuery(new URLSearchParams(input.query)))
  const columns = cleanColumns(input.columns, defs)
  const id = Bun.randomUUIDv7()
  await tx.execute(
    sql`insert into lead_list_views (id, organization_id, user_id, name, query, columns)
      values (${id}::uuid, ${actor.orgId}::uuid, ${actor.userId}::uuid, ${name}, ${query},
        ${pgTextArray(columns)}::text[])`,
  )
  return { id, query, columns }
}

export async function findListView(tx: OrgTx, id: string): Promise<ListView | null> {
  return (await listViews(tx)).find((v) => v.id === id) ?? null
}

export async function deleteListView(tx: OrgTx, id: string) {
  const r = rowsOf(
    await tx.execute(
      sql`delete from lead_list_views where id = ${id}::uuid
        and user_id = nullif(current_setting('app.user_id', true), '')::uuid returning id`,
    ),
  )
  if (!r.length) throw notFound()
}

// Bulk actions ------------------------------------------------------------------------------------

/** Above this many leads, boards get one `pipeline.updated` per pipeline instead of one event per lead. */
export const BULK_EVENT_LIMIT = 100
/** At most this many leads per bulk action (the list says so when "all matching" is more). */
export const BULK_MAX = 10_000

export type BulkTarget = { ids: string[] } | { all: ListQuery }

/** The ids a bulk action applies to: the selected ones that exist here (RLS), or every match. */
export async function resolveTargets(tx: OrgTx, target: BulkTarget, scope: FilterScope): Promise<string[]> {
  if ('ids' in target) {
    const ids = [...new Set(target.ids.filter((x) => isUuid(x)))].slice(0, BULK_MAX)
    if (!ids.length) return []
    return rowsOf<{ id: string }>(
      await tx.execute(
        sql`select id from leads where id = any(${pgTextArray(ids)}::uuid[]) order by id for update`,
      ),
    ).map((r) => r.id)
  }
  return rowsOf<{ id: string }>(
    await tx.execute(
      sql`select l.id from leads l where ${listWhere(target.all, scope)} order by l.id limit ${BULK_MAX} for update`,
    ),
  ).map((r) => r.id)
}

type Changed = { id: string; pipeline_id: string; stage_id: string; version: unknown }

/** lead.updated per lead, or pipeline.updated per pipeline when many changed (boards reload). */
async function announce(tx: OrgTx, changed: Changed[], pipelines: string[] = []) {
  if (changed.length <= BULK_EVENT_LIMIT && !pipelines.length) {
    for (const c of changed)
      await recordEvent(tx, {
        type: 'lead.updated',
        payload: {
          leadId: c.id,
          pipelineId: c.pipeline_id,
          stageId: c.stage_id,
          version: toNumber(c.version),
        },
      })
    return
  }
  for (const p of new Set([...pipelines, ...changed.map((c) => c.pipeline_id)]))
    await recordEvent(tx, { type: 'pipeline.updated', payload: { pipelineId: p } })
}

const idArray = (ids: string[]) => sql`${pgTextArray(ids)}::uuid[]`

export async function bulkAssign(tx: OrgTx, actor: PipelineActor, ids: string[], ownerId: string | null) {
  if (ownerId) {
    const ok = isUuid(ownerId)
      ? rowsOf(await tx.execute(sql`select 1 from organization_members where user_id = ${ownerId}::uuid`))
          .length > 0
      : false
    if (!ok) new Check().add('ownerId', 'pipeline.error.owner').throwIfAny()
  }
  if (!ids.length) return 0
  const changed = rowsOf<Changed>(
    await tx.execute(sql`with old as (
        select id, owner_id from leads where id = any(${idArray(ids)}) and owner_id is distinct from ${ownerId}::uuid
      ), upd as (
        update leads l set owner_id = ${ownerId}::uuid, version = l.version + 1, updated_at = now(),
          last_activity_at = now()
        from old where l.id = old.id
        returning l.id, l.organization_id, l.pipeline_id, l.stage_id, l.version, old.owner_id as before
      ), act as (
        insert into lead_activities (id, organization_id, lead_id, actor_id, kind, data)
        select gen_random_uuid(), organization_id, id, ${actor.userId}::uuid, 'assigned',
          jsonb_build_object('changes', jsonb_build_object('ownerId', jsonb_build_array(before, ${ownerId}::uuid)),
            'bulk', true)
        from upd
      )
      select id, pipeline_id, stage_id, version from upd`),
  )
  await announce(tx, changed)
  return changed.length
}

export async function bulkTag(tx: OrgTx, actor: PipelineActor, ids: string[], tagInput: string) {
  const tag = parseTags(tagInput)[0]
  if (!tag) new Check().add('tag', 'error.required').throwIfAny()
  if (!ids.length) return 0
  // search_text ends with the tags (leadKeys), so appending the folded tag keeps it what a rewrite gives.
  const changed = rowsOf<Changed>(
    await tx.execute(sql`with upd as (
        update leads l set tags = array_append(l.tags, ${tag}::text),
          search_text = trim(l.search_text || ' ' || ${fold(tag)}::text),
          version = l.version + 1, updated_at = now()
        where l.id = any(${idArray(ids)}) and not (l.tags @> array[${tag}::text]) and cardinality(l.tags) < 20
        returning l.id, l.organization_id, l.pipeline_id, l.stage_id, l.version, l.tags
      ), act as (
        insert into lead_activities (id, organization_id, lead_id, actor_id, kind, data)
        select gen_random_uuid(), organization_id, id, ${actor.userId}::uuid, 'edited',
          jsonb_build_object('changes', jsonb_build_object('tags',
            jsonb_build_array(to_jsonb(array_remove(tags, ${tag}::text)), to_jsonb(tags))), 'bulk', true)
        from upd
      )
      select id, pipeline_id, stage_id, version from upd`),
  )
  await announce(tx, changed)
  return changed.length
}

/**
 * Moves leads to the end of a stage (any pipeline), keeping their relative order. Lost stages are
 * not offered: losing a lead asks for its reason, one lead at a time.
 */
export async function bulkMove(tx: OrgTx, actor: PipelineActor, ids: string[], stageId: string) {
  const [stage] = isUuid(stageId)
    ? rowsOf<{ id: string; pipeline_id: string; kind: string; name: string }>(
        await tx.execute(sql`select id, pipeline_id, kind, name from stages where id = ${stageId}::uuid`),
      )
    : []
  if (!stage) throw notFound()
  if (stage.kind === 'lost') new Check().add('stageId', 'leads.bulk.error.lost').throwIfAny()
  if (!ids.length) return 0
  const changed = rowsOf<Changed & { from_pipeline: string }>(
    await tx.execute(sql`with base as (
        select coalesce(max(position), 0) as p from leads where stage_id = ${stage.id}::uuid
      ), old as (
        select l.id, l.stage_id, l.pipeline_id, s.name as stage_name,
          row_number() over (order by l.pipeline_id, s.position, l.position, l.id) as rn
        from leads l join stages s on s.id = l.stage_id
        where l.id = any(${idArray(ids)}) and l.stage_id <> ${stage.id}::uuid
      ), upd as (
        update leads l set stage_id = ${stage.id}::uuid, pipeline_id = ${stage.pipeline_id}::uuid,
          position = base.p + old.rn * ${GAP}::bigint, version = l.version + 1, updated_at = now(),
          last_activity_at = now(),
          won_at = case when ${stage.kind} = 'won' then now() else null end,
          lost_at = null, lost_reason = null
        from old, base where l.id = old.id
        returning l.id, l.organization_id, l.pipeline_id, l.stage_id, l.version, l.value_cents,
          old.stage_id as from_stage, old.stage_name as from_name, old.pipeline_id as from_pipeline
      ), act as (
        insert into lead_activities (id, organization_id, lead_id, actor_id, kind, data)
        select gen_random_uuid(), organization_id, id, ${actor.userId}::uuid,
          case when ${stage.kind} = 'won' then 'won' else 'moved' end,
          jsonb_build_object('fromStageId', from_stage, 'fromStage', from_name, 'toStageId', stage_id,
            'toStage', ${stage.name}::text, 'valueCents', value_cents, 'bulk', true)
        from upd
      )
      select id, pipeline_id, stage_id, version, from_pipeline from upd`),
  )
  // A bulk move reorders columns: boards of the pipelines involved reload.
  if (changed.length)
    await announce(tx, changed, [stage.pipeline_id, ...new Set(changed.map((c) => c.from_pipeline))])
  return changed.length
}
