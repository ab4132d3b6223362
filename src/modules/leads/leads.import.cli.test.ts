/**
 * `loved import` and `loved export` as an operator runs them: `bun src/main.ts ...` in a child
 * process against a DATA_DIR (PGlite) or a fresh database on the real Postgres (TEST_DATABASE_URL).
 * The import goes through the same row pipeline as the UI (counts, reasons); the export reads back
 * what was imported, with the list's filters.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parse } from 'csv-parse/sync'
import { createTestDatabaseUrl } from '../../../test/db'

const ROOT = resolve(import.meta.dir, '../../..')
const FIXTURES = join(ROOT, 'test/fixtures')
let work: string
let env: Record<string, string>
let slug: string

async function loved(args: string[]) {
  const proc = Bun.spawn(['bun', join(ROOT, 'src/main.ts'), ...args], {
    // From the checkout (its tsconfig gives the JSX runtime); every path given is absolute.
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, code] = await Promise.all([
    // Keep a BOM if there is one (Response.text() would drop it).
    new Response(proc.stdout)
      .arrayBuffer()
      .then((b) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(b)),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { code, stdout, stderr }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'loved-import-cli-'))
  const databaseUrl = await createTestDatabaseUrl()
  env = {
    SECRET_KEY: 'cli-test-secret-key-cli-test-secret-key',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: join(work, 'data') }),
  }
  const r = await loved([
    'create-admin',
    '--email',
    'ana@example.com',
    '--password',
    'correct horse battery',
    '--name',
    'Ana',
    '--org',
    'Agência Importa',
  ])
  expect(r.code).toBe(0)
  slug = /\(([a-z0-9-]+)\)\.\n$/.exec(r.stdout)![1]!
}, 180_000) // first boot of a data directory (initdb + migrations) on a busy machine
afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('loved import', () => {
  test('imports the messy CSV: progress on stderr, summary on stdout, rejected rows counted', async () => {
    const r = await loved(['import', join(FIXTURES, 'leads-messy.csv'), '--org', slug, '--tags', 'cli'])
    expect(r.stderr).toContain('Importing 11 rows')
    expect(r.stderr).toContain('Nome completo → fullName')
    // Not a terminal: one progress line (the last), no carriage returns.
    expect(r.stderr).toContain('11/11 rows (100%) · 6 created · 1 merged · 0 flagged · 4 rejected')
    expect(r.stderr).not.toContain('\r')
    expect(r.stdout).toMatch(
      /Imported .*leads-messy\.csv: 11 rows in [\d.]+ s — 6 created, 1 merged, 0 flagged for review, 4 rejected\./,
    )
    expect(r.stdout).toMatch(/Report: \/leads\/import\/[0-9a-f-]{36}/)
    expect(r.code).toBe(0)
  })

  test('a Latin-1 `;` file with --dedup off creates every valid row again', async () => {
    const r = await loved([
      'import',
      join(FIXTURES, 'leads-messy-latin1.csv'),
      '--org',
      slug,
      '--dedup',
      'off',
    ])
    expect(r.stderr).toContain('(windows-1252, ";"; dedup off)')
    expect(r.stdout).toContain('11 rows')
    expect(r.stdout).toContain('7 created, 0 merged, 0 flagged for review, 4 rejected')
    expect(r.code).toBe(0)
  })

  test('bad usage exits 2 before touching the database; bad input exits 1 with the reason', async () => {
    const unknown = await loved(['import', 'x.csv', '--org', slug, '--bogus', '1'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('Unknown option --bogus')
    const noOrg = await loved(['import', 'x.csv'])
    expect(noOrg.code).toBe(2)
    expect(noOrg.stderr).toContain('needs --org SLUG')
    const dedup = await loved(['import', 'x.csv', '--org', slug, '--dedup', 'maybe'])
    expect(dedup.code).toBe(2)
    expect(dedup.stderr).toContain('--dedup must be auto, review or off')
    const missing = await loved(['import', join(work, 'nope.csv'), '--org', slug])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('File not found')
    const noName = join(work, 'sem-nome.csv')
    writeFileSync(noName, 'telefone;cidade\n11 98765-4321;São Paulo\n')
    const r = await loved(['import', noName, '--org', slug])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('mapping: Choose the column that holds the name.')
    expect(r.stderr).toContain('Columns found: "telefone", "cidade"')
    const wrongOrg = await loved(['import', noName, '--org', 'nao-existe'])
    expect(wrongOrg.code).toBe(1)
    expect(wrongOrg.stderr).toContain('No organization with slug "nao-existe"')
  })
})

describe('loved export', () => {
  test('writes UTF-8 with BOM and `;` for Excel pt-BR, one line per lead, filters like the list', async () => {
    const r = await loved(['export', '--org', slug])
    expect(r.code).toBe(0)
    expect(r.stdout.startsWith('\uFEFFNome;E-mail;Telefone;Empresa;Cargo;Valor;Moeda;Origem;Etiquetas')).toBe(
      true,
    )
    const rows: string[][] = parse(r.stdout.slice(1), { delimiter: ';' })
    expect(rows.length).toBe(1 + 13) // 6 + 7 leads
    const joao = rows.find((x) => x[0] === 'João da Silva')!
    // National phone form (kept as text by a spreadsheet), decimal comma, tags merged from the duplicate row.
    expect(joao.slice(0, 6)).toEqual([
      'João da Silva',
      'joao.silva@example.com',
      '(11) 98765-1111',
      'Silva, Souza & Cia',
      'Gerente',
      '1500,00',
    ])
    expect(joao[8]!.split(', ').sort()).toEqual(['cli', 'indicação', 'retorno', 'vip'])

    const out = join(work, 'vip.csv')
    const f = await loved(['export', '--org', slug, '--tag', 'vip', '--separator', ',', '--out', out])
    expect(f.code).toBe(0)
    expect(f.stderr).toContain(`Exported 2 leads to ${out}`)
    const vip: string[][] = parse(readFileSync(out, 'utf8').slice(1), { delimiter: ',' })
    expect(vip.slice(1).map((x) => x[0])).toEqual(['João da Silva', 'João da Silva'])

    const search = await loved(['export', '--org', slug, '--q', 'goncalves', '--locale', 'en'])
    const found: string[][] = parse(search.stdout.slice(1), { delimiter: ';' })
    expect(found[0]!.slice(0, 3)).toEqual(['Name', 'Email', 'Phone'])
    expect(found.slice(1).map((x) => x[0])).toEqual(['Ana Beatriz Gonçalves', 'Ana Beatriz Gonçalves'])

    const bad = await loved(['export', '--org', slug, '--score-min', 'lots'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--score-min has an invalid value "lots"')
  })

  test('an exported file imports back: the same people, recognised as duplicates', async () => {
    const file = join(work, 'roundtrip.csv')
    expect((await loved(['export', '--org', slug, '--out', file])).code).toBe(0)
    const r = await loved(['import', file, '--org', slug])
    expect(r.code).toBe(0)
    // Every exported lead matches itself (phone or email): nothing new is created.
    expect(r.stdout).toMatch(/13 rows in [\d.]+ s — 0 created/)
  })
})

describe('loved import --encoding / --delimiter, and an Owner column', () => {
  test('a Latin-1 tab file forced with the flags; owners by email and accented name; bad values exit 2', async () => {
    // Header with more commas than tabs: detection alone would split on ",".
    const text =
      'Nome\tTelefone\tResponsável\tObs (ligar, whats, e-mail, visita)\n' +
      'Cláudia Tabulada\t11 93333-0001\tANA@EXAMPLE.COM\tligar, depois whats\n' +
      'Márcio Tabulado\t11 93333-0002\tána\t\n' +
      'Sérgio Tabulado\t11 93333-0003\tNinguém Sabe\t\n'
    const file = join(work, 'tabulado.txt')
    writeFileSync(file, Uint8Array.from([...text].map((c) => c.charCodeAt(0))))

    const badEnc = await loved(['import', file, '--org', slug, '--encoding', 'ebcdic'])
    expect(badEnc.code).toBe(2)
    expect(badEnc.stderr).toContain('--encoding must be auto, utf-8 or latin1 (Windows-1252), not "ebcdic"')
    const badDelim = await loved(['import', file, '--org', slug, '--delimiter', '|'])
    expect(badDelim.code).toBe(2)
    expect(badDelim.stderr).toContain('--delimiter must be auto, ";", "," or tab, not "|"')
    const notUtf8 = await loved(['import', file, '--org', slug, '--encoding', 'utf-8'])
    expect(notUtf8.code).toBe(1)
    expect(notUtf8.stderr).toContain('not valid UTF-8; use --encoding latin1')

    const r = await loved([
      'import',
      file,
      '--org',
      slug,
      '--encoding',
      'latin1',
      '--delimiter=tab',
      '--dedup',
      'off',
    ])
    expect(r.stderr).toContain('Importing 3 rows')
    expect(r.stderr).toContain('(windows-1252, "tab"; dedup off)')
    expect(r.stderr).toContain('Responsável → owner')
    expect(r.stdout).toContain('3 created, 0 merged, 0 flagged for review, 0 rejected')
    expect(r.stdout).toContain('1 row had an owner that is not a member: assigned by the rules instead')
    expect(r.stdout).toMatch(/Report: \/leads\/import\/[0-9a-f-]{36}/)
    expect(r.code).toBe(0)

    // The owners, read back through the export (the owner's name column).
    const out = await loved(['export', '--org', slug, '--q', 'tabulad', '--locale', 'en'])
    const rows: string[][] = parse(out.stdout.slice(1), { delimiter: ';' })
    const col = rows[0]!.indexOf('Owner')
    expect(col).toBeGreaterThan(0)
    const owner = Object.fromEntries(rows.slice(1).map((x) => [x[0], x[col]]))
    expect(owner['Cláudia Tabulada']).toBe('Ana')
    expect(owner['Márcio Tabulado']).toBe('Ana')
    // Not a member: the assignment rules (none here) leave it without an owner, and the row imported.
    expect(owner['Sérgio Tabulado']).toBe('')
  })
})
