/**
 * The hot routes' session lookup inside the tenant transaction (`withOrgRequest`): one statement
 * less per request, and exactly `requireOrg`'s answers in every case the shortcut does not cover.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { statementRecorder } from '../../../test/statements'
import { openSessionInTx, SESSION_POLICY } from '../../modules/auth/auth.sessions'
import {
  firstPipeline,
  leadRow,
  type Member,
  seedLeads,
  stagesOf,
} from '../../modules/pipeline/pipeline.fixtures'
import { hashToken } from '../crypto/tokens'
import { rowsOf } from '../db/client'
import { silentLogger } from '../log/logger'
import { type AppDeps, withOrgRequest } from './context'

let t: TestApp
let deps: AppDeps
let counted: ReturnType<typeof statementRecorder>['during']

beforeAll(async () => {
  t = await createTestApp()
  deps = { config: t.config, db: t.db, log: silentLogger, mailer: t.mailer }
  counted = statementRecorder(t.db).during
})
afterAll(() => t.close())

const tokenOf = (m: Member) => m.client.jar.get('loved_session')!
const sessionRow = async (m: Member) =>
  (
    await t.db.raw.query<{ expires_at: Date; active_org_id: string | null }>(
      'select expires_at, active_org_id from sessions where id = $1',
      [hashToken(tokenOf(m))],
    )
  )[0]

const moveJson = (m: Member, leadId: string, stageId: string, version: number) =>
  m.client.post(
    `/pipeline/leads/${leadId}/move`,
    { stageId, version: String(version) },
    { accept: 'application/json' },
  )

describe('the session looked up in the tenant transaction', () => {
  test('a board request and a move are 2 statements each, the first one looking the session up', async () => {
    const a = await signUpClient(t, { orgName: 'Fast A' })
    const [leadId] = await seedLeads(t, a, 1)
    const board = await counted(() => a.client.get('/pipeline'))
    expect(board.value.status).toBe(200)
    expect(await board.value.text()).toContain('Lead 1')
    expect(board.statements).toHaveLength(2)
    expect(board.statements[0]).toContain('loved_session_lookup')
    expect(board.statements[0]).toContain("set_config('role'")

    const stages = await stagesOf(t.db, a.orgId)
    const move = await counted(() => moveJson(a, leadId!, stages[1]!.id, 1))
    expect(move.value.status).toBe(200)
    expect(move.statements).toHaveLength(2)
    expect((await leadRow(t.db, leadId!))!.stage_id).toBe(stages[1]!.id)

    const card = await counted(() => a.client.get(`/pipeline/leads/${leadId}/card`))
    expect(card.value.status).toBe(200)
    expect(card.statements[0]).toContain('loved_session_lookup')
  })

  test('a session due for its expiry slide takes the ordinary path: expiry moved, cookie sent again', async () => {
    const a = await signUpClient(t, { orgName: 'Slide A' })
    // Less than half of the idle window left: the lookup must write, which the shortcut never does.
    const soon = new Date(Date.now() + SESSION_POLICY.browser.idle / 4)
    await t.db.raw.query('update sessions set expires_at = $2, remember = false where id = $1', [
      hashToken(tokenOf(a)),
      soon.toISOString(),
    ])
    const res = await counted(() => a.client.get('/pipeline'))
    expect(res.value.status).toBe(200)
    expect(res.value.headers.getSetCookie().some((c) => c.startsWith(`loved_session=${tokenOf(a)}`))).toBe(
      true,
    )
    expect(new Date((await sessionRow(a))!.expires_at).getTime()).toBeGreaterThan(soon.getTime() + 60_000)
    // The rolled-back attempt, then the lookup, its write, the binding and the board.
    expect(res.statements.filter((q) => q.includes('loved_session_lookup'))).toHaveLength(2)
  })

  test('an expired session gets the login page and a cleared cookie, and its row is deleted', async () => {
    const a = await signUpClient(t, { orgName: 'Expired A' })
    const token = tokenOf(a)
    await t.db.raw.query("update sessions set expires_at = now() - interval '1 minute' where id = $1", [
      hashToken(token),
    ])
    const res = await a.client.get('/pipeline')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/login?next=%2Fpipeline')
    expect(res.headers.getSetCookie().some((c) => /^loved_session=;.*Max-Age=0/i.test(c))).toBe(true)
    expect((await t.db.raw.query('select 1 from sessions where id = $1', [hashToken(token)])).length).toBe(0)
    // A move with it is refused the same way, and changes nothing.
    const [leadId] = await seedLeads(t, a, 1)
    const stages = await stagesOf(t.db, a.orgId)
    const move = await t.handle(
      new Request(`${t.config.baseUrl.origin}/pipeline/leads/${leadId}/move`, {
        method: 'POST',
        headers: {
          cookie: `loved_session=${token}`,
          origin: t.config.baseUrl.origin,
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ stageId: stages[1]!.id, version: '1' }),
      }),
    )
    expect(move.status).toBe(303)
    expect((await leadRow(t.db, leadId!))!.stage_id).toBe(stages[0]!.id)
  })

  test("a user removed from the session's organization gets their other one, never the old board", async () => {
    const a = await signUpClient(t, { orgName: 'Left A' })
    const b = await signUpClient(t, { orgName: 'Kept B' })
    await seedLeads(t, a, 1, () => ({ fullName: 'Only in A' }))
    await seedLeads(t, b, 1, () => ({ fullName: 'Only in B' }))
    await t.db.raw.query(
      "insert into organization_members (organization_id, user_id, role) values ($1, $2, 'member')",
      [b.orgId, a.userId],
    )
    await t.db.raw.query('delete from organization_members where organization_id = $1 and user_id = $2', [
      a.orgId,
      a.userId,
    ])
    const html = await a.client.page('/pipeline')
    expect(html).toContain('Only in B')
    expect(html).not.toContain('Only in A')
    expect((await sessionRow(a))!.active_org_id).toBe(b.orgId)
  })

  test("B's session can neither fetch nor move A's card through the shortcut (404, nothing changes)", async () => {
    const a = await signUpClient(t, { orgName: 'Iso A' })
    const b = await signUpClient(t, { orgName: 'Iso B' })
    const [leadId] = await seedLeads(t, a, 1)
    const stagesB = await stagesOf(t.db, b.orgId)
    const stagesA = await stagesOf(t.db, a.orgId)
    expect((await b.client.get(`/pipeline/leads/${leadId}/card`)).status).toBe(404)
    expect((await moveJson(b, leadId!, stagesB[1]!.id, 1)).status).toBe(404)
    expect((await moveJson(b, leadId!, stagesA[1]!.id, 1)).status).toBe(404)
    expect((await b.client.get(`/pipeline/${(await firstPipeline(t.db, a.orgId)).id}`)).status).toBe(404)
    const row = await leadRow(t.db, leadId!)
    expect(row!.stage_id).toBe(stagesA[0]!.id)
    expect(row!.version).toBe(1)
  })

  test('a role that does not fit is 403 before any tenant statement runs', async () => {
    const a = await signUpClient(t, { orgName: 'Role A' })
    await t.db.raw.query("update organization_members set role = 'member' where user_id = $1", [a.userId])
    let ran = false
    const request = new Request(`${t.config.baseUrl.origin}/pipeline`, {
      headers: { cookie: `loved_session=${tokenOf(a)}` },
    })
    const attempt = await counted(() =>
      withOrgRequest(deps, request, ['owner', 'admin'], async () => {
        ran = true
      }).catch((err) => err),
    )
    expect(attempt.value.status).toBe(403)
    expect(ran).toBe(false)
    expect(attempt.statements).toHaveLength(1)
    // The same request with a role that fits runs in the session's organization.
    const ok = await withOrgRequest(deps, new Request(request), ['member'], async (r, tx) => {
      const [who] = rowsOf<{ org: string; role: string }>(
        await tx.execute("select current_setting('app.org_id') as org, current_user as role"),
      )
      return { who, orgId: r.org.orgId }
    })
    expect(ok.value.who).toEqual({ org: a.orgId, role: t.db.appRole })
    expect(ok.value.orgId).toBe(a.orgId)
  })

  test('with no session the first statement still leaves the app role bound to no organization', async () => {
    const a = await signUpClient(t, { orgName: 'None A' })
    await seedLeads(t, a, 2)
    const seen = await t.db.drizzle
      .transaction(async (tx) => {
        const auth = await openSessionInTx(tx, t.db.appRole, 'a'.repeat(32))
        const [row] = rowsOf<{ role: string; leads: number }>(
          await tx.execute('select current_user as role, (select count(*)::int from leads) as leads'),
        )
        throw { auth, row }
      })
      .catch((e) => e)
    expect(seen.auth).toBeNull()
    expect(seen.row).toEqual({ role: t.db.appRole, leads: 0 })
  })
})
