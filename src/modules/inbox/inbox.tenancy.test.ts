/**
 * Cross-tenant isolation of the inbox: organization B gets 404 for A's conversations on every route
 * (page, messages, send, assign, close, lead section), sees none of them in its list, cannot point a
 * message of its own at A's conversation, and none of A's inbox events are readable as B.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { rowsOf } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { readEvents } from '../../platform/events/events.outbox'
import type { Member } from '../pipeline/pipeline.fixtures'
import { createChannel, inbound, receive } from './inbox.fixtures'

let t: TestApp
let a: Member
let b: Member
let aConv: string
let aLead: string
let aMessage: string

beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Tenant A' })
  b = await signUpClient(t, { orgName: 'Tenant B' })
  const ch = await createChannel(t, a.orgId)
  await createChannel(t, b.orgId)
  await receive(t.db, a.orgId, ch, [
    inbound('+5511987650001', 'segredo de A', { contactName: 'Cliente de A' }),
  ])
  const [c] = await t.db.raw.query<{ id: string; lead_id: string }>('select id, lead_id from conversations')
  aConv = c!.id
  aLead = c!.lead_id
  aMessage = (await t.db.raw.query<{ id: string }>('select id from messages'))[0]!.id
}, 300_000)
afterAll(() => t.close())

describe('organization B and A’s conversations', () => {
  test('every inbox route answers 404 for A’s conversation and changes nothing', async () => {
    for (const path of [`/inbox/c/${aConv}`, `/inbox/c/${aConv}/messages`, `/inbox/lead/${aLead}`])
      expect((await b.client.get(path)).status).toBe(404)
    for (const [path, form] of [
      [`/inbox/c/${aConv}/send`, { body: 'intruso' }],
      [`/inbox/c/${aConv}/assign`, { assigneeId: b.userId }],
      [`/inbox/c/${aConv}/close`, {}],
      [`/inbox/c/${aConv}/m/${aMessage}/retry`, {}],
    ] as const)
      expect((await b.client.post(path, form)).status).toBe(404)
    const [c] = await t.db.raw.query<{ status: string; assignee_id: string | null }>(
      'select status, assignee_id from conversations where id = $1',
      [aConv],
    )
    expect(c).toEqual({ status: 'open', assignee_id: null })
    expect((await t.db.raw.query("select 1 from messages where direction = 'out'")).length).toBe(0)
    // A itself can open it.
    expect((await a.client.get(`/inbox/c/${aConv}`)).status).toBe(200)
  })

  test('B’s inbox lists none of A’s conversations, even when searching for them', async () => {
    const page = await b.client.page('/inbox?status=all&q=Cliente')
    expect(page).not.toContain(aConv)
    expect(page).not.toContain('segredo de A')
  })

  test('as the app role, B neither reads A’s rows nor attaches a message to A’s conversation', async () => {
    const asB = <T>(fn: Parameters<typeof withOrg<T>>[2]) =>
      withOrg(t.db, { orgId: b.orgId, userId: b.userId }, fn)
    const seen = await asB(async (tx) =>
      rowsOf(await tx.execute(sql`select id from conversations union all select id from messages`)),
    )
    expect(seen).toEqual([])
    const [bChannel] = await t.db.raw.query<{ id: string }>(
      'select id from whatsapp_channels where organization_id = $1',
      [b.orgId],
    )
    const err = await asB((tx) =>
      tx.execute(sql`insert into messages (id, organization_id, channel_id, conversation_id, direction, type, body)
        values (${Bun.randomUUIDv7()}::uuid, ${b.orgId}::uuid, ${bChannel!.id}::uuid, ${aConv}::uuid, 'out', 'text', 'x')`),
    ).catch((e) => e)
    expect(String((err as { cause?: Error })?.cause?.message ?? err)).toMatch(/foreign key/)
  })

  test('A’s inbox events are never readable as B', async () => {
    const events = await withOrg(t.db, { orgId: b.orgId, userId: b.userId }, (tx) =>
      readEvents(tx, { after: 0, limit: 1000 }),
    )
    expect(events.filter((e) => e.type.startsWith('inbox.'))).toEqual([])
    const aEvents = await withOrg(t.db, { orgId: a.orgId, userId: a.userId }, (tx) =>
      readEvents(tx, { after: 0, limit: 1000 }),
    )
    expect(aEvents.some((e) => e.type === 'inbox.message')).toBe(true)
  })
})
