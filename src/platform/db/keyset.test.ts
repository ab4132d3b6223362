import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { AUDIT_PAGE, listAudit } from '../../modules/orgs/orgs.audit'
import { nextCursor, parseCursor } from '../../shared/cursor'
import { withOrg } from './tenancy'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

describe('keyset pagination', () => {
  test('pages through rows sharing one timestamp with no gap and no repeat', async () => {
    const a = await signUpClient(t)
    const total = AUDIT_PAGE * 2 + 7
    // Same created_at for all: only the id tie-breaker keeps the pages apart.
    await t.db.raw.query(
      `insert into audit_log (id, organization_id, action, created_at)
       select gen_random_uuid(), $1, 'test.row', '2026-01-01T00:00:00Z' from generate_series(1, $2)`,
      [a.orgId, total],
    )
    const seen: string[] = []
    let cursor: string | undefined
    let pages = 0
    do {
      const { rows, more } = await withOrg(t.db, a.orgId, (tx) => listAudit(tx, parseCursor(cursor)))
      seen.push(...rows.map((r) => r.id))
      cursor = nextCursor(rows, more)
      pages++
    } while (cursor && pages < 10)
    expect(pages).toBe(3)
    expect(new Set(seen).size).toBe(seen.length)
    expect(seen.length).toBe(total + 1) // plus the sign-up's org.created
  })
})
