/**
 * The lead list: search that ignores accents and matches prefixes (shared with the board), sort and
 * filters from the URL, keyset paging that stays stable under inserts, the column chooser, personal
 * saved views, bulk actions (timeline entries and events), and custom fields in the drawer's form.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { withOrg } from '../../platform/db/tenancy'
import { firstPipeline, type Member, seedLeads, stagesOf } from '../pipeline/pipeline.fixtures'
import { createCustomField } from './leads.custom-fields'
import { tsQuery } from './leads.search'

let t: TestApp
let a: Member
let mate: Member

/** The names in the list's rows, in order. */
const names = (html: string) =>
  [...html.matchAll(/data-row-link[^>]*>([^<]+)<\/a>/g)].map((m) => m[1]!.trim())
const rowIds = (html: string) => [...html.matchAll(/<tr data-row data-id="([^"]+)"/g)].map((m) => m[1]!)
const nextCursor = (html: string) => {
  const m = /hx-get="\/leads\/page\?([^"]+)"/.exec(html)
  return m ? new URLSearchParams(m[1]!.replace(/&amp;/g, '&')).get('after') : null
}

beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Lista A', name: 'Ana Dona' })
  // A second member of A's organization (for saved views and assignment).
  const invite = await a.client.post('/settings/members/invite', {
    email: 'mate@example.com',
    role: 'member',
  })
  expect(invite.status).toBe(200)
  mate = await signUpClient(t, { email: 'mate2@example.com', orgName: 'Mate Org' })
  await t.db.raw.query(
    `insert into organization_members (organization_id, user_id, role) values ($1, $2, 'member')`,
    [a.orgId, mate.userId],
  )
  await t.db.raw.query('update sessions set active_org_id = $1 where user_id = $2', [a.orgId, mate.userId])
  await seedLeads(
    t,
    a,
    6,
    (i) =>
      [
        {
          fullName: 'João da Silva',
          email: 'joao@example.com',
          phone: '(11) 98765-4321',
          score: '80',
          tags: 'vip',
          source: 'Site',
        },
        { fullName: 'Maria Conceição', company: 'Padaria Pão Quente', score: '30', value: '1.500,00' },
        { fullName: 'Zé Ninguém', score: '10', ownerId: mate.userId, source: 'Instagram' },
        { fullName: 'Joana Prado', company: 'Joalheria', score: '55' },
        { fullName: 'Conceição Alves', email: 'c.alves@example.com', score: '5', tags: 'frio' },
        { fullName: 'Bruno Ávila', score: '90', value: '10.000' },
      ][i]!,
  )
})
afterAll(() => t.close())

describe('search ignores accents and matches word prefixes', () => {
  test('the query is folded and every word becomes a prefix', () => {
    expect(tsQuery('João  SILVA')).toBe("'joao':* & 'silva':*")
    expect(tsQuery('(11) 98765-4321')).toBe("'11987654321':*")
    expect(tsQuery('!!!')).toBeNull()
    expect(tsQuery("o'neil")).toBe("'o':* & 'neil':*")
  })

  test('"joao" finds "João", "conceicao" finds both Conceições, prefixes and phones work', async () => {
    expect(names(await a.client.page('/leads?q=joao'))).toEqual(['João da Silva'])
    expect(names(await a.client.page('/leads?q=conceicao&sort=name')).sort()).toEqual([
      'Conceição Alves',
      'Maria Conceição',
    ])
    expect(names(await a.client.page('/leads?q=jo')).sort()).toEqual(['Joana Prado', 'João da Silva'])
    expect(names(await a.client.page('/leads?q=pao%20quente'))).toEqual(['Maria Conceição'])
    expect(names(await a.client.page('/leads?q=11987654321'))).toEqual(['João da Silva'])
    expect(names(await a.client.page('/leads?q=joao@example.com'))).toEqual(['João da Silva'])
    expect(await a.client.page('/leads?q=xyzzy')).toContain('data-testid="list-empty-filtered"')
  })

  test('the board’s q filter uses the same search', async () => {
    const board = await a.client.page('/pipeline?q=conceicao')
    expect(board).toContain('Maria Conceição')
    expect(board).toContain('Conceição Alves')
    expect(board).not.toContain('João da Silva')
  })
})

describe('sort and filters come from the URL', () => {
  test('each sortable column sorts both ways; the header says which', async () => {
    const byScore = names(await a.client.page('/leads?sort=-score'))
    expect(byScore).toEqual([
      'Bruno Ávila',
      'João da Silva',
      'Joana Prado',
      'Maria Conceição',
      'Zé Ninguém',
      'Conceição Alves',
    ])
    expect(names(await a.client.page('/leads?sort=score'))).toEqual([...byScore].reverse())
    expect(names(await a.client.page('/leads?sort=name'))).toEqual([
      'Bruno Ávila',
      'Conceição Alves',
      'Joana Prado',
      'João da Silva',
      'Maria Conceição',
      'Zé Ninguém',
    ])
    expect(names(await a.client.page('/leads?sort=-value')).slice(0, 2)).toEqual([
      'Bruno Ávila',
      'Maria Conceição',
    ])
    const html = await a.client.page('/leads?sort=-score')
    expect(html).toMatch(/class="col-score sortable" aria-sort="descending"/)
    // Default: newest first.
    expect(names(await a.client.page('/leads'))[0]).toBe('Bruno Ávila')
  })

  test('the board filters, plus pipeline and stage, narrow the list', async () => {
    expect(names(await a.client.page('/leads?tag=vip'))).toEqual(['João da Silva'])
    expect(names(await a.client.page('/leads?source=Instagram'))).toEqual(['Zé Ninguém'])
    expect(names(await a.client.page(`/leads?owner=${mate.userId}`))).toEqual(['Zé Ninguém'])
    expect(names(await a.client.page('/leads?score_min=50&score_max=85&sort=name'))).toEqual([
      'Joana Prado',
      'João da Silva',
    ])
    const stages = await stagesOf(t.db, a.orgId)
    const pipeline = await firstPipeline(t.db, a.orgId)
    expect(names(await a.client.page(`/leads?pipeline=${pipeline.id}&stage=${stages[1]!.id}`))).toEqual([])
    expect(names(await a.client.page(`/leads?stage=${stages[0]!.id}`)).length).toBe(6)
    const html = await a.client.page('/leads?tag=vip&q=jo')
    expect(html).toContain('data-testid="list-chips"')
    expect(html).toContain('data-total="1"')
  })

  test('an htmx filter change gets the region and the canonical URL to push', async () => {
    const res = await a.client.get('/leads?q=joao&owner=&tag=&sort=-created', {
      'hx-request': 'true',
      'hx-target': 'list-region',
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('hx-push-url')).toBe('/leads?q=joao')
    const html = await res.text()
    expect(html).not.toContain('<html')
    expect(html).toContain('hx-swap-oob')
    expect(names(html)).toEqual(['João da Silva'])
  })
})

describe('paging', () => {
  test('keyset pages are stable when leads are added meanwhile, for every sort', async () => {
    const m = await signUpClient(t, { orgName: 'Paginação' })
    await seedLeads(t, m, 120, (i) => ({
      fullName: `Pessoa ${String(i).padStart(3, '0')}`,
      score: String(i % 7),
    }))
    for (const sort of ['-created', 'name', '-score', 'value', '-activity']) {
      const first = await m.client.page(`/leads?sort=${sort}`)
      const seen = rowIds(first)
      expect(seen.length).toBe(50)
      // Leads arriving between pages never shift or repeat what is already on screen.
      await seedLeads(t, m, 3, (i) => ({ fullName: `Nova ${sort} ${i}`, score: '3' }))
      let after = nextCursor(first)
      while (after) {
        const page = await m.client.page(`/leads/page?sort=${sort}&after=${encodeURIComponent(after)}`)
        seen.push(...rowIds(page))
        after = nextCursor(page)
      }
      expect(new Set(seen).size).toBe(seen.length)
      const [{ n }] = (await t.db.raw.query<{ n: number }>(
        'select count(*)::int as n from leads where organization_id = $1',
        [m.orgId],
      )) as [{ n: number }]
      // Every lead that existed before the first page is seen exactly once.
      expect(seen.length).toBeGreaterThanOrEqual(n - 3)
    }
  })

  test('a bad cursor is ignored (first page), never an error', async () => {
    expect(rowIds(await a.client.page('/leads/page?after=zzz_not-a-uuid')).length).toBe(6)
    expect(
      rowIds(await a.client.page('/leads/page?sort=score&after=abc_0190c0de-0000-7000-8000-000000000000'))
        .length,
    ).toBe(6)
  })
})

describe('columns and saved views are personal', () => {
  test('the column choice persists for the user and only for them', async () => {
    const before = await a.client.page('/leads')
    expect(before).toContain('col-company')
    expect(before).not.toMatch(/<th scope="col" class="col-email"/)
    const res = await a.client.post('/leads/columns', { col: 'email', query: 'sort=name' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/leads?sort=name')
    const after = await a.client.page('/leads')
    expect(after).toMatch(/<th scope="col" class="col-email"/)
    expect(after).not.toContain('class="col-company')
    expect(after).toContain('joao@example.com')
    // Another member still has the defaults.
    const theirs = await mate.client.page('/leads')
    expect(theirs).toContain('col-company')
    // Unknown columns are dropped; reset brings the defaults back.
    await a.client.post('/leads/columns', { col: 'password_hash' })
    expect(await a.client.page('/leads')).toContain('col-company')
  })

  test('a saved view keeps the query and columns; another member cannot see or open it', async () => {
    const res = await a.client.post('/leads/views', {
      viewName: 'Quentes',
      query: 'score_min=50&sort=-score&junk=1',
      columns: 'score,email',
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/leads?score_min=50&sort=-score')
    const [view] = await t.db.raw.query<{ id: string; query: string; columns: string[] }>(
      'select id, query, columns from lead_list_views where user_id = $1',
      [a.userId],
    )
    expect(view!.query).toBe('score_min=50&sort=-score')
    expect(await a.client.page('/leads')).toContain('Quentes')
    expect(await mate.client.page('/leads')).not.toContain('Quentes')
    expect((await mate.client.get(`/leads/views/${view!.id}`)).status).toBe(404)
    expect((await mate.client.post(`/leads/views/${view!.id}/delete`)).status).toBe(404)
    const open = await a.client.get(`/leads/views/${view!.id}`)
    expect(open.headers.get('location')).toBe('/leads?score_min=50&sort=-score')
    expect(await a.client.page('/leads')).toMatch(/<th scope="col" class="col-email"/)
    // Empty name: nothing saved, the user is told.
    expect((await a.client.post('/leads/views', { viewName: ' ', query: '' })).status).toBe(303)
    expect(
      (await t.db.raw.query('select 1 from lead_list_views where user_id = $1', [a.userId])).length,
    ).toBe(1)
  })
})

describe('bulk actions', () => {
  let org: Member
  let ids: string[]
  beforeAll(async () => {
    org = await signUpClient(t, { orgName: 'Em massa' })
    ids = await seedLeads(t, org, 5, (i) => ({ fullName: `Cliente ${i}`, tags: i === 0 ? 'vip' : '' }))
  })
  const timeline = (id: string) =>
    t.db.raw.query<{ kind: string; data: any }>(
      'select kind, data from lead_activities where lead_id = $1 order by created_at, id',
      [id],
    )

  test('assign and tag the selected leads: rows, timelines and events', async () => {
    const v0 = Number(
      (
        await t.db.raw.query<{ v: number }>(
          'select coalesce(max(version),0) as v from outbox_events where organization_id = $1',
          [org.orgId],
        )
      )[0]!.v,
    )
    const res = await org.client.request('POST', '/leads/bulk', {
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'hx-request': 'true',
        'hx-target': 'list-region',
      },
    })
    expect(res.status).toBe(422) // no action, nothing selected
    // Repeated ids need a raw body: the test client's form is a record.
    const post = (form: [string, string][], headers: Record<string, string> = {}) =>
      t.handle(
        new Request(new URL('/leads/bulk', t.config.baseUrl), {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            origin: t.config.baseUrl.origin,
            cookie: [...org.client.jar].map(([k, v]) => `${k}=${v}`).join('; '),
            ...headers,
          },
          body: new URLSearchParams(form).toString(),
        }),
      )
    const r1 = await post(
      [
        ['action', 'assign'],
        ['ownerId', org.userId],
        ['id', ids[0]!],
        ['id', ids[1]!],
      ],
      {
        'hx-request': 'true',
        'hx-target': 'list-region',
      },
    )
    expect(r1.status).toBe(200)
    expect(await r1.text()).toContain('2 leads atribuídos')
    const owners = await t.db.raw.query<{ id: string; owner_id: string | null }>(
      'select id, owner_id from leads where organization_id = $1 order by id',
      [org.orgId],
    )
    expect(
      owners
        .filter((o) => o.owner_id === org.userId)
        .map((o) => o.id)
        .sort(),
    ).toEqual([ids[0]!, ids[1]!].sort())
    expect((await timeline(ids[0]!)).at(-1)).toMatchObject({
      kind: 'assigned',
      data: { changes: { ownerId: [null, org.userId] } },
    })

    const r2 = await post([
      ['action', 'tag'],
      ['tag', 'Quente'],
      ['id', ids[0]!],
      ['id', ids[2]!],
    ])
    expect(r2.status).toBe(303)
    const tags = await t.db.raw.query<{ id: string; tags: string[]; search_text: string }>(
      'select id, tags, search_text from leads where id = any($1::uuid[])',
      [`{${ids[0]},${ids[2]}}`],
    )
    for (const row of tags) {
      expect(row.tags).toContain('quente')
      expect(row.search_text).toContain('quente')
    }
    expect(names(await org.client.page('/leads?q=quente')).length).toBe(2)
    expect((await timeline(ids[2]!)).at(-1)).toMatchObject({
      kind: 'edited',
      data: { changes: { tags: [[], ['quente']] } },
    })
    const events = await t.db.raw.query<{ type: string; payload: any }>(
      'select type, payload from outbox_events where organization_id = $1 and version > $2 order by version',
      [org.orgId, v0],
    )
    expect(
      events
        .filter((e) => e.type === 'lead.updated')
        .map((e) => e.payload.leadId)
        .sort(),
    ).toEqual([ids[0]!, ids[1]!, ids[0]!, ids[2]!].sort())
    // An owner from another organization is refused.
    const r3 = await post([
      ['action', 'assign'],
      ['ownerId', a.userId],
      ['id', ids[3]!],
    ])
    expect(r3.status).toBe(303)
    expect((await t.db.raw.query('select owner_id from leads where id = $1', [ids[3]]))[0]).toEqual({
      owner_id: null,
    })
  })

  test('move "all matching" to a stage; lost stages are refused', async () => {
    const stages = await stagesOf(t.db, org.orgId)
    const target = stages.find((s) => s.kind === 'open' && s.position === 2)!
    const res = await t.handle(
      new Request(new URL('/leads/bulk', t.config.baseUrl), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: t.config.baseUrl.origin,
          cookie: [...org.client.jar].map(([k, v]) => `${k}=${v}`).join('; '),
        },
        body: new URLSearchParams({
          action: 'move',
          stageId: target.id,
          all: '1',
          query: 'tag=quente',
        }).toString(),
      }),
    )
    expect(res.status).toBe(303)
    const moved = await t.db.raw.query<{ id: string }>('select id from leads where stage_id = $1', [
      target.id,
    ])
    expect(moved.map((x) => x.id).sort()).toEqual([ids[0]!, ids[2]!].sort())
    expect((await timeline(ids[0]!)).at(-1)).toMatchObject({ kind: 'moved', data: { toStage: target.name } })
    const lost = stages.find((s) => s.kind === 'lost')!
    const refused = await org.client.post(
      '/leads/bulk',
      { action: 'move', stageId: lost.id, id: ids[4]! },
      {
        'hx-request': 'true',
        'hx-target': 'list-region',
      },
    )
    expect(refused.status).toBe(422)
    expect(
      (await t.db.raw.query<{ stage_id: string }>('select stage_id from leads where id = $1', [ids[4]]))[0]!
        .stage_id,
    ).not.toBe(lost.id)
  })

  test('delete asks for confirmation, then erases and audits', async () => {
    const ask = await org.client.post(
      '/leads/bulk',
      { action: 'delete', id: ids[4]! },
      {
        'hx-request': 'true',
        'hx-target': 'list-region',
      },
    )
    expect(ask.status).toBe(200)
    expect(await ask.text()).toContain('data-testid="bulk-delete-confirm"')
    expect((await t.db.raw.query('select 1 from leads where id = $1', [ids[4]])).length).toBe(1)
    const unticked = await org.client.post('/leads/bulk', { action: 'delete', confirmed: '1', id: ids[4]! })
    expect(unticked.status).toBe(422)
    expect((await t.db.raw.query('select 1 from leads where id = $1', [ids[4]])).length).toBe(1)
    const ok = await org.client.post('/leads/bulk', {
      action: 'delete',
      confirmed: '1',
      confirm: 'yes',
      id: ids[4]!,
    })
    expect(ok.status).toBe(303)
    expect((await t.db.raw.query('select 1 from leads where id = $1', [ids[4]])).length).toBe(0)
    expect((await t.db.raw.query('select 1 from lead_activities where lead_id = $1', [ids[4]])).length).toBe(
      0,
    )
    const [audit] = await t.db.raw.query<{ action: string; after: any; actor_user_id: string }>(
      "select action, after, actor_user_id from audit_log where target_id = $1 and action = 'lead.erased'",
      [ids[4]],
    )
    expect(audit).toEqual({
      action: 'lead.erased',
      after: { legalBasis: 'user_delete' },
      actor_user_id: org.userId,
    })
  })
})

describe('custom fields in the lead form', () => {
  let leadId: string
  beforeAll(async () => {
    await withOrg(t.db, { orgId: a.orgId, userId: a.userId }, async (tx) => {
      const actor = { orgId: a.orgId, userId: a.userId, role: 'owner' as const }
      await createCustomField(tx, actor, {
        label: 'CNPJ',
        type: 'text',
        options: '',
        required: true,
        showInList: true,
      })
      await createCustomField(tx, actor, {
        label: 'Faturamento',
        type: 'number',
        options: '',
        required: false,
        showInList: false,
      })
      await createCustomField(tx, actor, {
        label: 'Fundação',
        type: 'date',
        options: '',
        required: false,
        showInList: false,
      })
      await createCustomField(tx, actor, {
        label: 'Segmento',
        type: 'select',
        options: 'Varejo\nIndústria',
        required: false,
        showInList: true,
      })
    })
    leadId = (await seedLeads(t, a, 1, () => ({ fullName: 'Cliente Custom' })))[0]!
  })
  const edit = async (extra: Record<string, string>) => {
    const [row] = await t.db.raw.query<{ version: number }>('select version from leads where id = $1', [
      leadId,
    ])
    return a.client.post(`/pipeline/leads/${leadId}`, {
      fullName: 'Cliente Custom',
      version: String(row!.version),
      _custom: '1',
      ...extra,
    })
  }

  test('errors are shown in the form with the input kept (422), nothing stored', async () => {
    const res = await edit({
      'custom.cnpj': '',
      'custom.faturamento': 'muito',
      'custom.fundacao': '31/02/2020',
      'custom.segmento': 'Serviços',
      email: 'not-an-email',
    })
    expect(res.status).toBe(422)
    const html = await res.text()
    expect(html).toContain('id="f-custom-cnpj-err"')
    expect(html).toContain('Digite um número')
    expect(html).toContain('Digite uma data')
    expect(html).toContain('Escolha uma das opções')
    expect(html).toContain('Informe um e-mail válido') // contact errors shown together
    expect(html).toContain('value="muito"')
    expect(html).toContain('value="31/02/2020"')
    expect(
      (await t.db.raw.query<{ custom: unknown }>('select custom from leads where id = $1', [leadId]))[0]!
        .custom,
    ).toEqual({})
  })

  test('valid values are coerced, stored, shown and listed, with before/after on the timeline', async () => {
    const res = await edit({
      'custom.cnpj': '12.345.678/0001-90',
      'custom.faturamento': '1.234,56',
      'custom.fundacao': '31/12/2020',
      'custom.segmento': 'varejo',
    })
    expect(res.status).toBe(303)
    const [row] = await t.db.raw.query<{ custom: unknown }>('select custom from leads where id = $1', [
      leadId,
    ])
    expect(row!.custom).toEqual({
      cnpj: '12.345.678/0001-90',
      faturamento: 1234.56,
      fundacao: '2020-12-31',
      segmento: 'Varejo',
    })
    const [act] = await t.db.raw.query<{ kind: string; data: any }>(
      "select kind, data from lead_activities where lead_id = $1 and kind = 'edited'",
      [leadId],
    )
    expect(act!.data.changes['custom.faturamento']).toEqual([null, 1234.56])
    const drawer = await a.client.page(`/pipeline/leads/${leadId}`)
    expect(drawer).toContain('data-custom-key="faturamento"')
    expect(drawer).toContain('1.234,56')
    expect(drawer).toContain('31/12/2020')
    await a.client.post('/leads/columns', { reset: '1' })
    const list = await a.client.page('/leads?q=cliente%20custom')
    expect(list).toContain('class="col-cf-cnpj"')
    expect(list).toContain('12.345.678/0001-90')
  })

  test('settings: admins define fields (422 with input kept on errors), members may not', async () => {
    expect((await mate.client.get('/settings/fields')).status).toBe(403)
    const bad = await a.client.post('/settings/fields', { label: 'Porte', type: 'select', options: '' })
    expect(bad.status).toBe(422)
    expect(await bad.text()).toContain('value="Porte"')
    const dup = await a.client.post('/settings/fields', { label: 'Outro', key: 'cnpj', type: 'text' })
    expect(dup.status).toBe(422)
    const ok = await a.client.post('/settings/fields', {
      label: 'Porte da empresa',
      type: 'multiselect',
      options: 'ME\nEPP\nGrande',
      showInList: 'on',
    })
    expect(ok.status).toBe(303)
    const page = await a.client.page('/settings/fields')
    expect(page).toContain('porte_da_empresa')
    const [def] = await t.db.raw.query<{ id: string }>("select id from custom_field_defs where key = 'cnpj'")
    // Deleting a field removes its values from every lead.
    expect((await a.client.post(`/settings/fields/${def!.id}/delete`)).status).toBe(303)
    const [row] = await t.db.raw.query<{ custom: Record<string, unknown> }>(
      'select custom from leads where id = $1',
      [leadId],
    )
    expect(row!.custom.cnpj).toBeUndefined()
    expect(row!.custom.faturamento).toBe(1234.56)
  })

  test('admins reorder fields with the up/down buttons; the first cannot go higher', async () => {
    const order = async () =>
      (
        await t.db.raw.query<{ id: string }>(
          'select id from custom_field_defs where organization_id = $1 order by position, id',
          [a.orgId],
        )
      ).map((r) => r.id)
    const before = await order()
    expect(before.length).toBeGreaterThan(2)
    const last = before.at(-1)!
    expect((await a.client.post(`/settings/fields/${last}/move`, { dir: 'up' })).status).toBe(303)
    expect(await order()).toEqual([...before.slice(0, -2), last, before.at(-2)!])
    const first = (await order())[0]!
    expect((await a.client.post(`/settings/fields/${first}/move`, { dir: 'up' })).status).toBe(303)
    expect((await order())[0]).toBe(first)
    expect((await mate.client.post(`/settings/fields/${first}/move`, { dir: 'down' })).status).toBe(403)
  })
})
