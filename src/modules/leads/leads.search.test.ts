/**
 * Lead search from lead_search_terms (migrations/0019): the same answers as the tsvector match it
 * replaces (prefixes, every word, accents, phone digits), terms kept in step with every write of a
 * lead (create, edit, bulk tag, merge, delete, LGPD erasure), the terms index used under RLS, and
 * another organization unable to read, forge, change or delete a lead's terms.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { rowsOf } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { actorOf, blankLead, type Member, seedLeads } from '../pipeline/pipeline.fixtures'
import { updateLead } from '../pipeline/pipeline.usecases'
import { mergeLeads } from './leads.dedup'
import { eraseLeads } from './leads.erase'
import { bulkTag } from './leads.list'
import { prefixEnd, searchSql, termRanges, tsQuery } from './leads.search'

let t: TestApp
let a: Member
let b: Member
const ids: Record<string, string> = {}

const scope = (m: Member) => ({ orgId: m.orgId, userId: m.userId })

/** The names of m's leads that the search finds (as the app role, under RLS). */
async function found(m: Member, q: string): Promise<string[]> {
  return withOrg(t.db, scope(m), async (tx) =>
    rowsOf<{ full_name: string }>(
      await tx.execute(sql`select l.full_name from leads l where ${searchSql(q)} order by l.full_name`),
    ).map((r) => r.full_name),
  )
}

/** The names the tsvector match (what the search meant before 0019) finds for the same query. */
async function foundByTsvector(m: Member, q: string): Promise<string[]> {
  const tsq = tsQuery(q)
  if (!tsq) return found(m, '')
  return withOrg(t.db, scope(m), async (tx) =>
    rowsOf<{ full_name: string }>(
      await tx.execute(
        sql`select l.full_name from leads l where l.search_tsv @@ to_tsquery('simple', ${tsq}) order by l.full_name`,
      ),
    ).map((r) => r.full_name),
  )
}

/** A lead's terms (as the superuser). */
const termsOf = async (id: string) =>
  (
    await t.db.raw.query<{ term: string }>(
      'select term from lead_search_terms where lead_id = $1 order by term collate "C"',
      [id],
    )
  ).map((r) => r.term)

/** Leads whose terms are not exactly the lexemes of their search_tsv, and terms of no lead. */
async function outOfStep(orgId: string) {
  return t.db.raw.query<{ lead_id: string }>(
    `with want as (
       select l.organization_id, l.id as lead_id, w as term from leads l, unnest(tsvector_to_array(l.search_tsv)) w
       where l.organization_id = $1),
     have as (select organization_id, lead_id, term::text from lead_search_terms where organization_id = $1)
     select lead_id from ((select * from want except all select * from have)
       union all (select * from have except all select * from want)) d`,
    [orgId],
  )
}

beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Busca A' })
  b = await signUpClient(t, { orgName: 'Busca B' })
  const people = [
    { fullName: 'Zuleide Quixabeira', email: 'zuleide.q@example.com', phone: '(21) 99876-5432' },
    { fullName: 'Maria Conceição', company: 'Padaria Pão Quente' },
    { fullName: 'Conceição Alves', email: 'ana+vendas@example.com', tags: 'frio' },
    { fullName: 'Zuleica Silva', jobTitle: 'Diretora' },
    { fullName: 'Antônio Quixadá', phone: '+55 11 3456-7890' },
  ]
  const made = await seedLeads(t, a, people.length, (i) => people[i]!)
  people.forEach((p, i) => {
    ids[p.fullName] = made[i]!
  })
  await seedLeads(t, b, 1, () => ({ fullName: 'Zuleide Segredo', email: 'segredo@b.example.com' }))
})
afterAll(() => t.close())

describe('term ranges', () => {
  test('each word is a prefix range in code point order, with a bound above every continuation', () => {
    expect(prefixEnd('sil')).toBe('sim')
    expect(prefixEnd('az')).toBe('a{')
    expect(prefixEnd('119')).toBe('11:')
    expect(prefixEnd('a\u{d7ff}')).toBe('a\u{e000}')
    expect(prefixEnd('a\u{10ffff}')).toBe('b')
    expect(prefixEnd('\u{10ffff}')).toBeNull()
    expect(termRanges('João  SILVA')).toEqual({
      ranges: [
        { from: 'joao', to: 'joap' },
        { from: 'silva', to: 'silvb' },
      ],
      exact: true,
    })
    expect(termRanges('(11) 98765-4321')).toEqual({
      ranges: [{ from: '11987654321', to: '11987654322' }],
      exact: true,
    })
    // A word the text parser may split is ranged by its leading run and re-checked.
    expect(termRanges('ana+vendas')).toEqual({ ranges: [{ from: 'ana', to: 'anb' }], exact: false })
    expect(termRanges('!!!')).toEqual({ ranges: [], exact: false })
    // A single letter is too broad for a range: it is left to the @@ check.
    expect(termRanges('m')).toEqual({ ranges: [], exact: false })
    expect(termRanges('m silva')).toEqual({ ranges: [{ from: 'silva', to: 'silvb' }], exact: false })
  })
})

describe('search answers from the terms', () => {
  test('prefixes, every word, accents and phone digits, as the tsvector match did', async () => {
    expect(await found(a, 'quix')).toEqual(['Antônio Quixadá', 'Zuleide Quixabeira'])
    expect(await found(a, 'uixa')).toEqual([])
    expect(await found(a, 'zul quix')).toEqual(['Zuleide Quixabeira'])
    expect(await found(a, 'zul diretora')).toEqual(['Zuleica Silva'])
    expect(await found(a, 'zul quente')).toEqual([])
    expect(await found(a, 'CONCEIÇÃO')).toEqual(['Conceição Alves', 'Maria Conceição'])
    expect(await found(a, 'antonio quixada')).toEqual(['Antônio Quixadá'])
    expect(await found(a, '(21) 99876-5432')).toEqual(['Zuleide Quixabeira'])
    expect(await found(a, '21 9987')).toEqual(['Zuleide Quixabeira'])
    expect(await found(a, '551134')).toEqual(['Antônio Quixadá'])
    expect(await found(a, '5432')).toEqual([])
    expect(await found(a, 'zuleide.q@example.com')).toEqual(['Zuleide Quixabeira'])
    expect(await found(a, 'ana+vendas')).toEqual(['Conceição Alves'])
  })

  test('every query gives what the tsvector match gives', async () => {
    const queries = [
      'z',
      'zu',
      'zul',
      'zuleide',
      'zuleidex',
      'con alv',
      'pao quente padaria',
      'ana',
      'ana+vendas',
      'vendas',
      'example.com',
      'zuleide.q',
      'zuleide.q@',
      'frio',
      '21998765432',
      '+55 21 99876-5432',
      '3456',
      'maria maria',
      "o'neil",
      '!!!',
    ]
    for (const q of queries)
      expect({ q, names: await found(a, q) }).toEqual({ q, names: await foundByTsvector(a, q) })
  })

  test('the terms index is used under RLS, with organization and term in the index condition', async () => {
    // A handful of rows: without this the planner rightly reads the table. The question is whether
    // it can use the index under RLS at all (with @@ it could not, whatever the cost settings).
    for (const q of ['zuleide quix', '(21) 99876-5432', 'ana+vendas']) {
      const plan = await withOrg(t.db, scope(a), async (tx) => {
        await tx.execute(sql`set local enable_seqscan = off`)
        return rowsOf<Record<string, string>>(
          await tx.execute(
            sql`explain select l.id from leads l where ${searchSql(q)} order by l.score desc, l.id limit 50`,
          ),
        )
          .map((r) => Object.values(r)[0])
          .join('\n')
      })
      expect(plan).toContain('lead_search_terms_term_idx')
      expect(plan).toMatch(
        /Index Cond: \(\(organization_id = .*\) AND \(term >= '[a-z0-9]+'::text\) AND \(term < /,
      )
    }
  })
})

describe('terms follow the lead', () => {
  test('a renamed lead is found by its new name and not its old one', async () => {
    const id = ids['Zuleica Silva']!
    const [row] = await t.db.raw.query<{ version: number }>('select version from leads where id = $1', [id])
    await withOrg(t.db, scope(a), (tx) =>
      updateLead(
        tx,
        actorOf(a),
        id,
        { ...blankLead, fullName: 'Zuleica Tavares', jobTitle: 'Diretora' },
        row!.version,
      ),
    )
    expect(await found(a, 'tavares')).toEqual(['Zuleica Tavares'])
    expect(await found(a, 'silva')).toEqual([])
    expect(await termsOf(id)).toEqual(['diretora', 'tavares', 'zuleica'])
    await withOrg(t.db, scope(a), (tx) => bulkTag(tx, actorOf(a), [id], 'Parceira'))
    expect(await found(a, 'zul parc')).toEqual(['Zuleica Tavares'])
    expect(await outOfStep(a.orgId)).toEqual([])
  })

  test('a merged-away lead leaves no terms, the kept lead keeps its own', async () => {
    const keep = ids['Maria Conceição']!
    const gone = ids['Conceição Alves']!
    await withOrg(t.db, scope(a), (tx) => mergeLeads(tx, { orgId: a.orgId, userId: a.userId }, keep, gone))
    expect(await termsOf(gone)).toEqual([])
    expect(await found(a, 'conceicao')).toEqual(['Maria Conceição'])
    expect(await outOfStep(a.orgId)).toEqual([])
  })

  test('an erased lead (LGPD) and a deleted lead leave no terms', async () => {
    const erased = ids['Zuleide Quixabeira']!
    expect((await termsOf(erased)).length).toBeGreaterThan(3)
    expect(
      (await eraseLeads(t.db, { orgId: a.orgId, userId: a.userId }, [erased], 'titular_request')).erased,
    ).toBe(1)
    expect(await termsOf(erased)).toEqual([])
    expect(await found(a, 'quixabeira')).toEqual([])
    const deleted = ids['Antônio Quixadá']!
    await withOrg(t.db, scope(a), (tx) => tx.execute(sql`delete from leads where id = ${deleted}::uuid`))
    expect(await termsOf(deleted)).toEqual([])
    expect(await outOfStep(a.orgId)).toEqual([])
  })
})

describe('tenancy', () => {
  test("B never reads, forges, changes or deletes A's terms, and never finds A's leads", async () => {
    const lead = ids['Maria Conceição']!
    const before = await termsOf(lead)
    expect(before).toContain('maria')
    const seen = await withOrg(t.db, scope(b), async (tx) =>
      rowsOf<{ n: number }>(
        await tx.execute(
          sql`select count(*)::int as n from lead_search_terms where organization_id = ${a.orgId}::uuid or lead_id = ${lead}::uuid`,
        ),
      ),
    )
    expect(seen[0]!.n).toBe(0)
    const errorOf = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: Error & { cause?: Error }) => `${e.message} ${e.cause?.message ?? ''}`,
      )
    const forged = await errorOf(
      withOrg(t.db, scope(b), (tx) =>
        tx.execute(
          sql`insert into lead_search_terms (organization_id, lead_id, term) values (${a.orgId}::uuid, ${lead}::uuid, 'zzz')`,
        ),
      ),
    )
    expect(forged).toMatch(/row-level security/)
    const changed = await errorOf(
      withOrg(t.db, scope(b), (tx) =>
        tx.execute(sql`update lead_search_terms set term = 'zzz' where lead_id = ${lead}::uuid`),
      ),
    )
    expect(changed).toMatch(/permission denied/)
    const deleted = await withOrg(t.db, scope(b), async (tx) =>
      rowsOf(await tx.execute(sql`delete from lead_search_terms where lead_id = ${lead}::uuid returning 1`)),
    )
    expect(deleted).toEqual([])
    expect(await termsOf(lead)).toEqual(before)
    expect(await found(b, 'maria')).toEqual([])
    expect(await found(b, 'zuleide')).toEqual(['Zuleide Segredo'])
    expect(await found(a, 'segredo')).toEqual([])
  })
})
