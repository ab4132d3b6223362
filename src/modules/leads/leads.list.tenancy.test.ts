/**
 * Cross-tenant: organization B's list, search and bulk actions never see or touch A's leads, and B
 * gets 404 for A's saved views, custom fields and LGPD routes.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { withOrg } from '../../platform/db/tenancy'
import { type Member, seedLeads, stagesOf } from '../pipeline/pipeline.fixtures'
import { createCustomField } from './leads.custom-fields'

let t: TestApp
let a: Member
let b: Member
let aLeads: string[]
let aView: string
let aField: string

const post = (m: Member, form: [string, string][]) =>
  t.handle(
    new Request(new URL('/leads/bulk', t.config.baseUrl), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: t.config.baseUrl.origin,
        cookie: [...m.client.jar].map(([k, v]) => `${k}=${v}`).join('; '),
      },
      body: new URLSearchParams(form).toString(),
    }),
  )

beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Inquilino A' })
  b = await signUpClient(t, { orgName: 'Inquilino B' })
  aLeads = await seedLeads(t, a, 2, (i) => ({
    fullName: i ? 'Segredo Conceição' : 'Segredo João',
    tags: 'a',
  }))
  await seedLeads(t, b, 1, () => ({ fullName: 'Lead de B', tags: 'b' }))
  expect((await a.client.post('/leads/views', { viewName: 'Vista A', query: 'tag=a' })).status).toBe(303)
  aView = (
    await t.db.raw.query<{ id: string }>('select id from lead_list_views where organization_id = $1', [
      a.orgId,
    ])
  )[0]!.id
  aField = await withOrg(t.db, { orgId: a.orgId, userId: a.userId }, (tx) =>
    createCustomField(
      tx,
      { orgId: a.orgId, userId: a.userId, role: 'owner' },
      {
        label: 'Segredo',
        type: 'text',
        options: '',
        required: false,
        showInList: true,
      },
    ),
  )
})
afterAll(() => t.close())

test("B's list, search, paging and row fragments never show A's leads", async () => {
  for (const path of [
    '/leads',
    '/leads?q=segredo',
    '/leads?q=conceicao',
    '/leads?tag=a',
    '/leads/page',
    `/leads?sort=name`,
  ]) {
    const html = await b.client.page(path)
    expect(html).not.toContain('Segredo')
  }
  expect(await b.client.page('/leads')).toContain('Lead de B')
  expect((await b.client.get(`/leads/rows/${aLeads[0]}`)).status).toBe(204)
  expect(await b.client.page('/leads')).not.toContain('Vista A')
  expect(await b.client.page('/leads')).not.toContain('col-cf-segredo')
})

test("B gets 404 for A's saved view, custom field and LGPD routes", async () => {
  expect((await b.client.get(`/leads/views/${aView}`)).status).toBe(404)
  expect((await b.client.post(`/leads/views/${aView}/delete`)).status).toBe(404)
  expect((await b.client.post(`/settings/fields/${aField}`, { label: 'pwned' })).status).toBe(404)
  expect((await b.client.post(`/settings/fields/${aField}/delete`)).status).toBe(404)
  expect((await b.client.post(`/settings/fields/${aField}/move`, { dir: 'up' })).status).toBe(404)
  expect((await b.client.get(`/leads/${aLeads[0]}/personal-data.json`)).status).toBe(404)
  expect((await b.client.get(`/leads/${aLeads[0]}/erase`)).status).toBe(404)
  expect((await b.client.post(`/leads/${aLeads[0]}/erase`, { confirmName: 'Segredo João' })).status).toBe(404)
  const [def] = await t.db.raw.query<{ label: string }>('select label from custom_field_defs where id = $1', [
    aField,
  ])
  expect(def!.label).toBe('Segredo')
})

test("bulk actions on A's ids, or 'all matching' from B, change nothing of A's", async () => {
  const before = await t.db.raw.query(
    'select id, owner_id, tags, stage_id, version from leads where organization_id = $1 order by id',
    [a.orgId],
  )
  const bStage = (await stagesOf(t.db, b.orgId))[1]!.id
  const ids = aLeads.map((id) => ['id', id] as [string, string])
  expect((await post(b, [['action', 'assign'], ['ownerId', b.userId], ...ids])).status).toBe(303)
  expect((await post(b, [['action', 'tag'], ['tag', 'pwned'], ...ids])).status).toBe(303)
  expect((await post(b, [['action', 'move'], ['stageId', bStage], ...ids])).status).toBe(303)
  expect(
    (
      await post(b, [
        ['action', 'tag'],
        ['tag', 'pwned'],
        ['all', '1'],
        ['query', 'tag=a'],
      ])
    ).status,
  ).toBe(303)
  expect((await post(b, [['action', 'delete'], ['confirmed', '1'], ['confirm', 'yes'], ...ids])).status).toBe(
    303,
  )
  expect(
    (
      await post(b, [
        ['action', 'delete'],
        ['confirmed', '1'],
        ['confirm', 'yes'],
        ['all', '1'],
        ['query', ''],
      ])
    ).status,
  ).toBe(303)
  const after = await t.db.raw.query(
    'select id, owner_id, tags, stage_id, version from leads where organization_id = $1 order by id',
    [a.orgId],
  )
  expect(after).toEqual(before)
  // B's "all matching" delete erased only B's own lead.
  expect((await t.db.raw.query('select 1 from leads where organization_id = $1', [b.orgId])).length).toBe(0)
  expect(
    (
      await t.db.raw.query(
        "select 1 from lead_activities where organization_id = $1 and data::text like '%pwned%'",
        [a.orgId],
      )
    ).length,
  ).toBe(0)
  // A's stage cannot be a bulk move target for B.
  const aStage = (await stagesOf(t.db, a.orgId))[1]!.id
  expect((await b.client.post('/leads/bulk', { action: 'move', stageId: aStage })).status).toBe(404)
})
