/**
 * The import's per-batch settings cache (CaptureOptions.cache): the messy fixture imported with and
 * without it, into two organizations set up alike, gives the same outcomes and the same leads, and
 * the cached run issues fewer SQL statements per row. Counted with Drizzle's logger, as
 * bench/pipeline.bench.ts does. Twice: an organization as created (no rules) and one with custom
 * fields, scoring rules and assignment rules (the cached reads are then non-empty).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { statementRecorder } from '../../../test/statements'
import { withOrg } from '../../platform/db/tenancy'
import { captureLead } from './leads.capture'
import { CaptureCache } from './leads.capture-cache'
import { createCustomField } from './leads.custom-fields'
import { createRunningImport, importRows, scanUpload, type TxRunner } from './leads.import'
import { addAssignmentRule, addMember, addScoringRule } from './leads.scoring.fixtures'

const messy = readFileSync(join(import.meta.dir, '../../../test/fixtures/leads-messy.csv'))

let t: TestApp
let recorder: ReturnType<typeof statementRecorder>

beforeAll(async () => {
  t = await createTestApp()
  recorder = statementRecorder(t.db)
})
afterAll(() => t.close())

type Org = { orgId: string; userId: string; members: Record<string, string> }

async function setUpOrg(label: string, withRules: boolean): Promise<Org> {
  const m = await signUpClient(t, { orgName: `Cache ${label}` })
  const scope = { orgId: m.orgId, userId: m.userId }
  const members: Record<string, string> = { [m.userId]: 'owner' }
  // The lead row 6 of the fixture duplicates (same phone and Gmail address): a merge.
  await withOrg(t.db, scope, (tx) =>
    captureLead(
      tx,
      { fullName: 'Maria da Conceição', phone: '11 98765-4321', email: 'mariaconceicao@gmail.com' },
      { actorId: m.userId, channel: 'manual', dedup: 'off' },
    ),
  )
  if (withRules) {
    const fair = await addMember(t.db, m.orgId, 'Feirante')
    const rest = await addMember(t.db, m.orgId, 'Resto')
    members[fair] = 'fair'
    members[rest] = 'rest'
    await withOrg(t.db, scope, (tx) =>
      createCustomField(
        tx,
        { ...scope, role: 'owner' },
        { label: 'CPF', type: 'text', options: '', required: false, showInList: false },
      ),
    )
    await addScoringRule(t.db, scope, {
      name: 'Feira',
      points: 30,
      condition: { type: 'source', values: ['Feira'] },
    })
    await addScoringRule(t.db, scope, { name: 'VIP', points: 20, condition: { type: 'tag', value: 'vip' } })
    await addScoringRule(t.db, scope, {
      name: 'SP',
      points: 5,
      condition: { type: 'region', values: ['BR-SP'] },
    })
    await addAssignmentRule(t.db, scope, {
      name: 'Feiras',
      condition: { type: 'source', values: ['Feira'] },
      strategy: 'round_robin',
      members: [fair],
    })
    await addAssignmentRule(t.db, scope, {
      name: 'Todos',
      condition: { type: 'any' },
      strategy: 'least_loaded',
      members: [rest],
    })
  }
  return { ...scope, members }
}

/** Imports the fixture through `importRows`, counting the statements of the row pipeline. */
async function importMessy(org: Org, settingsCache: boolean) {
  const run: TxRunner = (fn) => withOrg(t.db, { orgId: org.orgId, userId: org.userId }, fn)
  const file = new Blob([messy])
  const shape = await scanUpload(file)
  const imp = await run((tx) =>
    createRunningImport(
      tx,
      { filename: 'leads-messy.csv', sizeBytes: file.size, shape, channel: 'cli', createdBy: org.userId },
      { defaultTags: ['planilha'] },
    ),
  )
  const bytes = (async function* () {
    yield new Uint8Array(messy)
  })()
  const recorded = await recorder.during(() =>
    importRows(
      { run, imp, actorId: org.userId, pauseMs: 0, maxTransactionMs: 600_000, settingsCache },
      bytes,
    ),
  )
  const progress = recorded.value
  const statements = recorded.statements.length
  const report = await t.db.raw.query<{ row_number: number; outcome: string; reasons: unknown }>(
    'select row_number, outcome, reasons from lead_import_rows where import_id = $1 order by row_number',
    [imp.id],
  )
  const leads = await t.db.raw.query<{ full_name: string; score: number } & Record<string, unknown>>(
    `select l.full_name, l.email, l.phone, l.company, l.job_title, l.value_cents::text as value_cents,
       l.source, l.tags, l.custom, l.score, l.score_detail, l.owner_id, s.name as stage,
       (select array_agg(a.kind order by a.kind) from lead_activities a where a.lead_id = l.id) as kinds
     from leads l join stages s on s.id = l.stage_id
     where l.organization_id = $1 order by l.full_name, l.email`,
    [org.orgId],
  )
  const pairs = await t.db.raw.query<{ n: number }>(
    'select count(*)::int as n from lead_duplicates where organization_id = $1',
    [org.orgId],
  )
  return {
    statements,
    perRow: statements / progress.processed,
    outcome: {
      progress: {
        processed: progress.processed,
        created: progress.created,
        merged: progress.merged,
        flagged: progress.flagged,
        rejected: progress.rejected,
      },
      report: report.map((r) => [r.row_number, r.outcome, r.reasons]),
      pairs: pairs[0]!.n,
      // Owners by role in the organization (user ids differ between the two organizations).
      leads: leads.map((l) => ({
        ...l,
        owner_id: l.owner_id ? org.members[l.owner_id as string] : null,
        score_detail: (l.score_detail as { label: string; points: number }[]).map((d) => [d.label, d.points]),
      })),
    },
  }
}

describe('captureLead with a per-batch settings cache (CSV import)', () => {
  for (const withRules of [false, true]) {
    test(`same outcomes, fewer statements per row (${withRules ? 'with rules and custom fields' : 'a new organization'})`, async () => {
      const plain = await importMessy(await setUpOrg(`U${withRules}`, withRules), false)
      const cached = await importMessy(await setUpOrg(`C${withRules}`, withRules), true)
      console.log(
        `statements per row (${withRules ? 'rules' : 'no rules'}): uncached ${plain.perRow.toFixed(2)} (${plain.statements}), cached ${cached.perRow.toFixed(2)} (${cached.statements})`,
      )
      expect(plain.outcome.progress).toEqual({
        processed: 11,
        created: 5,
        merged: 2,
        flagged: 0,
        rejected: 4,
      })
      expect(cached.outcome).toEqual(plain.outcome)
      expect(cached.perRow).toBeLessThan(plain.perRow)
      if (withRules) {
        // The cached rules were really applied: scores and owners from them.
        const joao = cached.outcome.leads.find((l) => l.full_name === 'João da Silva')!
        expect(joao.owner_id).toBe('fair')
        expect((joao.score as number) > 0).toBe(true)
        expect(cached.outcome.leads.filter((l) => l.owner_id === 'rest').length).toBeGreaterThan(0)
      }
    })
  }

  test('a cache reads each setting once; a failed read is not kept', async () => {
    const cache = new CaptureCache()
    let reads = 0
    const load = async () => ++reads
    expect(await cache.get('defaultCountry', load)).toBe(1)
    expect(await cache.get('defaultCountry', load)).toBe(1)
    cache.forget('defaultCountry')
    expect(await cache.get('defaultCountry', load)).toBe(2)
    await expect(cache.get('placement', async () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    )
    expect(await cache.get('placement', async () => 'ok')).toBe('ok')
  })
})
