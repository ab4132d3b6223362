import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { withOrg } from '../../platform/db/tenancy'
import { createWorker } from '../../platform/jobs/jobs.worker'
import { silentLogger } from '../../platform/log/logger'
import {
  auc,
  fitLogistic,
  type ModelLead,
  predict,
  seededRandom,
  stratifiedHoldout,
  trainModel,
} from './leads.model'
import { rescoreLead } from './leads.scoring'
import { requestTraining, SCORING_JOBS } from './leads.scoring.jobs'

const base: ModelLead = {
  source: null,
  tags: [],
  valueCents: 0,
  email: null,
  phone: null,
  company: null,
  region: null,
  custom: {},
  activityCount: 0,
  noteCount: 0,
}

/**
 * A synthetic history where the answer is known: the true log-odds are
 * -1.5 + 2.2·[source = Indicação] + 1.2·[tag vip] + 0.35·activities − 1.0·[no phone] + noise-free draws.
 */
function synthetic(n: number, seed: number) {
  const rand = seededRandom(seed)
  const rows: (ModelLead & { won: boolean })[] = []
  for (let i = 0; i < n; i++) {
    const referral = rand() < 0.3
    const vip = rand() < 0.25
    const acts = Math.floor(rand() * 6)
    const phone = rand() < 0.7
    const z = -1.5 + 2.2 * (referral ? 1 : 0) + 1.2 * (vip ? 1 : 0) + 0.35 * acts - 1.0 * (phone ? 0 : 1)
    const p = 1 / (1 + Math.exp(-z))
    rows.push({
      ...base,
      source: referral ? 'Indicação' : rand() < 0.5 ? 'Site' : 'Google Ads',
      tags: vip ? ['vip'] : [],
      phone: phone ? '+5511987654321' : null,
      email: rand() < 0.5 ? 'x@y.com' : null, // irrelevant on purpose
      valueCents: Math.floor(rand() * 1_000_000), // irrelevant on purpose
      activityCount: acts,
      won: rand() < p,
    })
  }
  return rows
}

describe('logistic regression (written in TS)', () => {
  test('recovers the known signs and beats the majority baseline clearly on held-out leads', () => {
    const rows = synthetic(3_000, 7)
    const r = trainModel(rows)!
    expect(r).not.toBeNull()
    expect(r.holdoutSize).toBe(600)
    expect(r.accuracy).toBeGreaterThan(r.baseline + 0.05)
    expect(r.auc!).toBeGreaterThan(0.75)
    const w = (name: string) => r.model.weights[r.model.names.indexOf(name)]!
    expect(w('source=indicacao')).toBeGreaterThan(0.3)
    expect(w('tag=vip')).toBeGreaterThan(0.2)
    expect(w('activities')).toBeGreaterThan(0.1)
    expect(w('has_phone')).toBeGreaterThan(0.1)
    expect(Math.abs(w('has_email'))).toBeLessThan(0.15)
    // Predictions order the way the truth does.
    const hot = predict(r.model, {
      ...base,
      source: 'Indicação',
      tags: ['vip'],
      phone: '+55',
      activityCount: 5,
    })
    const cold = predict(r.model, { ...base, source: 'Site', activityCount: 0 })
    expect(hot).toBeGreaterThan(0.8)
    expect(cold).toBeLessThan(0.2)
  })

  test('on separable data the L2 penalty keeps weights finite', () => {
    const Z = [[-1], [-0.5], [0.5], [1]]
    const { weights } = fitLogistic(Z, [0, 0, 1, 1], { lambda: 1 })
    expect(Number.isFinite(weights[0]!)).toBe(true)
    expect(weights[0]!).toBeGreaterThan(0)
  })

  test('the held-out split is stratified and the same on every run (fixed seed)', () => {
    const y = Array.from({ length: 100 }, (_, i) => (i < 30 ? 1 : 0))
    const h1 = stratifiedHoldout(y, 0.2, 42)
    const h2 = stratifiedHoldout(y, 0.2, 42)
    expect([...h1].sort()).toEqual([...h2].sort())
    expect([...h1].filter((i) => y[i] === 1).length).toBe(6)
    expect([...h1].filter((i) => y[i] === 0).length).toBe(14)
  })

  test('AUC: 1 when the order is perfect, 0.5 for ties, null with one class', () => {
    expect(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1)
    expect(auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5)
    expect(auc([0.1, 0.2], [1, 1])).toBeNull()
  })

  test('too few closed leads, or one class only: no model', () => {
    expect(trainModel(synthetic(39, 1))).toBeNull()
    expect(trainModel(synthetic(200, 1).map((r) => ({ ...r, won: true })))).toBeNull()
  })
})

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t?.close())

describe("training as a job on the organization's own history", () => {
  test('stores accuracy, sample and weights, then fills win_probability for open leads only', async () => {
    const m = await signUpClient(t, { orgName: 'Modelo' })
    const stages = await t.db.raw.query<{ id: string; kind: string; pipeline_id: string }>(
      `select id, kind, pipeline_id from stages where organization_id = $1 order by position`,
      [m.orgId],
    )
    const open = stages.find((s) => s.kind === 'open')!
    const won = stages.find((s) => s.kind === 'won')!
    const lost = stages.find((s) => s.kind === 'lost')!
    // 120 closed leads: referrals won 4 times in 5 (48), every other lead lost (72); plus 2 open leads.
    await t.db.raw.query(
      `insert into leads (id, organization_id, pipeline_id, stage_id, full_name, source, won_at, lost_at)
       select gen_random_uuid(), $1, $2, case when (i % 2 = 0) <> (i % 10 = 0) then $3::uuid else $4::uuid end,
         'Fechado ' || i, case when i % 2 = 0 then 'Indicação' else 'Site' end,
         case when (i % 2 = 0) <> (i % 10 = 0) then now() end, case when (i % 2 = 0) = (i % 10 = 0) then now() end
       from generate_series(1, 120) i`,
      [m.orgId, open.pipeline_id, won.id, lost.id],
    )
    const [hot, cold] = await t.db.raw.query<{ id: string }>(
      `insert into leads (id, organization_id, pipeline_id, stage_id, full_name, source) values
         (gen_random_uuid(), $1, $2, $3, 'Aberto quente', 'Indicação'),
         (gen_random_uuid(), $1, $2, $3, 'Aberto frio', 'Site') returning id`,
      [m.orgId, open.pipeline_id, open.id],
    )
    const worker = createWorker({ db: t.db, log: silentLogger, jobs: SCORING_JOBS })
    expect(await withOrg(t.db, m, requestTraining)).toBe(true)
    expect(await withOrg(t.db, m, requestTraining)).toBe(false) // one at a time
    await worker.runDue()
    const [model] = await t.db.raw.query<{
      status: string
      sample_size: number
      won: number
      lost: number
      holdout_size: number
      accuracy: number
      baseline: number
    }>('select * from scoring_models where organization_id = $1', [m.orgId])
    expect(model).toMatchObject({ status: 'trained', sample_size: 120, won: 48, lost: 72, holdout_size: 24 })
    expect(model!.accuracy).toBeGreaterThan(0.75)
    expect(model!.baseline).toBeCloseTo(14 / 24, 5)
    const probs = await t.db.raw.query<{ id: string; p: number | null; kind: string }>(
      `select l.id, l.win_probability as p, s.kind from leads l join stages s on s.id = l.stage_id
       where l.organization_id = $1`,
      [m.orgId],
    )
    const p = (id: string) => Number(probs.find((r) => r.id === id)!.p)
    expect(p(hot!.id)).toBeGreaterThan(0.7)
    expect(p(cold!.id)).toBeLessThan(0.3)
    expect(probs.filter((r) => r.kind !== 'open').every((r) => r.p === null)).toBe(true)
    // Rescoring one lead keeps its probability (nothing changed).
    expect((await withOrg(t.db, m, (tx) => rescoreLead(tx, hot!.id))).changed).toBe(false)
    // The admin page shows it.
    const page = await m.client.page('/settings/scoring')
    expect(page).toContain('Treinado')
    expect(page).toMatch(
      /data-testid="model-accuracy"[^>]*>\d+(\.\d)?% \(chutando o mais comum: 58.3%; 24 leads\)/,
    )
  })
})
