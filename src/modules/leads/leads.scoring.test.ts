import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { CONSUMERS } from '../../jobs'
import { withOrg } from '../../platform/db/tenancy'
import { createEventDispatcher } from '../../platform/events/events.dispatcher'
import { createWorker } from '../../platform/jobs/jobs.worker'
import { silentLogger } from '../../platform/log/logger'
import { actorOf, blankLead, type Member, seedLeads } from '../pipeline/pipeline.fixtures'
import { addNote, updateLead } from '../pipeline/pipeline.usecases'
import { type Condition, type LeadFacts, matchCondition } from './leads.conditions'
import { type ActiveRule, decayedPoints, evaluateRules, rescoreLead } from './leads.scoring'
import { addScoringRule, insertLeads } from './leads.scoring.fixtures'
import { SCORING_JOBS, startRescoreAll } from './leads.scoring.jobs'

const DAY = 86_400_000
const NOW = new Date('2026-03-10T12:00:00Z')
const facts = (over: Partial<LeadFacts> = {}): LeadFacts => ({
  source: 'Google Ads',
  tags: ['VIP', 'evento'],
  company: 'Acme Ltda',
  email: 'ana@acme.com.br',
  phone: '+5511987654321',
  valueCents: 500_000,
  region: 'BR-SP',
  jobTitle: 'Diretora Comercial',
  custom: { segmento: 'Varejo', funcionarios: 120, parceiro: true, canais: ['whatsapp', 'email'] },
  createdAt: new Date(NOW.getTime() - 10 * DAY),
  activity: { note: new Date(NOW.getTime() - 2 * DAY), 'message.inbound': new Date(NOW.getTime() - 9 * DAY) },
  ...over,
})
const matches = (c: Condition, f = facts()) => matchCondition(c, f, NOW).matched

describe('rule conditions, one by one', () => {
  test('source equals / is one of, ignoring case and accents', () => {
    expect(matches({ type: 'source', values: ['google ads'] })).toBe(true)
    expect(matches({ type: 'source', values: ['Site', 'Indicação'] })).toBe(false)
    expect(matches({ type: 'source', values: ['Site', 'Indicacao'] }, facts({ source: 'indicação' }))).toBe(
      true,
    )
    expect(matches({ type: 'source', values: ['Site'] }, facts({ source: null }))).toBe(false)
  })
  test('tag has, present fields, value at least, job title contains', () => {
    expect(matches({ type: 'tag', value: 'vip' })).toBe(true)
    expect(matches({ type: 'tag', value: 'frio' })).toBe(false)
    expect(matches({ type: 'present', field: 'company' })).toBe(true)
    expect(matches({ type: 'present', field: 'email' }, facts({ email: null }))).toBe(false)
    expect(matches({ type: 'present', field: 'phone' }, facts({ phone: '  ' }))).toBe(false)
    expect(matches({ type: 'value_gte', cents: 500_000 })).toBe(true)
    expect(matches({ type: 'value_gte', cents: 500_001 })).toBe(false)
    expect(matches({ type: 'job_title', contains: 'diretora' })).toBe(true)
    expect(matches({ type: 'job_title', contains: 'gerente' })).toBe(false)
  })
  test('region: a state code or a whole country', () => {
    expect(matches({ type: 'region', values: ['BR-RJ', 'BR-SP'] })).toBe(true)
    expect(matches({ type: 'region', values: ['BR'] })).toBe(true)
    expect(matches({ type: 'region', values: ['BR-RJ'] })).toBe(false)
    expect(matches({ type: 'region', values: ['BR'] }, facts({ region: null }))).toBe(false)
  })
  test('custom fields: equals (text, multiselect), at least (number), checked (boolean)', () => {
    expect(matches({ type: 'custom', key: 'segmento', op: 'eq', value: 'varejo' })).toBe(true)
    expect(matches({ type: 'custom', key: 'segmento', op: 'eq', value: 'Indústria' })).toBe(false)
    expect(matches({ type: 'custom', key: 'canais', op: 'eq', value: 'whatsapp' })).toBe(true)
    expect(matches({ type: 'custom', key: 'funcionarios', op: 'gte', value: 100 })).toBe(true)
    expect(matches({ type: 'custom', key: 'funcionarios', op: 'gte', value: 121 })).toBe(false)
    expect(matches({ type: 'custom', key: 'parceiro', op: 'checked' })).toBe(true)
    expect(matches({ type: 'custom', key: 'parceiro', op: 'checked' }, facts({ custom: {} }))).toBe(false)
  })
  test('activity of a kind within the last N days, dated by the activity', () => {
    const m = matchCondition({ type: 'activity', kind: 'note', days: 7 }, facts(), NOW)
    expect(m).toEqual({ matched: true, at: new Date(NOW.getTime() - 2 * DAY) })
    expect(matches({ type: 'activity', kind: 'message.inbound', days: 7 })).toBe(false)
    expect(matches({ type: 'activity', kind: 'message.inbound', days: 10 })).toBe(true)
    expect(matches({ type: 'activity', kind: 'call', days: 30 })).toBe(false)
  })
})

describe('decay and the explanation', () => {
  const rule = (over: Partial<ActiveRule>): ActiveRule => ({
    id: crypto.randomUUID(),
    name: 'r',
    condition: { type: 'any' },
    points: 40,
    decay: 'none',
    decayDays: null,
    ...over,
  })
  test('linear decay shrinks to zero over N days; half-life halves every N days (fake clock)', () => {
    const at = new Date(NOW.getTime())
    const later = (days: number) => new Date(at.getTime() + days * DAY)
    const linear = rule({ decay: 'linear', decayDays: 10 })
    expect(decayedPoints(linear, at, at)).toBe(40)
    expect(decayedPoints(linear, at, later(5))).toBe(20)
    expect(decayedPoints(linear, at, later(10))).toBe(0)
    expect(decayedPoints(linear, at, later(30))).toBe(0)
    const half = rule({ decay: 'half_life', decayDays: 7, points: -40 })
    expect(decayedPoints(half, at, later(7))).toBe(-20)
    expect(decayedPoints(half, at, later(14))).toBe(-10)
  })
  test('the detail lists each contributing rule and sums to the score', () => {
    const rules = [
      rule({ name: 'Google Ads', points: 20, condition: { type: 'source', values: ['Google Ads'] } }),
      rule({ name: 'Sem empresa', points: -15, condition: { type: 'present', field: 'company' } }),
      rule({
        name: 'Nota recente',
        points: 30,
        condition: { type: 'activity', kind: 'note', days: 7 },
        decay: 'linear',
        decayDays: 4,
      }),
      rule({ name: 'Não casa', points: 99, condition: { type: 'tag', value: 'frio' } }),
    ]
    const ev = evaluateRules(rules, facts(), NOW)
    // The note is 2 days old: 30 points at half their life.
    expect(ev.detail.map((d) => [d.label, d.points])).toEqual([
      ['Google Ads', 20],
      ['Sem empresa', -15],
      ['Nota recente', 15],
    ])
    expect(ev.score).toBe(20)
    expect(ev.detail.reduce((s, d) => s + d.points, 0)).toBe(ev.score)
  })
  test('scores are clamped to -1000..1000 and the limit shows as its own line', () => {
    const ev = evaluateRules([rule({ points: 800 }), rule({ points: 700 })], facts(), NOW)
    expect(ev.score).toBe(1000)
    expect(ev.detail.at(-1)).toEqual({ ruleId: 'limit', label: '', points: -500 })
    expect(ev.detail.reduce((s, d) => s + d.points, 0)).toBe(1000)
  })
})

let t: TestApp
let a: Member
let b: Member
beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Pontua A' })
  b = await signUpClient(t, { orgName: 'Pontua B' })
})
afterAll(() => t?.close())

const lead = (id: string) =>
  t.db.raw
    .query<{
      score: number
      score_detail: { ruleId: string; label: string; points: number }[]
      version: number
      scored_at: Date | null
    }>('select score, score_detail, version, scored_at from leads where id = $1', [id])
    .then((r) => r[0]!)
const scoreEvents = (leadId: string) =>
  t.db.raw.query<{ n: number }>(
    `select count(*)::int as n from outbox_events where type = 'lead.updated'
       and payload->>'leadId' = $1 and payload->>'cause' = 'score'`,
    [leadId],
  )

describe('rescoreLead against the database', () => {
  test('writes score, detail and scored_at once, bumps the version and records lead.updated; unchanged means no write', async () => {
    const [id] = await seedLeads(t, a, 1, () => ({ fullName: 'Ana Lima', source: 'Site', company: 'Acme' }))
    const site = await addScoringRule(t.db, a, {
      name: 'Veio do site',
      points: 25,
      condition: { type: 'source', values: ['site'] },
    })
    await addScoringRule(t.db, a, {
      name: 'Tem empresa',
      points: 10,
      condition: { type: 'present', field: 'company' },
    })
    const before = await lead(id!)
    const res = await withOrg(t.db, a, (tx) => rescoreLead(tx, id!))
    expect(res).toEqual({ score: 35, changed: true })
    const after = await lead(id!)
    expect(after.score).toBe(35)
    expect(after.score_detail).toEqual([
      { ruleId: site, label: 'Veio do site', points: 25 },
      { ruleId: expect.any(String), label: 'Tem empresa', points: 10 },
    ])
    expect(after.version).toBe(before.version + 1)
    expect(after.scored_at).not.toBeNull()
    expect((await scoreEvents(id!))[0]!.n).toBe(1)
    // Nothing changed: no write, no version bump, no event.
    expect(await withOrg(t.db, a, (tx) => rescoreLead(tx, id!))).toEqual({ score: 35, changed: false })
    expect((await lead(id!)).version).toBe(after.version)
    expect((await scoreEvents(id!))[0]!.n).toBe(1)
  })

  test("an organization's rules never apply to another organization's leads", async () => {
    const [bLead] = await seedLeads(t, b, 1, () => ({
      fullName: 'Bruno',
      source: 'Site',
      company: 'Acme',
      score: '7',
    }))
    expect(await withOrg(t.db, b, (tx) => rescoreLead(tx, bLead!))).toEqual({ score: 7, changed: false })
    expect((await lead(bLead!)).score_detail).toEqual([])
    // And A cannot rescore B's lead by id (RLS: not found).
    await expect(withOrg(t.db, a, (tx) => rescoreLead(tx, bLead!))).rejects.toThrow()
  })
})

describe('recomputed on every relevant change, through durable events and jobs', () => {
  test('creation, an edit and a note rescore the lead; its own score events do not loop', async () => {
    const m = await signUpClient(t, { orgName: 'Eventos' })
    await addScoringRule(t.db, m, { name: 'VIP', points: 50, condition: { type: 'tag', value: 'vip' } })
    await addScoringRule(t.db, m, {
      name: 'Nota na semana',
      points: 20,
      condition: { type: 'activity', kind: 'note', days: 7 },
    })
    const dispatcher = createEventDispatcher({ db: t.db, log: silentLogger, pollMs: 60_000 })
    for (const c of CONSUMERS) dispatcher.consume(c.type as never, c.handler)
    const worker = createWorker({ db: t.db, log: silentLogger, jobs: SCORING_JOBS })
    await dispatcher.start()
    const settle = async () => {
      for (let i = 0; i < 5; i++) {
        await dispatcher.drain()
        if (!(await worker.runDue())) break
      }
    }
    try {
      const [id] = await seedLeads(t, m, 1, () => ({ fullName: 'Carla', tags: 'vip' }))
      await settle()
      expect((await lead(id!)).score).toBe(50)
      const v = (await lead(id!)).version
      await withOrg(t.db, m, (tx) =>
        updateLead(tx, actorOf(m), id!, { ...blankLead, fullName: 'Carla', tags: 'vip, quente' }, v),
      )
      await withOrg(t.db, m, (tx) => addNote(tx, actorOf(m), id!, 'Ligou pedindo proposta'))
      await settle()
      const after = await lead(id!)
      expect(after.score).toBe(70)
      expect(after.score_detail.map((d) => d.label)).toEqual(['VIP', 'Nota na semana'])
      // Two score changes, two score events; every rescore job came from a lead event, none from a
      // score event (the loop would enqueue one more per change).
      expect((await scoreEvents(id!))[0]!.n).toBe(2)
      const [jobs] = await t.db.raw.query<{ n: number }>(
        `select count(*)::int as n from jobs where name = 'leads.rescore' and payload->>'leadId' = $1`,
        [id],
      )
      const [events] = await t.db.raw.query<{ n: number }>(
        `select count(*)::int as n from outbox_events where payload->>'leadId' = $1
           and type in ('lead.created', 'lead.updated', 'lead.moved') and coalesce(payload->>'cause', '') <> 'score'`,
        [id],
      )
      expect(jobs!.n).toBe(events!.n)
    } finally {
      await dispatcher.stop()
    }
  })
})

describe('rescoring every lead as a job', () => {
  test('keyset batches over 2,500 leads with progress; unchanged leads are not rewritten', async () => {
    const m = await signUpClient(t, { orgName: 'Muitos' })
    await insertLeads(t.db, m.orgId, 2_500)
    await addScoringRule(t.db, m, {
      name: 'Indicação',
      points: 30,
      condition: { type: 'source', values: ['indicacao'] },
    })
    await addScoringRule(t.db, m, { name: 'VIP', points: 10, condition: { type: 'tag', value: 'vip' } })
    const worker = createWorker({ db: t.db, log: silentLogger, jobs: SCORING_JOBS })
    const runId = await withOrg(t.db, m, (tx) => startRescoreAll(tx, m.orgId, 'manual'))
    await worker.runDue()
    const [run] = await t.db.raw.query<{ state: string; total: number; done: number; changed: number }>(
      'select state, total, done, changed from scoring_runs where id = $1',
      [runId],
    )
    const [want] = await t.db.raw.query<{ n: number }>(
      `select count(*)::int as n from leads where organization_id = $1 and (source = 'Indicação' or 'vip' = any(tags))`,
      [m.orgId],
    )
    expect(run).toEqual({ state: 'done', total: 2_500, done: 2_500, changed: want!.n })
    const [wrong] = await t.db.raw.query<{ n: number }>(
      `select count(*)::int as n from leads where organization_id = $1 and score <>
         (case when source = 'Indicação' then 30 else 0 end) + (case when 'vip' = any(tags) then 10 else 0 end)`,
      [m.orgId],
    )
    expect(wrong!.n).toBe(0)
    const progress = await t.db.raw.query<{ n: number }>(
      `select count(*)::int as n from outbox_events where organization_id = $1 and type = 'scoring.progress'`,
      [m.orgId],
    )
    expect(progress[0]!.n).toBeGreaterThanOrEqual(2)
    // A second run changes nothing.
    const again = await withOrg(t.db, m, (tx) => startRescoreAll(tx, m.orgId, 'manual'))
    await worker.runDue()
    const [run2] = await t.db.raw.query<{ changed: number }>(
      'select changed from scoring_runs where id = $1',
      [again],
    )
    expect(run2!.changed).toBe(0)
  })
})

describe('settings routes', () => {
  test('an admin adds a rule (a rescore is queued); bad input is a 422 with messages and keeps the input', async () => {
    const res = await a.client.post('/settings/scoring/rules', {
      name: 'Lead quente',
      points: '15',
      decay: 'half_life',
      decayDays: '7',
      condType: 'tag',
      condValues: 'quente',
    })
    expect(res.status).toBe(303)
    const page = await a.client.page('/settings/scoring')
    expect(page).toContain('Lead quente')
    expect(page).toContain('+15')
    const bad = await a.client.post('/settings/scoring/rules', {
      name: 'Ruim <script>',
      points: '0',
      decay: 'linear',
      decayDays: '0',
      condType: 'region',
      condValues: 'São Paulo',
    })
    expect(bad.status).toBe(422)
    const html = await bad.text()
    expect(html).toContain('Pontos: um número inteiro entre −1000 e 1000')
    expect(html).toContain('Use códigos como BR-SP')
    // The input is kept (in an attribute, where only quotes and ampersands need escaping).
    expect(html).toContain('id="new-name" name="name" type="text" value="Ruim <script>"')
    const runs = await t.db.raw.query<{ reason: string }>(
      'select reason from scoring_runs where organization_id = $1',
      [a.orgId],
    )
    expect(runs.map((r) => r.reason)).toContain('rules')
  })

  test('a member cannot open or change the scoring settings', async () => {
    const { addMember } = await import('./leads.scoring.fixtures')
    await addMember(t.db, a.orgId, 'Membro Comum')
    // A member session: sign up a member through an invitation is long; check the role guard directly.
    const m = await signUpClient(t, { orgName: 'Outra' })
    await t.db.raw.query("update organization_members set role = 'member' where user_id = $1", [m.userId])
    expect((await m.client.get('/settings/scoring')).status).toBe(403)
    expect(
      (
        await m.client.post('/settings/scoring/rules', {
          name: 'x',
          points: '1',
          condType: 'tag',
          condValues: 'x',
        })
      ).status,
    ).toBe(403)
  })

  test("B gets 404 for A's rules and cannot edit, pause or delete them", async () => {
    const id = await addScoringRule(t.db, a, {
      name: 'Regra de A',
      points: 5,
      condition: { type: 'tag', value: 'a' },
    })
    const tries = [
      b.client.post(`/settings/scoring/rules/${id}`, {
        name: 'pwned',
        points: '1',
        condType: 'tag',
        condValues: 'x',
      }),
      b.client.post(`/settings/scoring/rules/${id}/active`, { active: 'false' }),
      b.client.post(`/settings/scoring/rules/${id}/move`, { dir: 'up' }),
      b.client.post(`/settings/scoring/rules/${id}/delete`),
    ]
    for (const res of await Promise.all(tries)) expect(res.status).toBe(404)
    expect(await b.client.page('/settings/scoring')).not.toContain('Regra de A')
    const [row] = await t.db.raw.query<{ name: string; active: boolean }>(
      'select name, active from scoring_rules where id = $1',
      [id],
    )
    expect(row).toEqual({ name: 'Regra de A', active: true })
  })

  test('rule changes are audited with what changed, and the audit log names them', async () => {
    const id = await addScoringRule(t.db, a, {
      name: 'Site bom',
      points: 5,
      condition: { type: 'tag', value: 'b' },
    })
    const form = {
      name: 'Site ótimo',
      points: '8',
      decay: 'none',
      decayDays: '',
      condType: 'tag',
      condValues: 'b',
    }
    expect((await a.client.post(`/settings/scoring/rules/${id}`, form)).status).toBe(303)
    expect((await a.client.post(`/settings/scoring/rules/${id}/move`, { dir: 'up' })).status).toBe(303)
    expect((await a.client.post(`/settings/scoring/rules/${id}/active`, { active: 'false' })).status).toBe(
      303,
    )
    expect((await a.client.post(`/settings/scoring/rules/${id}/delete`)).status).toBe(303)
    const rows = await t.db.raw.query<{ action: string; before: unknown; after: unknown }>(
      'select action, before, after from audit_log where target_id = $1 order by created_at, id',
      [id],
    )
    const parse = (v: unknown) =>
      (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown> | null
    expect(rows.map((r) => r.action)).toEqual([
      'scoring_rule.created',
      'scoring_rule.updated',
      'scoring_rule.reordered',
      'scoring_rule.disabled',
      'scoring_rule.deleted',
    ])
    expect(parse(rows[1]!.before)).toMatchObject({ name: 'Site bom', points: 5 })
    expect(parse(rows[1]!.after)).toMatchObject({ name: 'Site ótimo', points: 8, condition: { type: 'tag' } })
    const page = await a.client.page('/settings/audit')
    expect(page).toContain('alterou a regra de pontuação “Site ótimo”')
    expect(page).toContain('moveu a regra de pontuação “Site ótimo” para cima')
    expect(page).toContain('excluiu a regra de pontuação “Site ótimo”')
  })

  test('with active rules the score is read-only in the lead forms, and a typed one is refused', async () => {
    const [id] = await seedLeads(t, a, 1, () => ({ fullName: 'Edu Computado', source: 'Site' }))
    await withOrg(t.db, a, (tx) => rescoreLead(tx, id!))
    const lead = async () =>
      (
        await t.db.raw.query<{ score: number; version: number }>(
          'select score, version from leads where id = $1',
          [id],
        )
      )[0]!
    const before = await lead()
    const drawer = await a.client.page(`/pipeline/leads/${id}`)
    expect(drawer).toContain('Calculada pelas regras de pontuação')
    expect(drawer).not.toContain('name="score"')
    const [pipe] = await t.db.raw.query<{ id: string }>(
      'select id from pipelines where organization_id = $1',
      [a.orgId],
    )
    expect(await a.client.page(`/pipeline/leads/new?pipeline=${pipe!.id}`)).not.toContain('name="score"')
    // The form without a score field keeps the computed score.
    const form = {
      version: String(before.version),
      fullName: 'Edu Computado',
      source: 'Site',
      company: 'Nova',
    }
    expect((await a.client.post(`/pipeline/leads/${id}`, form)).status).toBeLessThan(400)
    const kept = await lead()
    expect(kept.score).toBe(before.score)
    // A typed score (an old page, a script) is refused with the reason, and nothing changes.
    const typed = await a.client.post(`/pipeline/leads/${id}`, {
      ...form,
      version: String(kept.version),
      company: 'Outra',
      score: String(before.score + 50),
    })
    expect(typed.status).toBe(422)
    expect(await typed.text()).toContain('A pontuação é calculada pelas regras de pontuação')
    expect((await lead()).score).toBe(before.score)
    // Without active rules the score is typed by hand again (organization B has none).
    const [bLead] = await seedLeads(t, b, 1, () => ({ fullName: 'Bia Manual' }))
    expect(await b.client.page(`/pipeline/leads/${bLead}`)).toContain('name="score"')
  })

  test('the drawer explains the score rule by rule', async () => {
    const [id] = await seedLeads(t, a, 1, () => ({ fullName: 'Dora', source: 'Site', tags: 'quente' }))
    await withOrg(t.db, a, (tx) => rescoreLead(tx, id!))
    const html = await a.client.page(`/pipeline/leads/${id}`)
    expect(html).toContain('Por que esta pontuação')
    expect(html).toContain('Veio do site')
    expect(html).toContain('Lead quente')
    expect(html).toMatch(/data-testid="score-total">\+40</)
  })
})
