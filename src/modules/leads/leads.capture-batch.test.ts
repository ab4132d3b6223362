/**
 * The import's batch capture (captureMany) against captureLead row by row: two organizations set up
 * alike import the same messy file (the labeled dedup set: typos, nicknames, phones with and without
 * the ninth digit, shared emails, repeated people across batch boundaries, plus notes and tags) —
 * one row by row, one in batches — and end with the same outcome per row, the same leads (values,
 * versions, stage order), the same timelines, the same review pairs and the same events, in far
 * fewer statements. Then what the batch path adds: name blocking keys under RLS, kept in step with
 * names, and never crossing organizations.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { generateDedupSet } from '../../../bench/dedup-data'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { statementRecorder } from '../../../test/statements'
import { rowsOf } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { nameKey } from '../../shared/text'
import { captureLead } from './leads.capture'
import { namePairs } from './leads.capture-batch'
import { findCandidates, nameBlockingKeys } from './leads.dedup'
import { createRunningImport, importRows, scanUpload, type TxRunner } from './leads.import'

let t: TestApp
let recorder: ReturnType<typeof statementRecorder>

beforeAll(async () => {
  t = await createTestApp()
  recorder = statementRecorder(t.db)
}, 120_000)
afterAll(() => t.close())

type Org = { orgId: string; userId: string }
const q = <T>(text: string, params: unknown[] = []) => t.db.raw.query<T>(text, params)

/** A `;` CSV of the labeled set, with a note on some rows and tags on others. */
function labeledCsv(seed: number, people: number) {
  const records = generateDedupSet({ seed, people })
  const cell = (v: string | null) => `"${(v ?? '').replaceAll('"', '""')}"`
  const lines = records.map((r, i) =>
    [
      r.fullName,
      r.email,
      r.phone,
      r.company,
      r.jobTitle,
      r.source,
      i % 7 === 0 ? 'vip' : '',
      i % 5 === 0 ? `nota ${i}` : '',
    ]
      .map(cell)
      .join(';'),
  )
  return `Nome;E-mail;Celular;Empresa;Cargo;Origem;Etiquetas;Observações\n${lines.join('\n')}\n`
}

async function setUp(label: string): Promise<Org> {
  const m = await signUpClient(t, { orgName: `Batch ${label}` })
  const org = { orgId: m.orgId, userId: m.userId }
  // Leads from before the import: one the file repeats (merged into), one with an old rule score.
  await withOrg(t.db, org, async (tx) => {
    await captureLead(
      tx,
      { fullName: 'Maria da Conceição', phone: '11 98765-4321', email: 'mariaconceicao@gmail.com' },
      { actorId: m.userId, channel: 'manual', dedup: 'off' },
    )
    const old = await captureLead(
      tx,
      { fullName: 'Otávio Pereira', phone: '(21) 99876-0000', email: 'otavio.p@example.com' },
      { actorId: m.userId, channel: 'manual', dedup: 'off' },
    )
    await tx.execute(
      sql`update leads set score = 15, score_detail = '[{"label":"Antiga","points":15}]'::jsonb where id = ${old.leadId}::uuid`,
    )
  })
  return org
}

async function runImport(org: Org, csv: string, batchCapture: boolean) {
  const run: TxRunner = (fn) => withOrg(t.db, org, fn)
  const extra =
    '"Maria Conceicao";"";"(11) 8765-4321";"";"";"site";"";"voltou"\n"OTAVIO PEREIRA";"otavio.p@example.com";"";"Padaria";"";"";"";""\n'
  const file = new Blob([csv + extra])
  const shape = await scanUpload(file)
  const imp = await run((tx) =>
    createRunningImport(tx, {
      filename: 'labeled.csv',
      sizeBytes: file.size,
      shape,
      channel: 'cli',
      createdBy: org.userId,
    }),
  )
  const recorded = await recorder.during(() =>
    importRows(
      { run, imp, actorId: org.userId, batchSize: 60, pauseMs: 0, maxTransactionMs: 600_000, batchCapture },
      (async function* () {
        yield new Uint8Array(await file.arrayBuffer())
      })(),
    ),
  )
  const progress = recorded.value
  const statements = recorded.statements.length
  return { imp, progress, statements }
}

/** Everything an import leaves, with lead ids replaced by a stable name: the row that created it. */
async function snapshot(org: Org, importId: string) {
  const report = await q<{ row_number: number; outcome: string; lead_id: string; duplicate_of_id: string }>(
    'select row_number, outcome, lead_id, duplicate_of_id from lead_import_rows where import_id = $1 order by row_number',
    [importId],
  )
  const leads = await q<{
    id: string
    full_name: string
    email: string
    phone: string
    score: number
    company: string
  }>(
    `select l.id, l.full_name, l.email, l.phone, l.company, l.job_title, l.value_cents::text as value, l.source,
       l.tags, l.custom, l.score, l.score_detail, l.version, l.email_key, l.name_key, l.search_text, s.name as stage,
       rank() over (partition by l.stage_id order by l.position) as place
     from leads l join stages s on s.id = l.stage_id where l.organization_id = $1`,
    [org.orgId],
  )
  // A lead's stable name: its name, email and phone as first created (unique enough in this set).
  const nameOf = new Map(leads.map((l) => [l.id, `${l.full_name}|${l.email}|${l.phone}`]))
  const name = (id: string | null) => (id ? (nameOf.get(id) ?? 'gone') : null)
  const activities = await q<{ lead_id: string; kind: string; data: Record<string, unknown> }>(
    `select a.lead_id, a.kind, a.data from lead_activities a where a.organization_id = $1 order by a.created_at, a.id`,
    [org.orgId],
  )
  const timeline = new Map<string, string[]>()
  for (const a of activities)
    timeline.set(name(a.lead_id)!, [
      ...(timeline.get(name(a.lead_id)!) ?? []),
      `${a.kind}:${JSON.stringify(a.data)}`,
    ])
  const pairs = await q<{ lead_a: string; lead_b: string; score: number; reasons: unknown; status: string }>(
    'select lead_a, lead_b, score, reasons, status from lead_duplicates where organization_id = $1',
    [org.orgId],
  )
  const events = await q<{ type: string }>(
    `select type from outbox_events where organization_id = $1 and type <> 'lead.import.progress' order by version`,
    [org.orgId],
  )
  const keys = await q<{ n: number }>(
    'select count(*)::int as n from lead_name_keys where organization_id = $1',
    [org.orgId],
  )
  return {
    report: report.map((r) => [r.row_number, r.outcome, name(r.lead_id), name(r.duplicate_of_id)]),
    leads: leads
      .map(({ id, ...rest }) => ({ ...rest, timeline: timeline.get(name(id)!) }))
      .sort((a, b) =>
        String(a.full_name + a.email + a.phone).localeCompare(String(b.full_name + b.email + b.phone)),
      ),
    pairs: pairs
      .map((p) => [
        [name(p.lead_a), name(p.lead_b)].sort().join(' ~ '),
        p.score,
        JSON.stringify(p.reasons),
        p.status,
      ])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    events: events.map((e) => e.type),
    nameKeys: keys[0]!.n,
  }
}

describe('captureMany (the import batch path)', () => {
  test('gives the same rows, outcomes, pairs and events as captureLead row by row, in far fewer statements', async () => {
    const csv = labeledCsv(21, 90)
    const one = await setUp('one')
    const many = await setUp('many')
    const a = await runImport(one, csv, false)
    const b = await runImport(many, csv, true)
    expect(b.progress).toEqual({ ...a.progress, importId: b.imp.id })
    expect(a.progress.merged).toBeGreaterThan(10)
    expect(a.progress.flagged).toBeGreaterThanOrEqual(3)
    const sa = await snapshot(one, a.imp.id)
    const sb = await snapshot(many, b.imp.id)
    expect(sb.report).toEqual(sa.report)
    expect(sb.leads).toEqual(sa.leads)
    expect(sb.pairs).toEqual(sa.pairs)
    expect(sb.events).toEqual(sa.events)
    expect(sb.nameKeys).toBe(sa.nameKeys)
    // The old rule score was cleared by the merge's rescoring, in both.
    const otavio = sb.leads.find((l) => l.full_name === 'Otávio Pereira')!
    expect([otavio.score, otavio.company]).toEqual([0, 'Padaria'])
    const rows = a.progress.processed
    console.log(
      `statements per row: one by one ${(a.statements / rows).toFixed(2)}, batch ${(b.statements / rows).toFixed(2)}`,
    )
    // A third of these rows merge (each merge runs captureLead's own statements): still far fewer.
    expect(b.statements * 2.5).toBeLessThan(a.statements)
  }, 120_000)

  test('name keys follow the name (insert, rename, delete) and match the application side', async () => {
    const org = await setUp('keys')
    const keysOf = (id: string) =>
      q<{ key: string }>('select key from lead_name_keys where lead_id = $1 order by key', [id]).then((r) =>
        r.map((x) => x.key),
      )
    const r = await withOrg(t.db, org, (tx) =>
      captureLead(tx, { fullName: 'Ana Beatriz da Silva Souza' }, { actorId: org.userId, channel: 'manual' }),
    )
    const key = nameKey('Ana Beatriz da Silva Souza')
    expect(await keysOf(r.leadId)).toEqual(namePairs(key).sort())
    expect(namePairs(key)).toContain('ana souza')
    await withOrg(t.db, org, (tx) =>
      tx.execute(
        sql`update leads set full_name = 'Bia Souza', name_key = ${nameKey('Bia Souza')} where id = ${r.leadId}::uuid`,
      ),
    )
    expect(await keysOf(r.leadId)).toEqual(['bia souza'])
    // A nickname finds the formal name and back.
    expect(nameBlockingKeys(nameKey('Beatriz Souza'))).toContain('bia souza')
    await withOrg(t.db, org, (tx) => tx.execute(sql`delete from leads where id = ${r.leadId}::uuid`))
    expect(await keysOf(r.leadId)).toEqual([])
  })

  test("the name lookup uses its index under RLS, and B never reads, writes or matches A's keys", async () => {
    const a = await setUp('rls A')
    const b = await setUp('rls B')
    const lead = await withOrg(t.db, a, (tx) =>
      captureLead(tx, { fullName: 'Heitor Vasconcelos Brandão' }, { actorId: a.userId, channel: 'manual' }),
    )
    const plan = await withOrg(t.db, a, async (tx) =>
      rowsOf<Record<string, string>>(
        await tx.execute(
          sql`explain select lead_id from lead_name_keys where key = 'brandao heitor' order by lead_id desc limit 50`,
        ),
      )
        .map((r) => Object.values(r)[0])
        .join('\n'),
    )
    expect(plan).toContain('lead_name_keys_key_idx')
    const seen = await withOrg(t.db, b, async (tx) =>
      rowsOf<{ n: number }>(
        await tx.execute(
          sql`select count(*)::int as n from lead_name_keys where organization_id = ${a.orgId}::uuid`,
        ),
      ),
    )
    expect(seen[0]!.n).toBe(0)
    const forged = await withOrg(t.db, b, (tx) =>
      tx.execute(
        sql`insert into lead_name_keys (organization_id, lead_id, key) values (${a.orgId}::uuid, ${lead.leadId}::uuid, 'x y')`,
      ),
    ).then(
      () => 'inserted',
      (e: Error & { cause?: Error }) => `${e.message} ${e.cause?.message ?? ''}`,
    )
    expect(forged).toMatch(/row-level security/)
    const deleted = await withOrg(t.db, b, async (tx) =>
      rowsOf(
        await tx.execute(sql`delete from lead_name_keys where lead_id = ${lead.leadId}::uuid returning 1`),
      ),
    )
    expect(deleted).toEqual([])
    const found = await withOrg(t.db, b, (tx) =>
      findCandidates(tx, { nameKey: nameKey('Heitor Brandão'), phone: null, emailKey: null, company: null }),
    )
    expect(found).toEqual([])
    const mine = await withOrg(t.db, a, (tx) =>
      findCandidates(tx, { nameKey: nameKey('Heitor Brandão'), phone: null, emailKey: null, company: null }),
    )
    expect(mine.map((l) => l.id)).toEqual([lead.leadId])
  })
})
