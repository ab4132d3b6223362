/**
 * LGPD: the data export holds everything about the person, and the hard delete leaves none of their
 * personal data anywhere. Completeness is checked generically: every text, varchar, json(b) and
 * text[] column of every table in the public schema is scanned (as the superuser) for the name, the
 * email and the phone digits.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { withOrg } from '../../platform/db/tenancy'
import { createChannel, inbound, receive } from '../inbox/inbox.fixtures'
import { notify } from '../notifications/notifications.usecases'
import { recordAudit } from '../orgs/orgs.audit'
import { type Member, seedLeads } from '../pipeline/pipeline.fixtures'
import { createCustomField } from './leads.custom-fields'
import { eraseLeads } from './leads.erase'

const NAME = 'Zuleide Quixabeira'
const EMAIL = 'zuleide.quixabeira@example.com'
const PHONE_TYPED = '(21) 99876-5432'
const NATIONAL = '21998765432'

let t: TestApp
let a: Member
let b: Member
let leadId: string
let otherId: string

/** Every (table, column) of the public schema whose text holds one of the needles. */
async function scan(needles: string[]) {
  const cols = await t.db.raw.query<{ table_name: string; column_name: string; udt_name: string }>(
    `select c.table_name, c.column_name, c.udt_name from information_schema.columns c
     join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
     where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
       and c.udt_name in ('text', 'varchar', 'bpchar', 'json', 'jsonb', '_text', '_varchar')`,
  )
  expect(cols.length).toBeGreaterThan(30)
  const hits: string[] = []
  for (const c of cols) {
    const expr = c.udt_name.startsWith('_')
      ? `array_to_string("${c.column_name}", ' ')`
      : `"${c.column_name}"::text`
    for (const n of needles) {
      const [r] = await t.db.raw.query<{ n: number }>(
        `select count(*)::int as n from "${c.table_name}" where ${expr} ilike $1`,
        [`%${n}%`],
      )
      if (r!.n > 0) hits.push(`${c.table_name}.${c.column_name} ~ ${n}`)
    }
  }
  return hits
}

beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Titular A' })
  b = await signUpClient(t, { orgName: 'Outro B' })
  await withOrg(t.db, { orgId: a.orgId, userId: a.userId }, (tx) =>
    createCustomField(
      tx,
      { orgId: a.orgId, userId: a.userId, role: 'owner' },
      {
        label: 'CPF',
        type: 'text',
        options: '',
        required: false,
        showInList: false,
      },
    ),
  )
  const seeded = await seedLeads(t, a, 2, (i) =>
    i === 0
      ? { fullName: NAME, email: EMAIL, phone: PHONE_TYPED, company: 'Quixabeira ME', tags: 'vip' }
      : { fullName: 'Outra Pessoa', email: 'outra@example.com' },
  )
  leadId = seeded[0]!
  otherId = seeded[1]!
  // Leave their data in every kind of place the app writes: an edit (before/after on the timeline,
  // custom field), a note quoting them, a teammate's notification and its live event, an audit entry,
  // a job payload, and the other Leads tables when they exist (duplicates, merges, capture, import).
  const [row] = await t.db.raw.query<{ version: number }>('select version from leads where id = $1', [leadId])
  expect(
    (
      await a.client.post(`/pipeline/leads/${leadId}`, {
        fullName: NAME,
        email: EMAIL,
        phone: PHONE_TYPED,
        company: 'Quixabeira Comércio',
        tags: 'vip',
        version: String(row!.version),
        _custom: '1',
        'custom.cpf': '123.456.789-09',
      })
    ).status,
  ).toBe(303)
  expect(
    (await a.client.post(`/pipeline/leads/${leadId}/notes`, { note: `Ligar para ${NAME} no ${PHONE_TYPED}` }))
      .status,
  ).toBe(303)
  expect(
    (await a.client.post(`/pipeline/leads/${otherId}/notes`, { note: `Indicada por ${NAME} (${EMAIL})` }))
      .status,
  ).toBe(303)
  await withOrg(t.db, { orgId: a.orgId, userId: a.userId }, async (tx) => {
    await notify(tx, {
      orgId: a.orgId,
      userId: a.userId,
      kind: 'lead.assigned',
      params: { name: NAME, by: 'Sistema' },
      link: `/pipeline/leads/${leadId}`,
      locale: 'pt-BR',
    } as Parameters<typeof notify>[1])
    await notify(tx, {
      orgId: a.orgId,
      userId: a.userId,
      kind: 'lead.assigned',
      params: { name: `${NAME} (cópia)` },
      link: '/leads',
      locale: 'pt-BR',
    } as Parameters<typeof notify>[1])
    await recordAudit(tx, {
      orgId: a.orgId,
      actorId: a.userId,
      action: 'lead.imported',
      targetType: 'import',
      targetId: 'x',
      after: { row: { nome: NAME, email: EMAIL, telefone: NATIONAL } },
    })
    await tx.execute(
      sql`insert into jobs (id, organization_id, name, payload) values (gen_random_uuid(), ${a.orgId}::uuid,
        'test.job', ${JSON.stringify({ email: EMAIL, phone: `+55${NATIONAL}` })}::jsonb)`,
    )
  })
  await t.db.raw.query(
    `insert into outbox_events (organization_id, version, type, payload)
     values ($1, 100000, 'test.event', $2::jsonb)`,
    [a.orgId, JSON.stringify({ text: `${NAME} respondeu`, n: 21998765432 })],
  )
  // The other Leads helpers' tables, when present in this build.
  const has = async (table: string) =>
    (
      await t.db.raw.query<{ ok: boolean }>('select to_regclass($1) is not null as ok', [`public.${table}`])
    )[0]!.ok
  if (await has('lead_duplicates'))
    await t.db.raw.query(
      `insert into lead_duplicates (id, organization_id, lead_a, lead_b, score, reasons)
       values (gen_random_uuid(), $1, least($2::uuid, $3::uuid), greatest($2::uuid, $3::uuid), 70, $4::jsonb)`,
      [a.orgId, leadId, otherId, JSON.stringify([{ field: 'name', a: NAME, b: 'Outra Pessoa' }])],
    )
  if (await has('capture_submissions')) {
    // One that became the lead, one rejected earlier (no lead) that still carries their email.
    await t.db.raw.query(
      `insert into capture_submissions (id, organization_id, payload, status, lead_id)
       values (gen_random_uuid(), $1, $2::jsonb, 'processed', $3)`,
      [a.orgId, JSON.stringify({ name: NAME, email: EMAIL, phone: PHONE_TYPED }), leadId],
    )
    await t.db.raw.query(
      `insert into capture_submissions (id, organization_id, payload, status, error)
       values (gen_random_uuid(), $1, $2::jsonb, 'rejected', $3)`,
      [a.orgId, JSON.stringify({ email: EMAIL, phone: 'abc' }), `invalid phone for ${EMAIL}`],
    )
  }
  // WhatsApp (the Inbox issue): a conversation with their message, and the raw webhook body kept
  // for replay, which quotes their number, profile name and words.
  const channelId = await createChannel(t, a.orgId)
  await receive(t.db, a.orgId, channelId, [
    inbound(`+55${NATIONAL}`, `Oi, aqui é ${NAME}`, { contactName: NAME }),
  ])
  await t.db.raw.query(
    `insert into webhook_inbox (id, organization_id, channel_id, provider, body, status)
     values (gen_random_uuid(), $1, $2, 'cloud-api', $3, 'processed')`,
    [
      a.orgId,
      channelId,
      JSON.stringify({ contacts: [{ profile: { name: NAME }, wa_id: `55${NATIONAL}` }], text: NAME }),
    ],
  )
  // Precondition: the scan finds them before the erasure (so a clean scan after means something).
  const before = await scan([NAME, EMAIL, NATIONAL])
  for (const where of [
    'messages.body',
    'conversations.contact_name',
    'webhook_inbox.body',
    'leads.full_name',
    'leads.email',
    'lead_activities.data',
    'notifications.params',
    'audit_log.after',
    'jobs.payload',
    'outbox_events.payload',
  ])
    expect(before.some((h) => h.startsWith(where))).toBe(true)
})
afterAll(() => t.close())

describe('LGPD data export', () => {
  test('admins download everything held about the person as JSON', async () => {
    const res = await a.client.get(`/leads/${leadId}/personal-data.json`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-disposition')).toContain('attachment')
    const data = (await res.json()) as any
    expect(data.lead).toMatchObject({ id: leadId, full_name: NAME, email: EMAIL, phone: `+55${NATIONAL}` })
    expect(data.customFields).toEqual([{ key: 'cpf', label: 'CPF', type: 'text', value: '123.456.789-09' }])
    expect(data.timeline.map((x: any) => x.kind)).toEqual(
      expect.arrayContaining(['created', 'edited', 'note']),
    )
    expect(JSON.stringify(data.timeline)).toContain(`Ligar para ${NAME}`)
  })

  test('another organization gets 404 for the export and the erasure, and its use case erases nothing', async () => {
    expect((await b.client.get(`/leads/${leadId}/personal-data.json`)).status).toBe(404)
    expect((await b.client.get(`/leads/${leadId}/erase`)).status).toBe(404)
    expect((await b.client.post(`/leads/${leadId}/erase`, { confirmName: NAME })).status).toBe(404)
    // Erasing through the use case with B's organization erases nothing either.
    expect(
      (await eraseLeads(t.db, { orgId: b.orgId, userId: b.userId }, [leadId], 'titular_request')).erased,
    ).toBe(0)
    expect((await t.db.raw.query('select 1 from leads where id = $1', [leadId])).length).toBe(1)
  })
})

describe('LGPD hard delete', () => {
  test('a wrong typed name is refused (422) and deletes nothing', async () => {
    const page = await a.client.page(`/leads/${leadId}/erase`)
    expect(page).toContain('data-testid="erase-form"')
    const res = await a.client.post(`/leads/${leadId}/erase`, { confirmName: 'Zuleide' })
    expect(res.status).toBe(422)
    expect(await res.text()).toContain('value="Zuleide"')
    expect((await t.db.raw.query('select 1 from leads where id = $1', [leadId])).length).toBe(1)
  })

  test('after the erasure no table holds their name, email or phone; the audit entry has none', async () => {
    const res = await a.client.post(`/leads/${leadId}/erase`, { confirmName: `  ${NAME.toLowerCase()} ` })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/leads')
    const left = await scan([NAME, EMAIL, NATIONAL, 'Quixabeira', '123.456.789-09'])
    expect(left).toEqual([])
    const [audit] = await t.db.raw.query<{ actor_user_id: string; before: unknown; after: unknown }>(
      "select actor_user_id, before, after from audit_log where action = 'lead.erased' and target_id = $1",
      [leadId],
    )
    expect(audit).toEqual({ actor_user_id: a.userId, before: null, after: { legalBasis: 'titular_request' } })
    // The rest survived: the other lead, its note (scrubbed), the notification not about them.
    const [note] = await t.db.raw.query<{ data: { body: string } }>(
      "select data from lead_activities where lead_id = $1 and kind = 'note'",
      [otherId],
    )
    expect(note!.data.body).toBe('Indicada por [removed] ([removed])')
    expect((await t.db.raw.query('select 1 from leads where id = $1', [otherId])).length).toBe(1)
    expect((await t.db.raw.query("select 1 from notifications where link = '/leads'")).length).toBe(1)
    expect(
      (await t.db.raw.query('select 1 from jobs where organization_id = $1', [a.orgId])).length,
    ).toBeGreaterThan(0)
    // The audit page reads the entry without personal data.
    expect(await a.client.page('/settings/audit')).toContain('excluiu definitivamente o lead')
    expect((await a.client.get(`/pipeline/leads/${leadId}`)).status).toBe(404)
  })
})
