/**
 * Pipeline board benchmark, in process (app.handle, no network), on PGlite and/or Postgres:
 *
 *   1. Board request server time (GET /pipeline: session, first page of every column, render) beside
 *      the raw SQL of the same rows in the same run. The ratio is the figure (goal <= 1.5). Two raw
 *      figures: the request's own statements replayed on the driver in one transaction (the first
 *      one looks the session up and binds the organization), and the board's rows alone (the
 *      organization bound with parameters, then the board statement), which leaves the session
 *      lookup on the server's side of the ratio.
 *   2. SQL statements per board request (goal <= 3) and per move (goal <= 2), counted by Drizzle's
 *      logger; BEGIN/COMMIT are not statements of ours and are not counted.
 *   3. RLS cost: the board query through withOrg (policy) beside the same query with an explicit
 *      `organization_id = $1` as the owner (no RLS), goal <= 1.10; EXPLAIN of both, looking for an
 *      index condition on organization_id.
 *
 * Scenarios: `small` = one organization with --leads (10,000) leads; `big` = --big-orgs (1,000)
 * organizations with --big-per-org (1,000) leads each (1,000,000), seeded with generate_series
 * (seeding time is reported). The measured organization is a real signed-up one.
 *
 *   bun bench/pipeline.bench.ts [--db pglite|postgres|both] [--scenario small|big|both]
 *     [--leads 10000] [--big-orgs 1000] [--big-per-org 1000] [--iterations 60]
 *     [--pg-url postgres://postgres@127.0.0.1:5432/postgres]
 */
import { sql } from 'drizzle-orm'
import { createApp } from '../src/app'
import { loadConfig } from '../src/config/config'
import { boardSnapshot, boardSnapshotSql, PAGE_SIZE } from '../src/modules/pipeline/pipeline.repository'
import type { Db } from '../src/platform/db/client'
import { migrate } from '../src/platform/db/migrate'
import { tenantBinding, withOrg } from '../src/platform/db/tenancy'
import { silentLogger } from '../src/platform/log/logger'
import { createMailer } from '../src/platform/mail/mailer'
import { setQueryLogger, statementRecorder } from '../test/statements'
import { fmt, loadAvg, median, openBenchDb, parseArgs, table } from './lib'

const opts = parseArgs({
  db: 'both',
  scenario: 'both',
  leads: 10_000,
  bigOrgs: 1_000,
  bigPerOrg: 1_000,
  iterations: 60,
  pgUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
})
const BASE = 'http://localhost:3000'

async function signUp(app: ReturnType<typeof createApp>) {
  const email = `bench.${Date.now()}@example.com`
  const res = await app.handle(
    new Request(`${BASE}/signup`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: BASE, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        name: 'Bench Owner',
        email,
        password: 'correct horse battery',
        orgName: 'Bench',
      }),
    }),
  )
  if (res.status !== 303) throw new Error(`sign-up: ${res.status}`)
  const cookie = res.headers
    .getSetCookie()
    .find((c) => c.startsWith('loved_session='))!
    .split(';')[0]!
  return { cookie, email }
}

/** `n` leads of one organization, spread over its 6 stages, gap-ordered, as the owner (no RLS). */
async function seedOrgLeads(db: Db, orgId: string, ownerId: string, n: number) {
  await db.raw.query(
    `insert into leads (id, organization_id, pipeline_id, stage_id, position, full_name, email, phone, company,
       value_cents, source, owner_id, tags, score, created_at, last_activity_at)
     select gen_random_uuid(), s.organization_id, s.pipeline_id, s.id, i::bigint * 1048576, 'Lead ' || i,
       case when i % 3 = 0 then 'lead' || i || '@example.com' end,
       case when i % 2 = 0 then '+5511' || lpad(i::text, 9, '0') end,
       'Empresa ' || (i % 500), (i * 7919 % 100000) * 100,
       (array['Site','Instagram','Indicação','Portal'])[1 + i % 4],
       case when i % 4 = 0 then null else $2::uuid end,
       case when i % 5 = 0 then array['vip'] else '{}'::text[] end, i % 101,
       now() - make_interval(mins => i), now() - make_interval(mins => i)
     from generate_series(1, $3::int) i
     join stages s on s.organization_id = $1::uuid and s.position = i % 6`,
    [orgId, ownerId, n],
  )
}

/** `orgs` more organizations with a pipeline, 6 stages and `perOrg` leads each (generate_series). */
async function seedManyOrgs(db: Db, orgs: number, perOrg: number) {
  const steps: Array<[string, string]> = [
    [
      'organizations',
      `insert into organizations (id, name, slug) select gen_random_uuid(), 'Org ' || g, 'bench-' || g
       from generate_series(1, ${orgs}) g`,
    ],
    [
      'pipelines',
      `insert into pipelines (id, organization_id, name) select gen_random_uuid(), id, 'Vendas'
       from organizations where slug like 'bench-%'`,
    ],
    [
      'stages',
      `insert into stages (id, organization_id, pipeline_id, name, kind, position)
       select gen_random_uuid(), p.organization_id, p.id, s.name, s.kind, s.pos
       from pipelines p join organizations o on o.id = p.organization_id and o.slug like 'bench-%'
       cross join (values ('Novo','open',0),('Qualificado','open',1),('Proposta','open',2),
         ('Negociação','open',3),('Ganho','won',4),('Perdido','lost',5)) s(name, kind, pos)`,
    ],
    [
      'leads',
      `insert into leads (id, organization_id, pipeline_id, stage_id, position, full_name, company, value_cents,
         source, tags, score, created_at, last_activity_at)
       select gen_random_uuid(), s.organization_id, s.pipeline_id, s.id, i::bigint * 1048576, 'Lead ' || i,
         'Empresa ' || (i % 300), (i * 7919 % 100000) * 100, (array['Site','Instagram','Indicação','Portal'])[1 + i % 4],
         case when i % 5 = 0 then array['vip'] else '{}'::text[] end, i % 101, now(), now()
       from stages s join organizations o on o.id = s.organization_id and o.slug like 'bench-%'
       cross join generate_series(1, ${Math.ceil(perOrg / 6)}) i`,
    ],
  ]
  const times: Record<string, number> = {}
  for (const [name, text] of steps) {
    const t0 = performance.now()
    await db.raw.exec(text)
    times[name] = (performance.now() - t0) / 1000
  }
  const t0 = performance.now()
  await db.raw.exec('analyze')
  times.analyze = (performance.now() - t0) / 1000
  return times
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!
}

async function run(kind: 'pglite' | 'postgres', scenario: 'small' | 'big') {
  const { db, drop } = await openBenchDb(kind, `pipeline_${scenario}`, opts.pgUrl)
  try {
    await migrate(db)
    const config = loadConfig(
      { BASE_URL: BASE, SECRET_KEY: 'bench-secret-key-bench-secret-key-0123' },
      { ensureSecret: false },
    )
    const app = createApp({
      config,
      db,
      log: silentLogger,
      mailer: createMailer(db, config.smtp, silentLogger),
    })
    const recorder = statementRecorder(db)
    const { cookie, email } = await signUp(app)
    const [me] = await db.raw.query<{ user_id: string; organization_id: string }>(
      'select m.user_id, m.organization_id from organization_members m join users u on u.id = m.user_id where u.email = $1',
      [email],
    )
    const orgId = me!.organization_id
    const userId = me!.user_id
    let seeding = ''
    const t0 = performance.now()
    if (scenario === 'small') {
      await seedOrgLeads(db, orgId, userId, opts.leads)
      await db.raw.exec('analyze')
      seeding = `${opts.leads} leads in ${fmt((performance.now() - t0) / 1000, 2)} s`
    } else {
      const times = await seedManyOrgs(db, opts.bigOrgs - 1, opts.bigPerOrg)
      await seedOrgLeads(db, orgId, userId, opts.bigPerOrg)
      await db.raw.exec('analyze')
      const total = await db.raw.query<{ n: string }>('select count(*)::text as n from leads')
      seeding = `${total[0]!.n} leads over ${opts.bigOrgs} orgs in ${fmt((performance.now() - t0) / 1000, 1)} s (${Object.entries(
        times,
      )
        .map(([k, v]) => `${k} ${fmt(v, 1)} s`)
        .join(', ')})`
    }
    const [{ n: orgLeads }] = (await db.raw.query<{ n: string }>(
      'select count(*)::text as n from leads where organization_id = $1',
      [orgId],
    )) as [{ n: string }]

    const board = () => app.handle(new Request(`${BASE}/pipeline`, { headers: { cookie } }))
    // Capture the request's statements once: their text is what the raw replay runs.
    const { value: first, statements: boardStatements } = await recorder.during(board)
    const html = await first.text()
    if (first.status !== 200) throw new Error(`board: ${first.status}`)
    // The replay needs the parameters too: re-run the use case path once with a capturing logger.
    const captured: Array<{ q: string; p: unknown[] }> = []
    const keep = setQueryLogger(db, { logQuery: (q, p) => captured.push({ q, p }) })
    await board().then((r) => r.text())
    setQueryLogger(db, keep)
    // The board's own work is the withOrg transaction: from its set_config on (the session lookup
    // before it is the foundation's, measured separately below).
    const replay = captured.slice(captured.findIndex((c) => c.q.includes("set_config('app.org_id'")))
    if (replay.length !== 2) throw new Error(`expected set_config + 1 board statement, got ${replay.length}`)
    // The board's rows alone: withOrg's own binding (parameters, no session lookup), then the board.
    const dialect = (db.drizzle as any).dialect
    const bind = dialect.sqlToQuery(sql`select ${tenantBinding(sql`${orgId}`, sql`${userId}`, db.appRole)}`)
    const rowsOnly = [{ q: bind.sql as string, p: bind.params as unknown[] }, replay[1]!]

    // Warm up both paths.
    for (let i = 0; i < 10; i++) {
      await (await board()).text()
      await db.raw.transaction(async (tx) => {
        for (const c of replay) await tx.query(c.q, c.p)
      })
    }
    const server: number[] = []
    const raw: number[] = []
    const rawRows: number[] = []
    for (let i = 0; i < opts.iterations; i++) {
      let s = performance.now()
      await (await board()).text()
      server.push(performance.now() - s)
      s = performance.now()
      await db.raw.transaction(async (tx) => {
        for (const c of replay) await tx.query(c.q, c.p)
      })
      raw.push(performance.now() - s)
      s = performance.now()
      await db.raw.transaction(async (tx) => {
        for (const c of rowsOnly) await tx.query(c.q, c.p)
      })
      rawRows.push(performance.now() - s)
    }

    // Statements per move (one compare-and-set move through the route).
    const [lead] = await db.raw.query<{ id: string; version: number }>(
      'select id, version from leads where organization_id = $1 and stage_id = (select id from stages where organization_id = $1 and position = 1) order by position limit 1',
      [orgId],
    )
    const [target] = await db.raw.query<{ id: string }>(
      'select id from stages where organization_id = $1 and position = 2',
      [orgId],
    )
    const { value: mv, statements: moveStatements } = await recorder.during(() =>
      app.handle(
        new Request(`${BASE}/pipeline/leads/${lead!.id}/move`, {
          method: 'POST',
          headers: {
            cookie,
            origin: BASE,
            accept: 'application/json',
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({ stageId: target!.id, version: String(lead!.version) }),
        }),
      ),
    )
    if (mv.status !== 200) throw new Error(`move: ${mv.status} ${await mv.text()}`)

    // RLS cost: the board statement under the policies vs. the same statement with every
    // organization predicate spelled out, run as the owner (no RLS).
    const scope = { userId, timezone: 'America/Sao_Paulo' }
    const viaQ = dialect.sqlToQuery(boardSnapshotSql(userId, null, {}, scope))
    const ownQ = dialect.sqlToQuery(boardSnapshotSql(userId, null, {}, scope, PAGE_SIZE, orgId))
    const boardSql = { q: viaQ.sql as string, p: viaQ.params as unknown[] }
    const explicitSql = ownQ.sql as string
    const explicitParams = ownQ.params as unknown[]
    const viaRls = async () =>
      db.raw.transaction(async (tx) => {
        await tx.query(rowsOnly[0]!.q, rowsOnly[0]!.p)
        await tx.query(boardSql.q, boardSql.p)
      })
    const asOwner = async () =>
      db.raw.transaction(async (tx) => {
        await tx.query('select 1')
        await tx.query(explicitSql, explicitParams)
      })
    for (let i = 0; i < 10; i++) {
      await viaRls()
      await asOwner()
    }
    const rls: number[] = []
    const owner: number[] = []
    for (let i = 0; i < opts.iterations; i++) {
      let s = performance.now()
      await viaRls()
      rls.push(performance.now() - s)
      s = performance.now()
      await asOwner()
      owner.push(performance.now() - s)
    }
    const planRls = await db.raw.transaction(async (tx) => {
      await tx.query(rowsOnly[0]!.q, rowsOnly[0]!.p)
      return tx.query<Record<string, string>>(`explain ${boardSql.q}`, boardSql.p)
    })
    const planOwner = await db.raw.query<Record<string, string>>(`explain ${explicitSql}`, explicitParams)
    const indexLines = (plan: Record<string, string>[]) =>
      plan
        .map((r) => Object.values(r)[0]!)
        .filter((l) => /Index Cond/.test(l) && /organization_id/.test(l))
        .map((l) => l.trim())

    // Sanity: the same cards.
    const cards = (html.match(/class="lead-card/g) ?? []).length
    const direct = await withOrg(db, { orgId, userId }, (tx) => boardSnapshot(tx, userId, null, {}, scope))
    if (direct.columns.reduce((n, c) => n + c.cards.length, 0) !== cards)
      throw new Error('board and direct query disagree')

    return {
      kind,
      scenario,
      seeding,
      orgLeads: Number(orgLeads),
      cards,
      server,
      raw,
      rawRows,
      htmlBytes: html.length,
      rls,
      owner,
      boardStatements,
      moveStatements,
      planRls: indexLines(planRls),
      planOwner: indexLines(planOwner),
      planRlsFull: planRls.map((r) => Object.values(r)[0]!),
    }
  } finally {
    await drop()
  }
}

const kinds = (opts.db === 'both' ? ['pglite', 'postgres'] : [opts.db]) as Array<'pglite' | 'postgres'>
const scenarios = (opts.scenario === 'both' ? ['small', 'big'] : [opts.scenario]) as Array<'small' | 'big'>
console.log(
  `loved pipeline bench — bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs, load avg ${await loadAvg()}, ${opts.iterations} iterations per measure`,
)
const rows: Array<Record<string, string | number>> = []
const rlsRows: Array<Record<string, string | number>> = []
for (const scenario of scenarios)
  for (const kind of kinds) {
    const started = performance.now()
    const r = await run(kind, scenario)
    const label = `${kind} ${scenario}`
    console.log(
      `\n[${label}] seeding: ${r.seeding}; measured org: ${r.orgLeads} leads, ${r.cards} cards on the first page of 6 columns`,
    )
    console.log(`[${label}] statements per board request: ${r.boardStatements.length}`)
    for (const q of r.boardStatements) console.log(`    - ${q.replace(/\s+/g, ' ').slice(0, 110)}`)
    console.log(`[${label}] statements per move: ${r.moveStatements.length}`)
    for (const q of r.moveStatements) console.log(`    - ${q.replace(/\s+/g, ' ').slice(0, 110)}`)
    console.log(`[${label}] EXPLAIN through RLS, organization_id index conditions:`)
    for (const l of r.planRls) console.log(`    ${l}`)
    console.log(`[${label}] EXPLAIN with explicit WHERE as owner, organization_id index conditions:`)
    for (const l of r.planOwner) console.log(`    ${l}`)
    rows.push({
      run: label,
      'server p50 ms': median(r.server),
      'server p95 ms': pct(r.server, 0.95),
      'raw SQL p50 ms': median(r.raw),
      'raw SQL p95 ms': pct(r.raw, 0.95),
      'ratio (p50)': median(r.server) / median(r.raw),
      'rows-only SQL p50 ms': median(r.rawRows),
      'ratio to rows only': median(r.server) / median(r.rawRows),
      'HTML KB': r.htmlBytes / 1024,
    })
    rlsRows.push({
      run: label,
      'withOrg+RLS p50 ms': median(r.rls),
      'owner+WHERE p50 ms': median(r.owner),
      'RLS ratio (p50)': median(r.rls) / median(r.owner),
    })
    console.log(`[${label}] done in ${fmt((performance.now() - started) / 1000, 1)} s`)
  }
console.log('\nBoard request (server, in process) vs the raw SQL of the same rows:')
console.log(table(rows))
console.log('\nRLS cost of the board query:')
console.log(table(rlsRows))
