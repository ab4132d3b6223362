/**
 * `captureLead` for many records at once, for the CSV import: the same decisions and the same rows
 * written as calling captureLead for each record in order (each record is deduplicated against the
 * leads created or merged by the records before it), in a handful of statements per batch instead
 * of six to twelve per record.
 *
 *   1. every record is validated and normalized first (a FormError rejects that record only; nothing
 *      was written for it);
 *   2. the dedup locks of every record are taken in one statement (sorted: no deadlock between two
 *      batches), then the candidates of every record are read in one statement, per blocking arm as
 *      findCandidates reads them;
 *   3. records are decided in order. A record's candidates are those read in step 2 overlaid with
 *      the leads this batch created or merged so far (kept in memory with their current phone, email,
 *      name and company), so a record finds an earlier record of the same batch exactly as it would
 *      in the database;
 *   4. new leads are held back and written together (one insert of the leads with their `created`
 *      entries and stage positions, one of the notes, one of the review pairs, one of the events, in
 *      the order captureLead writes them); a merge first writes what is held back, then runs
 *      captureLead's own merge (rows and events in the same order as one by one).
 *
 * With active scoring rules, a trained model or assignment rules, each new lead is written at once and
 * scored and assigned before the next record (as captureLead does: a round-robin turn depends on the
 * leads before it); the locks and the candidate read stay batched.
 *
 * No savepoints: a record is rejected (FormError) only before anything is written for it; any other
 * error fails the whole batch, whose transaction rolls back (the import resumes at its checkpoint).
 */
import { sql } from 'drizzle-orm'
import { rowsOf } from '../../platform/db/client'
import type { OrgTx } from '../../platform/db/tenancy'
import { recordEventBatch } from '../../platform/events/events.outbox'
import { toDate } from '../../platform/events/events.pg'
import type { EventInput } from '../../platform/events/events.types'
import { FormError } from '../../platform/http/errors'
import { GAP, pgTextArray } from '../pipeline/pipeline.repository'
import { autoAssignLead, hasAssignmentRules } from './leads.assignment'
import {
  applyMerge,
  type CaptureInput,
  type CaptureOptions,
  type CaptureResult,
  type CleanCapture,
  decideCapture,
  newLeadOf,
  placement,
  scoringIsIdle,
  validateCapture,
} from './leads.capture'
import type { CaptureCache } from './leads.capture-cache'
import {
  ARM_LIMIT,
  type CandidateLead,
  loadDedupSettings,
  matchRecordOf,
  mergeTarget,
  nameBlockingKeys,
  namePairs,
  scoreCandidates,
} from './leads.dedup'
import type { MatchRecord } from './leads.match'
import { phoneVariants } from './leads.match'
import { givenNameVariants } from './leads.nicknames'
import { type LeadKeys, leadKeys } from './leads.normalize'
import { rescoreLead } from './leads.scoring'

export type BatchOutcome = CaptureResult | FormError

export interface BatchOptions extends CaptureOptions {
  cache: CaptureCache
  /** Checked before each record after the first: true stops the batch there (the rest is not done). */
  shouldStop?: () => boolean
}

/** A lead as the batch knows it: its match fields now, and whether this batch created it. */
interface Known extends CandidateLead {
  fresh: boolean
}

/** The leads this batch created or merged, indexed by every blocking value (as the database's indexes). */
class KnownLeads {
  readonly #byId = new Map<string, Known>()
  readonly #index = new Map<string, Set<string>>()

  get(id: string): Known | undefined {
    return this.#byId.get(id)
  }

  set(lead: Known): void {
    const old = this.#byId.get(lead.id)
    if (old) for (const k of KnownLeads.#keys(old)) this.#index.get(k)?.delete(old.id)
    this.#byId.set(lead.id, lead)
    for (const k of KnownLeads.#keys(lead)) {
      const ids = this.#index.get(k) ?? new Set<string>()
      ids.add(lead.id)
      this.#index.set(k, ids)
    }
  }

  /** Ids of the known leads with this blocking value (`phone:+55…`, `email:…`, `name:a b`, `single:…`). */
  find(key: string): string[] {
    return [...(this.#index.get(key) ?? [])]
  }

  static #keys(l: Known): string[] {
    return [
      ...(l.phone ? [`phone:${l.phone}`] : []),
      ...(l.emailKey ? [`email:${l.emailKey}`] : []),
      ...namePairs(l.nameKey).map((k) => `name:${k}`),
      `single:${l.nameKey}`,
    ]
  }
}

/** Newer than any lead in the database: leads of this batch sort after every earlier lead. */
const FRESH = new Date(8.64e15)

interface Prepared {
  clean: CleanCapture
  keys: LeadKeys
  probe: MatchRecord
}

type Arm = 'phone' | 'email' | 'name' | 'single'
const ARMS: Arm[] = ['phone', 'email', 'name', 'single']

interface PendingLead {
  id: string
  activityId: string
  lead: ReturnType<typeof newLeadOf>
}

/**
 * Captures `inputs` in order; returns one outcome per record done (a result, or the FormError that
 * rejected it), fewer than `inputs` when `shouldStop` stopped it early.
 */
export async function captureMany(
  tx: OrgTx,
  inputs: CaptureInput[],
  opts: BatchOptions,
): Promise<BatchOutcome[]> {
  const settings = await loadDedupSettings(tx, opts.cache)
  const mode = opts.dedup ?? settings.dedupMode
  // With scoring rules, a model or assignment rules, each new lead is scored and assigned as it comes
  // (both read and write the database, and a round-robin turn depends on the leads before it).
  const scoringIdle = await scoringIsIdle(tx, opts.cache)
  const assigning = await hasAssignmentRules(tx, opts.cache)
  // 1. Validate and normalize.
  const prepared: (Prepared | FormError)[] = []
  for (const input of inputs) {
    try {
      const clean = await validateCapture(tx, input, opts.cache)
      const keys = leadKeys(clean)
      prepared.push({
        clean,
        keys,
        probe: matchRecordOf({ ...keys, phone: clean.phone, company: clean.company }),
      })
    } catch (err) {
      if (!(err instanceof FormError)) throw err
      prepared.push(err)
    }
  }
  const probes = prepared.flatMap((p, i) => (p instanceof FormError ? [] : [{ i, probe: p.probe }]))
  // 2. Locks and candidates of the whole batch.
  let read: CandidateRead = { arms: new Map(), leads: new Map() }
  if (mode !== 'off' && probes.length) {
    await lockAll(
      tx,
      probes.map((p) => p.probe),
    )
    read = await readCandidates(tx, probes)
  }

  const known = new KnownLeads()
  const pending: PendingLead[] = []
  const notes: { id: string; leadId: string; body: string }[] = []
  const pairs: { id: string; a: string; b: string; score: number; reasons: unknown }[] = []
  const events: EventInput[] = []
  const flush = async () => {
    await writeLeads(tx, pending, opts.actorId)
    await writeNotes(tx, notes, opts.actorId)
    await writePairs(tx, pairs)
    await recordEventBatch(tx, events)
    pending.length = 0
    notes.length = 0
    pairs.length = 0
    events.length = 0
  }

  // 3. Decide in order.
  const out: BatchOutcome[] = []
  for (let i = 0; i < prepared.length; i++) {
    if (out.length && opts.shouldStop?.()) break
    const p = prepared[i]!
    if (p instanceof FormError) {
      out.push(p)
      continue
    }
    const candidates = mode === 'off' ? [] : candidatesOf(p.probe, read.arms.get(i), read.leads, known)
    const decision = decideCapture(scoreCandidates(p.probe, candidates), p.probe, settings, mode)
    if (decision.kind === 'merge') {
      // Everything before this record is written first: the merge reads and writes the database.
      await flush()
      // Without rules and a model, rescoring changes only a lead scored before: skipped otherwise.
      const { lead: full, scored } = await mergeTarget(tx, decision.best.lead.id)
      const { result, kept } = await applyMerge(
        tx,
        { ...decision, best: { lead: full, match: decision.best.match } },
        p.clean,
        { ...opts, rescore: scored || !scoringIdle },
      )
      const was = known.get(full.id)
      known.set({ ...kept, id: full.id, createdAt: full.createdAt, fresh: was?.fresh ?? false })
      out.push(result)
      continue
    }
    let where: Awaited<ReturnType<typeof placement>>
    try {
      where = await placement(tx, inputs[i]!, opts.cache)
    } catch (err) {
      if (!(err instanceof FormError)) throw err
      out.push(err)
      continue
    }
    // Ids in the order captureLead would make them: the lead, its `created` entry, its note.
    const id = Bun.randomUUIDv7()
    pending.push({
      id,
      activityId: Bun.randomUUIDv7(),
      lead: newLeadOf(p.clean, p.keys, where, opts.actorId),
    })
    if (p.clean.note) notes.push({ id: Bun.randomUUIDv7(), leadId: id, body: p.clean.note })
    events.push({
      type: 'lead.created',
      payload: { leadId: id, pipelineId: where.pipelineId, stageId: where.stageId },
    })
    for (const c of decision.flagged) {
      const [a, b] = id < c.lead.id ? [id, c.lead.id] : [c.lead.id, id]
      pairs.push({
        id: Bun.randomUUIDv7(),
        a,
        b,
        score: Math.max(0, Math.min(100, Math.round(c.match.score))),
        reasons: c.match.reasons,
      })
    }
    if (decision.flagged.length) events.push({ type: 'lead.duplicates_changed', payload: {} })
    known.set({ ...p.probe, id, createdAt: FRESH, fresh: true })
    if (!scoringIdle || (assigning && !p.clean.ownerId)) {
      await flush()
      if (!scoringIdle) await rescoreLead(tx, id, { cache: opts.cache })
      if (!p.clean.ownerId) await autoAssignLead(tx, id, { cache: opts.cache })
    }
    const top = decision.flagged[0]
    out.push(
      top
        ? { outcome: 'flagged', leadId: id, duplicateOfId: top.lead.id, matchScore: top.match.score }
        : { outcome: 'created', leadId: id },
    )
  }
  // 4. What is held back.
  await flush()
  return out
}

// Locks and candidates -----------------------------------------------------------------------------

/** lockKeys for every record, in one statement, in one sorted order. */
async function lockAll(tx: OrgTx, probes: MatchRecord[]) {
  const keys = [
    ...new Set(
      probes.flatMap((p) => [...phoneVariants(p.phone).slice(0, 1), p.emailKey ?? ''].filter(Boolean)),
    ),
  ].sort()
  if (!keys.length) return
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(current_setting('app.org_id', true) || ':dedup:' || s.k, 0))
      from (select k from unnest(${pgTextArray(keys)}::text[]) as k order by k) as s`,
  )
}

interface CandidateRead {
  /** Per record (its index in the batch): the lead ids each blocking arm returned. */
  arms: Map<number, Record<Arm, string[]>>
  /** The leads returned, as they were before this batch. */
  leads: Map<string, CandidateLead>
}

/**
 * findCandidates for every record in one statement: one lookup per blocking value (a phone form, the
 * email key, a name key, a one-word name), each an equality on the leading columns of its btree
 * index, the name lookups in that index's order (newest first) — so the plan is the index's whether
 * or not the tables have statistics (PGlite never runs autovacuum/ANALYZE).
 */
async function readCandidates(
  tx: OrgTx,
  probes: { i: number; probe: MatchRecord }[],
): Promise<CandidateRead> {
  const list: { i: number; arm: number; v: string }[] = []
  for (const { i, probe } of probes) {
    const tokens = probe.nameKey.split(' ').filter(Boolean)
    const keys = nameBlockingKeys(probe.nameKey)
    for (const v of phoneVariants(probe.phone)) list.push({ i, arm: 1, v })
    if (probe.emailKey) list.push({ i, arm: 2, v: probe.emailKey })
    for (const v of keys) list.push({ i, arm: 3, v })
    if (!keys.length && tokens.length === 1)
      for (const v of givenNameVariants(tokens[0]!)) list.push({ i, arm: 4, v })
  }
  const arms = new Map<number, Record<Arm, string[]>>()
  const leads = new Map<string, CandidateLead>()
  if (!list.length) return { arms, leads }
  const r = rowsOf<{
    i: number
    arm: number
    id: string
    name_key: string
    phone: string | null
    email_key: string | null
    company: string | null
    created_at: unknown
  }>(
    await tx.execute(sql`with p as materialized (
        select * from jsonb_to_recordset(${JSON.stringify(list)}::jsonb) as p(i int, arm int, v text)
      ), c as materialized (
        select p.i, p.arm, x.id from p cross join lateral (
          (select id from leads where p.arm = 1 and phone = p.v limit ${ARM_LIMIT})
          union all
          (select id from leads where p.arm = 2 and email_key = p.v limit ${ARM_LIMIT})
          union all
          (select lead_id from lead_name_keys where p.arm = 3 and key = p.v order by lead_id desc limit ${ARM_LIMIT})
          union all
          (select id from leads where p.arm = 4 and name_key = p.v order by id desc limit ${ARM_LIMIT})
        ) as x
      )
      select c.i, c.arm, c.id, null as name_key, null as phone, null as email_key, null as company, null as created_at
      from c
      union all
      select -1, 0, l.id, l.name_key, l.phone, l.email_key, l.company, l.created_at
      from leads l where l.id in (select id from c)`),
  )
  // Which lead each lookup found, then each lead found once (it may be a candidate of many records).
  for (const row of r) {
    const i = Number(row.i)
    if (i >= 0) {
      const a = arms.get(i) ?? { phone: [], email: [], name: [], single: [] }
      arms.set(i, a)
      a[ARMS[Number(row.arm) - 1]!].push(row.id)
    } else
      leads.set(row.id, {
        id: row.id,
        nameKey: row.name_key,
        phone: row.phone,
        emailKey: row.email_key,
        company: row.company,
        createdAt: toDate(row.created_at),
      })
  }
  // Several values per arm (two phone forms, a nickname's keys): the arm's own order and limit.
  for (const a of arms.values()) {
    a.phone = [...new Set(a.phone)].slice(0, ARM_LIMIT)
    a.name = [...new Set(a.name)].sort(byIdDesc).slice(0, ARM_LIMIT)
    a.single = [...new Set(a.single)].sort(byIdDesc).slice(0, ARM_LIMIT)
  }
  return { arms, leads }
}

export { namePairs }

const byIdDesc = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0)

/**
 * A record's candidates now: each arm's ids as read before the batch, with the leads this batch
 * created or merged (current values) matched in memory, cut at ARM_LIMIT as the database would.
 */
function candidatesOf(
  probe: MatchRecord,
  read: Record<Arm, string[]> | undefined,
  before: Map<string, CandidateLead>,
  known: KnownLeads,
): CandidateLead[] {
  const tokens = probe.nameKey.split(' ').filter(Boolean)
  const keys = nameBlockingKeys(probe.nameKey)
  const mine: Record<Arm, string[]> = {
    phone: phoneVariants(probe.phone).flatMap((v) => known.find(`phone:${v}`)),
    email: probe.emailKey ? known.find(`email:${probe.emailKey}`) : [],
    name: keys.flatMap((k) => known.find(`name:${k}`)),
    single:
      !keys.length && tokens.length === 1
        ? givenNameVariants(tokens[0]!).flatMap((v) => known.find(`single:${v}`))
        : [],
  }
  const ids = new Set<string>()
  for (const arm of ARMS) {
    const fromDb = read?.[arm] ?? []
    // The name arms keep the newest leads: this batch's first, then the rest by id (UUIDv7: time).
    const merged =
      arm === 'name' || arm === 'single'
        ? [
            ...[...new Set(mine[arm].filter((id) => known.get(id)!.fresh))].sort(byIdDesc),
            ...[...new Set([...fromDb, ...mine[arm].filter((id) => !known.get(id)!.fresh)])].sort(byIdDesc),
          ]
        : [...new Set([...mine[arm], ...fromDb])]
    for (const id of [...new Set(merged)].slice(0, ARM_LIMIT)) ids.add(id)
  }
  return [...ids].map((id) => known.get(id) ?? before.get(id)!)
}

// Writes ---------------------------------------------------------------------------------------------

const CURRENT_ORG = sql`(select nullif(current_setting('app.org_id', true), '')::uuid)`

/** insertLead for each pending lead, in one statement: each at the top of its stage, in order. */
async function writeLeads(tx: OrgTx, pending: PendingLead[], actorId: string | null) {
  if (!pending.length) return
  const list = pending.map((p, ord) => ({
    ord,
    id: p.id,
    activity_id: p.activityId,
    pipeline_id: p.lead.pipelineId,
    stage_id: p.lead.stageId,
    full_name: p.lead.fullName,
    email: p.lead.email,
    phone: p.lead.phone,
    company: p.lead.company,
    job_title: p.lead.jobTitle,
    value_cents: p.lead.valueCents,
    currency: p.lead.currency,
    source: p.lead.source,
    owner_id: p.lead.ownerId,
    tags: p.lead.tags,
    score: p.lead.score,
    email_key: p.lead.emailKey,
    name_key: p.lead.nameKey,
    region: p.lead.region,
    search_text: p.lead.searchText,
    custom: p.lead.custom ?? {},
  }))
  await tx.execute(sql`with v as (
      select * from jsonb_to_recordset(${JSON.stringify(list)}::jsonb) as v(ord int, id uuid, activity_id uuid,
        pipeline_id uuid, stage_id uuid, full_name text, email text, phone text, company text, job_title text,
        value_cents bigint, currency text, source text, owner_id uuid, tags text[], score int, email_key text,
        name_key text, region text, search_text text, custom jsonb)
    ), top as (
      select s.stage_id, (select coalesce(min(l.position), ${GAP}::bigint) from leads l where l.stage_id = s.stage_id) as p0
      from (select distinct stage_id from v) as s
    ), ins as (
      insert into leads (id, organization_id, pipeline_id, stage_id, position, full_name, email, phone, company,
        job_title, value_cents, currency, source, owner_id, tags, score, created_by, email_key, name_key, region,
        search_text, custom)
      select v.id, ${CURRENT_ORG}, v.pipeline_id, v.stage_id,
        top.p0 - ${GAP}::bigint * row_number() over (partition by v.stage_id order by v.ord),
        v.full_name, v.email, v.phone, v.company, v.job_title, v.value_cents, v.currency, v.source, v.owner_id,
        v.tags, v.score, ${actorId}::uuid, v.email_key, v.name_key, v.region, v.search_text, v.custom
      from v join top on top.stage_id = v.stage_id
      order by v.ord
      returning id, organization_id
    )
    insert into lead_activities (id, organization_id, lead_id, actor_id, kind, data)
    select v.activity_id, ins.organization_id, ins.id, ${actorId}::uuid, 'created',
      jsonb_strip_nulls(jsonb_build_object('source', v.source::text))
    from ins join v on v.id = ins.id order by v.ord`)
}

async function writeNotes(
  tx: OrgTx,
  notes: { id: string; leadId: string; body: string }[],
  actorId: string | null,
) {
  if (!notes.length) return
  const list = notes.map((n) => ({ id: n.id, lead_id: n.leadId, data: { body: n.body } }))
  await tx.execute(sql`insert into lead_activities (id, organization_id, lead_id, actor_id, kind, data)
    select v.id, ${CURRENT_ORG}, v.lead_id, ${actorId}::uuid, 'note', v.data
    from jsonb_to_recordset(${JSON.stringify(list)}::jsonb) as v(id uuid, lead_id uuid, data jsonb)`)
}

/** flagPair for each pair, in one statement (an existing pair, whatever its status, stays as it is). */
async function writePairs(
  tx: OrgTx,
  pairs: { id: string; a: string; b: string; score: number; reasons: unknown }[],
) {
  if (!pairs.length) return
  await tx.execute(sql`insert into lead_duplicates (id, organization_id, lead_a, lead_b, score, reasons)
    select v.id, ${CURRENT_ORG}, v.a, v.b, v.score, v.reasons
    from jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) as v(id uuid, a uuid, b uuid, score smallint, reasons jsonb)
    on conflict (organization_id, lead_a, lead_b) do nothing`)
}
