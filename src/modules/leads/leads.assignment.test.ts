import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { withOrg } from '../../platform/db/tenancy'
import { type Member, seedLeads } from '../pipeline/pipeline.fixtures'
import { autoAssignLead, rotation } from './leads.assignment'
import { addAssignmentRule, addMember } from './leads.scoring.fixtures'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t?.close())

const ownerOf = async (id: string) =>
  (await t.db.raw.query<{ owner_id: string | null }>('select owner_id from leads where id = $1', [id]))[0]!
    .owner_id
const assign = (m: Member, id: string) => withOrg(t.db, m, (tx) => autoAssignLead(tx, id))
const tally = (owners: (string | null)[]) => {
  const c = new Map<string | null, number>()
  for (const o of owners) c.set(o, (c.get(o) ?? 0) + 1)
  return c
}

test('rotation: the member after the last one, wrapping around', () => {
  expect(rotation(['c', 'a', 'b'], null)).toEqual(['a', 'b', 'c'])
  expect(rotation(['c', 'a', 'b'], 'a')).toEqual(['b', 'c', 'a'])
  expect(rotation(['c', 'a', 'b'], 'c')).toEqual(['a', 'b', 'c'])
  expect(rotation(['a', 'c'], 'b')).toEqual(['c', 'a']) // the last one left the team
})

describe('round-robin', () => {
  test('N leads over k members: counts differ by at most one; unavailable members are skipped', async () => {
    const m = await signUpClient(t, { orgName: 'Rodízio' })
    const team = [
      await addMember(t.db, m.orgId, 'Ana'),
      await addMember(t.db, m.orgId, 'Bia'),
      await addMember(t.db, m.orgId, 'Caio'),
    ]
    await addAssignmentRule(t.db, m, {
      name: 'Todos',
      condition: { type: 'any' },
      strategy: 'round_robin',
      members: team,
    })
    const ids = await seedLeads(t, m, 10)
    const got = []
    for (const id of ids) got.push(await assign(m, id))
    expect(got.every((g) => team.includes(g!))).toBe(true)
    const counts = [...tally(got).values()]
    expect(counts.length).toBe(3)
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
    // Consecutive leads alternate.
    for (let i = 1; i < got.length; i++) expect(got[i]).not.toBe(got[i - 1])
    for (const [i, id] of ids.entries()) expect(await ownerOf(id)).toBe(got[i]!)

    await t.db.raw.query('update organization_members set available = false where user_id = $1', [team[1]])
    const more = await seedLeads(t, m, 6)
    const next = []
    for (const id of more) next.push(await assign(m, id))
    expect(next).not.toContain(team[1])
    const c2 = tally(next)
    expect(c2.get(team[0]!)).toBe(3)
    expect(c2.get(team[2]!)).toBe(3)
  })

  test('concurrent captures take turns (the rule row is locked)', async () => {
    const m = await signUpClient(t, { orgName: 'Concorrência' })
    const team = [await addMember(t.db, m.orgId, 'Duda'), await addMember(t.db, m.orgId, 'Edu')]
    await addAssignmentRule(t.db, m, {
      name: 'Par',
      condition: { type: 'any' },
      strategy: 'round_robin',
      members: team,
    })
    const ids = await seedLeads(t, m, 12)
    const got = await Promise.all(ids.map((id) => assign(m, id)))
    const c = tally(got)
    expect(c.get(team[0]!)).toBe(6)
    expect(c.get(team[1]!)).toBe(6)
  })
})

describe('least-loaded', () => {
  test('picks the available member with the fewest open leads (closed leads do not count)', async () => {
    const m = await signUpClient(t, { orgName: 'Carga' })
    const [fe, gui, hel] = [
      await addMember(t.db, m.orgId, 'Fe'),
      await addMember(t.db, m.orgId, 'Gui'),
      await addMember(t.db, m.orgId, 'Hel'),
    ]
    // Fe has 3 open leads, Gui 1 open + 5 won, Hel 2 open.
    await seedLeads(t, m, 3, () => ({ ownerId: fe! }))
    await seedLeads(t, m, 1, () => ({ ownerId: gui! }))
    const wonStage = (
      await t.db.raw.query<{ id: string }>(
        `select id from stages where organization_id = $1 and kind = 'won'`,
        [m.orgId],
      )
    )[0]!.id
    const wonIds = await seedLeads(t, m, 5, () => ({ ownerId: gui! }))
    await t.db.raw.query('update leads set stage_id = $1 where id = any($2::uuid[])', [wonStage, wonIds])
    await seedLeads(t, m, 2, () => ({ ownerId: hel! }))
    await addAssignmentRule(t.db, m, {
      name: 'Menor carga',
      condition: { type: 'any' },
      strategy: 'least_loaded',
      members: [fe!, gui!, hel!],
    })
    const [l1, l2, l3] = await seedLeads(t, m, 3)
    expect(await assign(m, l1!)).toBe(gui!) // 1 open
    // Now Gui 2, Hel 2, Fe 3: a tie, broken in turn order after Gui.
    // Gui (just served) comes last in the turn order.
    expect(await assign(m, l2!)).toBe(hel!)
    await t.db.raw.query(
      'update organization_members set available = false where user_id = any($1::uuid[])',
      [[gui, hel]],
    )
    expect(await assign(m, l3!)).toBe(fe!)
  })
})

describe('conditions, fallback, notification', () => {
  let m: Member
  let rj: string
  let sp: string
  let fallback: string
  beforeAll(async () => {
    m = await signUpClient(t, { orgName: 'Regiões' })
    rj = await addMember(t.db, m.orgId, 'Rio Rep')
    sp = await addMember(t.db, m.orgId, 'Sampa Rep')
    fallback = await addMember(t.db, m.orgId, 'Plantão')
    await addAssignmentRule(t.db, m, {
      name: 'Rio',
      condition: { type: 'region', values: ['BR-RJ'] },
      strategy: 'round_robin',
      members: [rj],
    })
    await addAssignmentRule(t.db, m, {
      name: 'São Paulo',
      condition: { type: 'region', values: ['BR-SP'] },
      strategy: 'round_robin',
      members: [sp],
    })
    await addAssignmentRule(t.db, m, {
      name: 'Feiras',
      condition: { type: 'tag', value: 'feira' },
      strategy: 'round_robin',
      members: [sp],
    })
    await addAssignmentRule(t.db, m, {
      name: 'Resto',
      condition: { type: 'any' },
      strategy: 'round_robin',
      members: [fallback],
    })
  })

  test('region from the phone area code picks the team; the first matching rule wins', async () => {
    const [carioca, paulista, mineiro] = await seedLeads(t, m, 3, (i) => ({
      fullName: ['Carioca', 'Paulista', 'Mineiro'][i]!,
      phone: ['(21) 98765-4321', '11 3456-7890', '+55 31 9 8765 4321'][i]!,
    }))
    expect(await assign(m, carioca!)).toBe(rj)
    expect(await assign(m, paulista!)).toBe(sp)
    expect(await assign(m, mineiro!)).toBe(fallback) // BR-MG: only the fallback matches
  })

  test('a matching rule with nobody available falls through to the next; with nobody at all the lead stays unassigned', async () => {
    await t.db.raw.query('update organization_members set available = false where user_id = $1', [rj])
    const [x] = await seedLeads(t, m, 1, () => ({ phone: '21 98888-7777', tags: 'feira' }))
    expect(await assign(m, x!)).toBe(sp) // Rio is away → "Feiras"
    await t.db.raw.query(
      'update organization_members set available = false where user_id = any($1::uuid[])',
      [[sp, fallback]],
    )
    const [y] = await seedLeads(t, m, 1, () => ({ phone: '21 97777-6666' }))
    expect(await assign(m, y!)).toBeNull()
    expect(await ownerOf(y!)).toBeNull()
    await t.db.raw.query('update organization_members set available = true where organization_id = $1', [
      m.orgId,
    ])
  })

  test('an owned lead is left alone', async () => {
    const [z] = await seedLeads(t, m, 1, () => ({ ownerId: m.userId, phone: '21 96666-5555' }))
    expect(await assign(m, z!)).toBeNull()
    expect(await ownerOf(z!)).toBe(m.userId)
  })

  test('the assignee gets an in-app notification, and the timeline says which rule', async () => {
    const [w] = await seedLeads(t, m, 1, () => ({ fullName: 'Wagner <b>', phone: '21 95555-4444' }))
    expect(await assign(m, w!)).toBe(rj)
    const notes = await t.db.raw.query<{ kind: string; params: Record<string, string>; link: string }>(
      'select kind, params, link from notifications where user_id = $1 order by created_at desc limit 1',
      [rj],
    )
    expect(notes[0]).toEqual({
      kind: 'lead.assigned',
      params: { name: 'Wagner <b>', rule: 'Rio' },
      link: `/pipeline/leads/${w}`,
    })
    const [act] = await t.db.raw.query<{ actor_id: string | null; data: Record<string, unknown> }>(
      `select actor_id, data from lead_activities where lead_id = $1 and kind = 'assigned'`,
      [w],
    )
    expect(act).toEqual({
      actor_id: null,
      data: { changes: { ownerId: [null, rj] }, rule: 'Rio', auto: true },
    })
    const drawer = await m.client.page(`/pipeline/leads/${w}`)
    expect(drawer).toContain('Atribuído automaticamente a Rio Rep (regra &quot;Rio&quot;)')
  })
})

describe('settings routes and tenancy', () => {
  let a: Member
  let b: Member
  let ruleA: string
  let memberA: string
  beforeAll(async () => {
    a = await signUpClient(t, { orgName: 'Dist A' })
    b = await signUpClient(t, { orgName: 'Dist B' })
    memberA = await addMember(t.db, a.orgId, 'Vendedora A')
    ruleA = await addAssignmentRule(t.db, a, {
      name: 'Regra de A',
      condition: { type: 'any' },
      strategy: 'round_robin',
      members: [memberA],
    })
  })

  test('an admin adds a rule from the form; a missing team is a 422 that keeps the input', async () => {
    const ok = await a.client.request('POST', '/settings/assignment/rules', {
      form: {
        name: 'Google',
        condType: 'source',
        condValues: 'Google Ads',
        strategy: 'least_loaded',
        members: memberA,
      },
    })
    expect(ok.status).toBe(303)
    const page = await a.client.page('/settings/assignment')
    expect(page).toContain('Google')
    expect(page).toContain('Menor carga')
    const bad = await a.client.post('/settings/assignment/rules', {
      name: 'Sem equipe',
      condType: 'region',
      condValues: 'BR-SP',
      strategy: 'round_robin',
    })
    expect(bad.status).toBe(422)
    const html = await bad.text()
    expect(html).toContain('Escolha pelo menos um membro.')
    expect(html).toContain('value="Sem equipe"')
  })

  test("B gets 404 for A's rules and members; B's team cannot name A's member", async () => {
    const tries = [
      b.client.post(`/settings/assignment/rules/${ruleA}`, {
        name: 'x',
        condType: 'any',
        strategy: 'round_robin',
        members: b.userId,
      }),
      b.client.post(`/settings/assignment/rules/${ruleA}/active`, { active: 'false' }),
      b.client.post(`/settings/assignment/rules/${ruleA}/delete`),
      b.client.post(`/settings/assignment/members/${memberA}/availability`, { available: 'false' }),
    ]
    for (const res of await Promise.all(tries)) expect(res.status).toBe(404)
    expect(await b.client.page('/settings/assignment')).not.toContain('Regra de A')
    const cross = await b.client.post('/settings/assignment/rules', {
      name: 'Roubo',
      condType: 'any',
      strategy: 'round_robin',
      members: memberA,
    })
    expect(cross.status).toBe(422)
    const [row] = await t.db.raw.query<{ name: string; active: boolean }>(
      'select name, active from assignment_rules where id = $1',
      [ruleA],
    )
    expect(row).toEqual({ name: 'Regra de A', active: true })
    expect(
      (
        await t.db.raw.query<{ available: boolean }>(
          'select available from organization_members where user_id = $1',
          [memberA],
        )
      )[0]!.available,
    ).toBe(true)
  })

  test("A's rules never assign B's leads", async () => {
    const [bLead] = await seedLeads(t, b, 1)
    expect(await assign(b, bLead!)).toBeNull()
    expect(await ownerOf(bLead!)).toBeNull()
  })

  test('an admin marks a member away; the member can set their own availability', async () => {
    expect(
      (await a.client.post(`/settings/assignment/members/${memberA}/availability`, { available: 'false' }))
        .status,
    ).toBe(303)
    const avail = async (id: string) =>
      (
        await t.db.raw.query<{ available: boolean }>(
          'select available from organization_members where user_id = $1',
          [id],
        )
      )[0]!.available
    expect(await avail(memberA)).toBe(false)
    const before = await a.client.page('/settings/profile')
    expect(before).toContain('Disponível para leads novos')
    expect(before).toContain('name="available" value="false"')
    // The profile page's button posts the flip and comes back to the profile.
    const res = await a.client.post('/settings/availability', {
      available: 'false',
      back: '/settings/profile',
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/settings/profile')
    expect(await avail(a.userId)).toBe(false)
    const after = await a.client.page('/settings/profile')
    expect(after).toContain('Ausente: sem leads novos')
    expect(after).toContain('name="available" value="true"')
    expect(after).toContain('Voltei')
  })

  test('rule changes and availability are audited, and the audit log reads them in the reader’s language', async () => {
    const form = { name: 'Auditada', condType: 'any', strategy: 'round_robin', members: memberA }
    expect((await a.client.post('/settings/assignment/rules', form)).status).toBe(303)
    const [rule] = await t.db.raw.query<{ id: string }>('select id from assignment_rules where name = $1', [
      'Auditada',
    ])
    const id = rule!.id
    expect(
      (await a.client.post(`/settings/assignment/rules/${id}`, { ...form, name: 'Auditada 2' })).status,
    ).toBe(303)
    expect((await a.client.post(`/settings/assignment/rules/${id}/active`, { active: 'false' })).status).toBe(
      303,
    )
    expect((await a.client.post(`/settings/assignment/rules/${id}/delete`)).status).toBe(303)
    expect(
      (await a.client.post(`/settings/assignment/members/${memberA}/availability`, { available: 'true' }))
        .status,
    ).toBe(303)
    const rows = await t.db.raw.query<{
      action: string
      before: unknown
      after: unknown
      actor_user_id: string
    }>(
      `select action, before, after, actor_user_id from audit_log
       where organization_id = $1
         and (target_id = $2 or (action = 'member.availability_changed' and after->>'available' = 'true'))
       order by created_at, id`,
      [a.orgId, id],
    )
    const parse = (v: unknown) =>
      (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown> | null
    expect(rows.map((r) => r.action)).toEqual([
      'assignment_rule.created',
      'assignment_rule.updated',
      'assignment_rule.disabled',
      'assignment_rule.deleted',
      'member.availability_changed',
    ])
    expect(rows.every((r) => r.actor_user_id === a.userId)).toBe(true)
    expect(parse(rows[1]!.before)).toMatchObject({
      name: 'Auditada',
      strategy: 'round_robin',
      members: [memberA],
    })
    expect(parse(rows[1]!.after)).toMatchObject({ name: 'Auditada 2' })
    expect(parse(rows[4]!.after)).toEqual({ available: true })
    const page = await a.client.page('/settings/audit')
    expect(page).toContain('excluiu a regra de atribuição “Auditada 2”')
    expect(page).toContain('como disponível para leads novos')
  })
})
