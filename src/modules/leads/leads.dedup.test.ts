/**
 * Deduplication: the matcher, captureLead on every channel (merge / flag / create), merges that keep
 * everything, the review queue and merge screen, the manual form's warning, settings, and isolation
 * between organizations.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { generateDedupSet } from '../../../bench/dedup-data'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { rowsOf } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { FormError } from '../../platform/http/errors'
import { emailMatchKey } from '../../shared/email'
import { toE164 } from '../../shared/phone'
import { nameKey } from '../../shared/text'
import { firstPipeline, type Member, stagesOf } from '../pipeline/pipeline.fixtures'
import { type CaptureChannel, type CaptureInput, captureLead } from './leads.capture'
import { distinctPeople, leadReferencesForTest, mergeLeads, nameBlockingKeys } from './leads.dedup'
import { isCommonName, matchScore, nameSimilarity, phoneKey } from './leads.match'

let t: TestApp
let a: Member
let b: Member

beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Dedup A' })
  b = await signUpClient(t, { orgName: 'Dedup B' })
}, 120_000)
afterAll(() => t.close())

const rec = (name: string, phone: string | null, email: string | null, company: string | null = null) => ({
  nameKey: nameKey(name),
  phone: toE164(phone, 'BR'),
  emailKey: emailMatchKey(email),
  company,
})

function capture(
  m: Member,
  input: CaptureInput,
  channel: CaptureChannel = 'manual',
  dedup?: 'auto' | 'review' | 'off',
) {
  return withOrg(t.db, { orgId: m.orgId, userId: m.userId }, (tx) =>
    captureLead(tx, input, { actorId: channel === 'manual' ? m.userId : null, channel, dedup }),
  )
}
const q = <T>(text: string, params: unknown[] = []) => t.db.raw.query<T>(text, params)
const leadCount = async (m: Member) =>
  (await q<{ n: number }>('select count(*)::int as n from leads where organization_id = $1', [m.orgId]))[0]!.n
const openPairs = async (m: Member) =>
  q<{ id: string; lead_a: string; lead_b: string; score: number; reasons: unknown }>(
    "select id, lead_a, lead_b, score, reasons from lead_duplicates where organization_id = $1 and status = 'open'",
    [m.orgId],
  )
async function wipe(m: Member) {
  await q('delete from lead_duplicates where organization_id = $1', [m.orgId])
  await q('delete from lead_merges where organization_id = $1', [m.orgId])
  await q('delete from leads where organization_id = $1', [m.orgId])
}

describe('the match score', () => {
  test('"Maria da Silva" with the same phone in another format is the same person (certain)', () => {
    const r = matchScore(
      rec('Maria da Silva', '(11) 98765-4321', null),
      rec('SILVA, Maria', '+55 11 9 8765 4321', null),
    )
    expect(r.certain).toBe(true)
    expect(r.score).toBeGreaterThanOrEqual(90)
    expect(r.reasons.map((x) => x.code)).toContain('phone_same')
  })

  test('the ninth digit: an old eight-digit mobile is the same line', () => {
    expect(phoneKey('+559271112143')).toBe('+5592971112143')
    const r = matchScore(
      rec('Débora Brandão', '+55 92 7111-2143', null),
      rec('Debora Brandao', '(92) 97111-2143', null),
    )
    expect(r.certain && r.score >= 90).toBe(true)
  })

  test('typos and accents match when the phone or email agrees', () => {
    for (const [x, y] of [
      ['Marai Silva', 'Maria Silva'],
      ['Joao Pereira', 'João Pereira'],
      ['Deniel Alves', 'Daniel Alves'],
    ] as const) {
      const r = matchScore(rec(x, null, 'pessoa@gmail.com'), rec(y, null, 'Pes.soa+crm@GMAIL.com'))
      expect({ x, certain: r.certain, high: r.score >= 90 }).toEqual({ x, certain: true, high: true })
    }
  })

  test('a different phone AND a different email keep two "Maria Silva" apart', () => {
    const r = matchScore(
      rec('Maria Silva', '11987654321', 'maria1@gmail.com'),
      rec('Maria Silva', '21987654321', 'maria2@hotmail.com'),
    )
    expect(r.score).toBeLessThan(10)
  })

  test('relatives on one landline are not merged (another first name)', () => {
    const r = matchScore(
      rec('Ana Santana Gomes', '1132587739', null),
      rec('Luana Santana Gomes', '(11) 3258-7739', null),
    )
    expect(r.score).toBeLessThan(60)
  })

  test('name similarity ignores order, particles and a missing middle name', () => {
    expect(nameSimilarity(nameKey('Silva, Maria'), nameKey('Maria da Silva'))).toBe(1)
    expect(nameSimilarity(nameKey('Maria Aparecida Silva'), nameKey('Maria Silva'))).toBeGreaterThan(0.95)
    expect(nameSimilarity(nameKey('Maria Silva'), nameKey('Ana Silva'))).toBeLessThan(0.85)
  })

  test('nicknames, diminutives and middle initials are the same given name', () => {
    for (const [x, y] of [
      ['Zé Carlos Pereira', 'José Carlos Pereira'],
      ['Bia Souza', 'Beatriz Souza'],
      ['Paulinho Andrade', 'Paulo Andrade'],
      ['Maria A. Silva', 'Maria Aparecida Silva'],
      ['Jão de Souza', 'João de Souza'],
    ] as const)
      expect({ x, sim: nameSimilarity(nameKey(x), nameKey(y)) >= 0.92 }).toEqual({ x, sim: true })
    // A shared phone then merges them.
    const r = matchScore(
      rec('Zé Carlos Pereira', '11 98765-4321', null),
      rec('José Carlos Pereira', '(11) 98765-4321', null),
    )
    expect(r.certain && r.score >= 90).toBe(true)
    // But a nickname is not any short name: "Ana" is not "Luana", "Lu" is not "Vera".
    expect(nameSimilarity(nameKey('Ana Costa'), nameKey('Luana Costa'))).toBeLessThan(0.92)
    expect(nameSimilarity(nameKey('Lu Costa'), nameKey('Vera Costa'))).toBeLessThan(0.92)
  })

  test('a diminutive keeps its sound ("Luquinhas" is Lucas) and a typo in a nickname is still close', () => {
    expect(
      nameSimilarity(nameKey('Luquinhas Lima Alves'), nameKey('Lucas Lima Alves')),
    ).toBeGreaterThanOrEqual(0.92)
    // "Quiim" (Quim, for Joaquim) and "Marquinhs" (Marquinhos, for Marcos) with the same contact: review.
    for (const [x, y] of [
      ['Quiim Santos', 'Joaquim Santos'],
      ['Marquinhs Marques', 'Marcos Marques'],
    ] as const) {
      const r = matchScore(rec(x, '(81) 96802-4207', null), rec(y, '81 96802-4207', null))
      expect({ x, flagged: r.score >= 60 }).toEqual({ x, flagged: true })
    }
    // Not any name one letter from a nickname: Luana is not Lucia, Marta is not Marcos.
    expect(nameSimilarity(nameKey('Luana Costa'), nameKey('Lucia Costa'))).toBeLessThan(0.88)
    expect(nameSimilarity(nameKey('Marta Marques'), nameKey('Marcos Marques'))).toBeLessThan(0.88)
  })

  test('other middle names at the same company with the same phone: to review, not merged', () => {
    const r = matchScore(
      rec('Carlos José Dias', '+55 21 96725-7831', 'carlos_dias@outlook.com', 'Studio Bella Ltda'),
      rec('Carlos Gomes Dias', '(21) 96725-7831', 'carlos_dias@studio.com.br', 'Studio Bella Ltda'),
    )
    expect(r.reasons.map((x) => x.code)).toContain('name_middle')
    expect([r.score >= 60, r.score < 90]).toEqual([true, true])
  })

  test('name blocking uses every pair of words: a typo in the first name or the surname first', () => {
    expect(nameBlockingKeys(nameKey('Gbriela Augusto Ramos'))).toContain('augusto ramos')
    expect(nameBlockingKeys(nameKey('Mendes Helena V.'))).toContain('helena mendes')
    // The first name's nicknames still pair with the last word.
    expect(nameBlockingKeys(nameKey('Beatriz Souza'))).toContain('bia souza')
  })

  test('how many people a name refers to: leads that may be one person count once', () => {
    const l = (id: string, phone: string | null, emailKey: string | null) => ({
      id,
      phone: toE164(phone, 'BR'),
      emailKey,
    })
    // Simone Queiroz once with a phone, once with nothing, once with an email: maybe one person.
    expect(
      distinctPeople([l('1', '71 96652-9188', null), l('2', null, null), l('3', null, 'sq@gmail.com')]),
    ).toBe(1)
    // Three Maria Silva with three phones are three people (a second one's email does not join them).
    expect(
      distinctPeople([
        l('1', '11 98765-4321', null),
        l('2', '21 97405-3300', null),
        l('3', '31 99817-9198', 'maria@gmail.com'),
        l('4', null, 'maria@gmail.com'),
      ]),
    ).toBe(3)
    // The country's commonest names are common however few leads have them.
    expect(isCommonName(nameKey('Maria da Silva'))).toBe(true)
    expect(isCommonName(nameKey('Zé Santos'))).toBe(true)
    expect(isCommonName(nameKey('Simone Queiroz'))).toBe(false)
  })

  test('other middle names with the same first and last name: a shared phone flags, it does not merge', () => {
    const r = matchScore(
      rec('Cláudia Fernanda Ramos', '31 98830-7470', null),
      rec('Cláudia Freitas Ramos', '+55 31 98830-7470', null),
    )
    expect(r.reasons.map((x) => x.code)).toContain('name_middle')
    expect(r.score).toBeGreaterThanOrEqual(60)
    expect(r.score).toBeLessThan(90)
    // "Surname, Given names" is read in the usual order, so its first name is known.
    expect(nameKey('Costa Marques, Natália')).toBe('natalia costa marques')
  })

  test('one differing contact: a rare full name or the same company is a probable match, never certain', () => {
    // The only lead with this three-word name, another mobile: to review.
    const full = matchScore(
      rec('Paulo Mendes Barbosa', '11 97397-0633', null),
      rec('Paulo Mendes Barbosa', '85 97118-1227', null),
      { sameNameCount: 1 },
    )
    expect([full.certain, full.score >= 60]).toEqual([false, true])
    // The same name at the same company, a work address and a personal one: to review.
    const work = matchScore(
      rec('Gabriel Gomes', null, 'ggomes@mercado.com.br', 'Mercado Bom Preço ME'),
      rec('Gabriel Gomes', null, 'gabrielgomes@gmail.com', 'Mercado Bom Preço Ltda'),
      { sameNameCount: 1 },
    )
    expect([work.certain, work.score >= 60]).toEqual([false, true])
    // Neither when the name is common among the leads, or when both contacts differ.
    expect(
      matchScore(
        rec('Paulo Mendes Barbosa', '11 97397-0633', null),
        rec('Paulo Mendes Barbosa', '85 97118-1227', null),
        {
          sameNameCount: 3,
        },
      ).score,
    ).toBeLessThan(60)
    expect(
      matchScore(
        rec('Gabriel Gomes', '11 97397-0633', 'ggomes@mercado.com.br', 'Mercado'),
        rec('Gabriel Gomes', '85 97118-1227', 'gabrielgomes@gmail.com', 'Mercado'),
        { sameNameCount: 1 },
      ).score,
    ).toBeLessThan(60)
    // A landline and a mobile differ less than two mobiles.
    const kinds = (a: string, b: string) =>
      matchScore(rec('Eduardo Teixeira', a, null), rec('Eduardo Teixeira', b, null)).reasons.find(
        (x) => x.code === 'phone_different',
      )!.points
    expect(kinds('47 3219-9210', '21 97122-8084')).toBeGreaterThan(kinds('47 99219-9210', '21 97122-8084'))
  })
})

describe('captureLead', () => {
  test.each(['manual', 'import', 'capture', 'whatsapp', 'api'] as const)(
    'on the %s channel the same person merges into the existing lead, filling and keeping everything',
    async (channel) => {
      await wipe(a)
      const first = await capture(a, {
        fullName: 'Maria da Silva',
        phone: '(11) 98765-4321',
        company: 'Padaria Pão Quente',
        tags: ['vip'],
      })
      expect(first.outcome).toBe('created')
      const second = await capture(
        a,
        {
          fullName: 'MARIA SILVA',
          phone: '+55 11 9 8765 4321',
          email: 'Maria.Silva+site@gmail.com',
          company: 'Outra Empresa',
          tags: ['indicação', 'VIP'],
          note: 'Pediu orçamento',
        },
        channel,
      )
      expect(second).toMatchObject({ outcome: 'merged', leadId: first.leadId, duplicateOfId: first.leadId })
      expect(await leadCount(a)).toBe(1)
      const [lead] = await q<{
        full_name: string
        email: string
        company: string
        tags: string[]
        email_key: string
      }>('select full_name, email, company, tags, email_key from leads where id = $1', [first.leadId])
      // Empty fields filled, non-empty ones kept, tags unioned.
      expect(lead).toMatchObject({
        full_name: 'Maria da Silva',
        email: 'maria.silva+site@gmail.com',
        company: 'Padaria Pão Quente',
      })
      expect(lead!.email_key).toBe('mariasilva@gmail.com')
      expect([...lead!.tags].sort()).toEqual(['indicação', 'vip'])
      const acts = await q<{ kind: string; data: any }>(
        'select kind, data from lead_activities where lead_id = $1 order by created_at, id',
        [first.leadId],
      )
      const merged = acts.find((x) => x.kind === 'merged')!
      expect(merged.data.via).toBe(channel)
      expect(merged.data.filled).toContain('email')
      // What differed is not lost: it is in the timeline entry.
      expect(merged.data.differences.company).toEqual(['Padaria Pão Quente', 'Outra Empresa'])
      expect(merged.data.differences.fullName).toEqual(['Maria da Silva', 'MARIA SILVA'])
      expect(acts.find((x) => x.kind === 'note')?.data.body).toBe('Pediu orçamento')
    },
  )

  test("a record with one lead's phone and another's email merges into the first and queues the pair", async () => {
    await wipe(a)
    const x = await capture(a, {
      fullName: 'Luiz Gonçalves Ramos',
      phone: '47 96275-4719',
      email: 'lgramos@agro.com.br',
      company: 'Agropecuária Boa Vista',
    })
    const y = await capture(a, { fullName: 'Luiz Ramos', email: 'lramos@uol.com.br' })
    expect(y.outcome).toBe('created')
    expect(await openPairs(a)).toEqual([])
    const link = await capture(
      a,
      {
        fullName: 'Luiz G. Ramos',
        phone: '(47) 96275-4719',
        email: 'LRAMOS@UOL.COM.BR',
        company: 'Agropecuária Boa Vista',
      },
      'import',
    )
    expect([link.outcome, link.leadId]).toEqual(['merged', x.leadId])
    const pairs = await openPairs(a)
    expect(pairs.map((p) => [p.lead_a, p.lead_b].sort())).toEqual([[x.leadId, y.leadId].sort()])
    expect((pairs[0]!.reasons as { code: string }[]).map((r) => r.code)).toContain('email_same')
  })

  test('five different "Maria Silva" stay five leads, with nothing to review', async () => {
    await wipe(a)
    const ids = new Set<string>()
    for (let i = 0; i < 5; i++) {
      const r = await capture(
        a,
        {
          fullName: i % 2 ? 'Maria da Silva' : 'MARIA SILVA',
          phone: `(${11 + i}) 9876${i}-432${i}`,
          email: `maria.silva${i}@exemplo${i}.com.br`,
        },
        'import',
      )
      expect(r.outcome).toBe('created')
      ids.add(r.leadId)
    }
    expect(ids.size).toBe(5)
    expect(await leadCount(a)).toBe(5)
    expect(await openPairs(a)).toEqual([])
    // A sixth record with the phone of the third is that one, not a new person.
    const again = await capture(a, { fullName: 'Maria Silva', phone: '+55 13 98762-4322' })
    expect(again.outcome).toBe('merged')
    expect(await leadCount(a)).toBe(5)
  })

  test("a rare name's third lead goes to review with both earlier ones; a first two Maria Silva do not", async () => {
    await wipe(a)
    const first = await capture(a, { fullName: 'Simone Queiroz', phone: '(71) 96652-9188' }, 'import')
    const second = await capture(a, { fullName: 'SIMONE QUEIROZ' }, 'import')
    expect(second.outcome).toBe('flagged')
    // Two leads with the name, but maybe one person (no contact differs): still "the only one".
    const third = await capture(a, { fullName: 'Simone Queiroz', email: 'simone.q@gmail.com' }, 'import')
    expect(third.outcome).toBe('flagged')
    const pairs = (await openPairs(a)).map((p) => [p.lead_a, p.lead_b].sort().join('|'))
    for (const other of [first.leadId, second.leadId])
      expect(pairs).toContain([third.leadId, other].sort().join('|'))
    // "Maria Silva" is common in Brazil: a phone-only and an email-only one are not queued.
    await capture(a, { fullName: 'Maria Silva', phone: '(11) 98765-4321' }, 'import')
    const maria = await capture(a, { fullName: 'Maria da Silva', email: 'msilva@hotmail.com' }, 'import')
    expect(maria.outcome).toBe('created')
    // A typo in the first name of a three-word name is still found (through the other words).
    const gabriela = await capture(
      a,
      { fullName: 'Gabriela Augusto Ramos', phone: '81 97792-0085' },
      'import',
    )
    const typo = await capture(
      a,
      { fullName: 'GBRIELA AUGUSTO RAMOS', email: 'gabriela.ramos28@uol.com.br' },
      'import',
    )
    expect([typo.outcome, typo.duplicateOfId]).toEqual(['flagged', gabriela.leadId])
  })

  test('a probable match is created AND queued for review; "review" and "off" modes are honoured', async () => {
    await wipe(a)
    const x = await capture(a, { fullName: 'Priscila Figueiredo Araújo', email: 'paraujo@gmail.com' })
    const y = await capture(
      a,
      { fullName: 'Priscila Figueiredo Araujo', phone: '(92) 98451-6205' },
      'capture',
    )
    expect(y.outcome).toBe('flagged')
    expect(y.duplicateOfId).toBe(x.leadId)
    const pairs = await openPairs(a)
    expect(pairs.length).toBe(1)
    expect([pairs[0]!.lead_a, pairs[0]!.lead_b].sort()).toEqual([x.leadId, y.leadId].sort())
    expect(pairs[0]!.score).toBeGreaterThanOrEqual(60)
    // A certain match in 'review' mode is queued, not merged.
    const z = await capture(a, { fullName: 'Priscila Araújo', email: 'P.araujo@gmail.com' }, 'api', 'review')
    expect(z.outcome).toBe('flagged')
    expect(await leadCount(a)).toBe(3)
    const off = await capture(a, { fullName: 'Priscila Araújo', email: 'paraujo@gmail.com' }, 'import', 'off')
    expect(off.outcome).toBe('created')
    expect(await leadCount(a)).toBe(4)
  })

  test('invalid input throws field errors and writes nothing', async () => {
    await wipe(a)
    const err = await capture(a, {
      fullName: ' ',
      phone: '123',
      email: 'nope',
      value: 'abc',
      ownerId: b.userId,
    }).catch((e) => e)
    expect(err).toBeInstanceOf(FormError)
    expect(Object.keys((err as FormError).fields).sort()).toEqual([
      'email',
      'fullName',
      'ownerId',
      'phone',
      'value',
    ])
    expect(await leadCount(a)).toBe(0)
  })

  test('new leads go to the first pipeline, first open stage, with lead.created', async () => {
    await wipe(a)
    const r = await capture(a, { fullName: 'Zeca Pagodinho', value: '1.500,00' }, 'api')
    const [row] = await q<{ pipeline_id: string; stage_id: string; value_cents: string }>(
      'select pipeline_id, stage_id, value_cents from leads where id = $1',
      [r.leadId],
    )
    const stages = await stagesOf(t.db, a.orgId)
    expect(row!.pipeline_id).toBe((await firstPipeline(t.db, a.orgId)).id)
    expect(row!.stage_id).toBe(stages[0]!.id)
    expect(Number(row!.value_cents)).toBe(150000)
    const ev = await q<{ payload: any }>(
      "select payload from outbox_events where organization_id = $1 and type = 'lead.created'",
      [a.orgId],
    )
    expect(ev.some((e) => e.payload.leadId === r.leadId)).toBe(true)
  })

  test('on the labeled set, decisions are right 90%+ of the time (the bench measures the full set)', async () => {
    await wipe(a)
    const records = generateDedupSet({ seed: 11, people: 70 })
    const clusterOf: string[] = []
    const flagged: [string, string][] = []
    for (const r of records) {
      const res = await capture(
        a,
        { fullName: r.fullName, phone: r.phone, email: r.email, company: r.company },
        'import',
      )
      clusterOf.push(res.leadId)
    }
    for (const p of await openPairs(a)) flagged.push([p.lead_a, p.lead_b])
    let truth = 0
    let predicted = 0
    let hit = 0
    for (let i = 0; i < records.length; i++)
      for (let j = i + 1; j < records.length; j++) {
        const same = records[i]!.personId === records[j]!.personId
        const x = clusterOf[i]!
        const y = clusterOf[j]!
        const pos = x === y || flagged.some(([p, q2]) => (p === x && q2 === y) || (p === y && q2 === x))
        truth += same ? 1 : 0
        predicted += pos ? 1 : 0
        hit += same && pos ? 1 : 0
      }
    expect(truth).toBeGreaterThan(30)
    expect(hit / predicted).toBeGreaterThanOrEqual(0.9)
    expect(hit / truth).toBeGreaterThanOrEqual(0.9)
  })
})

describe('merging two leads', () => {
  test('keeps every activity and note, re-points them, records the merge and deletes the other lead', async () => {
    await wipe(a)
    const x = await capture(a, {
      fullName: 'Carlos Dias',
      email: 'carlos@construtora.com.br',
      tags: ['obra'],
    })
    const y = await capture(
      a,
      { fullName: 'Carlos Dias Teixeira', phone: '(21) 99999-1234', tags: ['vip'], note: 'Nota do segundo' },
      'import',
    )
    await a.client.post(`/pipeline/leads/${x.leadId}/notes`, { note: 'Nota do primeiro' })
    const before = await q<{ id: string }>('select id from lead_activities where lead_id = any($1::uuid[])', [
      [x.leadId, y.leadId],
    ])
    const res = await withOrg(t.db, { orgId: a.orgId, userId: a.userId }, (tx) =>
      mergeLeads(tx, { orgId: a.orgId, userId: a.userId }, x.leadId, y.leadId, { fullName: 'merge' }),
    )
    expect(res.repointed['lead_activities.lead_id']).toBeGreaterThanOrEqual(2)
    expect(await q('select 1 from leads where id = $1', [y.leadId])).toEqual([])
    const after = await q<{ id: string; kind: string; data: any }>(
      'select id, kind, data from lead_activities where lead_id = $1',
      [x.leadId],
    )
    // Every earlier entry is still there, on the kept lead, plus the merge entry.
    for (const act of before) expect(after.some((r) => r.id === act.id)).toBe(true)
    const notes = after
      .filter((r) => r.kind === 'note')
      .map((r) => r.data.body)
      .sort()
    expect(notes).toEqual(['Nota do primeiro', 'Nota do segundo'])
    const merged = after.find((r) => r.kind === 'merged')!
    expect(merged.data.mergedId).toBe(y.leadId)
    const [kept] = await q<{ full_name: string; phone: string; email: string; tags: string[] }>(
      'select full_name, phone, email, tags from leads where id = $1',
      [x.leadId],
    )
    expect(kept).toMatchObject({
      full_name: 'Carlos Dias Teixeira',
      phone: '+5521999991234',
      email: 'carlos@construtora.com.br',
    })
    expect([...kept!.tags].sort()).toEqual(['obra', 'vip'])
    const [m] = await q<{ merged_by: string; snapshot: any }>(
      'select merged_by, snapshot from lead_merges where kept_lead_id = $1',
      [x.leadId],
    )
    expect(m!.merged_by).toBe(a.userId)
    expect(m!.snapshot.full_name).toBe('Carlos Dias Teixeira')
    const audit = await q<{ action: string; before: any }>(
      "select action, before from audit_log where organization_id = $1 and action = 'lead.merged'",
      [a.orgId],
    )
    expect(audit.at(-1)!.before).toEqual({ mergedLeadId: y.leadId })
  })

  test('every table that references leads lets the app role re-point it (so merges keep its rows)', async () => {
    const refs = await withOrg(t.db, { orgId: a.orgId, userId: a.userId }, (tx) => leadReferencesForTest(tx))
    expect(refs.some((r) => r.tbl === 'lead_activities')).toBe(true)
    expect(refs.filter((r) => !r.can_update).map((r) => `${r.tbl}.${r.col}`)).toEqual([])
  })
})

describe('the review queue and the merge screen', () => {
  async function flaggedPair() {
    await wipe(a)
    const x = await capture(a, {
      fullName: 'Helena Vitória Mendes',
      email: 'helena.mendes@gmail.com',
      company: 'Ótica Visão',
    })
    const y = await capture(a, {
      fullName: 'Helena Vitoria Mendes',
      phone: '(47) 99876-5432',
      company: 'Otica Visao Ltda',
    })
    expect(y.outcome).toBe('flagged')
    const [pair] = await openPairs(a)
    return { x: x.leadId, y: y.leadId, pair: pair!.id }
  }

  test('the queue lists each pair with its score and reasons; the merge screen has a choice per differing field', async () => {
    const { pair } = await flaggedPair()
    const page = await a.client.page('/leads/duplicates')
    expect(page).toContain(`href="/leads/duplicates/${pair}"`)
    expect(page).toContain('Helena Vitória Mendes')
    expect(page).toContain('Mesma empresa')
    expect(page).toMatch(/\d+% de semelhança/)
    const screen = await a.client.page(`/leads/duplicates/${pair}`)
    expect(screen).toContain('name="f_phone"')
    expect(screen).toContain('name="f_email"')
    expect(screen).toContain('role="radiogroup"')
    const badge = await a.client.page('/leads/duplicates/badge')
    expect(badge).toContain('>1<')
  })

  test('merging from the screen takes the chosen values and opens the kept lead', async () => {
    const { x, y, pair } = await flaggedPair()
    const screen = await a.client.page(`/leads/duplicates/${pair}`)
    const va = /name="versionA" value="(\d+)"/.exec(screen)![1]!
    const vb = /name="versionB" value="(\d+)"/.exec(screen)![1]!
    // x is older, so it is kept; the screen's sides are lead_a / lead_b (ordered ids).
    const sideOfY = x < y ? 'b' : 'a'
    const res = await a.client.post(`/leads/duplicates/${pair}/merge`, {
      versionA: va,
      versionB: vb,
      f_fullName: sideOfY,
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`/pipeline/leads/${x}`)
    const [kept] = await q<{ full_name: string; phone: string; email: string }>(
      'select full_name, phone, email from leads where id = $1',
      [x],
    )
    expect(kept).toEqual({
      full_name: 'Helena Vitoria Mendes',
      phone: '+5547998765432',
      email: 'helena.mendes@gmail.com',
    })
    expect(
      (await q<{ status: string }>('select status from lead_duplicates where id = $1', [pair]))[0]!.status,
    ).toBe('merged')
    expect((await a.client.get(`/leads/duplicates/${pair}`)).status).toBe(404)
  })

  test('a stale merge screen gets 409 with the fresh values, and nothing is merged', async () => {
    const { x, y, pair } = await flaggedPair()
    const res = await a.client.post(`/leads/duplicates/${pair}/merge`, { versionA: '99', versionB: '99' })
    expect(res.status).toBe(409)
    expect(await res.text()).toContain('mudou enquanto isso')
    expect((await q('select id from leads where id = any($1::uuid[])', [[x, y]])).length).toBe(2)
  })

  test('"not a duplicate" takes the pair out of the queue for good', async () => {
    const { x, pair } = await flaggedPair()
    const res = await a.client.post(`/leads/duplicates/${pair}/dismiss`)
    expect(res.status).toBe(303)
    expect(await openPairs(a)).toEqual([])
    expect(await a.client.page('/leads/duplicates')).toContain('Nenhum duplicado para revisar')
    // The same person arriving again does not reopen a dismissed pair.
    await capture(a, { fullName: 'Helena Vitória Mendes', phone: '(47) 99876-5432' }, 'api', 'review')
    const statuses = await q<{ status: string }>('select status from lead_duplicates where id = $1', [pair])
    expect(statuses[0]!.status).toBe('dismissed')
    expect(x).toBeTruthy()
  })
})

describe('the manual form', () => {
  test('typing a known phone shows "possible duplicate" with the lead, its phone and stage', async () => {
    await wipe(a)
    const x = await capture(a, { fullName: 'Fernando da Conceição', phone: '(71) 97488-6290' })
    const html = await a.client.page('/leads/duplicates/check?fullName=Fern&phone=71974886290&email=')
    expect(html).toContain('data-testid="dup-warning"')
    expect(html).toContain('Fernando da Conceição')
    expect(html).toContain('(71) 97488-6290')
    expect(html).toContain(`href="/pipeline/leads/${x.leadId}"`)
    expect(await a.client.page('/leads/duplicates/check?fullName=Outra+Pessoa&phone=&email=')).not.toContain(
      'dup-warning',
    )
    // The form carries the debounced check.
    const pipelineId = (await firstPipeline(t.db, a.orgId)).id
    const form = await a.client.page(`/pipeline/leads/new?pipeline=${pipelineId}`)
    expect(form).toContain('hx-get="/leads/duplicates/check"')
  })

  test('posting the form with a duplicate merges through captureLead and says so', async () => {
    await wipe(a)
    const x = await capture(a, { fullName: 'Fernando da Conceição', phone: '(71) 97488-6290' })
    const pipelineId = (await firstPipeline(t.db, a.orgId)).id
    const res = await a.client.post('/pipeline/leads', {
      pipelineId,
      fullName: 'Fernando Conceicao',
      phone: '+55 71 9 7488 6290',
      email: 'fernando@cafe.com.br',
      company: '',
      jobTitle: '',
      value: '',
      source: '',
      ownerId: '',
      tags: '',
      score: '',
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`/pipeline/leads/${x.leadId}`)
    expect(await leadCount(a)).toBe(1)
    const bad = await a.client.post('/pipeline/leads', { pipelineId, fullName: 'X', phone: '12' })
    expect(bad.status).toBe(422)
    expect(await leadCount(a)).toBe(1)
  })
})

describe('settings', () => {
  test('owners set the mode and thresholds (bad values are 422) and captures follow them', async () => {
    expect(await a.client.page('/settings/dedup')).toContain('name="autoMergeMin"')
    const bad = await a.client.post('/settings/dedup', { mode: 'auto', autoMergeMin: '70', reviewMin: '80' })
    expect(bad.status).toBe(422)
    const ok = await a.client.post('/settings/dedup', { mode: 'review', autoMergeMin: '95', reviewMin: '55' })
    expect(ok.status).toBe(303)
    const [row] = await q<{ dedup_mode: string; auto_merge_min: number; review_min: number }>(
      'select dedup_mode, auto_merge_min, review_min from lead_settings where organization_id = $1',
      [a.orgId],
    )
    expect(row).toEqual({ dedup_mode: 'review', auto_merge_min: 95, review_min: 55 })
    await wipe(a)
    await capture(a, { fullName: 'Rita Gomes', email: 'rita.gomes@gmail.com' })
    const again = await capture(a, { fullName: 'Rita Gomes', email: 'ritagomes@gmail.com' }, 'import')
    expect(again.outcome).toBe('flagged')
    await a.client.post('/settings/dedup', { mode: 'auto', autoMergeMin: '90', reviewMin: '60' })
  })
})

describe('between organizations', () => {
  test("B cannot see, merge or dismiss A's pairs (404), and B's captures never match A's leads", async () => {
    await wipe(a)
    await wipe(b)
    await capture(a, { fullName: 'Segredo de A', email: 'segredo@a.com', company: 'A Ltda' })
    await capture(a, { fullName: 'Segredo de A', phone: '(11) 91234-5678', company: 'A Ltda' })
    const [pair] = await openPairs(a)
    expect(pair).toBeTruthy()
    const statuses = await Promise.all([
      b.client.get(`/leads/duplicates/${pair!.id}`),
      b.client.post(`/leads/duplicates/${pair!.id}/merge`, {}),
      b.client.post(`/leads/duplicates/${pair!.id}/dismiss`),
    ]).then((rs) => rs.map((r) => r.status))
    expect(statuses).toEqual([404, 404, 404])
    expect(await b.client.page('/leads/duplicates')).not.toContain('Segredo')
    expect(
      await b.client.page(
        '/leads/duplicates/check?fullName=Segredo+de+A&phone=11912345678&email=segredo@a.com',
      ),
    ).not.toContain('Segredo')
    const inB = await capture(
      b,
      { fullName: 'Segredo de A', phone: '(11) 91234-5678', email: 'segredo@a.com' },
      'capture',
    )
    expect(inB.outcome).toBe('created')
    expect(await openPairs(b)).toEqual([])
    expect((await openPairs(a)).length).toBe(1)
    // Merging by ids across tenants finds nothing either.
    const err = await withOrg(t.db, { orgId: b.orgId, userId: b.userId }, (tx) =>
      mergeLeads(tx, { orgId: b.orgId, userId: b.userId }, inB.leadId, pair!.lead_a),
    ).catch((e) => e)
    expect(err.status).toBe(404)
    const rows = await withOrg(t.db, { orgId: b.orgId, userId: b.userId }, async (tx) =>
      rowsOf(await tx.execute(sql`select id from lead_duplicates union all select id from lead_merges`)),
    )
    expect(rows).toEqual([])
  })
})
