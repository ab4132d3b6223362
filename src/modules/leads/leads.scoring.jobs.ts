/**
 * Scoring in the background:
 *
 * - `scoringConsumer` (a durable event consumer): every lead event (created, updated, moved, and any
 *   `message.*` or registered type carrying a leadId) enqueues `leads.rescore` for that lead, with an
 *   idempotency key per event. Its own `lead.updated` (cause 'score') is ignored: no feedback loop.
 * - `leads.rescore-all`: every lead of the organization in keyset pages (short transactions, one per
 *   page), progress in `scoring_runs` and live `scoring.progress` events; a newer run supersedes an
 *   older one. Started by a rule change, the admin button, the daily pass and a new model.
 * - `leads.train-model`: fits the organization's win-probability model (leads.model.ts).
 * - `leads.scoring-daily` (cron, system): re-applies decay and activity windows (a rescore-all for
 *   organizations with time-dependent rules) and retrains models older than a week.
 */
import { desc, eq, sql } from 'drizzle-orm'
import { rowsOf } from '../../platform/db/client'
import type { OrgTx, SystemTx } from '../../platform/db/tenancy'
import type { DurableConsumer } from '../../platform/events/events.dispatcher'
import { recordEvent } from '../../platform/events/events.outbox'
import { toNumber } from '../../platform/events/events.pg'
import type { StoredEvent } from '../../platform/events/events.types'
import { defineOrgJob, defineSystemJob } from '../../platform/jobs/jobs.define'
import { enqueue, enqueueForOrg } from '../../platform/jobs/jobs.queue'
import type { Schedule } from '../../platform/jobs/jobs.worker'
import { isUuid } from '../../shared/ids'
import { listCustomFields } from './leads.custom-fields'
import { MIN_CLOSED, type ModelLead, trainModel } from './leads.model'
import {
  countLeads,
  loadActiveRules,
  loadModel,
  NON_INTERACTION_KINDS,
  rescoreBatch,
  rescoreLead,
} from './leads.scoring'
import './leads.scoring.events'
import { type RunReason, type ScoringRun, scoringModels, scoringRuns } from './leads.scoring.table'

export const BATCH = 1_000

// Per-lead rescoring from events ------------------------------------------------------------------

export const rescoreLeadJob = defineOrgJob<{ leadId: string }>({
  name: 'leads.rescore',
  queue: 'scoring',
  maxAttempts: 5,
  async run(ctx) {
    await ctx.tx(async (tx) => {
      const exists = rowsOf(await tx.execute(sql`select 1 from leads where id = ${ctx.payload.leadId}::uuid`))
      if (exists.length) await rescoreLead(tx, ctx.payload.leadId, { now: ctx.clock.now() })
    })
  },
})

/** Event types that make a lead's score worth recomputing (`message.*` is always included). */
const TRIGGERS = new Set<string>(['lead.created', 'lead.updated', 'lead.moved'])
/** Lets a later module (calls, forms) have its lead events rescore the lead. */
export const addScoringTrigger = (type: string) => TRIGGERS.add(type)

async function scoringInUse(tx: OrgTx) {
  const [r] = rowsOf<{ on: boolean }>(
    await tx.execute(sql`select exists (select 1 from scoring_rules where active)
      or exists (select 1 from scoring_models where status = 'trained') as on`),
  )
  return !!r?.on
}

export const scoringConsumer: DurableConsumer = async (tx: OrgTx, event: StoredEvent) => {
  if (!TRIGGERS.has(event.type) && !event.type.startsWith('message.')) return
  const p = (event.payload ?? {}) as { leadId?: unknown; cause?: unknown }
  if (event.type === 'lead.updated' && p.cause === 'score') return
  if (typeof p.leadId !== 'string' || !isUuid(p.leadId)) return
  if (!(await scoringInUse(tx))) return
  await enqueue(
    tx,
    rescoreLeadJob,
    { leadId: p.leadId },
    { idempotencyKey: `score:${p.leadId}:${event.version}` },
  )
}

// Rescoring every lead ----------------------------------------------------------------------------

export const rescoreAllJob = defineOrgJob<{ runId?: string; reason?: RunReason }>({
  name: 'leads.rescore-all',
  queue: 'scoring',
  maxAttempts: 3,
  async run(ctx) {
    const now = ctx.clock.now()
    const setup = await ctx.tx(async (tx) => {
      let runId = ctx.payload.runId
      if (!runId) runId = await insertRun(tx, ctx.orgId, ctx.payload.reason ?? 'daily')
      const [run] = await tx.select().from(scoringRuns).where(eq(scoringRuns.id, runId))
      if (!run || !['queued', 'running'].includes(run.state)) return null
      const total = await countLeads(tx)
      await tx
        .update(scoringRuns)
        .set({ state: 'running', total, done: 0, changed: 0, startedAt: run.startedAt ?? now })
        .where(eq(scoringRuns.id, runId))
      await progress(tx, runId, 'running', 0, total)
      return { run, total, rules: await loadActiveRules(tx), model: await loadModel(tx) }
    })
    if (!setup) return
    const { run, total, rules, model } = setup
    let after: string | null = null
    let done = 0
    let changed = 0
    let lastEvent = 0
    for (;;) {
      if (ctx.signal.aborted) throw new Error('rescore-all interrupted')
      const step = await ctx.tx(async (tx) => {
        if (await superseded(tx, run)) {
          await tx
            .update(scoringRuns)
            .set({ state: 'superseded', finishedAt: now })
            .where(eq(scoringRuns.id, run.id))
          return null
        }
        const b = await rescoreBatch(tx, { after, limit: BATCH, rules, model, now })
        done += b.count
        changed += b.changed
        await tx.update(scoringRuns).set({ done, changed }).where(eq(scoringRuns.id, run.id))
        // A progress event at most every 500 ms: enough for a live bar, light on the hub.
        if (b.count && Date.now() - lastEvent > 500) {
          lastEvent = Date.now()
          await progress(tx, run.id, 'running', done, Math.max(total, done))
        }
        return b
      })
      if (!step) return
      if (step.count < BATCH || !step.lastId) break
      after = step.lastId
    }
    await ctx.tx(async (tx) => {
      await tx
        .update(scoringRuns)
        .set({ state: 'done', done, changed, total: Math.max(total, done), finishedAt: new Date() })
        .where(eq(scoringRuns.id, run.id))
      await progress(tx, run.id, 'done', done, Math.max(total, done))
      // Open boards reload once (scores of many cards changed), instead of one event per lead.
      if (changed) {
        const ps = rowsOf<{ id: string }>(await tx.execute(sql`select id::text as id from pipelines`))
        for (const p of ps) await recordEvent(tx, { type: 'pipeline.updated', payload: { pipelineId: p.id } })
      }
    })
  },
})

async function superseded(tx: OrgTx, run: ScoringRun) {
  const rows = rowsOf(
    await tx.execute(sql`select 1 from scoring_runs
      where state in ('queued', 'running')
        and (created_at, id) > (select r.created_at, r.id from scoring_runs r where r.id = ${run.id}::uuid)
      limit 1`),
  )
  return rows.length > 0
}

const progress = (tx: OrgTx, runId: string, state: string, done: number, total: number) =>
  recordEvent(tx, { type: 'scoring.progress', payload: { runId, state, done, total } })

async function insertRun(tx: OrgTx | SystemTx, orgId: string, reason: RunReason) {
  const [r] = await tx
    .insert(scoringRuns)
    .values({ organizationId: orgId, reason })
    .returning({ id: scoringRuns.id })
  return r!.id
}

/** Queues a rescore of every lead (after a rule change, the admin button, a new model). */
export async function startRescoreAll(tx: OrgTx, orgId: string, reason: RunReason) {
  const runId = await insertRun(tx, orgId, reason)
  await enqueue(tx, rescoreAllJob, { runId }, { idempotencyKey: `rescore-all:${runId}` })
  await progress(tx, runId, 'queued', 0, 0)
  return runId
}

export async function latestRun(tx: OrgTx): Promise<ScoringRun | null> {
  const [r] = await tx
    .select()
    .from(scoringRuns)
    .orderBy(desc(scoringRuns.createdAt), desc(scoringRuns.id))
    .limit(1)
  return r ?? null
}

// The learned model -------------------------------------------------------------------------------

export const trainModelJob = defineOrgJob<{ requestedAt?: string }>({
  name: 'leads.train-model',
  queue: 'scoring',
  maxAttempts: 2,
  async run(ctx) {
    const status = await trainOrgModel((fn) => ctx.tx(fn), ctx.orgId)
    if (status === 'trained') await ctx.tx((tx) => startRescoreAll(tx, ctx.orgId, 'model').then(() => {}))
  },
})

/** Reads every closed lead (keyset pages), fits, stores. Returns the model's status. */
export async function trainOrgModel(
  run: <T>(fn: (tx: OrgTx) => Promise<T>) => Promise<T>,
  orgId: string,
): Promise<'trained' | 'insufficient'> {
  const numericKeys = await run(async (tx) =>
    (await listCustomFields(tx)).filter((d) => d.type === 'number').map((d) => d.key),
  )
  const rows: (ModelLead & { won: boolean })[] = []
  let after: string | null = null
  for (;;) {
    const page = await run((tx) => closedLeads(tx, after, 5_000))
    rows.push(...page)
    if (page.length < 5_000) break
    after = page.at(-1)!.id
  }
  const result = trainModel(rows, numericKeys)
  const won = rows.filter((r) => r.won).length
  await run(async (tx) => {
    const values = result
      ? {
          status: 'trained' as const,
          model: result.model as unknown as Record<string, unknown>,
          sampleSize: rows.length,
          won: result.won,
          lost: result.lost,
          holdoutSize: result.holdoutSize,
          accuracy: result.accuracy,
          auc: result.auc,
          baseline: result.baseline,
          trainedAt: new Date(),
        }
      : {
          status: 'insufficient' as const,
          model: {},
          sampleSize: rows.length,
          won,
          lost: rows.length - won,
          holdoutSize: 0,
          accuracy: null,
          auc: null,
          baseline: null,
          trainedAt: new Date(),
        }
    await tx
      .insert(scoringModels)
      .values({ organizationId: orgId, ...values })
      .onConflictDoUpdate({ target: scoringModels.organizationId, set: values })
    if (!result)
      await tx.execute(sql`update leads set win_probability = null where win_probability is not null`)
    await recordEvent(tx, { type: 'scoring.trained', payload: { status: values.status } })
  })
  return result ? 'trained' : 'insufficient'
}

async function closedLeads(tx: OrgTx, after: string | null, limit: number) {
  const rows = rowsOf<{
    id: string
    source: string | null
    tags: string[]
    value_cents: unknown
    email: string | null
    phone: string | null
    company: string | null
    region: string | null
    custom: unknown
    kind: string
    acts: unknown
    notes: unknown
  }>(
    await tx.execute(sql`
      select l.id::text as id, l.source, l.tags, l.value_cents, l.email, l.phone, l.company, l.region, l.custom,
        s.kind,
        (select count(*) from lead_activities a where a.organization_id = l.organization_id and a.lead_id = l.id
           and a.kind not in (${sql.join(
             NON_INTERACTION_KINDS.map((k) => sql`${k}`),
             sql`, `,
           )})
           and a.created_at <= coalesce(l.won_at, l.lost_at, 'infinity'::timestamptz)) as acts,
        (select count(*) from lead_activities a where a.organization_id = l.organization_id and a.lead_id = l.id
           and a.kind = 'note' and a.created_at <= coalesce(l.won_at, l.lost_at, 'infinity'::timestamptz)) as notes
      from leads l join stages s on s.organization_id = l.organization_id and s.id = l.stage_id
      where s.kind in ('won', 'lost') ${after ? sql`and l.id > ${after}::uuid` : sql``}
      order by l.id limit ${limit}`),
  )
  return rows.map((r) => ({
    id: r.id,
    won: r.kind === 'won',
    source: r.source,
    tags: r.tags ?? [],
    valueCents: toNumber(r.value_cents),
    email: r.email,
    phone: r.phone,
    company: r.company,
    region: r.region,
    custom: (typeof r.custom === 'string' ? JSON.parse(r.custom) : r.custom) as Record<string, unknown>,
    activityCount: toNumber(r.acts),
    noteCount: toNumber(r.notes),
  }))
}

/** "Train now": one training job at a time per organization (the key holds while one is queued). */
export async function requestTraining(tx: OrgTx) {
  const pending = rowsOf(
    await tx.execute(sql`select 1 from jobs where name = ${trainModelJob.name}
      and organization_id = nullif(current_setting('app.org_id', true), '')::uuid
      and state in ('queued', 'running') limit 1`),
  )
  if (pending.length) return false
  await enqueue(tx, trainModelJob, { requestedAt: new Date().toISOString() })
  return true
}

export async function closedCounts(tx: OrgTx) {
  const [r] = rowsOf<{ won: unknown; lost: unknown }>(
    await tx.execute(sql`select count(*) filter (where s.kind = 'won') as won, count(*) filter (where s.kind = 'lost') as lost
      from leads l join stages s on s.organization_id = l.organization_id and s.id = l.stage_id
      where s.kind in ('won', 'lost')`),
  )
  return { won: toNumber(r?.won ?? 0), lost: toNumber(r?.lost ?? 0) }
}

// Daily pass ---------------------------------------------------------------------------------------

export const scoringDailyJob = defineSystemJob<Record<string, never>>({
  name: 'leads.scoring-daily',
  queue: 'maintenance',
  maxAttempts: 3,
  async run(ctx) {
    const day = ctx.clock.now().toISOString().slice(0, 10)
    await ctx.tx(async (tx) => {
      const orgs = rowsOf<{ id: string }>(
        await tx.execute(sql`select distinct organization_id::text as id from scoring_rules
          where active and (decay <> 'none' or condition->>'type' = 'activity')`),
      )
      for (const o of orgs)
        await enqueueForOrg(
          tx,
          o.id,
          rescoreAllJob,
          { reason: 'daily' },
          { idempotencyKey: `scoring.daily:${day}` },
        )
      // Models older than a week are retrained (the history grew); organizations that reached the
      // threshold since their last attempt too.
      const stale = rowsOf<{ id: string }>(
        await tx.execute(sql`select m.organization_id::text as id from scoring_models m
          where m.trained_at < now() - interval '7 days'
            and (select count(*) from leads l join stages s on s.organization_id = l.organization_id and s.id = l.stage_id
                 where l.organization_id = m.organization_id and s.kind in ('won', 'lost')) >= ${MIN_CLOSED}`),
      )
      for (const o of stale)
        await enqueueForOrg(tx, o.id, trainModelJob, {}, { idempotencyKey: `scoring.train:${day}` })
    })
  },
})

export const scoringDailySchedule: Schedule<Record<string, never>> = {
  name: 'leads.scoring-daily',
  cron: '23 4 * * *',
  job: scoringDailyJob,
  payload: {},
}

export const SCORING_JOBS = [rescoreLeadJob, rescoreAllJob, trainModelJob, scoringDailyJob]
