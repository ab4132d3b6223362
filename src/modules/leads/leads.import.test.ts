/**
 * CSV import end to end through the UI routes (upload → mapping → start → the job → report), on the
 * messy fixtures (BOM, accents, quoted commas and line breaks, bad phones, empty names, duplicates of
 * existing leads and of other rows), plus resume after a stop without duplicates.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { BASE, createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { withOrg } from '../../platform/db/tenancy'
import { silentLogger } from '../../platform/events/events.pg'
import { createWorker, type Worker } from '../../platform/jobs/jobs.worker'
import type { Member } from '../pipeline/pipeline.fixtures'
import { captureLead } from './leads.capture'
import {
  BATCH_SIZE,
  findImport,
  importJobTuning,
  importRows,
  leadImportJob,
  storedChunks,
} from './leads.import'
import { addAssignmentRule, addMember } from './leads.scoring.fixtures'

const FIXTURES = join(import.meta.dir, '../../../test/fixtures')
const messy = readFileSync(join(FIXTURES, 'leads-messy.csv'))
const messyLatin1 = readFileSync(join(FIXTURES, 'leads-messy-latin1.csv'))

let t: TestApp
let a: Member

beforeAll(async () => {
  t = await createTestApp()
  a = await signUpClient(t, { orgName: 'Importadora A' })
})
afterAll(() => t.close())

const cookie = (m: Member) => [...m.client.jar].map(([k, v]) => `${k}=${v}`).join('; ')

async function upload(t: TestApp, m: Member, name: string, bytes: Uint8Array | string) {
  const fd = new FormData()
  fd.append('file', new File([bytes as BlobPart], name, { type: 'text/csv' }))
  return t.handle(
    new Request(`${BASE}/leads/import`, {
      method: 'POST',
      body: fd,
      headers: { cookie: cookie(m), origin: BASE },
      redirect: 'manual',
    }),
  )
}

/** Uploads, and returns the import id from the redirect to the mapping screen. */
async function uploaded(m: Member, name: string, bytes: Uint8Array | string) {
  const res = await upload(t, m, name, bytes)
  expect(res.status).toBe(303)
  const loc = res.headers.get('location')!
  expect(loc).toMatch(/^\/leads\/import\/[0-9a-f-]{36}$/)
  return loc.split('/').pop()!
}

/** The mapping form as the page rendered it (the guessed selects), overridable. */
function mappingForm(html: string, extra: Record<string, string> = {}) {
  const form: Record<string, string> = { dedup: 'auto', target: '', defaultSource: '', defaultTags: '' }
  for (const m of html.matchAll(/<select[^>]*name="(map\.\d+)"[^>]*>([\s\S]*?)<\/select>/g)) {
    const selected = /<option value="([^"]*)" selected/.exec(m[2]!)
    form[m[1]!] = selected?.[1] ?? ''
  }
  return { ...form, ...extra }
}

const runJobs = () => createWorker({ db: t.db, log: silentLogger, jobs: [leadImportJob] }).runDue()

async function leadsOf(orgId: string) {
  return t.db.raw.query<{ full_name: string; phone: string | null; email: string | null; tags: string[] }>(
    'select full_name, phone, email, tags from leads where organization_id = $1 order by full_name',
    [orgId],
  )
}

describe('import through the UI routes', () => {
  let existing: string

  beforeAll(async () => {
    // A lead that row 6 of the fixture ("Maria Conceição", same phone and Gmail address) duplicates.
    existing = await withOrg(t.db, { orgId: a.orgId, userId: a.userId }, async (tx) => {
      const r = await captureLead(
        tx,
        { fullName: 'Maria da Conceição', phone: '11 98765-4321', email: 'mariaconceicao@gmail.com' },
        { actorId: a.userId, channel: 'manual', dedup: 'off' },
      )
      return r.leadId
    })
  })

  test('upload → mapping guessed from pt-BR headers, preview normalises phones and marks bad cells', async () => {
    const id = await uploaded(a, 'leads-messy.csv', messy)
    const page = await a.client.page(`/leads/import/${id}`)
    // BOM, comma separator, 11 data rows (the blank row is skipped), UTF-8.
    expect(page).toContain('11 linhas · UTF-8 · separado por vírgula')
    const form = mappingForm(page)
    expect(form).toMatchObject({
      'map.0': 'fullName',
      'map.1': 'email',
      'map.2': 'phone',
      'map.3': 'company',
      'map.4': 'jobTitle',
      'map.5': 'value',
      'map.6': 'source',
      'map.7': 'tags',
      'map.8': 'note',
    })
    // The preview: the phone in national form, the quoted comma kept, the empty name marked.
    expect(page).toContain('(11) 98765-1111')
    expect(page).toContain('Silva, Souza &amp; Cia')
    expect(page).toContain('O nome está vazio')
    expect(page).toContain('&quot;123&quot; não é um telefone válido')
    expect(page).toContain('Será rejeitada')

    // Changing the mapping re-renders only the preview for htmx (the name ignored: nothing to preview).
    const res = await a.client.post(
      `/leads/import/${id}/preview`,
      { ...form, 'map.0': '' },
      { 'hx-request': 'true', 'hx-target': 'import-preview' },
    )
    expect(res.status).toBe(200)
    const frag = await res.text()
    expect(frag).toContain('id="import-preview"')
    expect(frag).not.toContain('<html')
    expect(frag).toContain('Escolha a coluna que tem o nome para ver a prévia.')

    // Starting without a name column is refused with the mapping kept (422), nothing queued.
    const bad = await a.client.post(`/leads/import/${id}/start`, { ...form, 'map.0': '' })
    expect(bad.status).toBe(422)
    expect(await bad.text()).toContain('Escolha a coluna que tem o nome.')
    expect((await findStatus(id)).status).toBe('draft')
  })

  async function findStatus(id: string) {
    return (await withOrg(t.db, { orgId: a.orgId, userId: a.userId }, (tx) => findImport(tx, id)))!
  }

  test('start → the job imports every row through capture: created, merged, rejected with reasons', async () => {
    const before = (await leadsOf(a.orgId)).length
    const id = await uploaded(a, 'leads-messy.csv', messy)
    const form = mappingForm(await a.client.page(`/leads/import/${id}`), { defaultTags: 'planilha' })
    const res = await a.client.post(`/leads/import/${id}/start`, form)
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`/leads/import/${id}`)
    // Queued: the page shows the progress bar at 0%, live.
    const queued = await a.client.page(`/leads/import/${id}`)
    expect(queued).toContain(`data-import-live="${id}"`)
    expect(queued).toContain('aria-valuenow="0"')
    // Starting twice queues one job.
    await a.client.post(`/leads/import/${id}/start`, form)
    expect(await runJobs()).toBe(1)

    const imp = await findStatus(id)
    expect({
      status: imp.status,
      processed: imp.processedRows,
      created: imp.createdCount,
      merged: imp.mergedCount,
      flagged: imp.flaggedCount,
      rejected: imp.rejectedCount,
    }).toEqual({ status: 'completed', processed: 11, created: 5, merged: 2, flagged: 0, rejected: 4 })
    const leads = await leadsOf(a.orgId)
    expect(leads.length).toBe(before + 5)
    const joao = leads.find((l) => l.full_name === 'João da Silva')!
    // E.164 phone; tags from the file, the default tag and the duplicate row's tag (merged in).
    expect(joao.phone).toBe('+5511987651111')
    expect([...joao.tags].sort()).toEqual(['indicação', 'planilha', 'retorno', 'vip'])
    expect(leads.find((l) => l.full_name === 'Fernanda "Nanda" Lima')).toBeDefined()
    expect(leads.find((l) => l.full_name === 'José Carlos Pereira')!.phone).toBe('+5511944447777')
    // The file is not kept once the import is done.
    const chunks = await t.db.raw.query('select 1 from lead_import_chunks where import_id = $1', [id])
    expect(chunks.length).toBe(0)

    // The report page: counts and the rows that did not create a lead, with reasons.
    const report = await a.client.page(`/leads/import/${id}`)
    expect(report).toContain('Importação de leads-messy.csv')
    expect(report).toContain('aria-valuenow="100"')
    expect(report).toContain('O nome está vazio')
    expect(report).toContain('Mesclada a um lead existente')
    expect(report).toContain(`/pipeline/leads/${existing}`)
    const rows = await t.db.raw.query<{ row_number: number; outcome: string; reasons: any }>(
      'select row_number, outcome, reasons from lead_import_rows where import_id = $1 order by row_number',
      [id],
    )
    expect(rows.map((r) => [r.row_number, r.outcome, Object.keys(r.reasons)])).toEqual([
      [3, 'rejected', ['fullName']],
      [4, 'rejected', ['phone']],
      [5, 'rejected', ['email']],
      [6, 'merged', []],
      [7, 'merged', []],
      [8, 'rejected', ['value']],
    ])

    // The report as CSV (UTF-8 BOM, `;`): the original cells back, for fixing and re-importing.
    const csv = await a.client.get(`/leads/import/${id}/report.csv`)
    expect(csv.status).toBe(200)
    expect(csv.headers.get('content-type')).toContain('text/csv')
    expect(csv.headers.get('content-disposition')).toContain('leads-messy-relatorio.csv')
    const bytes = new Uint8Array(await csv.arrayBuffer())
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]) // the BOM Excel needs to read UTF-8
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes).slice(1)
    expect(text.startsWith('Linha;Resultado;Motivos;Lead;Nome completo;E-mail;Celular')).toBe(true)
    expect(text).toContain(
      '5;Rejeitada;"""123"" não é um telefone válido";;Pedro Álvares Cabral;pedro@example.com;123',
    )
    expect(text).toContain('9;Rejeitada;"""abc"" não é um valor";;Lúcia Ferreira')
    expect(text.trim().split('\r\n').length).toBe(7)

    // The history lists it with its result.
    const history = await a.client.page('/leads/import')
    expect(history).toContain('leads-messy.csv')
    expect(history).toContain('5 novos · 2 mesclados · 0 em revisão · 4 rejeitados')
  })

  test('a Latin-1 (Windows-1252) file with `;` reads the same, accents and curly quotes intact', async () => {
    const b = await signUpClient(t, { orgName: 'Latin B' })
    const id = await uploaded(b, 'excel.csv', messyLatin1)
    const page = await b.client.page(`/leads/import/${id}`)
    expect(page).toContain('Latin-1 (Windows-1252) · separado por ponto e vírgula')
    expect(page).toContain('Ana Beatriz Gonçalves')
    const form = mappingForm(page, { dedup: 'off' })
    expect(form['map.0']).toBe('fullName')
    expect((await b.client.post(`/leads/import/${id}/start`, form)).status).toBe(303)
    await runJobs()
    const imp = (await withOrg(t.db, { orgId: b.orgId, userId: b.userId }, (tx) => findImport(tx, id)))!
    // dedup 'off': the in-file duplicate becomes a lead too.
    expect([imp.createdCount, imp.mergedCount, imp.rejectedCount]).toEqual([7, 0, 4])
    const names = (await leadsOf(b.orgId)).map((l) => l.full_name)
    expect(names).toContain('Ana Beatriz Gonçalves')
    const notes = await t.db.raw.query<{ data: any }>(
      `select a.data from lead_activities a join leads l on l.id = a.lead_id
       where l.organization_id = $1 and a.kind = 'note'`,
      [b.orgId],
    )
    expect(notes.map((n) => n.data.body)).toContain('Cliente “quente” – ligar às 9h')
    expect(notes.map((n) => n.data.body)).toContain('Quer orçamento\nem duas linhas')
  })

  test('bad uploads: no file, empty, an unclosed quote, a header only — 4xx with the reason, nothing stored', async () => {
    const fd = new FormData()
    const noFile = await t.handle(
      new Request(`${BASE}/leads/import`, {
        method: 'POST',
        body: fd,
        headers: { cookie: cookie(a), origin: BASE },
      }),
    )
    expect(noFile.status).toBe(422)
    expect(await noFile.text()).toContain('Escolha um arquivo CSV.')
    const empty = await upload(t, a, 'vazio.csv', '')
    expect([422, 400]).toContain(empty.status)
    const unclosed = await upload(
      t,
      a,
      'quebrado.csv',
      'nome;telefone\n"Maria;11 98765-4321\nJoão;11 91234-5678\n',
    )
    expect(unclosed.status).toBe(422)
    expect(await unclosed.text()).toContain(
      'Não foi possível ler este arquivo como CSV (problema perto da linha',
    )
    const headerOnly = await upload(t, a, 'cabecalho.csv', 'nome;telefone\n')
    expect(headerOnly.status).toBe(422)
    expect(await headerOnly.text()).toContain('O arquivo tem cabeçalho, mas nenhuma linha.')
    const n = await t.db.raw.query(
      "select 1 from lead_imports where organization_id = $1 and filename in ('vazio.csv','quebrado.csv','cabecalho.csv')",
      [a.orgId],
    )
    expect(n.length).toBe(0)
  })

  test('a file over the size limit is refused with 413 and a clear message', async () => {
    const big = new Uint8Array(50 * 1024 * 1024 + 10).fill(0x61)
    const res = await upload(t, a, 'enorme.csv', big)
    expect(res.status).toBe(413)
    expect(await res.text()).toContain('O arquivo passa de 50 MB. Divida-o em arquivos menores.')
  })
})

describe('resume after a stop', () => {
  const rows = (n: number) =>
    `nome;telefone;email\n${Array.from(
      { length: n },
      (_, i) => `Pessoa ${i + 1};11 9${String(10000000 + i).padStart(8, '0')};p${i + 1}@example.com`,
    ).join('\n')}\n`

  test('a run stopped after some batches resumes at the checkpoint: every row once, no duplicates', async () => {
    const c = await signUpClient(t, { orgName: 'Resume C' })
    const id = await uploaded(c, 'retomada.csv', rows(40))
    const form = mappingForm(await c.client.page(`/leads/import/${id}`), { dedup: 'off' })
    expect((await c.client.post(`/leads/import/${id}/start`, form)).status).toBe(303)
    const run = <T>(fn: Parameters<typeof withOrg<T>>[2]) =>
      withOrg(t.db, { orgId: c.orgId, userId: c.userId }, fn)
    // A first worker does two batches of 7 and is stopped (its signal aborts before the third).
    const stop = new AbortController()
    let batches = 0
    const imp = (await run((tx) => findImport(tx, id)))!
    const err = await importRows(
      {
        run,
        imp,
        actorId: c.userId,
        batchSize: 7,
        maxTransactionMs: 600_000, // batches of exactly 7, whatever the machine's speed
        signal: stop.signal,
        onBatch: () => {
          if (++batches === 2) stop.abort()
        },
      },
      storedChunks(run, id),
    ).then(
      () => null,
      (e) => e,
    )
    expect(err?.message).toBe('import stopped')
    expect((await run((tx) => findImport(tx, id)))!.processedRows).toBe(14)
    expect((await leadsOf(c.orgId)).length).toBe(14)

    // The job (as after a restart) picks up at row 15.
    expect(await runJobs()).toBe(1)
    const done = (await run((tx) => findImport(tx, id)))!
    expect([done.status, done.processedRows, done.createdCount]).toEqual(['completed', 40, 40])
    const leads = await leadsOf(c.orgId)
    expect(leads.length).toBe(40)
    expect(new Set(leads.map((l) => l.full_name)).size).toBe(40)
  })

  test('a worker shut down mid-import hands the job back; the next worker finishes it without duplicates', async () => {
    const d = await signUpClient(t, { orgName: 'Resume D' })
    const id = await uploaded(d, 'grande.csv', rows(120))
    const form = mappingForm(await d.client.page(`/leads/import/${id}`), { dedup: 'off' })
    expect((await d.client.post(`/leads/import/${id}/start`, form)).status).toBe(303)
    const first = createWorker({ db: t.db, log: silentLogger, jobs: [leadImportJob], pollMs: 20 })
    let stopping: ReturnType<Worker['stop']> | null = null
    // The shutdown (SIGTERM) arrives after the second batch of 20 has committed.
    importJobTuning.batchSize = 20
    importJobTuning.afterBatch = async (p) => {
      if (p.processed < 40) return
      stopping ??= first.stop({ timeoutMs: 0 })
      await stopping // the handler goes on only once the shutdown has aborted it
    }
    try {
      await first.start()
      const deadline = Date.now() + 90_000
      while (!stopping && Date.now() < deadline) await Bun.sleep(20)
      await stopping
    } finally {
      importJobTuning.afterBatch = undefined
    }
    const mid = await t.db.raw.query<{ status: string; processed_rows: number }>(
      'select status, processed_rows from lead_imports where id = $1',
      [id],
    )
    expect(mid[0]!.status).toBe('running')
    expect(mid[0]!.processed_rows).toBeGreaterThanOrEqual(40)
    expect(mid[0]!.processed_rows).toBeLessThan(120)
    // Handed back to the queue (released at shutdown, or failed by the abort and due for a retry).
    const jobs = await t.db.raw.query<{ state: string }>(
      "select state from jobs where name = 'leads.import' and payload->>'importId' = $1",
      [id],
    )
    expect(jobs.length).toBe(1)
    expect(['queued', 'failed']).toContain(jobs[0]!.state)
    await t.db.raw.query(
      "update jobs set run_at = now() where name = 'leads.import' and payload->>'importId' = $1",
      [id],
    )

    // "After the restart": another worker claims the job and finishes from the checkpoint.
    expect(await runJobs()).toBe(1)
    importJobTuning.batchSize = BATCH_SIZE
    const done = await t.db.raw.query<{ status: string; created_count: number; processed_rows: number }>(
      'select status, created_count, processed_rows from lead_imports where id = $1',
      [id],
    )
    expect(done[0]).toEqual({ status: 'completed', created_count: 120, processed_rows: 120 })
    const n = await t.db.raw.query<{ n: number; names: number }>(
      'select count(*)::int as n, count(distinct full_name)::int as names from leads where organization_id = $1',
      [d.orgId],
    )
    expect(n[0]).toEqual({ n: 120, names: 120 })
  })
})

/** Windows-1252 bytes of `text` (every character used here is in Latin-1). */
const latin1 = (text: string) => Uint8Array.from([...text].map((c) => c.charCodeAt(0)))

describe('the embedded database during a long import', () => {
  // PGlite has no autovacuum: without statistics and with the event counter's dead rows piling up, a
  // 100,000-row import slowed to a crawl after 60,000 rows (bench/import.bench.ts --no-maintain).
  test.if(!process.env.TEST_DATABASE_URL)(
    'the import analyzes the growing tables as it goes (PGlite)',
    async () => {
      const m = await signUpClient(t, { orgName: 'Importadora Grande' })
      const lines = ['Nome;Telefone']
      for (let i = 0; i < 400; i++) lines.push(`Pessoa ${i} Teste;11 9${String(10000000 + i)}`)
      const id = await uploaded(m, 'grande.csv', lines.join('\n'))
      const form = mappingForm(await m.client.page(`/leads/import/${id}`), { dedup: 'off' })
      expect((await m.client.post(`/leads/import/${id}/start`, form)).status).toBe(303)
      const run = <T>(fn: Parameters<typeof withOrg<T>>[2]) =>
        withOrg(t.db, { orgId: m.orgId, userId: m.userId }, fn)
      const imp = (await run((tx) => findImport(tx, id)))!
      const analyzedBefore = await lastAnalyze('leads')
      const progress = await importRows(
        { run, imp, actorId: m.userId, batchSize: 50, pauseMs: 0, maintain: t.db, maintainEveryRows: 150 },
        storedChunks(run, id),
      )
      expect(progress.created).toBe(400)
      const analyzed = await lastAnalyze('leads')
      expect(analyzed).not.toBeNull()
      expect(analyzed).not.toEqual(analyzedBefore)
      const [{ rows }] = (await t.db.raw.query<{ rows: number }>(
        `select reltuples::float8 as rows from pg_class where relname = 'leads'`,
      )) as [{ rows: number }]
      expect(rows).toBeGreaterThanOrEqual(150) // the planner knows the table grew
    },
  )
})

async function lastAnalyze(table: string) {
  const [r] = await t.db.raw.query<{ at: Date | null }>(
    'select coalesce(last_analyze, last_autoanalyze) as at from pg_stat_user_tables where relname = $1',
    [table],
  )
  return r?.at ? new Date(r.at).getTime() : null
}

describe('encoding and separator chosen on the mapping step', () => {
  // Tab-separated, Latin-1, and a header with more commas than tabs: detection says ",".
  const file = latin1(
    'Nome\tE-mail\tResponsável\tObservações (ligar, whats, e-mail, visita)\r\n' +
      'João Conceição\tjoao@example.com\t\tligar às 9h, depois whats\r\n' +
      'Lúcia Araújo\tlucia@example.com\t\t\r\n',
  )

  test('a Latin-1 tab file read as ",": choosing tab re-reads the columns; bad choices are refused', async () => {
    const f = await signUpClient(t, { orgName: 'Formato F' })
    const id = await uploaded(f, 'tabs.txt', file)
    const page = await f.client.page(`/leads/import/${id}`)
    // Detected: Latin-1 (not valid UTF-8) and "," (3 commas against 3 tabs on the header line).
    expect(page).toContain('Latin-1 (Windows-1252) · separado por vírgula')
    expect(page).toContain('Automático: Vírgula (,)')
    const imp0 = (await withOrg(t.db, { orgId: f.orgId, userId: f.userId }, (tx) => findImport(tx, id)))!
    expect(imp0.headers.length).toBe(4) // split on the commas

    // htmx: the separator select changes → the whole mapping is swapped with the new columns.
    const res = await f.client.post(
      `/leads/import/${id}/preview`,
      { ...mappingForm(page), encoding: 'windows-1252', delimiter: 'tab' },
      { 'hx-request': 'true', 'hx-target': 'import-mapping' },
    )
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('id="import-mapping"')
    expect(html).toContain('data-testid="format-changed"')
    expect(html).toContain('2 linhas · Latin-1 (Windows-1252) · separado por tabulação')
    expect(html).toContain('<option value="tab" selected')
    expect(html).toContain('João Conceição')
    const form = mappingForm(html)
    // Guessed again for the new header: name, email, owner; the long observations header is not.
    expect([form['map.0'], form['map.1'], form['map.2'], form['map.3']]).toEqual([
      'fullName',
      'email',
      'owner',
      '',
    ])
    const imp = (await withOrg(t.db, { orgId: f.orgId, userId: f.userId }, (tx) => findImport(tx, id)))!
    expect([imp.delimiter, imp.detectedDelimiter, imp.encoding, imp.headers.length]).toEqual([
      '\t',
      ',',
      'windows-1252',
      4,
    ])
    expect(imp.headers[3]).toBe('Observações (ligar, whats, e-mail, visita)')

    // UTF-8 forced on bytes that are not UTF-8: a clear error on the select, nothing changed.
    const notUtf8 = await f.client.post(`/leads/import/${id}/preview`, { ...form, encoding: 'utf-8' })
    expect(notUtf8.status).toBe(422)
    const notUtf8Html = await notUtf8.text()
    expect(notUtf8Html).toContain('Este arquivo não é UTF-8 válido')
    expect(notUtf8Html).toContain('<option value="utf-8" selected')
    // Values that are not offered.
    const bogus = await f.client.post(`/leads/import/${id}/preview`, {
      ...form,
      encoding: 'ebcdic',
      delimiter: '|',
    })
    expect(bogus.status).toBe(422)
    const bogusHtml = await bogus.text()
    expect(bogusHtml).toContain('Codificação desconhecida')
    expect(bogusHtml).toContain('Separador desconhecido')
    const still = (await withOrg(t.db, { orgId: f.orgId, userId: f.userId }, (tx) => findImport(tx, id)))!
    expect([still.delimiter, still.encoding]).toEqual(['\t', 'windows-1252'])

    // No JS: the separator changed and "Import" pressed at once: the file is read again first.
    const back = await f.client.post(`/leads/import/${id}/start`, { ...form, delimiter: 'auto' })
    expect(back.status).toBe(200)
    expect(await back.text()).toContain('O arquivo foi lido de novo')
    expect(
      (await withOrg(t.db, { orgId: f.orgId, userId: f.userId }, (tx) => findImport(tx, id)))!.status,
    ).toBe('draft')
    // Tab again, then the import: accents intact, the observations cell with its commas in one note.
    const again = await f.client.post(`/leads/import/${id}/preview`, { ...form, delimiter: 'tab' })
    const final = mappingForm(await again.text(), { 'map.2': '', 'map.3': 'note', dedup: 'off' })
    const started = await f.client.post(`/leads/import/${id}/start`, { ...final, delimiter: 'tab' })
    expect(started.status).toBe(303)
    await runJobs()
    const names = (await leadsOf(f.orgId)).map((l) => l.full_name)
    expect(names).toEqual(['João Conceição', 'Lúcia Araújo'])
    const notes = await t.db.raw.query<{ data: any }>(
      `select a.data from lead_activities a join leads l on l.id = a.lead_id
       where l.organization_id = $1 and a.kind = 'note'`,
      [f.orgId],
    )
    expect(notes.map((n) => n.data.body)).toEqual(['ligar às 9h, depois whats'])
  })
})

describe('the Owner column', () => {
  const csv = (rows: string[]) => `Nome;Telefone;Vendedor\n${rows.join('\n')}\n`

  async function owners(orgId: string) {
    return t.db.raw.query<{ full_name: string; owner_id: string | null }>(
      'select full_name, owner_id from leads where organization_id = $1 order by full_name',
      [orgId],
    )
  }

  for (const batchCapture of [true, false])
    test(`matched by email or accented name, else assigned by the rules and reported (${batchCapture ? 'captureMany' : 'captureLead'})`, async () => {
      const g = await signUpClient(t, { orgName: `Donos ${batchCapture}` })
      const joao = await addMember(t.db, g.orgId, 'João Conceição')
      const bia = await addMember(t.db, g.orgId, 'Bia Souza')
      const rita = await addMember(t.db, g.orgId, 'Rita Lee')
      await addMember(t.db, g.orgId, 'Carla Dias')
      await addMember(t.db, g.orgId, 'Carla Dias')
      const [biaEmail] = await t.db.raw.query<{ email: string }>('select email from users where id = $1', [
        bia,
      ])
      // The rules send every lead without an owner to Rita.
      await addAssignmentRule(t.db, g, {
        name: 'Rita',
        condition: { type: 'any' },
        strategy: 'round_robin',
        members: [rita],
      })
      const id = await uploaded(
        g,
        'donos.csv',
        csv([
          'Lead Um;11 91111-0001;joao conceicao',
          `Lead Dois;11 91111-0002;${biaEmail!.email.toUpperCase()}`,
          'Lead Tres;11 91111-0003;Zé Ninguém',
          'Lead Quatro;11 91111-0004;',
          'Lead Cinco;11 91111-0005;carla dias',
          'Lead Seis;123;JOÃO CONCEIÇÃO',
        ]),
      )
      const page = await g.client.page(`/leads/import/${id}`)
      const form = mappingForm(page, { dedup: 'off' })
      expect(form['map.2']).toBe('owner')
      // The preview names the member found and warns about the one that is not.
      expect(page).toContain('João Conceição')
      expect(page).toContain('Responsável &quot;Zé Ninguém&quot; não encontrado entre os membros')
      expect(page).toContain('OK, responsável pelas regras')

      const run = <T>(fn: Parameters<typeof withOrg<T>>[2]) =>
        withOrg(t.db, { orgId: g.orgId, userId: g.userId }, fn)
      if (batchCapture) {
        expect((await g.client.post(`/leads/import/${id}/start`, form)).status).toBe(303)
        expect(await runJobs()).toBe(1)
      } else {
        // Row by row (captureLead in a savepoint per row), as the job does with batchCapture off.
        expect((await g.client.post(`/leads/import/${id}/start`, form)).status).toBe(303)
        const imp = (await run((tx) => findImport(tx, id)))!
        await importRows({ run, imp, actorId: g.userId, batchCapture: false }, storedChunks(run, id))
        await runJobs() // the queued job finds the rows done and completes it
      }
      const imp = (await run((tx) => findImport(tx, id)))!
      expect([imp.status, imp.createdCount, imp.rejectedCount]).toEqual(['completed', 5, 1])
      const byName = new Map((await owners(g.orgId)).map((l) => [l.full_name, l.owner_id]))
      expect(Object.fromEntries(byName)).toEqual({
        'Lead Um': joao,
        'Lead Dois': bia,
        'Lead Tres': rita, // not found: the rules
        'Lead Quatro': rita, // no owner given: the rules
        'Lead Cinco': rita, // two members are called Carla Dias: the rules
      })
      const rows = await t.db.raw.query<{
        row_number: number
        outcome: string
        reasons: any
        lead_id: string
      }>(
        'select row_number, outcome, reasons, lead_id from lead_import_rows where import_id = $1 order by row_number',
        [id],
      )
      expect(rows.map((r) => [r.row_number, r.outcome, Object.keys(r.reasons)])).toEqual([
        [3, 'created', ['owner']],
        [5, 'created', ['owner']],
        [6, 'rejected', ['phone']],
      ])
      expect(rows[0]!.reasons.owner).toEqual({
        key: 'import.reason.owner_not_found',
        params: { value: 'Zé Ninguém' },
      })
      expect(rows[1]!.reasons.owner.key).toBe('import.reason.owner_ambiguous')
      expect(rows[0]!.lead_id).toBeTruthy()

      // The report page and its CSV say it.
      const report = await g.client.page(`/leads/import/${id}`)
      expect(report).toContain('Lead novo, com aviso')
      const csvText = await (await g.client.get(`/leads/import/${id}/report.csv`)).text()
      expect(csvText).toContain(
        '4;Lead novo, com aviso;"Responsável ""Zé Ninguém"" não encontrado entre os membros: distribuído pelas regras"',
      )
      expect(csvText).toContain('Lead Tres;11 91111-0003;Zé Ninguém')
    })

  test('another organization’s member is not an owner here', async () => {
    const h = await signUpClient(t, { orgName: 'Donos H' })
    const other = await signUpClient(t, { orgName: 'Donos I', name: 'Otávio Outro' })
    const id = await uploaded(
      h,
      'outro.csv',
      `Nome;Responsável\nLead X;${other.email}\nLead Y;Otávio Outro\n`,
    )
    const form = mappingForm(await h.client.page(`/leads/import/${id}`), { dedup: 'off' })
    expect((await h.client.post(`/leads/import/${id}/start`, form)).status).toBe(303)
    await runJobs()
    const leads = await owners(h.orgId)
    expect(leads.map((l) => l.owner_id)).not.toContain(other.userId)
    const rows = await t.db.raw.query<{ reasons: any }>(
      'select reasons from lead_import_rows where import_id = $1 order by row_number',
      [id],
    )
    expect(rows.map((r) => r.reasons.owner.key)).toEqual([
      'import.reason.owner_not_found',
      'import.reason.owner_not_found',
    ])
  })
})
