/**
 * Imports and exports across tenants, and the export route's filters and streaming: organization B
 * gets 404 for A's import pages, preview, start and report, cannot start A's import, and B's export
 * holds none of A's leads. The export follows the list's filters and pages through many leads.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { parse } from 'csv-parse/sync'
import { sql } from 'drizzle-orm'
import { BASE, createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { rowsOf } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { silentLogger } from '../../platform/events/events.pg'
import { createWorker } from '../../platform/jobs/jobs.worker'
import { translator } from '../../shared/i18n'
import type { Member } from '../pipeline/pipeline.fixtures'
import { captureLead } from './leads.capture'
import { exportCsv } from './leads.export'
import { findImport, leadImportJob } from './leads.import'

let t: TestApp
let a: Member
let b: Member
let aImport: string

const cookie = (m: Member) => [...m.client.jar].map(([k, v]) => `${k}=${v}`).join('; ')
async function upload(m: Member, name: string, text: string) {
  const fd = new FormData()
  fd.append('file', new File([text], name, { type: 'text/csv' }))
  const res = await t.handle(
    new Request(`${BASE}/leads/import`, {
      method: 'POST',
      body: fd,
      headers: { cookie: cookie(m), origin: BASE },
      redirect: 'manual',
    }),
  )
  expect(res.status).toBe(303)
  return res.headers.get('location')!.split('/').pop()!
}
const decodeCsv = async (res: Response) =>
  new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer())

beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Tenant A' })
  b = await signUpClient(t, { orgName: 'Tenant B' })
  aImport = await upload(a, 'segredo-a.csv', 'nome;telefone\nSegredo de A;11 98888-7777\n;123\n')
  const form = {
    'map.0': 'fullName',
    'map.1': 'phone',
    dedup: 'auto',
    target: '',
    defaultSource: '',
    defaultTags: '',
  }
  expect((await a.client.post(`/leads/import/${aImport}/start`, form)).status).toBe(303)
  await createWorker({ db: t.db, log: silentLogger, jobs: [leadImportJob] }).runDue()
  await withOrg(t.db, { orgId: b.orgId, userId: b.userId }, (tx) =>
    captureLead(
      tx,
      { fullName: 'Lead de B', email: 'b@example.com' },
      { actorId: b.userId, channel: 'manual' },
    ),
  )
})
afterAll(() => t.close())

describe("B cannot reach A's imports", () => {
  test("every import URL of A's is a 404 for B, and works for A", async () => {
    expect((await a.client.get(`/leads/import/${aImport}`)).status).toBe(200)
    expect((await a.client.get(`/leads/import/${aImport}/report.csv`)).status).toBe(200)
    expect((await b.client.get(`/leads/import/${aImport}`)).status).toBe(404)
    expect((await b.client.get(`/leads/import/${aImport}/report.csv`)).status).toBe(404)
    expect((await b.client.post(`/leads/import/${aImport}/preview`, { 'map.0': 'fullName' })).status).toBe(
      404,
    )
    expect((await b.client.post(`/leads/import/${aImport}/start`, { 'map.0': 'fullName' })).status).toBe(404)
    expect((await b.client.get('/leads/import/not-a-uuid')).status).toBe(404)
    // B's history does not list it.
    expect(await b.client.page('/leads/import')).not.toContain('segredo-a.csv')
    expect(await a.client.page('/leads/import')).toContain('segredo-a.csv')
  })

  test("B cannot start A's draft import, even knowing its id", async () => {
    const draft = await upload(a, 'rascunho-a.csv', 'nome\nOutro segredo\n')
    const res = await b.client.post(`/leads/import/${draft}/start`, { 'map.0': 'fullName', dedup: 'auto' })
    expect(res.status).toBe(404)
    const imp = await withOrg(t.db, { orgId: a.orgId, userId: a.userId }, (tx) => findImport(tx, draft))
    expect(imp!.status).toBe('draft')
    // And not through SQL either: RLS hides A's chunks and report rows from B.
    const seen = await withOrg(t.db, { orgId: b.orgId, userId: b.userId }, async (tx) => {
      return rowsOf<{ n: number }>(
        await tx.execute(
          sql`select (select count(*) from lead_import_chunks)::int + (select count(*) from lead_import_rows)::int
            + (select count(*) from lead_imports)::int as n`,
        ),
      )[0]!.n
    })
    expect(seen).toBe(0)
  })

  test("B's export has none of A's leads; A's has A's", async () => {
    const bCsv = await decodeCsv(await b.client.get('/leads/export.csv'))
    expect(bCsv).toContain('Lead de B')
    expect(bCsv).not.toContain('Segredo de A')
    const aCsv = await decodeCsv(await a.client.get('/leads/export.csv'))
    expect(aCsv).toContain('Segredo de A')
    expect(aCsv).not.toContain('Lead de B')
  })
})

describe('GET /leads/export.csv', () => {
  test('streams a BOM + `;` CSV with the list filters; a bad separator is a 400', async () => {
    await withOrg(t.db, { orgId: a.orgId, userId: a.userId }, async (tx) => {
      await captureLead(
        tx,
        {
          fullName: 'Márcia Gonçalves',
          phone: '21 99999-1234',
          value: '2.500,50',
          tags: ['vip'],
          source: 'Feira',
        },
        { actorId: a.userId, channel: 'manual' },
      )
      await captureLead(
        tx,
        { fullName: '=cmd|calc', email: 'x@example.com' },
        { actorId: a.userId, channel: 'manual' },
      )
    })
    const res = await a.client.get('/leads/export.csv?tag=vip')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="leads-\d{4}-\d{2}-\d{2}\.csv"$/,
    )
    const bytes = new Uint8Array(await res.arrayBuffer())
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    const rows: string[][] = parse(new TextDecoder().decode(bytes), { delimiter: ';' })
    expect(rows.length).toBe(2)
    expect(rows[1]!.slice(0, 9)).toEqual([
      'Márcia Gonçalves',
      '',
      '(21) 99999-1234',
      '',
      '',
      '2500,50',
      'BRL',
      'Feira',
      'vip',
    ])
    // Accent-free search, like the list; a formula-looking name is neutralised for spreadsheets.
    const search = await decodeCsv(await a.client.get('/leads/export.csv?q=marcia&sep=comma'))
    expect(search.split('\r\n')[1]).toStartWith('Márcia Gonçalves,')
    const all = await decodeCsv(await a.client.get('/leads/export.csv'))
    expect(all).toContain("'=cmd|calc")
    expect((await a.client.get('/leads/export.csv?sep=pipe')).status).toBe(400)
  })

  test('pages through every lead by keyset (page size 7 over 30 leads): each exactly once', async () => {
    const c = await signUpClient(t, { orgName: 'Muitos C' })
    await withOrg(t.db, { orgId: c.orgId, userId: c.userId }, async (tx) => {
      for (let i = 0; i < 30; i++)
        await captureLead(
          tx,
          { fullName: `Pessoa ${i}` },
          { actorId: c.userId, channel: 'manual', dedup: 'off' },
        )
    })
    const pieces: string[] = []
    const pages: number[] = []
    for await (const piece of exportCsv((fn) => withOrg(t.db, { orgId: c.orgId, userId: c.userId }, fn), {
      query: { filters: {} },
      scope: { userId: c.userId, timezone: 'America/Sao_Paulo' },
      locale: 'en',
      t: translator('en'),
      delimiter: ',',
      pageSize: 7,
      onPage: (n) => pages.push(n),
    }))
      pieces.push(piece)
    expect(pages).toEqual([7, 7, 7, 7, 2])
    const rows: string[][] = parse(pieces.join('').slice(1), { delimiter: ',' })
    expect(rows[0]!.slice(0, 2)).toEqual(['Name', 'Email'])
    const names = rows.slice(1).map((r) => r[0])
    expect(names.length).toBe(30)
    expect(new Set(names).size).toBe(30)
  })
})
