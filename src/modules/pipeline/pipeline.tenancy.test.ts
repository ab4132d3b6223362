/**
 * Cross-tenant isolation of every pipeline table: organization B can neither read nor change A's
 * pipelines, stages, leads, activities, loss reasons and saved views, through the routes (404) nor
 * through SQL as the app role inside withOrg (RLS), nor by pointing its own rows at A's.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { rowsOf } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { firstPipeline, leadRow, type Member, seedLeads, stagesOf } from './pipeline.fixtures'

const TABLES = ['pipelines', 'stages', 'leads', 'lead_activities', 'loss_reasons', 'saved_views'] as const

let t: TestApp
let a: Member
let b: Member
let aPipeline: string
let aStages: Awaited<ReturnType<typeof stagesOf>>
let aLead: string
let aView: string
let aReason: string
let bPipeline: string
let bStages: Awaited<ReturnType<typeof stagesOf>>
let bLead: string

beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Tenant A' })
  b = await signUpClient(t, { orgName: 'Tenant B' })
  aPipeline = (await firstPipeline(t.db, a.orgId)).id
  bPipeline = (await firstPipeline(t.db, b.orgId)).id
  aStages = await stagesOf(t.db, a.orgId)
  bStages = await stagesOf(t.db, b.orgId)
  aLead = (await seedLeads(t, a, 1, () => ({ fullName: 'Segredo de A', email: 'a-secret@example.com' })))[0]!
  bLead = (await seedLeads(t, b, 1, () => ({ fullName: 'Lead de B' })))[0]!
  // A row in every pipeline table for A: a note (activity), a saved view; reasons came with the org.
  expect((await a.client.post(`/pipeline/leads/${aLead}/notes`, { note: 'nota secreta' })).status).toBe(303)
  expect(
    (
      await a.client.post('/pipeline/views', {
        pipelineId: aPipeline,
        viewName: 'Vista A',
        query: 'owner=mine',
      })
    ).status,
  ).toBe(303)
  aView = (
    await t.db.raw.query<{ id: string }>('select id from saved_views where organization_id = $1', [a.orgId])
  )[0]!.id
  aReason = (
    await t.db.raw.query<{ id: string }>('select id from loss_reasons where organization_id = $1', [a.orgId])
  )[0]!.id
})
afterAll(() => t.close())

const asB = <T>(fn: Parameters<typeof withOrg<T>>[2]) =>
  withOrg(t.db, { orgId: b.orgId, userId: b.userId }, fn)
async function fails(p: Promise<unknown>, re: RegExp) {
  const err = await p.then(
    () => null,
    (e: any) => e,
  )
  expect(err).not.toBeNull()
  expect(`${err.message} ${err.cause?.message ?? ''}`).toMatch(re)
}

describe("through the routes, B gets 404 for everything of A's", () => {
  test("A's lead URL (the card's drawer), card fragment, board and column pages", async () => {
    expect((await b.client.get(`/pipeline/leads/${aLead}`)).status).toBe(404)
    expect((await b.client.get(`/pipeline/leads/${aLead}/card`)).status).toBe(404)
    expect((await b.client.get(`/pipeline/${aPipeline}`)).status).toBe(404)
    expect((await b.client.get(`/pipeline/${aPipeline}/stages/${aStages[0]!.id}/cards`)).status).toBe(404)
    expect((await b.client.get(`/pipeline/leads/new?pipeline=${aPipeline}`)).status).toBe(404)
    // B's own board never shows A's lead.
    expect(await b.client.page('/pipeline')).not.toContain('Segredo de A')
    // The same URL works for A.
    expect((await a.client.get(`/pipeline/leads/${aLead}`)).status).toBe(200)
  })

  test("B cannot move, edit, assign, annotate, win, lose or reopen A's lead", async () => {
    const json = { accept: 'application/json' }
    const tries = [
      b.client.post(`/pipeline/leads/${aLead}/move`, { stageId: aStages[1]!.id, version: '2' }, json),
      b.client.post(`/pipeline/leads/${aLead}/move`, { stageId: bStages[1]!.id, version: '2' }, json),
      b.client.post(`/pipeline/leads/${aLead}`, { fullName: 'pwned', version: '2' }),
      b.client.post(`/pipeline/leads/${aLead}/assign`, { ownerId: b.userId }),
      b.client.post(`/pipeline/leads/${aLead}/notes`, { note: 'pwned' }),
      b.client.post(`/pipeline/leads/${aLead}/won`, { version: '2', value: '1' }),
      b.client.post(`/pipeline/leads/${aLead}/lost`, { version: '2', reason: 'x' }),
      b.client.post(`/pipeline/leads/${aLead}/reopen`, { version: '2' }),
    ]
    for (const res of await Promise.all(tries)) expect(res.status).toBe(404)
    const row = await leadRow(t.db, aLead)
    expect(row).toMatchObject({ stage_id: aStages[0]!.id, owner_id: null })
    const acts = await t.db.raw.query<{ kind: string }>(
      'select kind from lead_activities where lead_id = $1',
      [aLead],
    )
    expect(acts.map((x) => x.kind).sort()).toEqual(['created', 'note'])
  })

  test("B cannot move its own lead into A's stage, nor create one in A's pipeline", async () => {
    const res = await b.client.post(
      `/pipeline/leads/${bLead}/move`,
      { stageId: aStages[1]!.id, version: '1' },
      { accept: 'application/json' },
    )
    expect(res.status).toBe(404)
    const created = await b.client.post('/pipeline/leads', { fullName: 'Intruso', pipelineId: aPipeline })
    expect(created.status).toBe(404)
    expect((await leadRow(t.db, bLead))!.stage_id).toBe(bStages[0]!.id)
  })

  test("B cannot assign its lead to A's user", async () => {
    const res = await b.client.post(`/pipeline/leads/${bLead}/assign`, { ownerId: a.userId })
    expect(res.status).toBe(422)
    expect((await leadRow(t.db, bLead))!.owner_id).toBeNull()
  })

  test("B cannot see or change A's pipeline settings, stages, loss reasons or saved views", async () => {
    const s = aStages[1]!.id
    const statuses = await Promise.all([
      b.client.get(`/pipeline/${aPipeline}/settings`),
      b.client.post(`/pipeline/${aPipeline}/rename`, { name: 'pwned' }),
      b.client.post(`/pipeline/${aPipeline}/delete`),
      b.client.post(`/pipeline/${aPipeline}/stages`, { name: 'pwned', color: '#000000', kind: 'open' }),
      b.client.post(`/pipeline/${aPipeline}/stages/${s}`, { name: 'pwned', color: '#000000', kind: 'open' }),
      b.client.get(`/pipeline/${aPipeline}/stages/${s}/delete`),
      b.client.post(`/pipeline/${aPipeline}/stages/${s}/delete`, { target: aStages[0]!.id }),
      b.client.post(`/pipeline/${aPipeline}/stages/order`, { ids: aStages.map((x) => x.id).join(',') }),
      b.client.post(`/pipeline/loss-reasons/${aReason}/delete`),
      b.client.post(`/pipeline/views/${aView}/delete`),
      b.client.post('/pipeline/views', { pipelineId: aPipeline, viewName: 'x', query: '' }),
    ]).then((rs) => rs.map((r) => r.status))
    expect(statuses).toEqual(Array(statuses.length).fill(404))
    expect((await stagesOf(t.db, a.orgId)).map((x) => [x.id, x.name])).toEqual(
      aStages.map((x) => [x.id, x.name]),
    )
    expect((await firstPipeline(t.db, a.orgId)).name).toBe('Vendas')
    const still = await t.db.raw.query(
      'select 1 from saved_views where id = $1 union all select 1 from loss_reasons where id = $2',
      [aView, aReason],
    )
    expect(still.length).toBe(2)
  })
})

describe('through SQL as the app role (withOrg), RLS hides and protects A', () => {
  test('A has rows in every pipeline table (so the checks below mean something)', async () => {
    for (const table of TABLES) {
      const [r] = await t.db.raw.query<{ n: number }>(
        `select count(*)::int as n from ${table} where organization_id = $1`,
        [a.orgId],
      )
      expect({ table, n: r!.n > 0 }).toEqual({ table, n: true })
    }
  })

  test("B reads none of A's rows in any pipeline table, even asking by A's ids", async () => {
    for (const table of TABLES) {
      const n = await asB(async (tx) =>
        Number(
          rowsOf<{ n: number }>(
            await tx.execute(
              sql.raw(`select count(*)::int as n from ${table} where organization_id = '${a.orgId}'`),
            ),
          )[0]!.n,
        ),
      )
      expect({ table, n }).toEqual({ table, n: 0 })
    }
    const byId = await asB(async (tx) =>
      rowsOf(await tx.execute(sql`select full_name from leads where id = ${aLead}`)),
    )
    expect(byId).toEqual([])
  })

  test("B's updates and deletes of A's rows touch nothing", async () => {
    const changed = await asB(async (tx) => {
      const n: Record<string, number> = {}
      n.pipelines = rowsOf(
        await tx.execute(sql`update pipelines set name = 'x' where organization_id = ${a.orgId} returning 1`),
      ).length
      n.stages = rowsOf(
        await tx.execute(sql`delete from stages where organization_id = ${a.orgId} returning 1`),
      ).length
      n.leads = rowsOf(
        await tx.execute(sql`update leads set full_name = 'x' where id = ${aLead} returning 1`),
      ).length
      n.reasons = rowsOf(
        await tx.execute(sql`delete from loss_reasons where organization_id = ${a.orgId} returning 1`),
      ).length
      n.views = rowsOf(
        await tx.execute(sql`delete from saved_views where organization_id = ${a.orgId} returning 1`),
      ).length
      return n
    })
    expect(changed).toEqual({ pipelines: 0, stages: 0, leads: 0, reasons: 0, views: 0 })
    expect((await leadRow(t.db, aLead))!.stage_id).toBe(aStages[0]!.id)
  })

  test("B cannot insert rows into A's organization", async () => {
    await fails(
      asB((tx) =>
        tx.execute(
          sql`insert into pipelines (id, organization_id, name) values (${Bun.randomUUIDv7()}, ${a.orgId}, 'x')`,
        ),
      ),
      /row-level security/,
    )
    await fails(
      asB((tx) =>
        tx.execute(
          sql`insert into lead_activities (id, organization_id, lead_id, kind) values (${Bun.randomUUIDv7()}, ${a.orgId}, ${aLead}, 'note')`,
        ),
      ),
      /row-level security/,
    )
    await fails(
      asB((tx) =>
        tx.execute(
          sql`insert into loss_reasons (id, organization_id, label) values (${Bun.randomUUIDv7()}, ${a.orgId}, 'x')`,
        ),
      ),
      /row-level security/,
    )
  })

  test("B's own rows cannot point at A's stage, lead or user (composite foreign keys)", async () => {
    // A lead of B in A's stage: B's organization with A's pipeline/stage ids fails the foreign key.
    await fails(
      asB((tx) =>
        tx.execute(
          sql`insert into leads (id, organization_id, pipeline_id, stage_id, full_name)
            values (${Bun.randomUUIDv7()}, ${b.orgId}, ${aPipeline}, ${aStages[0]!.id}, 'x')`,
        ),
      ),
      /foreign key/,
    )
    await fails(
      asB((tx) =>
        tx.execute(
          sql`update leads set stage_id = ${aStages[1]!.id}, pipeline_id = ${aPipeline} where id = ${bLead}`,
        ),
      ),
      /foreign key/,
    )
    // An activity of B on A's lead.
    await fails(
      asB((tx) =>
        tx.execute(
          sql`insert into lead_activities (id, organization_id, lead_id, kind) values (${Bun.randomUUIDv7()}, ${b.orgId}, ${aLead}, 'note')`,
        ),
      ),
      /foreign key/,
    )
    // A's user as the owner of B's lead.
    await fails(
      asB((tx) => tx.execute(sql`update leads set owner_id = ${a.userId} where id = ${bLead}`)),
      /foreign key/,
    )
    // Moving B's lead into A's organization.
    await fails(
      asB((tx) => tx.execute(sql`update leads set organization_id = ${a.orgId} where id = ${bLead}`)),
      /row-level security|foreign key/,
    )
    expect(bPipeline).not.toBe(aPipeline)
  })

  test("saved views are private inside an organization: a teammate's views are invisible to the app role", async () => {
    const [mine] = await withOrg(t.db, { orgId: a.orgId, userId: a.userId }, async (tx) =>
      rowsOf<{ n: number }>(await tx.execute(sql`select count(*)::int as n from saved_views`)),
    )
    expect(mine!.n).toBe(1)
    const someoneElse = Bun.randomUUIDv7()
    const [other] = await withOrg(t.db, { orgId: a.orgId, userId: someoneElse }, async (tx) =>
      rowsOf<{ n: number }>(await tx.execute(sql`select count(*)::int as n from saved_views`)),
    )
    expect(other!.n).toBe(0)
  })

  test("A's lead events stay in A's outbox: B's catch-up never includes them", async () => {
    const res = await a.client.post(
      `/pipeline/leads/${aLead}/move`,
      { stageId: aStages[2]!.id, version: String((await leadRow(t.db, aLead))!.version) },
      { accept: 'application/json' },
    )
    expect(res.status).toBe(200)
    const mine = await withOrg(t.db, { orgId: a.orgId, userId: a.userId }, async (tx) =>
      rowsOf<{ type: string }>(await tx.execute(sql`select type from outbox_events`)),
    )
    expect(mine.map((e) => e.type)).toContain('lead.moved')
    const theirs = await asB(async (tx) =>
      rowsOf<{ payload: any }>(await tx.execute(sql`select payload from outbox_events`)),
    )
    expect(theirs.some((e) => e.payload.leadId === aLead)).toBe(false)
  })
})
