/**
 * The transactional outbox. A use case records its events with the data change, in the same `OrgTx`:
 * they commit or roll back together. Each event gets the next version of its organization; the
 * counter row's lock orders concurrent writers, so versions commit in order and without gaps.
 * The statement also `NOTIFY`s `loved_events` with `<orgId>:<version>`: Postgres delivers it to every
 * listening instance only once the transaction commits, which wakes the dispatchers up.
 */
import { type SQL, sql } from 'drizzle-orm'
import type { OrgTx, SystemTx } from '../db/tenancy'
import { EVENTS_CHANNEL, query, toDate, toNumber } from './events.pg'
import type { DomainEvents, EventInput, EventType, StoredEvent } from './events.types'

const CURRENT_ORG = sql`nullif(current_setting('app.org_id', true), '')::uuid`

export interface RecordedEvent {
  orgId: string
  version: number
}

export async function recordEvent<K extends EventType>(
  tx: OrgTx,
  event: EventInput<K>,
): Promise<RecordedEvent> {
  const rows = await query<{ org_id: string; version: unknown }>(
    tx,
    sql`with c as (
      insert into outbox_counters as oc (organization_id, version) values (${CURRENT_ORG}, 1)
      on conflict (organization_id) do update set version = oc.version + 1
      returning organization_id, version
    ), e as (
      insert into outbox_events (organization_id, version, type, payload, user_id, actor_id)
      select c.organization_id, c.version, ${event.type}, ${JSON.stringify(event.payload ?? {})}::jsonb,
        ${event.userId ?? null}::uuid, nullif(current_setting('app.user_id', true), '')::uuid
      from c
      returning organization_id, version
    )
    select e.organization_id::text as org_id, e.version,
      pg_notify(${EVENTS_CHANNEL}, e.organization_id::text || ':' || e.version::text)
    from e`,
  )
  const row = rows[0]
  if (!row)
    throw new Error('recordEvent: the outbox insert returned nothing (is this a withOrg transaction?)')
  return { orgId: row.org_id, version: toNumber(row.version) }
}

/**
 * The same outbox write as `recordEvent`, as SQL to fold into a use case's own statement, for hot
 * paths where one round trip matters (a board move): `ctes` are two data-modifying CTEs
 * (`outbox_c`, `outbox_e`) that bump the counter and insert the event once per row of `from` (a
 * CTE of the statement that yields a row only when the change happened, so a failed
 * compare-and-set records nothing), `notify` is a select-list expression that must appear in the
 * statement's final select (it sends the NOTIFY and yields the event's version, null when none).
 * The payload is one SQL expression per field of the event's declared payload, so a missing or
 * misspelt field does not compile.
 */
export function outboxCtes<K extends EventType>(
  type: K,
  opts: { from: SQL; payload: { [P in keyof DomainEvents[K]]-?: SQL } },
): { ctes: SQL; notify: SQL } {
  const fields = Object.entries(opts.payload as Record<string, SQL>).flatMap(([k, v]) => [sql`${k}::text`, v])
  const payload = sql`jsonb_build_object(${sql.join(fields, sql`, `)})`
  return {
    ctes: sql`outbox_c as (
      insert into outbox_counters as oc (organization_id, version)
      select ${CURRENT_ORG}, 1 from ${opts.from} limit 1
      on conflict (organization_id) do update set version = oc.version + 1
      returning organization_id, version
    ), outbox_e as (
      insert into outbox_events (organization_id, version, type, payload, user_id, actor_id)
      select outbox_c.organization_id, outbox_c.version, ${type}, ${payload}, null,
        nullif(current_setting('app.user_id', true), '')::uuid
      from outbox_c, ${opts.from}
      returning organization_id, version
    )`,
    // pg_notify returns void, which reads back as '': the filter only makes it run for the event.
    notify: sql`(select max(e.version) from outbox_e e
      where pg_notify(${EVENTS_CHANNEL}, e.organization_id::text || ':' || e.version::text)::text = '')`,
  }
}

/**
 * Several events in one statement, with the same effect as `recordEvent` for each in order: the
 * counter moves by their number once, they get consecutive versions, and one NOTIFY carries the last
 * (a dispatcher reads every event up to it). For bulk writers (the CSV import).
 */
export async function recordEventBatch(tx: OrgTx, events: ReadonlyArray<EventInput>): Promise<void> {
  if (!events.length) return
  const n = events.length
  const list = events.map((e, i) => ({
    ord: i + 1,
    type: e.type,
    payload: e.payload ?? {},
    user_id: e.userId ?? null,
  }))
  await query(
    tx,
    sql`with c as (
      insert into outbox_counters as oc (organization_id, version) values (${CURRENT_ORG}, ${n})
      on conflict (organization_id) do update set version = oc.version + ${n}
      returning organization_id, version
    ), e as (
      insert into outbox_events (organization_id, version, type, payload, user_id, actor_id)
      select c.organization_id, c.version - ${n} + v.ord, v.type, v.payload, v.user_id,
        nullif(current_setting('app.user_id', true), '')::uuid
      from c, jsonb_to_recordset(${JSON.stringify(list)}::jsonb) as v(ord int, type text, payload jsonb, user_id uuid)
      returning version
    )
    select pg_notify(${EVENTS_CHANNEL}, c.organization_id::text || ':' || c.version::text), (select count(*) from e)
    from c`,
  )
}

/** The organization's last committed version (0 before its first event): render it into pages. */
export async function latestVersion(tx: OrgTx): Promise<number> {
  const rows = await query<{ version: unknown }>(
    tx,
    sql`select version from outbox_counters where organization_id = ${CURRENT_ORG}`,
  )
  return rows[0] ? toNumber(rows[0].version) : 0
}

/** The same, for a given organization from a system transaction (read with the session). */
export async function latestVersionFor(tx: SystemTx, orgId: string): Promise<number> {
  const rows = await query<{ version: unknown }>(
    tx,
    sql`select version from outbox_counters where organization_id = ${orgId}`,
  )
  return rows[0] ? toNumber(rows[0].version) : 0
}

type EventRow = {
  org_id: string
  version: unknown
  type: string
  payload: unknown
  user_id: string | null
  actor_id: string | null
  created_at: unknown
}

const EVENT_COLUMNS = sql`organization_id::text as org_id, version, type, payload, user_id::text as user_id,
  actor_id::text as actor_id, created_at`

export function toStoredEvent(r: EventRow): StoredEvent {
  return {
    orgId: r.org_id,
    version: toNumber(r.version),
    type: r.type,
    payload: r.payload,
    userId: r.user_id,
    actorId: r.actor_id,
    createdAt: toDate(r.created_at),
  }
}

/** The current organization's events with `after < version <= upto`, in order (RLS-scoped). */
export async function readEvents(
  tx: OrgTx,
  opts: { after: number; upto?: number; limit: number },
): Promise<StoredEvent[]> {
  const rows = await query<EventRow>(
    tx,
    sql`select ${EVENT_COLUMNS} from outbox_events
      where organization_id = ${CURRENT_ORG} and version > ${opts.after}
        ${opts.upto === undefined ? sql`` : sql`and version <= ${opts.upto}`}
      order by version limit ${opts.limit}`,
  )
  return rows.map(toStoredEvent)
}

/** Cross-organization read for the dispatcher (withSystem). */
export async function readOrgEvents(
  tx: SystemTx,
  orgId: string,
  opts: { after: number; limit: number },
): Promise<StoredEvent[]> {
  const rows = await query<EventRow>(
    tx,
    sql`select ${EVENT_COLUMNS} from outbox_events
      where organization_id = ${orgId}::uuid and version > ${opts.after}
      order by version limit ${opts.limit}`,
  )
  return rows.map(toStoredEvent)
}

export type CatchUp =
  | { kind: 'events'; events: StoredEvent[] }
  | { kind: 'reload'; reason: 'too_far_behind' | 'pruned' }

/**
 * Catch-up for a client that last saw `after`: every event in (after, upto], checked to be
 * contiguous, then filtered to what `userId` may see (organization events and their own personal
 * ones). More than `limit` missing, or some already pruned: the client must reload instead.
 */
export async function since(
  tx: OrgTx,
  opts: { after: number; upto: number; userId: string | null; limit: number },
): Promise<CatchUp> {
  const { after, upto } = opts
  if (upto <= after) return { kind: 'events', events: [] }
  if (upto - after > opts.limit) return { kind: 'reload', reason: 'too_far_behind' }
  const events = await readEvents(tx, { after, upto, limit: upto - after })
  const contiguous = events.length === upto - after && events.every((e, i) => e.version === after + 1 + i)
  if (!contiguous) return { kind: 'reload', reason: 'pruned' }
  return { kind: 'events', events: events.filter((e) => e.userId === null || e.userId === opts.userId) }
}

/**
 * Deletes events older than `olderThan` that durable consumers have already processed. Clients more
 * than that far behind are told to reload.
 */
export async function pruneOutbox(tx: SystemTx, olderThan: Date): Promise<number> {
  const rows = await query<{ n: unknown }>(
    tx,
    sql`with d as (
      delete from outbox_events e
      where e.created_at < ${olderThan.toISOString()}::timestamptz
        and e.version <= coalesce(
          (select c.version from outbox_cursors c where c.organization_id = e.organization_id), 0)
      returning 1
    ) select count(*) as n from d`,
  )
  return toNumber(rows[0]?.n ?? 0)
}
