import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { INBOX_TENANT_TABLES, seedInboxTenant } from '../../modules/inbox/inbox.tenancy.fixtures'
import { rowsOf } from './client'
import { assertAppRoleIsolated, TenancyError, withOrg, withSystem } from './tenancy'

let t: TestApp
let a: Awaited<ReturnType<typeof signUpClient>>
let b: Awaited<ReturnType<typeof signUpClient>>
let tenantTables: string[]

beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Tenant A' })
  b = await signUpClient(t, { orgName: 'Tenant B' })
  // Give A a row in every foundation tenant table: members, invitations, audit (via the routes).
  const res = await a.client.post('/settings/members/invite', {
    email: 'a-invitee@example.com',
    role: 'member',
  })
  expect(res.status).toBe(200)
  // And in every inbox and WhatsApp table (channels, webhooks, conversations, messages, media…).
  await seedInboxTenant(t, a)
  tenantTables = (
    await t.db.raw.query<{ relname: string }>(`
      select c.relname from pg_class c
      join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
      join pg_attribute a on a.attrelid = c.oid and a.attname = 'organization_id'
      where c.relkind = 'r' order by 1`)
  ).map((r) => r.relname)
}, 300_000)
afterAll(() => t.close())

const asB = <T>(fn: Parameters<typeof withOrg<T>>[2]) =>
  withOrg(t.db, { orgId: b.orgId, userId: b.userId }, fn)
/** Drizzle wraps the driver's error: match the database's own message. */
async function failsWith(p: Promise<unknown>, re: RegExp) {
  const err = await p.then(
    () => null,
    (e: any) => e,
  )
  expect(err).not.toBeNull()
  expect(`${err.message} ${err.cause?.message ?? ''}`).toMatch(re)
}
const count = async (tx: any, text: ReturnType<typeof sql>) =>
  Number(rowsOf<{ n: number }>(await tx.execute(text))[0]?.n)

describe('row-level security as the app role (direct SQL)', () => {
  test('the foundation tables are all tenant tables with rows for A', async () => {
    expect(tenantTables).toEqual(expect.arrayContaining(['organization_members', 'invitations', 'audit_log']))
    for (const table of ['organization_members', 'invitations', 'audit_log']) {
      const [r] = await t.db.raw.query<{ n: number }>(
        `select count(*)::int as n from ${table} where organization_id = $1`,
        [a.orgId],
      )
      expect(r!.n).toBeGreaterThan(0)
    }
  })

  test('the inbox and WhatsApp tables are all tenant tables with rows for A', async () => {
    expect(tenantTables).toEqual(expect.arrayContaining([...INBOX_TENANT_TABLES]))
    for (const table of INBOX_TENANT_TABLES) {
      const [r] = await t.db.raw.query<{ n: number }>(
        `select count(*)::int as n from ${table} where organization_id = $1`,
        [a.orgId],
      )
      expect({ table, n: r!.n > 0 }).toEqual({ table, n: true })
    }
  })

  test("B reads none of A's rows in any tenant table, even asking by A's id", async () => {
    for (const table of tenantTables) {
      const n = await asB((tx) =>
        count(tx, sql.raw(`select count(*)::int as n from ${table} where organization_id = '${a.orgId}'`)),
      )
      expect({ table, n }).toEqual({ table, n: 0 })
    }
    const orgs = await asB(async (tx) =>
      rowsOf<{ id: string }>(await tx.execute(sql`select id from organizations`)),
    )
    expect(orgs.map((o) => o.id)).toEqual([b.orgId])
  })

  test("B changes and deletes none of A's rows", async () => {
    const updated = await asB(async (tx) =>
      rowsOf(
        await tx.execute(
          sql`update organization_members set role = 'member' where organization_id = ${a.orgId} returning 1`,
        ),
      ),
    )
    expect(updated.length).toBe(0)
    const deleted = await asB(async (tx) =>
      rowsOf(await tx.execute(sql`delete from invitations where organization_id = ${a.orgId} returning 1`)),
    )
    expect(deleted.length).toBe(0)
    const renamed = await asB(async (tx) =>
      rowsOf(
        await tx.execute(sql`update organizations set name = 'pwned' where id = ${a.orgId} returning 1`),
      ),
    )
    expect(renamed.length).toBe(0)
    const [still] = await t.db.raw.query<{ name: string }>('select name from organizations where id = $1', [
      a.orgId,
    ])
    expect(still?.name).toBe('Tenant A')
  })

  test("B cannot insert rows into A's organization", async () => {
    await failsWith(
      asB((tx) =>
        tx.execute(
          sql`insert into organization_members (organization_id, user_id, role) values (${a.orgId}, ${b.userId}, 'owner')`,
        ),
      ),
      /row-level security/,
    )
    await failsWith(
      asB((tx) =>
        tx.execute(
          sql`insert into audit_log (id, organization_id, action) values (${Bun.randomUUIDv7()}, ${a.orgId}, 'forged')`,
        ),
      ),
      /row-level security/,
    )
  })

  test("B cannot move its own rows into A's organization", async () => {
    await failsWith(
      asB((tx) =>
        tx.execute(
          sql`update organization_members set organization_id = ${a.orgId} where user_id = ${b.userId}`,
        ),
      ),
      /row-level security/,
    )
  })

  test("B sees only its members' user rows, never A's users", async () => {
    const emails = await asB(async (tx) =>
      rowsOf<{ email: string }>(await tx.execute(sql`select email from users`)),
    )
    expect(emails.map((e) => e.email)).toEqual([b.email])
    await failsWith(
      asB((tx) => tx.execute(sql`select password_hash from users`)),
      /permission denied/,
    )
  })

  test('the app role with no organization set sees nothing', async () => {
    const n = await withSystem(t.db, async (tx) => {
      await tx.execute(sql.raw(`set local role ${t.db.appRole}`))
      return count(tx, sql`select count(*)::int as n from organization_members`)
    })
    expect(n).toBe(0)
  })

  test('the organization setting is bound as a parameter: a crafted id is refused, not interpolated', async () => {
    await expect(withOrg(t.db, "' or true --", async () => 1)).rejects.toThrow(/not a uuid/)
  })

  test('tenant transactions really run as the app role', async () => {
    const who = await asB(async (tx) =>
      rowsOf<{ u: string }>(await tx.execute(sql`select current_user as u`)),
    )
    expect(who[0]?.u).toBe(t.db.appRole)
  })
})

describe('refusing to run without isolation', () => {
  test('assertAppRoleIsolated refuses a BYPASSRLS tenant role', async () => {
    const role = `loved_bypass_${process.pid}_${Date.now().toString(36)}`
    await t.db.raw.exec(`create role ${role} nologin bypassrls`)
    try {
      const db = { ...t.db, appRole: role }
      await expect(assertAppRoleIsolated(db)).rejects.toThrow(TenancyError)
      await expect(assertAppRoleIsolated(db)).rejects.toThrow(/BYPASSRLS/)
    } finally {
      await t.db.raw.exec(`drop role ${role}`)
    }
  })

  test('assertAppRoleIsolated refuses a missing role and accepts the real one', async () => {
    await expect(assertAppRoleIsolated({ ...t.db, appRole: 'no_such_role_xyz' })).rejects.toThrow(
      /does not exist/,
    )
    await expect(assertAppRoleIsolated(t.db)).resolves.toBeUndefined()
  })
})

describe('the system role', () => {
  test('a DATABASE_URL user that cannot bypass RLS is refused with the fix in the message', async () => {
    const role = `loved_owner_${process.pid}_${Date.now().toString(36)}`
    await t.db.raw.exec(
      `create role ${role} nologin nosuperuser nobypassrls; grant ${t.db.appRole} to ${role}`,
    )
    try {
      // Run the check as that user: a transaction that switches to it first.
      await failsWith(
        withSystem(t.db, async (tx) => {
          await tx.execute(sql.raw(`set local role ${role}`))
          const fake = { ...t.db, drizzle: tx as any }
          await assertAppRoleIsolated(fake)
        }),
        new RegExp(`ALTER ROLE ${role} BYPASSRLS`),
      )
    } finally {
      await t.db.raw.exec(`drop role ${role}`)
    }
  })
})
