/**
 * Lead scoring benchmark, in process, on PGlite and/or a throwaway Postgres database:
 *
 *   1. Scoring one lead (`rescoreLead`: rules, model, one read of the lead and its timeline, the
 *      write and its event) with --rules (10) rules of every kind: p50 / p95 over --samples leads,
 *      each measured as its own withOrg transaction (what the per-lead job does). Goal: well under 5 s.
 *   2. "Rescore every lead" as the job runs it (`leads.rescore-all` through the worker): --leads
 *      (100,000) leads with a few timeline entries each, leads/s, for a first run (every score changes)
 *      and a second one (nothing changes: reads only).
 *
 *   bun bench/scoring.bench.ts [--db pglite|postgres|both] [--leads 100000] [--rules 10] [--samples 300]
 *     [--pg-url postgres://postgres@127.0.0.1:5432/postgres]
 */
import { signUp } from '../src/modules/auth/auth.usecases'
import type { Condition } from '../src/modules/leads/leads.conditions'
import { rescoreLead } from '../src/modules/leads/leads.scoring'
import { addScoringRule } from '../src/modules/leads/leads.scoring.fixtures'
import { SCORING_JOBS, startRescoreAll } from '../src/modules/leads/leads.scoring.jobs'
import { createDefaultPipeline } from '../src/modules/pipeline/pipeline.usecases'
import { migrate } from '../src/platform/db/migrate'
import { withOrg } from '../src/platform/db/tenancy'
import { createWorker } from '../src/platform/jobs/jobs.worker'
import { silentLogger } from '../src/platform/log/logger'
import { fmt, loadAvg, openBenchDb, parseArgs, table } from './lib'

const opts = parseArgs({
  db: 'both',
  leads: 100_000,
  rules: 10,
  samples: 300,
  pgUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
})

/** Ten rules covering every condition kind (source, tag, present, value, region, title, activity...). */
const RULES: {
  name: string
  points: number
  condition: Condition
  decay?: 'linear' | 'half_life'
  decayDays?: number
}[] = [
  { name: 'Indicação', points: 30, condition: { type: 'source', values: ['Indicação', 'Parceiro'] } },
  { name: 'Google Ads', points: 10, condition: { type: 'source', values: ['Google Ads'] } },
  { name: 'VIP', points: 25, condition: { type: 'tag', value: 'vip' } },
  { name: 'Frio', points: -20, condition: { type: 'tag', value: 'frio' } },
  { name: 'Tem e-mail', points: 5, condition: { type: 'present', field: 'email' } },
  { name: 'Tem empresa', points: 5, condition: { type: 'present', field: 'company' } },
  { name: 'Ticket alto', points: 15, condition: { type: 'value_gte', cents: 500_000 } },
  { name: 'São Paulo', points: 8, condition: { type: 'region', values: ['BR-SP'] } },
  { name: 'Diretoria', points: 12, condition: { type: 'job_title', contains: 'diretor' } },
  {
    name: 'Nota recente',
    points: 20,
    condition: { type: 'activity', kind: 'note', days: 14 },
    decay: 'half_life',
    decayDays: 7,
  },
]

async function run(kind: 'pglite' | 'postgres') {
  const { db, drop } = await openBenchDb(kind, 'scoring', opts.pgUrl)
  try {
    await migrate(db)
    const user = await signUp(db, {
      name: 'Bench',
      email: `bench.${Date.now()}@example.com`,
      password: 'correct horse battery',
      orgName: 'Bench Scoring',
      locale: 'pt-BR',
    })
    const m = { orgId: user.org.id, userId: user.user.id }
    await withOrg(db, m, (tx) => createDefaultPipeline(tx, m.orgId, 'pt-BR'))
    const [stage] = await db.raw.query<{ id: string; pipeline_id: string }>(
      `select id, pipeline_id from stages where organization_id = $1 and kind = 'open' order by position limit 1`,
      [m.orgId],
    )
    const t0 = performance.now()
    await db.raw.query(
      `insert into leads (id, organization_id, pipeline_id, stage_id, position, full_name, email, company, job_title,
         source, tags, value_cents, region)
       select gen_random_uuid(), $1, $2, $3, i * 1024, 'Lead ' || i,
         case when i % 2 = 0 then 'lead' || i || '@example.com' end,
         case when i % 3 = 0 then 'Empresa ' || i end,
         case when i % 7 = 0 then 'Diretor comercial' else 'Analista' end,
         (array['Site', 'Google Ads', 'Indicação', 'Parceiro', 'Instagram'])[1 + i % 5],
         case when i % 4 = 0 then array['vip'] when i % 9 = 0 then array['frio'] else array[]::text[] end,
         (i % 20) * 50000, (array['BR-SP', 'BR-RJ', 'BR-MG', null])[1 + i % 4]
       from generate_series(1, $4::int) i`,
      [m.orgId, stage!.pipeline_id, stage!.id, opts.leads],
    )
    // Three timeline entries per lead (created, a note for every other lead, an edit).
    await db.raw.query(
      `insert into lead_activities (id, organization_id, lead_id, kind, created_at)
       select gen_random_uuid(), l.organization_id, l.id, k.kind, now() - (k.age * interval '1 day')
       from leads l cross join (values ('created', 30), ('note', 3), ('edited', 10)) as k(kind, age)
       where l.organization_id = $1 and (k.kind <> 'note' or l.position % 2048 = 0)`,
      [m.orgId],
    )
    await db.raw.query('analyze')
    const seedMs = performance.now() - t0
    for (const r of RULES.slice(0, opts.rules)) await addScoringRule(db, m, r)

    // 1. One lead at a time.
    const ids = (
      await db.raw.query<{ id: string }>(
        'select id from leads where organization_id = $1 order by random() limit $2',
        [m.orgId, opts.samples],
      )
    ).map((r) => r.id)
    const times: number[] = []
    for (const id of ids) {
      const s = performance.now()
      await withOrg(db, m, (tx) => rescoreLead(tx, id))
      times.push(performance.now() - s)
    }
    times.sort((a, b) => a - b)
    const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!

    // 2. Every lead, as the job.
    const worker = createWorker({ db, log: silentLogger, jobs: SCORING_JOBS })
    const runAll = async () => {
      const runId = await withOrg(db, m, (tx) => startRescoreAll(tx, m.orgId, 'manual'))
      const s = performance.now()
      await worker.runDue()
      const ms = performance.now() - s
      const [r] = await db.raw.query<{ state: string; done: number; changed: number }>(
        'select state, done, changed from scoring_runs where id = $1',
        [runId],
      )
      return { ms, ...r! }
    }
    const first = await runAll()
    const second = await runAll()
    return [
      {
        db: kind,
        leads: String(opts.leads),
        rules: String(opts.rules),
        'seed s': fmt(seedMs / 1000),
        'one p50 ms': fmt(q(0.5), 2),
        'one p95 ms': fmt(q(0.95), 2),
        'all (changes) s': fmt(first.ms / 1000),
        'leads/s': String(Math.round(first.done / (first.ms / 1000))),
        changed: String(first.changed),
        'all (none) s': fmt(second.ms / 1000),
        'leads/s ': String(Math.round(second.done / (second.ms / 1000))),
      },
    ]
  } finally {
    await drop()
  }
}

const kinds: ('pglite' | 'postgres')[] =
  opts.db === 'both' ? ['pglite', 'postgres'] : [opts.db as 'pglite' | 'postgres']
const rows = []
for (const k of kinds) rows.push(...(await run(k)))
console.log(`\nLead scoring (${opts.rules} rules; load ${await loadAvg()})\n`)
console.log(table(rows as Array<Record<string, string | number>>))
process.exit(0)
