import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { activityText, messageActivity } from '../../../views/pipeline/lead-drawer'
import { withOrg, withSystem } from '../../platform/db/tenancy'
import { translator } from '../../shared/i18n'
import { createChannel, inbound, receive } from '../inbox/inbox.fixtures'
import { createOrganizationTx } from '../orgs/orgs.usecases'
import {
  actorOf,
  blankLead,
  columnIds,
  firstPipeline,
  leadRow,
  type Member,
  seedLeads,
  stagesOf,
} from './pipeline.fixtures'
import { type Activity, GAP, insertActivity, PAGE_SIZE } from './pipeline.repository'
import { filtersQuery, parseFilters, parseMoney, parseTags } from './pipeline.schemas'
import { moveLead } from './pipeline.usecases'

let t: TestApp
let owner: Member
let stages: Awaited<ReturnType<typeof stagesOf>>
let pipelineId: string
const stage = (name: string) => stages.find((s) => s.name === name)!

beforeAll(async () => {
  t = await createTestApp()
  owner = await signUpClient(t, { name: 'Ana Souza', orgName: 'Acme Imóveis' })
  pipelineId = (await firstPipeline(t.db, owner.orgId)).id
  stages = await stagesOf(t.db, owner.orgId, pipelineId)
})
afterAll(() => t.close())

const JSON_ACCEPT = { accept: 'application/json' }
async function move(
  m: Member,
  leadId: string,
  body: { stageId: string; afterId?: string; version: number; value?: string; reason?: string },
) {
  const form: Record<string, string> = { stageId: body.stageId, version: String(body.version) }
  if (body.afterId) form.afterId = body.afterId
  if (body.value) form.value = body.value
  if (body.reason) form.reason = body.reason
  return m.client.post(`/pipeline/leads/${leadId}/move`, form, JSON_ACCEPT)
}
const events = (orgId: string, type: string) =>
  t.db.raw.query<{ payload: any; actor_id: string }>(
    'select payload, actor_id from outbox_events where organization_id = $1 and type = $2 order by version',
    [orgId, type],
  )

describe('a new organization', () => {
  test('starts with the default pipeline "Vendas": Novo, Qualificado, Proposta, Negociação, Ganho, Perdido', async () => {
    const p = await firstPipeline(t.db, owner.orgId)
    expect(p.name).toBe('Vendas')
    expect(stages.map((s) => [s.name, s.kind])).toEqual([
      ['Novo', 'open'],
      ['Qualificado', 'open'],
      ['Proposta', 'open'],
      ['Negociação', 'open'],
      ['Ganho', 'won'],
      ['Perdido', 'lost'],
    ])
    const reasons = await t.db.raw.query<{ label: string }>(
      'select label from loss_reasons where organization_id = $1 order by position',
      [owner.orgId],
    )
    expect(reasons.map((r) => r.label)).toContain('Preço')
  })

  test('gets its default pipeline in the organization language (English)', async () => {
    const org = await withSystem(t.db, (tx) =>
      createOrganizationTx(tx, { name: 'English Co', ownerId: owner.userId, locale: 'en' }),
    )
    const list = await stagesOf(t.db, org.id)
    expect((await firstPipeline(t.db, org.id)).name).toBe('Sales')
    expect(list.map((s) => s.name)).toEqual(['New', 'Qualified', 'Proposal', 'Negotiation', 'Won', 'Lost'])
  })
})

describe('the board', () => {
  test('shows every stage with its count and total value, and the first page of cards', async () => {
    const m = await signUpClient(t, { orgName: 'Board Co' })
    const s = await stagesOf(t.db, m.orgId)
    const n = PAGE_SIZE + 5
    await seedLeads(t, m, n, (i) => ({ value: String(100 + i), stageId: s[1]!.id }))
    const html = await m.client.page('/pipeline')
    const col = html.slice(html.indexOf(`data-stage-id="${s[1]!.id}"`))
    expect(col).toContain(`data-count="${n}"`)
    const total = Array.from({ length: n }, (_, i) => (100 + i) * 100).reduce((a, b) => a + b, 0)
    expect(col).toContain(`data-total="${total}"`)
    const cards = html.match(/class="lead-card/g) ?? []
    expect(cards.length).toBe(PAGE_SIZE)
    // The newest lead is at the top of its stage; the column offers the rest on scroll.
    expect(html.indexOf(`Lead ${n}<`)).toBeLessThan(html.indexOf(`Lead ${n - 1}<`))
    expect(html).toContain('hx-trigger="intersect once"')
  })

  test('a card escapes what users typed (name, company, tags, owner) on the board, its page and its fragment', async () => {
    const m = await signUpClient(t, { name: `<i>Eve</i> "O'Hara"`, orgName: 'Hostile Co' })
    const s = await stagesOf(t.db, m.orgId)
    const [id] = await seedLeads(t, m, 1, () => ({
      fullName: `<img src=x onerror=alert(1)> "Zé" & 'Ana'`,
      company: '<b>Co</b>',
      tags: '<script>x</script>, a"b',
      ownerId: m.userId,
      phone: '11987654321',
      score: '88',
      stageId: s[0]!.id,
    }))
    const board = await m.client.page('/pipeline')
    const fragment = await m.client.page(`/pipeline/leads/${id}/card`)
    // A full page of newer leads above it: it comes with "load more".
    await seedLeads(t, m, PAGE_SIZE, () => ({ stageId: s[0]!.id }))
    const first = await m.client.page('/pipeline')
    expect(first).not.toContain(`id="card-${id}"`)
    const more = /hx-get="(\/pipeline\/[^"]+\/cards\?after=[^"]+)"/.exec(first)![1]!.replaceAll('&amp;', '&')
    const paged = await m.client.page(more)
    for (const html of [board, fragment, paged]) {
      const card = html.slice(
        html.indexOf(`id="card-${id}"`),
        html.indexOf('</article>', html.indexOf(`id="card-${id}"`)),
      )
      expect(card.length).toBeGreaterThan(100)
      expect(card).not.toMatch(/<img|<b>|<script|<i>Eve|"Zé"|"O'Hara"/)
      expect(card).toContain(
        'data-name="&lt;img src=x onerror=alert(1)&gt; &quot;Zé&quot; &amp; &#x27;Ana&#x27;"',
      )
      expect(card).toContain('<span class="card-name">&lt;img src=x onerror=alert(1)&gt; &quot;Zé&quot;')
      expect(card).toContain('<div class="card-company">&lt;b&gt;Co&lt;/b&gt;</div>')
      expect(card).toContain('<span class="tag">&lt;script&gt;x&lt;/script&gt;</span>')
      expect(card).toContain('<span class="tag">a&quot;b</span>')
      expect(card).toContain('title="Responsável: &lt;i&gt;Eve&lt;/i&gt; &quot;O&#x27;Hara&quot;"')
      // Icons are shared CSS masks, not an SVG per card.
      expect(card).not.toContain('<svg')
      expect(card).toContain('<i class="ic i-phone"></i>')
      expect(card).toContain('<i class="ic i-flame"></i>')
    }
    expect(board).toContain('.i-phone{--i:url("data:image/svg+xml,')
  })

  test('loads the rest of a column page by page after the last card shown', async () => {
    const m = await signUpClient(t, { orgName: 'Paging Co' })
    const p = await firstPipeline(t.db, m.orgId)
    const s = await stagesOf(t.db, m.orgId)
    await seedLeads(t, m, PAGE_SIZE + 3, () => ({ stageId: s[0]!.id }))
    const html = await m.client.page('/pipeline')
    const next = /hx-get="(\/pipeline\/[^"]+\/cards\?after=[^"]+)"/.exec(html)![1]!.replaceAll('&amp;', '&')
    expect(next).toStartWith(`/pipeline/${p.id}/stages/${s[0]!.id}/cards?after=`)
    const page2 = await m.client.page(next)
    expect(page2.match(/class="lead-card/g)?.length).toBe(3)
    expect(page2).not.toContain('data-more')
    // Together the two pages are the whole column, in order, without repeats.
    const ids = [...`${html}${page2}`.matchAll(/id="card-([0-9a-f-]+)"/g)].map((x) => x[1])
    expect(ids).toEqual(await columnIds(t.db, s[0]!.id))
  })

  test('a pipeline of another id than the ones of the organization is a 404', async () => {
    const res = await owner.client.get(`/pipeline/${Bun.randomUUIDv7()}`)
    expect(res.status).toBe(404)
  })
})

describe('moving cards', () => {
  test('a move between stages updates one lead, writes a "moved" activity and a lead.moved event', async () => {
    const [id] = await seedLeads(t, owner, 1, () => ({ fullName: 'Carla Dias' }))
    const before = await leadRow(t.db, id!)
    const res = await move(owner, id!, { stageId: stage('Proposta').id, version: before!.version })
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body).toMatchObject({ ok: true, toStageId: stage('Proposta').id, version: before!.version + 1 })
    const after = await leadRow(t.db, id!)
    expect(after!.stage_id).toBe(stage('Proposta').id)
    const acts = await t.db.raw.query<{ kind: string; data: any }>(
      'select kind, data from lead_activities where lead_id = $1 order by created_at, id',
      [id],
    )
    expect(acts.map((a) => a.kind)).toEqual(['created', 'moved'])
    expect(acts[1]!.data).toMatchObject({ fromStage: 'Novo', toStage: 'Proposta' })
    const moved = (await events(owner.orgId, 'lead.moved')).find((e) => e.payload.leadId === id)
    // The event is written by the move statement itself: every payload field, with JSON types.
    expect(moved?.payload).toEqual({
      leadId: id,
      pipelineId: before!.pipeline_id,
      fromPipelineId: before!.pipeline_id,
      fromStageId: stage('Novo').id,
      toStageId: stage('Proposta').id,
      afterId: null,
      position: Number(after!.position),
      version: before!.version + 1,
      valueCents: Number(before!.value_cents),
      rebalanced: false,
    })
    expect(moved?.actor_id).toBe(owner.userId)
  })

  test('a card dropped after another lands right after it, between its neighbours', async () => {
    const m = await signUpClient(t, { orgName: 'Order Co' })
    const s = await stagesOf(t.db, m.orgId)
    const [a, b, c] = await seedLeads(t, m, 3, () => ({ stageId: s[0]!.id })) // column order: c, b, a
    expect(await columnIds(t.db, s[0]!.id)).toEqual([c!, b!, a!])
    // Drag a (bottom) to just after c (top): c, a, b.
    const res = await move(m, a!, {
      stageId: s[0]!.id,
      afterId: c!,
      version: (await leadRow(t.db, a!))!.version,
    })
    expect(res.status).toBe(200)
    expect(await columnIds(t.db, s[0]!.id)).toEqual([c!, a!, b!])
    // Within-stage reorders do not clutter the timeline.
    const kinds = await t.db.raw.query<{ kind: string }>(
      'select kind from lead_activities where lead_id = $1',
      [a],
    )
    expect(kinds.map((k) => k.kind)).toEqual(['created'])
    // Into another stage, at the top (no afterId), then b after a.
    await move(m, b!, { stageId: s[1]!.id, version: (await leadRow(t.db, b!))!.version })
    await move(m, a!, { stageId: s[1]!.id, afterId: b!, version: (await leadRow(t.db, a!))!.version })
    expect(await columnIds(t.db, s[1]!.id)).toEqual([b!, a!])
  })

  test('repeated drops into the same gap renumber the stage once it runs out, keeping the order', async () => {
    const m = await signUpClient(t, { orgName: 'Gap Co' })
    const s = await stagesOf(t.db, m.orgId)
    const [low, high] = await seedLeads(t, m, 2, () => ({ stageId: s[0]!.id })) // order: high, low
    const extra = await seedLeads(t, m, 24, () => ({ stageId: s[1]!.id }))
    // Each new card goes right after `high`: bisecting a 2^20 gap runs out after 20 drops.
    let rebalanced = 0
    for (const id of extra) {
      const r = await withOrg(t.db, { orgId: m.orgId, userId: m.userId }, (tx) =>
        moveLead(tx, actorOf(m), {
          leadId: id,
          toStageId: s[0]!.id,
          afterId: high!,
          version: 1,
        }),
      )
      if (r.rebalanced) rebalanced++
    }
    expect(rebalanced).toBe(1)
    expect(await columnIds(t.db, s[0]!.id)).toEqual([high!, ...[...extra].reverse(), low!])
    const positions = await t.db.raw.query<{ position: string }>(
      'select position from leads where stage_id = $1 order by position',
      [s[0]!.id],
    )
    expect(new Set(positions.map((p) => String(p.position))).size).toBe(26)
    expect(GAP).toBe(2 ** 20)
  })

  test('two people moving the same card at once: one wins, the other gets 409 and the card stays consistent', async () => {
    const mate = await inviteMember(owner, 'Bruno Lima')
    const [id] = await seedLeads(t, owner, 1, () => ({ fullName: 'Disputado' }))
    const v = (await leadRow(t.db, id!))!.version
    const [r1, r2] = await Promise.all([
      move(owner, id!, { stageId: stage('Qualificado').id, version: v }),
      move(mate, id!, { stageId: stage('Negociação').id, version: v }),
    ])
    const statuses = [r1.status, r2.status].sort()
    expect(statuses).toEqual([200, 409])
    const winner = r1.status === 200 ? stage('Qualificado').id : stage('Negociação').id
    const row = await leadRow(t.db, id!)
    expect(row!.stage_id).toBe(winner)
    expect(row!.version).toBe(v + 1)
    const loser = r1.status === 409 ? r1 : r2
    expect((await loser.json()).error.code).toBe('pipeline.conflict')
    // Exactly one move is recorded: one activity, one event.
    const acts = await t.db.raw.query('select 1 from lead_activities where lead_id = $1 and kind = $2', [
      id,
      'moved',
    ])
    expect(acts.length).toBe(1)
    const evs = (await events(owner.orgId, 'lead.moved')).filter((e) => e.payload.leadId === id)
    expect(evs.length).toBe(1)
    // The loser retries with the version it now sees, and wins.
    const retry = await move(r1.status === 409 ? owner : mate, id!, {
      stageId: stage('Proposta').id,
      version: v + 1,
    })
    expect(retry.status).toBe(200)
  })

  test('a second transaction moving the same card waits for the first, then fails its compare-and-set', async () => {
    const [id] = await seedLeads(t, owner, 1)
    const scope = { orgId: owner.orgId, userId: owner.userId }
    let release!: () => void
    const hold = new Promise<void>((r) => {
      release = r
    })
    let firstDone!: () => void
    const firstMoved = new Promise<void>((r) => {
      firstDone = r
    })
    const first = withOrg(t.db, scope, async (tx) => {
      const r = await moveLead(tx, actorOf(owner), {
        leadId: id!,
        toStageId: stage('Qualificado').id,
        version: 1,
      })
      firstDone()
      await hold // still uncommitted: the row stays locked
      return r
    })
    await firstMoved
    const second = withOrg(t.db, scope, (tx) =>
      moveLead(tx, actorOf(owner), { leadId: id!, toStageId: stage('Proposta').id, version: 1 }),
    ).then(
      () => 'moved',
      (e) => e.code,
    )
    await Bun.sleep(150) // Postgres: blocked on the row lock; PGlite: queued behind the transaction
    release()
    expect((await first).version).toBe(2)
    expect(await second).toBe('pipeline.conflict')
    const row = await leadRow(t.db, id!)
    expect({ stage: row!.stage_id, version: row!.version }).toEqual({
      stage: stage('Qualificado').id,
      version: 2,
    })
  })

  test('a drop after a card that has meanwhile left the stage is refused as a stale board (409)', async () => {
    const [a, b] = await seedLeads(t, owner, 2)
    await move(owner, b!, { stageId: stage('Qualificado').id, version: 1 })
    const res = await move(owner, a!, { stageId: stage('Novo').id, afterId: b!, version: 1 })
    expect(res.status).toBe(409)
    expect((await res.json()).error.code).toBe('pipeline.stale_board')
    expect((await leadRow(t.db, a!))!.version).toBe(1)
  })
})

describe('won and lost', () => {
  test('moving into the lost stage needs a loss reason, then records it with the date', async () => {
    const [id] = await seedLeads(t, owner, 1, () => ({ fullName: 'Perdível' }))
    const refused = await move(owner, id!, { stageId: stage('Perdido').id, version: 1 })
    expect(refused.status).toBe(422)
    expect((await refused.json()).error.code).toBe('pipeline.loss_reason_required')
    expect((await leadRow(t.db, id!))!.stage_id).toBe(stage('Novo').id)
    const ok = await move(owner, id!, { stageId: stage('Perdido').id, version: 1, reason: 'Preço' })
    expect(ok.status).toBe(200)
    const row = await leadRow(t.db, id!)
    expect(row!.lost_reason).toBe('Preço')
    expect(row!.lost_at).not.toBeNull()
    const [act] = await t.db.raw.query<{ kind: string; data: any }>(
      "select kind, data from lead_activities where lead_id = $1 and kind <> 'created'",
      [id],
    )
    expect(act).toMatchObject({ kind: 'lost', data: { reason: 'Preço', toStage: 'Perdido' } })
  })

  test('moving into the won stage sets the closing value; reopening clears won and lost', async () => {
    const [id] = await seedLeads(t, owner, 1, () => ({ value: '1.000,00' }))
    const res = await move(owner, id!, { stageId: stage('Ganho').id, version: 1, value: '12.500,50' })
    expect(res.status).toBe(200)
    let row = await leadRow(t.db, id!)
    expect(Number(row!.value_cents)).toBe(1_250_050)
    expect(row!.won_at).not.toBeNull()
    // The drawer's reopen: back to the first open stage, won date gone.
    const reopen = await owner.client.post(`/pipeline/leads/${id}/reopen`, { version: String(row!.version) })
    expect(reopen.status).toBe(303)
    row = await leadRow(t.db, id!)
    expect(row!.stage_id).toBe(stage('Novo').id)
    expect(row!.won_at).toBeNull()
  })

  test('the drawer marks a lead lost with a reason and shows it in the timeline', async () => {
    const [id] = await seedLeads(t, owner, 1, () => ({ fullName: 'Drawer Lost' }))
    const hx = { 'hx-request': 'true', 'hx-target': 'drawer-root' }
    const missing = await owner.client.post(`/pipeline/leads/${id}/lost`, { version: '1' }, hx)
    expect(missing.status).toBe(422)
    expect(await missing.text()).toContain('Escolha ou digite um motivo de perda.')
    const res = await owner.client.post(
      `/pipeline/leads/${id}/lost`,
      { version: '1', reason: 'Sem orçamento', detail: 'volta em março' },
      hx,
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('hx-trigger')).toContain('pipeline:changed')
    const html = await res.text()
    expect(html).toContain('Sem orçamento — volta em março')
    expect((await leadRow(t.db, id!))!.stage_id).toBe(stage('Perdido').id)
  })
})

describe('stage administration', () => {
  test('deleting a stage with leads asks where they go, then moves them there in order', async () => {
    const m = await signUpClient(t, { orgName: 'Delete Co' })
    const p = await firstPipeline(t.db, m.orgId)
    const s = await stagesOf(t.db, m.orgId)
    const [x] = await seedLeads(t, m, 1, () => ({ stageId: s[2]!.id }))
    const ids = await seedLeads(t, m, 3, () => ({ stageId: s[1]!.id }))
    const order = await columnIds(t.db, s[1]!.id)
    const page = await m.client.page(`/pipeline/${p.id}/stages/${s[1]!.id}/delete`)
    expect(page).toContain('3 leads estão nesta etapa')
    const refused = await m.client.post(`/pipeline/${p.id}/stages/${s[1]!.id}/delete`, {})
    expect(refused.status).toBe(422)
    expect(await refused.text()).toContain('Escolha a etapa que recebe os leads.')
    expect(await columnIds(t.db, s[1]!.id)).toEqual(order)
    const res = await m.client.post(`/pipeline/${p.id}/stages/${s[1]!.id}/delete`, { target: s[2]!.id })
    expect(res.status).toBe(303)
    expect((await stagesOf(t.db, m.orgId)).map((r) => r.id)).not.toContain(s[1]!.id)
    // Appended after what the target had, in their old order.
    expect(await columnIds(t.db, s[2]!.id)).toEqual([x!, ...order])
    expect(new Set(ids)).toEqual(new Set(order))
    const [audit] = await t.db.raw.query<{ before: any; after: any }>(
      "select before, after from audit_log where organization_id = $1 and action = 'stage.deleted'",
      [m.orgId],
    )
    expect(audit).toMatchObject({ before: { leads: 3 }, after: { leadsMovedTo: s[2]!.name } })
  })

  test('an empty stage is deleted without a target; the last stage of a pipeline cannot be', async () => {
    const m = await signUpClient(t, { orgName: 'Empty Co' })
    const p = await firstPipeline(t.db, m.orgId)
    let s = await stagesOf(t.db, m.orgId)
    for (const st of s.slice(1)) {
      const r = await m.client.post(`/pipeline/${p.id}/stages/${st.id}/delete`, {})
      expect(r.status).toBe(303)
    }
    s = await stagesOf(t.db, m.orgId)
    expect(s.length).toBe(1)
    const last = await m.client.post(`/pipeline/${p.id}/stages/${s[0]!.id}/delete`, {})
    expect(last.status).toBe(409)
    expect((await stagesOf(t.db, m.orgId)).length).toBe(1)
  })

  test('admins add, rename, recolor and reorder stages; each change is audited', async () => {
    const m = await signUpClient(t, { orgName: 'Stages Co' })
    const p = await firstPipeline(t.db, m.orgId)
    const add = await m.client.post(`/pipeline/${p.id}/stages`, {
      name: 'Visita',
      color: '#0EA5E9',
      probability: '60',
      kind: 'open',
    })
    expect(add.status).toBe(303)
    let s = await stagesOf(t.db, m.orgId)
    // A new open stage goes before the won and lost ones.
    expect(s.map((x) => x.name)).toEqual([
      'Novo',
      'Qualificado',
      'Proposta',
      'Negociação',
      'Visita',
      'Ganho',
      'Perdido',
    ])
    const visita = s.find((x) => x.name === 'Visita')!
    const bad = await m.client.post(`/pipeline/${p.id}/stages/${visita.id}`, {
      name: '',
      color: 'blue',
      probability: '120',
      kind: 'open',
    })
    expect(bad.status).toBe(422)
    const edit = await m.client.post(`/pipeline/${p.id}/stages/${visita.id}`, {
      name: 'Visita técnica',
      color: '#22c55e',
      probability: '65',
      kind: 'open',
    })
    expect(edit.status).toBe(303)
    const [row] = await t.db.raw.query<{ name: string; color: string; probability: number }>(
      'select name, color, probability from stages where id = $1',
      [visita.id],
    )
    expect(row).toEqual({ name: 'Visita técnica', color: '#22c55e', probability: 65 })
    const ids = s.map((x) => x.id).reverse()
    const order = await m.client.post(`/pipeline/${p.id}/stages/order`, { ids: ids.join(',') }, JSON_ACCEPT)
    expect(order.status).toBe(200)
    s = await stagesOf(t.db, m.orgId)
    expect(s.map((x) => x.id)).toEqual(ids)
    const wrong = await m.client.post(
      `/pipeline/${p.id}/stages/order`,
      { ids: ids.slice(1).join(',') },
      JSON_ACCEPT,
    )
    expect(wrong.status).toBe(422)
    const actions = await t.db.raw.query<{ action: string }>(
      "select action from audit_log where organization_id = $1 and action like 'stage.%' order by created_at",
      [m.orgId],
    )
    expect(actions.map((a) => a.action)).toEqual(['stage.created', 'stage.updated', 'stage.reordered'])
  })

  test('members cannot change stages, pipelines or loss reasons', async () => {
    const mate = await inviteMember(owner, 'Carlos Member')
    expect((await mate.client.get(`/pipeline/${pipelineId}/settings`)).status).toBe(403)
    const r = await mate.client.post(`/pipeline/${pipelineId}/stages`, {
      name: 'X',
      color: '#000000',
      kind: 'open',
    })
    expect(r.status).toBe(403)
    expect((await mate.client.post('/pipeline', { name: 'Hack' })).status).toBe(403)
    expect((await stagesOf(t.db, owner.orgId, pipelineId)).map((s) => s.name)).not.toContain('X')
  })
})

describe('pipelines', () => {
  test('an organization can have several pipelines; one with leads cannot be deleted', async () => {
    const m = await signUpClient(t, { orgName: 'Multi Co' })
    const res = await m.client.post('/pipeline', { name: 'Pós-venda' })
    expect(res.status).toBe(303)
    const second = res.headers.get('location')!.split('/')[2]!
    const board = await m.client.page(`/pipeline/${second}`)
    expect(board).toContain('Pós-venda')
    expect(board).toContain('Vendas') // in the switcher
    await seedLeads(t, m, 1, () => ({ pipelineId: second }))
    const refused = await m.client.post(`/pipeline/${second}/delete`, {})
    expect(refused.status).toBe(409)
    const first = await firstPipeline(t.db, m.orgId)
    expect(first.name).toBe('Vendas')
    const third = (await m.client.post('/pipeline', { name: 'Parcerias' })).headers
      .get('location')!
      .split('/')[2]!
    expect((await m.client.post(`/pipeline/${third}/delete`, {})).status).toBe(303)
    const left = await t.db.raw.query('select 1 from pipelines where organization_id = $1', [m.orgId])
    expect(left.length).toBe(2)
  })
})

describe('the audit log of pipeline admin actions', () => {
  test('reads as sentences on Settings > Audit log, in pt-BR and in English, not as raw codes', async () => {
    const m = await signUpClient(t, { name: 'Lia Admin', orgName: 'Audit Co' })
    const created = await m.client.post('/pipeline', { name: 'Pós-venda' })
    const p = created.headers.get('location')!.split('/')[2]!
    expect((await m.client.post(`/pipeline/${p}/rename`, { name: 'Suporte' })).status).toBe(303)
    expect(
      (await m.client.post(`/pipeline/${p}/stages`, { name: 'Visita', color: '#0ea5e9', kind: 'open' }))
        .status,
    ).toBe(303)
    const s = await stagesOf(t.db, m.orgId, p)
    const visita = s.find((x) => x.name === 'Visita')!
    const edit = { name: 'Visita', color: '#22c55e', probability: '65', kind: 'open' }
    expect((await m.client.post(`/pipeline/${p}/stages/${visita.id}`, edit)).status).toBe(303)
    const order = s.map((x) => x.id).reverse()
    expect(
      (await m.client.post(`/pipeline/${p}/stages/order`, { ids: order.join(',') }, JSON_ACCEPT)).status,
    ).toBe(200)
    const [lead] = await seedLeads(t, m, 1, () => ({ pipelineId: p, stageId: s[0]!.id }))
    expect(lead).toBeTruthy()
    expect(
      (await m.client.post(`/pipeline/${p}/stages/${s[0]!.id}/delete`, { target: s[1]!.id })).status,
    ).toBe(303)
    expect((await m.client.post(`/pipeline/${p}/stages/${visita.id}/delete`, {})).status).toBe(303)
    expect((await m.client.post('/pipeline/loss-reasons', { label: 'Sem retorno' })).status).toBe(303)
    const [reason] = await t.db.raw.query<{ id: string }>(
      "select id from loss_reasons where organization_id = $1 and label = 'Sem retorno'",
      [m.orgId],
    )
    expect((await m.client.post(`/pipeline/loss-reasons/${reason!.id}/delete`, {})).status).toBe(303)
    const extra = await m.client.post('/pipeline', { name: 'Temporário' })
    const tmp = extra.headers.get('location')!.split('/')[2]!
    expect((await m.client.post(`/pipeline/${tmp}/delete`, {})).status).toBe(303)

    const actions = await t.db.raw.query<{ action: string }>(
      "select distinct action from audit_log where organization_id = $1 and action ~ '^(pipeline|stage|loss_reason)\\.'",
      [m.orgId],
    )
    expect(actions.map((a) => a.action).sort()).toEqual([
      'loss_reason.created',
      'loss_reason.deleted',
      'pipeline.created',
      'pipeline.deleted',
      'pipeline.renamed',
      'stage.created',
      'stage.deleted',
      'stage.reordered',
      'stage.updated',
    ])
    const from = s[0]!.name
    const to = s[1]!.name
    const names = s.map((x) => x.name)
    const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ')

    const pt = text(await m.client.page('/settings/audit'))
    for (const line of [
      'Lia Admin criou o pipeline “Pós-venda”',
      'Lia Admin renomeou o pipeline “Pós-venda” para “Suporte”',
      'Lia Admin adicionou a etapa “Visita” ao pipeline “Suporte”',
      'Lia Admin alterou a etapa “Visita” (cor, probabilidade de ganho (%))',
      `Lia Admin reordenou as etapas: ${[...names].reverse().join(' → ')}`,
      `Lia Admin excluiu a etapa “${from}” e moveu seus leads (1) para “${to}”`,
      'Lia Admin excluiu a etapa “Visita”',
      'Lia Admin adicionou o motivo de perda “Sem retorno”',
      'Lia Admin removeu o motivo de perda “Sem retorno”',
      'Lia Admin excluiu o pipeline “Temporário”',
    ])
      expect(pt).toContain(line)

    expect((await m.client.post('/settings/profile', { name: 'Lia Admin', locale: 'en' })).status).toBe(303)
    const en = text(await m.client.page('/settings/audit'))
    for (const line of [
      'Lia Admin created the pipeline “Pós-venda”',
      'Lia Admin renamed the pipeline “Pós-venda” to “Suporte”',
      'Lia Admin added the stage “Visita” to the pipeline “Suporte”',
      'Lia Admin changed the stage “Visita” (color, win probability (%))',
      'Lia Admin reordered the stages:',
      `Lia Admin deleted the stage “${from}” and moved its leads (1) to “${to}”`,
      'Lia Admin deleted the stage “Visita”',
      'Lia Admin added the loss reason “Sem retorno”',
      'Lia Admin removed the loss reason “Sem retorno”',
      'Lia Admin deleted the pipeline “Temporário”',
    ])
      expect(en).toContain(line)
  })
})

describe('filters in the URL', () => {
  test('parsing keeps valid filters only and writes one canonical query string', () => {
    const f = parseFilters(
      new URLSearchParams(
        'q=%20Maria%20&owner=mine&score_min=40&score_max=abc&from=2026-01-01&to=2026-13-45&tag=VIP',
      ),
    )
    expect(f).toEqual({ q: 'Maria', owner: 'mine', scoreMin: 40, createdFrom: '2026-01-01', tag: 'vip' })
    expect(filtersQuery(f)).toBe('owner=mine&tag=vip&score_min=40&from=2026-01-01&q=Maria')
    expect(parseFilters(new URLSearchParams('owner=robert%27);drop'))).toEqual({})
  })

  test('money and tags are read the way Brazilian users type them', () => {
    expect(parseMoney('R$ 12.500,50')).toBe(1_250_050)
    expect(parseMoney('1.234')).toBe(123_400)
    expect(parseMoney('1234.5')).toBe(123_450)
    expect(parseMoney('')).toBeNull()
    expect(parseMoney('abc')).toBeNull()
    expect(parseTags(' VIP, indicação ,vip,,')).toEqual(['vip', 'indicação'])
  })

  test('each filter narrows the board, counts included: owner (mine, none), source, tag, score, date, text', async () => {
    const m = await signUpClient(t, { orgName: 'Filter Co' })
    const mate = await inviteMember(m, 'Filter Mate')
    await seedLeads(t, m, 1, () => ({
      fullName: 'Mine Hot',
      ownerId: m.userId,
      source: 'Site',
      tags: 'vip',
      score: '90',
    }))
    await seedLeads(t, m, 1, () => ({
      fullName: 'Mate Cold',
      ownerId: mate.userId,
      source: 'Instagram',
      score: '10',
    }))
    await seedLeads(t, m, 1, () => ({
      fullName: 'Nobody Warm',
      company: 'Zeta Ltda',
      score: '50',
      tags: 'vip,site',
    }))
    await t.db.raw.query("update leads set created_at = '2025-06-15T12:00:00Z' where full_name = 'Mate Cold'")
    const shown = async (query: string) => {
      const html = await m.client.page(`/pipeline?${query}`)
      return [...html.matchAll(/data-name="([^"]+)"\s*>\s*<a class="card-link"/g)].map((x) => x[1]).sort()
    }
    expect(await shown('')).toEqual(['Mate Cold', 'Mine Hot', 'Nobody Warm'])
    expect(await shown('owner=mine')).toEqual(['Mine Hot'])
    expect(await shown('owner=none')).toEqual(['Nobody Warm'])
    expect(await shown(`owner=${mate.userId}`)).toEqual(['Mate Cold'])
    expect(await shown('source=Instagram')).toEqual(['Mate Cold'])
    expect(await shown('tag=vip')).toEqual(['Mine Hot', 'Nobody Warm'])
    expect(await shown('score_min=40&score_max=60')).toEqual(['Nobody Warm'])
    expect(await shown('to=2025-12-31')).toEqual(['Mate Cold'])
    expect(await shown('from=2026-01-01&tag=vip&owner=mine')).toEqual(['Mine Hot'])
    expect(await shown('q=zeta')).toEqual(['Nobody Warm'])
    // The column count follows the filters; the chips show them and link to the URL without each one.
    const html = await m.client.page('/pipeline?tag=vip')
    expect(html).toContain('data-count="2"')
    expect(html).toContain('data-testid="filter-chips"')
    // The board region alone, for htmx filter changes.
    const res = await m.client.get('/pipeline?owner=mine', {
      'hx-request': 'true',
      'hx-target': 'board-region',
    })
    const frag = await res.text()
    expect(frag).not.toContain('<html')
    expect(frag).toContain('data-query="owner=mine"')
    // A change in the filter form puts the canonical URL (no empty fields) in the address bar.
    const formChange = await m.client.get('/pipeline?q=&owner=mine&source=&tag=&score_min=&from=', {
      'hx-request': 'true',
      'hx-target': 'board-region',
      'hx-trigger': 'filter-form',
    })
    const p = await firstPipeline(t.db, m.orgId)
    expect(formChange.headers.get('hx-push-url')).toBe(`/pipeline/${p.id}?owner=mine`)
    // Not twice for the same filters (a change event after the input event): back goes back.
    const again = await m.client.get('/pipeline?owner=mine', {
      'hx-request': 'true',
      'hx-target': 'board-region',
      'hx-trigger': 'filter-form',
      'hx-current-url': `http://localhost:3000/pipeline/${p.id}?owner=mine`,
    })
    expect(again.headers.get('hx-push-url')).toBeNull()
    expect(res.headers.get('hx-push-url')).toBeNull()
  })

  test('a live update asks for one card with the board filters: 204 when it does not match', async () => {
    const [id] = await seedLeads(t, owner, 1, () => ({ fullName: 'Filtered Out', source: 'Feira' }))
    expect((await owner.client.get(`/pipeline/leads/${id}/card?source=Feira`)).status).toBe(200)
    expect((await owner.client.get(`/pipeline/leads/${id}/card?source=Site`)).status).toBe(204)
    expect((await owner.client.get(`/pipeline/leads/${Bun.randomUUIDv7()}/card`)).status).toBe(404)
  })

  test('saved views belong to their user: saved with canonical filters, invisible to teammates', async () => {
    const mate = await inviteMember(owner, 'View Mate')
    const res = await owner.client.post('/pipeline/views', {
      pipelineId,
      viewName: 'Meus quentes',
      query: 'score_min=70&owner=mine&junk=1',
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`/pipeline/${pipelineId}?owner=mine&score_min=70`)
    expect(await owner.client.page('/pipeline')).toContain('Meus quentes')
    expect(await mate.client.page('/pipeline')).not.toContain('Meus quentes')
    const [view] = await t.db.raw.query<{ id: string }>(
      "select id from saved_views where name = 'Meus quentes'",
    )
    expect((await mate.client.post(`/pipeline/views/${view!.id}/delete`)).status).toBe(404)
    expect((await owner.client.post(`/pipeline/views/${view!.id}/delete`)).status).toBe(303)
  })
})

describe('the lead drawer', () => {
  test('has its own URL: the board with the drawer open, or the drawer alone for htmx', async () => {
    const [id] = await seedLeads(t, owner, 1, () => ({
      fullName: 'Drawer Person',
      email: 'drawer@example.com',
      company: 'Drawer SA',
    }))
    const page = await owner.client.page(`/pipeline/leads/${id}`)
    expect(page).toContain('data-board')
    expect(page).toContain('id="lead-drawer"')
    expect(page).toContain('drawer@example.com')
    const res = await owner.client.get(`/pipeline/leads/${id}`, {
      'hx-request': 'true',
      'hx-target': 'drawer-root',
    })
    const frag = await res.text()
    expect(frag).toStartWith('<aside')
    expect(frag).toContain('Ana Souza criou o lead')
  })

  test('notes, edits and assignment land in the timeline; a stale edit is refused with the latest version', async () => {
    const mate = await inviteMember(owner, 'Diana Assign')
    const [id] = await seedLeads(t, owner, 1, () => ({ fullName: 'Timeline Lead' }))
    expect(
      (await owner.client.post(`/pipeline/leads/${id}/notes`, { note: 'Ligou <b>hoje</b>' })).status,
    ).toBe(303)
    const edit = await owner.client.post(`/pipeline/leads/${id}`, {
      ...blankLead,
      fullName: 'Timeline Lead Jr',
      value: '900',
      version: String((await leadRow(t.db, id!))!.version),
    })
    expect(edit.status).toBe(303)
    expect((await owner.client.post(`/pipeline/leads/${id}/assign`, { ownerId: mate.userId })).status).toBe(
      303,
    )
    expect((await leadRow(t.db, id!))!.owner_id).toBe(mate.userId)
    const html = await owner.client.page(`/pipeline/leads/${id}`)
    expect(html).toContain('Ligou &lt;b&gt;hoje&lt;/b&gt;')
    expect(html).not.toContain('<b>hoje')
    expect(html).toContain('editou nome, valor')
    expect(html).toContain('atribuiu a Diana Assign')
    const stale = await owner.client.post(`/pipeline/leads/${id}`, {
      ...blankLead,
      fullName: 'Old',
      version: '1',
    })
    expect(stale.status).toBe(409)
    expect(await stale.text()).toContain('Outra pessoa alterou este lead')
    expect((await leadRow(t.db, id!))!.version).toBeGreaterThan(1)
    const invalid = await owner.client.post(`/pipeline/leads/${id}`, {
      ...blankLead,
      fullName: '',
      email: 'nope',
      version: String((await leadRow(t.db, id!))!.version),
    })
    expect(invalid.status).toBe(422)
    expect(await invalid.text()).toContain('Informe um e-mail válido.')
  })

  test('creating a lead validates the form and opens the new lead', async () => {
    const bad = await owner.client.post('/pipeline/leads', {
      ...blankLead,
      pipelineId,
      fullName: ' ',
      value: 'x1x',
    })
    expect(bad.status).toBe(422)
    const text = await bad.text()
    expect(text).toContain('Obrigatório.')
    const ok = await owner.client.post('/pipeline/leads', {
      ...blankLead,
      pipelineId,
      stageId: stage('Ganho').id,
      fullName: 'Nova Pessoa',
      value: '2.000',
    })
    expect(ok.status).toBe(303)
    const id = ok.headers.get('location')!.split('/').pop()!
    // Leads start in an open stage even when asked for a won one: won and lost are moves.
    expect((await leadRow(t.db, id))!.stage_id).toBe(stage('Novo').id)
    const created = (await events(owner.orgId, 'lead.created')).find((e) => e.payload.leadId === id)
    expect(created?.payload.stageId).toBe(stage('Novo').id)
  })
})

describe('the timeline’s WhatsApp messages', () => {
  test('received and sent messages read as sentences quoting the message, linked to the conversation', async () => {
    const channel = await createChannel(t, owner.orgId)
    const phone = '+5511987657001'
    const long = `Oi! Vi o anúncio <b>do apartamento</b> & queria saber ${'muito '.repeat(20)}mais`
    await receive(t.db, owner.orgId, channel, [inbound(phone, long, { contactName: 'Lia WhatsApp' })])
    const [c] = await t.db.raw.query<{ id: string; lead_id: string }>(
      'select id, lead_id from conversations where contact_phone = $1',
      [phone],
    )
    // The rep's answers (the inbox writes them with the message's preview; an image without a caption
    // has none), and an inbound photo without a caption.
    await withOrg(t.db, { orgId: owner.orgId, userId: owner.userId }, async (tx) => {
      for (const [kind, actorId, data] of [
        ['message.outbound', owner.userId, { preview: 'Segue a proposta', type: 'text' }],
        ['message.outbound', owner.userId, { type: 'image' }],
        ['message.inbound', null, { preview: '📷', type: 'image' }],
      ] as const)
        await insertActivity(tx, {
          leadId: c!.lead_id,
          actorId,
          kind,
          data: {
            channel: 'whatsapp',
            channelId: channel,
            conversationId: c!.id,
            messageId: Bun.randomUUIDv7(),
            ...data,
          },
        })
    })
    const html = await owner.client.page(`/pipeline/leads/${c!.lead_id}`)
    const link = (text: string) =>
      `Mensagem recebida no WhatsApp: «</span><a class="link" href="/inbox/c/${c!.id}" title="Abrir a conversa na caixa de entrada">${text}</a>`
    // Escaped, on one line, cut at 80 characters with an ellipsis.
    const cut = [...long.replace(/\s+/g, ' ')].slice(0, 79).join('').trimEnd()
    expect(html).toContain(link(`${Bun.escapeHTML(cut)}…`))
    expect(html).not.toContain('<b>do apartamento')
    expect(html).toContain(link('Imagem'))
    expect(html).toContain(
      `Mensagem enviada no WhatsApp por Ana Souza: «</span><a class="link" href="/inbox/c/${c!.id}" title="Abrir a conversa na caixa de entrada">Segue a proposta</a>`,
    )
    expect(html).toContain('por Ana Souza: «</span><a class="link" href="/inbox/c/')
    expect(html).toContain('>Imagem</a><span>»</span>')
    expect(html).not.toContain('message.inbound')
    expect(html).not.toContain('message.outbound')
    // Nobody created the lead: the timeline says where it came from, not "a former member".
    expect(html).toContain('Lead criado a partir de WhatsApp')
    // The number WhatsApp gave (E.164) reads the Brazilian way, and dials as stored.
    expect(html).toContain('(11) 98765-7001')
    expect(html).toContain('href="tel:+5511987657001"')
    expect(html).not.toContain('Um ex-membro criou o lead')
  })

  test('in English, with the type’s label when there is no preview and no link without a conversation', () => {
    const ui = { t: translator('en'), locale: 'en' } as Parameters<typeof activityText>[0]
    const act = (kind: string, data: Record<string, unknown>, actorName: string | null = null): Activity => ({
      id: 'x',
      kind,
      data,
      actorId: null,
      actorName,
      createdAt: new Date(),
    })
    const conversationId = Bun.randomUUIDv7()
    expect(activityText(ui, act('created', { source: 'Website form' }), [], 'BRL')).toBe(
      'Lead created from Website form',
    )
    expect(activityText(ui, act('created', {}), [], 'BRL')).toBe('A former member created the lead')
    expect(
      activityText(ui, act('message.inbound', { preview: 'Hello there', conversationId }), [], 'BRL'),
    ).toBe('WhatsApp message received: «Hello there»')
    expect(activityText(ui, act('message.outbound', { type: 'document' }, 'Rita'), [], 'BRL')).toBe(
      'WhatsApp message sent by Rita: «Document»',
    )
    expect(
      messageActivity(ui, act('message.inbound', { preview: '  ', type: 'audio', conversationId })),
    ).toEqual({
      before: 'WhatsApp message received: «',
      preview: 'Audio',
      after: '»',
      text: 'WhatsApp message received: «Audio»',
      href: `/inbox/c/${conversationId}`,
    })
    expect(
      messageActivity(ui, act('message.inbound', { preview: 'x', conversationId: '../../admin' }))?.href,
    ).toBeNull()
    expect(messageActivity(ui, act('note', {}))).toBeNull()
  })
})

/** Invites a member into `of`'s organization and returns them logged in. */
async function inviteMember(of: Member, name: string): Promise<Member> {
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${Date.now()}@example.com`
  const res = await of.client.post('/settings/members/invite', { email, role: 'member' })
  expect(res.status).toBe(200)
  const link = /data-testid="invite-link"[^>]*>([^<]+)</.exec(await res.text())![1]!.trim()
  const client = t.client()
  const path = new URL(link).pathname
  const join = await client.post(path, { name, password: 'correct horse battery' })
  expect(join.status).toBe(303)
  const [u] = await t.db.raw.query<{ id: string }>('select id from users where email = $1', [email])
  return { client, email, password: 'correct horse battery', userId: u!.id, orgId: of.orgId }
}
