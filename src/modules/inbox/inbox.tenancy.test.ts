/**
 * Cross-tenant isolation of the inbox and its WhatsApp tables. Both organizations have a row in
 * every inbox/WhatsApp table, written through the real paths (inbox.tenancy.fixtures.ts). Organization
 * B gets 404 for A's conversations, messages, files, channels and quick replies on every route, sees
 * none of them in its pages, cannot point a message of its own at A's conversation, and none of A's
 * inbox events are readable as B; as the app role with raw SQL, B reads, changes, deletes and inserts
 * none of A's rows in any of those tables.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { rowsOf } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { readEvents } from '../../platform/events/events.outbox'
import type { Member } from '../pipeline/pipeline.fixtures'
import { INBOX_TENANT_TABLES, type InboxTenant, seedInboxTenant } from './inbox.tenancy.fixtures'

let t: TestApp
let a: Member
let b: Member
let aRows: InboxTenant
let bRows: InboxTenant

beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Tenant A' })
  b = await signUpClient(t, { orgName: 'Tenant B' })
  aRows = await seedInboxTenant(t, a, 'A')
  bRows = await seedInboxTenant(t, b, 'B')
}, 300_000)
afterAll(() => t.close())

const asB = <T>(fn: Parameters<typeof withOrg<T>>[2]) =>
  withOrg(t.db, { orgId: b.orgId, userId: b.userId }, fn)
const HX = { 'hx-request': 'true' }

/** Every row A has in the inbox/WhatsApp tables, as the superuser sees them (to compare before/after). */
async function snapshotOfA() {
  const out: Record<string, unknown[]> = {}
  for (const table of INBOX_TENANT_TABLES)
    out[table] = await t.db.raw.query(
      `select to_jsonb(x) as row from ${table} x where organization_id = $1 order by to_jsonb(x)::text`,
      [a.orgId],
    )
  return out
}

class Rollback {
  constructor(readonly rows: unknown[]) {}
}
/** Runs a statement as B and rolls it back (B's own rows stay as they were), returning its rows. */
async function asBRolledBack(text: string) {
  const err = await asB(async (tx) => {
    throw new Rollback(rowsOf(await tx.execute(sql.raw(text))))
  }).catch((e) => e)
  if (!(err instanceof Rollback)) throw err
  return err.rows as Array<{ org: string }>
}

/** The database's own message, whatever wraps it (Drizzle adds a cause). */
async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: any) => e,
  )
  return err ? `${err.message} ${err.cause?.message ?? ''}` : 'no error'
}

describe('organization B and A’s conversations, through the routes', () => {
  test('every inbox route answers 404 for A’s ids and changes nothing', async () => {
    const before = await snapshotOfA()
    const { conversation: conv, lead, message, mediaFile, quickReply } = aRows
    for (const path of [
      `/inbox/c/${conv}`,
      `/inbox/c/${conv}/messages`,
      `/inbox/lead/${lead}`,
      `/inbox/media/${mediaFile}`,
    ])
      expect({ path, status: (await b.client.get(path)).status }).toEqual({ path, status: 404 })
    // The live "sending paused" note, asked for as the fragment htmx loads.
    expect((await b.client.get(`/inbox/c/${conv}/channel-note`, HX)).status).toBe(404)
    for (const [path, form] of [
      [`/inbox/c/${conv}/send`, { body: 'intruso' }],
      [`/inbox/c/${conv}/assign`, { assigneeId: b.userId }],
      [`/inbox/c/${conv}/close`, {}],
      [`/inbox/c/${conv}/reopen`, {}],
      [`/inbox/c/${conv}/m/${message}/retry`, {}],
      [`/settings/quick-replies/${quickReply}/delete`, {}],
      // "Write as a customer" into A's sandbox channel.
      [
        '/inbox/sandbox/inbound',
        { channelId: aRows.sandboxChannel, from: '+5511987659999', text: 'forjada em A' },
      ],
    ] as const)
      expect({ path, status: (await b.client.post(path, form)).status }).toEqual({ path, status: 404 })
    expect(await snapshotOfA()).toEqual(before)
    expect(
      (await t.db.raw.query("select 1 from messages where direction = 'out' or body = 'forjada em A'"))
        .length,
    ).toBe(0)
    // A itself can open them (the ids are real).
    expect((await a.client.get(`/inbox/c/${conv}`)).status).toBe(200)
    expect((await a.client.get(`/inbox/media/${mediaFile}`)).status).toBe(200)
  })

  test('a conversation A closed cannot be reopened by B', async () => {
    expect((await a.client.post(`/inbox/c/${aRows.conversation}/close`)).status).toBe(303)
    expect((await b.client.post(`/inbox/c/${aRows.conversation}/reopen`)).status).toBe(404)
    const [c] = await t.db.raw.query<{ status: string }>('select status from conversations where id = $1', [
      aRows.conversation,
    ])
    expect(c!.status).toBe('closed')
    expect((await a.client.post(`/inbox/c/${aRows.conversation}/reopen`)).status).toBe(303)
  })

  test('B’s inbox, its live list fragment and its quick replies show only B’s rows', async () => {
    for (const path of ['/inbox?status=all&q=Cliente', '/inbox/list?status=all', '/settings/quick-replies']) {
      const page = await b.client.page(path)
      expect(page).toContain(path === '/settings/quick-replies' ? 'preco-b' : 'Cliente de B')
      for (const leak of [aRows.conversation, aRows.secret, 'Cliente de A', 'preco-a', aRows.quickReply])
        expect({ path, leak, found: page.includes(leak) }).toEqual({ path, leak, found: false })
    }
    // The list fragment, asked for with A's conversation as the active one, still lists B's only.
    const frag = await b.client.page(`/inbox/list?status=all&active=${aRows.conversation}`)
    expect(frag).not.toContain(aRows.secret)
    expect(frag).toContain('Cliente de B')
  })

  test('A’s inbox events are never readable as B', async () => {
    const events = await asB((tx) => readEvents(tx, { after: 0, limit: 1000 }))
    expect(events.filter((e) => JSON.stringify(e.payload).includes(aRows.conversation))).toEqual([])
    expect(events.some((e) => e.type === 'inbox.message')).toBe(true) // B's own
    const aEvents = await withOrg(t.db, { orgId: a.orgId, userId: a.userId }, (tx) =>
      readEvents(tx, { after: 0, limit: 1000 }),
    )
    expect(aEvents.some((e) => e.type === 'inbox.message')).toBe(true)
  })
})

describe('organization B and A’s rows, as the app role with raw SQL', () => {
  test('B reads none of A’s rows in any inbox/WhatsApp table, even asking by A’s id', async () => {
    for (const table of INBOX_TENANT_TABLES) {
      const [aN] = await t.db.raw.query<{ n: number }>(
        `select count(*)::int as n from ${table} where organization_id = $1`,
        [a.orgId],
      )
      expect({ table, aHasRows: aN!.n > 0 }).toEqual({ table, aHasRows: true })
      const seen = await asB(async (tx) =>
        rowsOf<{ n: number }>(
          await tx.execute(
            sql.raw(`select count(*)::int as n from ${table} where organization_id = '${a.orgId}'`),
          ),
        ),
      )
      expect({ table, n: seen[0]!.n }).toEqual({ table, n: 0 })
    }
  })

  // What B tries on each table: an UPDATE of a column the app role may write, and a DELETE, which is
  // either allowed (and then matches none of A's rows) or not granted at all.
  const attempts: Array<{ table: string; set: string; deletable: boolean }> = [
    { table: 'whatsapp_channels', set: "name = 'pwned', paused = true", deletable: true },
    { table: 'whatsapp_auth_state', set: "value_enc = 'pwned'", deletable: true },
    { table: 'whatsapp_templates', set: "body = 'pwned', status = 'REJECTED'", deletable: true },
    { table: 'quick_replies', set: "body = 'pwned'", deletable: true },
    { table: 'webhook_inbox', set: "status = 'failed', error = 'pwned'", deletable: false },
    { table: 'conversations', set: "status = 'closed', contact_name = 'pwned'", deletable: false },
    { table: 'messages', set: "body = 'pwned', status = 'failed'", deletable: false },
    { table: 'media_files', set: 'message_id = null', deletable: false },
  ]

  test('B’s UPDATE and DELETE of A’s rows change nothing in any inbox/WhatsApp table', async () => {
    const before = await snapshotOfA()
    for (const { table, set, deletable } of attempts) {
      const updated = await asB(async (tx) =>
        rowsOf(
          await tx.execute(
            sql.raw(`update ${table} set ${set} where organization_id = '${a.orgId}' returning 1`),
          ),
        ),
      )
      expect({ table, updated: updated.length }).toEqual({ table, updated: 0 })
      // Every row B can reach, not only by A's organization: B's own, none of A's.
      const all = await asBRolledBack(
        `update ${table} set ${set} where true returning organization_id::text as org`,
      )
      expect({ table, orgs: [...new Set(all.map((r) => r.org))] }).toEqual({ table, orgs: [b.orgId] })
      if (deletable) {
        const deleted = await asB(async (tx) =>
          rowsOf(
            await tx.execute(
              sql.raw(`delete from ${table} where organization_id = '${a.orgId}' returning 1`),
            ),
          ),
        )
        expect({ table, deleted: deleted.length }).toEqual({ table, deleted: 0 })
      } else {
        const msg = await refusal(asB((tx) => tx.execute(sql.raw(`delete from ${table} where true`))))
        expect({ table, msg }).toEqual({ table, msg: expect.stringMatching(/permission denied/) })
      }
    }
    expect(await snapshotOfA()).toEqual(before)
  })

  test('B cannot insert a row carrying A’s organization_id', async () => {
    const orgA = a.orgId
    const inserts: Record<string, string> = {
      whatsapp_channels: `insert into whatsapp_channels (id, organization_id, name, provider, status)
        values ('${Bun.randomUUIDv7()}', '${orgA}', 'forged', 'sandbox', 'open')`,
      quick_replies: `insert into quick_replies (id, organization_id, shortcut, body)
        values ('${Bun.randomUUIDv7()}', '${orgA}', 'forged', 'forged')`,
      webhook_inbox: `insert into webhook_inbox (id, organization_id, channel_id, provider, body, headers)
        values ('${Bun.randomUUIDv7()}', '${orgA}', '${aRows.cloudChannel}', 'cloud-api', '{}', '{}')`,
      whatsapp_auth_state: `insert into whatsapp_auth_state (organization_id, channel_id, key, value_enc)
        values ('${orgA}', '${aRows.baileysChannel}', 'forged', 'x')`,
      messages: `insert into messages (id, organization_id, channel_id, conversation_id, direction, type, body)
        values ('${Bun.randomUUIDv7()}', '${orgA}', '${aRows.cloudChannel}', '${aRows.conversation}', 'in', 'text', 'forged')`,
      media_files: `insert into media_files (id, organization_id, mime, size, sha256)
        values ('${Bun.randomUUIDv7()}', '${orgA}', 'image/png', 1, '${'0'.repeat(64)}')`,
    }
    for (const [table, text] of Object.entries(inserts)) {
      const msg = await refusal(asB((tx) => tx.execute(sql.raw(text))))
      expect({ table, msg }).toEqual({ table, msg: expect.stringMatching(/row-level security/) })
    }
  })

  test('B cannot attach a message of its own to A’s conversation, nor move its rows into A', async () => {
    const msg = await refusal(
      asB((tx) =>
        tx.execute(sql`insert into messages (id, organization_id, channel_id, conversation_id, direction, type, body)
          values (${Bun.randomUUIDv7()}::uuid, ${b.orgId}::uuid, ${bRows.cloudChannel}::uuid, ${aRows.conversation}::uuid, 'out', 'text', 'x')`),
      ),
    )
    expect(msg).toMatch(/foreign key/)
    for (const table of ['quick_replies', 'whatsapp_channels', 'conversations']) {
      const moved = await refusal(
        asB((tx) => tx.execute(sql.raw(`update ${table} set organization_id = '${a.orgId}'`))),
      )
      expect({ table, moved }).toEqual({
        table,
        moved: expect.stringMatching(/row-level security|permission denied/),
      })
    }
  })
})
