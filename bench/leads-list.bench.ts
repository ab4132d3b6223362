/**
 * Lead list benchmark, in process (app.handle, no network): one organization with --leads (100,000)
 * leads among --others (2) organizations of the same size (300,000 leads in all), seeded with
 * generate_series. For each case (a filter, a search, a deep sort) it prints the server time of the
 * list request (first page: session, page, count, render) beside the raw SQL of the same rows (the
 * page and count statements replayed as the app role in one tenant transaction) in the same run,
 * their ratio, and the index the page statement's plan uses (EXPLAIN).
 *
 *   bun bench/leads-list.bench.ts [--leads 100000] [--others 2] [--iterations 20]
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bun bench/leads-list.bench.ts
 */
import { sql } from 'drizzle-orm'
import { listPageSql, listWhere, parseListQuery } from '../src/modules/leads/leads.list'
import { rowsOf } from '../src/platform/db/client'
import { withOrg } from '../src/platform/db/tenancy'
import { createTestApp, signUpClient } from '../test/harness'
import { fmt, median, parseArgs, table } from './lib'

const opts = parseArgs({ leads: 100_000, others: 2, iterations: 20 })

const t = await createTestApp()
const kind = t.db.kind
const main = await signUpClient(t, { orgName: 'Bench Leads' })
const others = []
for (let i = 0; i < opts.others; i++) others.push(await signUpClient(t, { orgName: `Other ${i}` }))

async function seed(orgId: string, n: number) {
  const [p] = await t.db.raw.query<{ id: string }>(
    'select id from pipelines where organization_id = $1 limit 1',
    [orgId],
  )
  const stages = (
    await t.db.raw.query<{ id: string }>(
      "select id from stages where organization_id = $1 and kind = 'open' order by position",
      [orgId],
    )
  ).map((s) => s.id)
  await t.db.raw.query(
    `insert into leads (id, organization_id, pipeline_id, stage_id, position, full_name, email, phone, company,
       source, tags, score, value_cents, created_at, last_activity_at, name_key, search_text)
     select gen_random_uuid(), $1::uuid, $2::uuid, ($3::uuid[])[1 + i % cardinality($3::uuid[])], i * 1024,
       n.first || ' ' || n.last || ' ' || i, 'p' || i || '@example.com', '+55119' || lpad((i % 100000000)::text, 8, '0'),
       'Empresa ' || (i % 5000), (array['Site','Instagram','Indicação'])[1 + i % 3],
       case when i % 10 = 0 then '{vip}'::text[] else '{}'::text[] end, i % 100, (i % 1000) * 10000,
       now() - (i || ' minutes')::interval, now() - ((i * 7) % 50000 || ' minutes')::interval,
       translate(lower(n.first || ' ' || n.last), 'áâãéêíóôõúç', 'aaaeeiooouc'),
       translate(lower(n.first || ' ' || n.last || ' ' || i), 'áâãéêíóôõúç', 'aaaeeiooouc') || ' p' || i || '@example.com 119' || lpad((i % 100000000)::text, 8, '0')
     from generate_series(1, $4::int) i,
     lateral (select (array['João','Maria','José','Ana','Conceição','Antônio','Francisca','Paulo'])[1 + i % 8] as first,
       (array['Silva','Santos','Oliveira','Souza','Pereira','Lima','Carvalho','Gomes','Ribeiro','Almeida'])[1 + (i / 8) % 10] as last) n`,
    [orgId, p!.id, `{${stages.join(',')}}`, n],
  )
}

const t0 = performance.now()
await seed(main.orgId, opts.leads)
for (const o of others) await seed(o.orgId, opts.leads)
// The steady state: statistics and no dead rows, as autovacuum (Postgres) or the embedded
// database's maintenance job (PGlite, src/platform/db/maintenance.ts) leave the tables.
await t.db.raw.exec('vacuum (analyze) leads, lead_search_terms')
const seedMs = performance.now() - t0
const [{ n: total }] = (await t.db.raw.query<{ n: number }>('select count(*)::int as n from leads')) as [
  { n: number },
]

const CASES: { name: string; query: string }[] = [
  { name: 'filter tag=vip (newest first)', query: 'tag=vip' },
  { name: 'filter owner=none&score_min=90', query: 'owner=none&score_min=90' },
  { name: 'search "joao silva"', query: 'q=joao%20silva' },
  { name: 'search "conceicao" by score', query: 'q=conceicao&sort=-score' },
  { name: 'search one email', query: 'q=p4242%40example.com' },
  { name: 'search one phone', query: 'q=(11)%2090000-4242' },
  { name: 'search "m" (first key typed)', query: 'q=m' },
  { name: 'no filter, sort by name', query: 'sort=name' },
]
const scope = { userId: main.userId, timezone: 'America/Sao_Paulo' }

async function timeRequest(query: string) {
  const times: number[] = []
  for (let i = 0; i < opts.iterations; i++) {
    const s = performance.now()
    const res = await main.client.get(`/leads?${query}`)
    await res.text()
    if (res.status !== 200) throw new Error(`GET /leads?${query}: ${res.status}`)
    times.push(performance.now() - s)
  }
  return median(times)
}

async function timeRaw(query: string) {
  const q = parseListQuery(new URLSearchParams(query))
  const times: number[] = []
  for (let i = 0; i < opts.iterations; i++) {
    const s = performance.now()
    await withOrg(t.db, { orgId: main.orgId, userId: main.userId }, async (tx) => {
      await tx.execute(listPageSql(q, scope, null))
      await tx.execute(sql`select count(*) from leads l where ${listWhere(q, scope)}`)
    })
    times.push(performance.now() - s)
  }
  return median(times)
}

async function plan(query: string) {
  const q = parseListQuery(new URLSearchParams(query))
  const lines = await withOrg(t.db, { orgId: main.orgId, userId: main.userId }, async (tx) =>
    rowsOf<Record<string, string>>(await tx.execute(sql`explain ${listPageSql(q, scope, null)}`)).map(
      (r) => Object.values(r)[0]!,
    ),
  )
  const idx = [...new Set(lines.join('\n').match(/leads?_[a-z_]+idx/g) ?? [])]
  return { idx: idx.join(', ') || 'none', seq: /Seq Scan on leads/.test(lines.join('\n')) }
}

const rows: Array<Record<string, string | number>> = []
for (const c of CASES) {
  await timeRequest(c.query) // warm
  const req = await timeRequest(c.query)
  const raw = await timeRaw(c.query)
  const p = await plan(c.query)
  rows.push({
    case: c.name,
    'request ms': req,
    'raw SQL ms': raw,
    ratio: (req / raw).toFixed(2),
    'indexes in the page plan': p.idx,
    'seq scan on leads': p.seq ? 'yes' : 'no',
  })
}

console.log(
  `\nLead list on ${kind}: ${opts.leads.toLocaleString('en')} leads in the measured org, ${total.toLocaleString('en')} in all (seeded in ${fmt(seedMs)} ms); median of ${opts.iterations}`,
)
console.log(table(rows))
await t.close()
process.exit(0)
