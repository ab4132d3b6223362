/**
 * CSV reading and writing for lead imports and exports, as Brazilian spreadsheets produce them:
 *
 * - Encoding: UTF-8 (with or without BOM) or, when the bytes are not valid UTF-8, Windows-1252 (what
 *   Excel pt-BR writes with "CSV (separado por vírgulas)"). The whole file is checked, not a prefix.
 * - Separator: `;` (Excel pt-BR), `,` or tab, sniffed from the header line (outside quotes).
 * - Parsing: csv-parse (node-csv, maintained since 2010): a streaming parser that handles quoted
 *   separators and line breaks, `""` escapes, BOMs, ragged rows and a record-size limit, fed through a
 *   WHATWG TransformStream so a file of any size is read with bounded memory.
 * - Writing: csv-stringify (same project), with spreadsheet-formula cells neutralised (OWASP CSV
 *   injection: a leading `=`, `+`, `-`, `@`, tab or CR gets a `'`).
 */
import { parse } from 'csv-parse/stream'
import { stringify } from 'csv-stringify/sync'
import type { CsvEncoding } from './leads.import.table'

export type Delimiter = ',' | ';' | '\t'
export const DELIMITERS: readonly Delimiter[] = [';', ',', '\t']

/** A record longer than this (an unclosed quote swallowing the file) fails the parse. */
export const MAX_RECORD_BYTES = 1 << 20

export class CsvFormatError extends Error {
  constructor(
    message: string,
    /** 1-based line of the file where the parser stopped, when known. */
    public readonly line?: number,
  ) {
    super(message)
  }
}

/** True when the whole byte stream is valid UTF-8 (streaming: one chunk in memory at a time). */
export async function isUtf8(source: AsyncIterable<Uint8Array>): Promise<boolean> {
  const dec = new TextDecoder('utf-8', { fatal: true })
  try {
    for await (const chunk of source) dec.decode(chunk, { stream: true })
    dec.decode()
    return true
  } catch {
    return false
  }
}

/** Bytes to text chunks (the BOM of a UTF-8 file dropped; a multi-byte char split across chunks kept). */
export async function* decode(
  source: AsyncIterable<Uint8Array>,
  encoding: CsvEncoding,
): AsyncIterable<string> {
  const dec = new TextDecoder(encoding)
  for await (const chunk of source) {
    const text = dec.decode(chunk, { stream: true })
    if (text) yield text
  }
  const tail = dec.decode()
  if (tail) yield tail
}

/** The separator of the header line: the most frequent of `;`, `,` and tab outside quotes (`;` on ties). */
export function sniffDelimiter(text: string): Delimiter {
  const counts: Record<Delimiter, number> = { ';': 0, ',': 0, '\t': 0 }
  let quoted = false
  for (const ch of text.replace(/^\uFEFF/, '')) {
    if (ch === '"') quoted = !quoted
    else if (!quoted && (ch === '\n' || ch === '\r')) break
    else if (!quoted && (ch === ';' || ch === ',' || ch === '\t')) counts[ch]++
  }
  let best: Delimiter = ';'
  for (const d of DELIMITERS) if (counts[d] > counts[best]) best = d
  return best
}

/**
 * Parsed records (arrays of cells) of a text stream. Blank lines and rows of empty cells are
 * skipped; rows may have fewer or more cells than the header; a stray quote inside a cell is kept.
 */
export async function* records(text: AsyncIterable<string>, delimiter: Delimiter): AsyncIterable<string[]> {
  const parser = parse({
    delimiter,
    bom: true,
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
    max_record_size: MAX_RECORD_BYTES,
  })
  // The parser works on bytes: text (already decoded from the file's encoding) goes in as UTF-8.
  const source = text[Symbol.asyncIterator]()
  const input = new ReadableStream<Uint8Array>({
    async pull(c) {
      const r = await source.next()
      if (r.done) c.close()
      else c.enqueue(Buffer.from(r.value, 'utf8'))
    },
    async cancel() {
      await source.return?.()
    },
  })
  const reader = (input.pipeThrough(parser) as ReadableStream<string[]>).getReader()
  try {
    for (;;) {
      const r = await reader.read()
      if (r.done) return
      yield r.value
    }
  } catch (err) {
    const e = err as { message?: string; lines?: number; code?: string }
    throw new CsvFormatError(e.message ?? String(err), e.lines)
  } finally {
    // Stopping early (a preview of the first rows) cancels the file read behind the parser.
    await reader.cancel().catch(() => {})
  }
}

/** A `Uint8Array` stream from a Blob (an upload or a file on disk), in its natural chunks. */
export async function* blobChunks(blob: Blob): AsyncIterable<Uint8Array> {
  for await (const chunk of blob.stream() as unknown as AsyncIterable<Uint8Array>) yield chunk
}

/** Re-chunks a byte stream into pieces of `size` bytes (the last one shorter). */
export async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncIterable<Uint8Array> {
  let buf = new Uint8Array(size)
  let used = 0
  for await (let chunk of source) {
    while (chunk.length) {
      const n = Math.min(size - used, chunk.length)
      buf.set(chunk.subarray(0, n), used)
      used += n
      chunk = chunk.subarray(n)
      if (used === size) {
        yield buf
        buf = new Uint8Array(size)
        used = 0
      }
    }
  }
  if (used) yield buf.subarray(0, used)
}

/** What an upload looks like: its encoding, separator, header and data-row count. */
export interface CsvShape {
  encoding: CsvEncoding
  delimiter: Delimiter
  headers: string[]
  totalRows: number
  /** What detection found (differs from the above when they were forced). */
  detected?: { encoding: CsvEncoding; delimiter: Delimiter }
}

/** A forced encoding and/or separator (the user's choice when detection was wrong); absent = detect. */
export interface CsvFormatChoice {
  encoding?: CsvEncoding
  delimiter?: Delimiter
}

/** UTF-8 was forced on bytes that are not valid UTF-8 (they would read as replacement characters). */
export class CsvEncodingError extends CsvFormatError {
  constructor() {
    super('the file is not valid UTF-8')
  }
}

/** `auto` (or nothing) → undefined; a known encoding name → it; anything else → null (an error). */
export function parseEncodingChoice(v: string | null | undefined): CsvEncoding | undefined | null {
  const k = (v ?? '').trim().toLowerCase()
  if (k === '' || k === 'auto') return undefined
  if (k === 'utf-8' || k === 'utf8') return 'utf-8'
  if (['latin1', 'latin-1', 'windows-1252', 'cp1252', 'iso-8859-1'].includes(k)) return 'windows-1252'
  return null
}

/** `auto` (or nothing) → undefined; `;` `,` tab (or their names) → it; anything else → null. */
export function parseDelimiterChoice(v: string | null | undefined): Delimiter | undefined | null {
  const k = (v ?? '').toLowerCase()
  if (k === '' || k === 'auto') return undefined
  if (k === ';' || k === 'semicolon') return ';'
  if (k === ',' || k === 'comma') return ','
  if (k === '\t' || k === '\\t' || k === 'tab') return '\t'
  return null
}

/**
 * Reads a whole file once to learn its shape (`open` is called for each pass: the UTF-8 check, then
 * the parse), with the encoding and separator detected unless `force`d. Throws CsvFormatError for an
 * unreadable file (unclosed quote, no header), CsvEncodingError when UTF-8 is forced on other bytes.
 */
export async function scanCsv(
  open: () => AsyncIterable<Uint8Array>,
  force: CsvFormatChoice = {},
): Promise<CsvShape> {
  const utf8 = await isUtf8(open())
  if (force.encoding === 'utf-8' && !utf8) throw new CsvEncodingError()
  const encoding: CsvEncoding = force.encoding ?? (utf8 ? 'utf-8' : 'windows-1252')
  const sniff = await sniffed(decode(open(), encoding))
  const delimiter = force.delimiter ?? sniff.delimiter
  const texts = sniff.texts
  let headers: string[] | null = null
  let totalRows = 0
  for await (const record of records(texts, delimiter)) {
    if (!headers) headers = cleanHeaders(record)
    else totalRows++
  }
  if (!headers) throw new CsvFormatError('no header line')
  const detected = {
    encoding: utf8 ? ('utf-8' as const) : ('windows-1252' as const),
    delimiter: sniff.delimiter,
  }
  return { encoding, delimiter, headers, totalRows, detected }
}

/**
 * Reads text until the end of the first line (or 64 KB) to sniff the separator, and gives back the
 * whole stream, nothing lost.
 */
export async function sniffed(
  text: AsyncIterable<string>,
): Promise<{ delimiter: Delimiter; texts: AsyncIterable<string> }> {
  const it = text[Symbol.asyncIterator]()
  let head = ''
  let done = false
  while (!/[\r\n]/.test(head) && head.length < 65_536) {
    const r = await it.next()
    if (r.done) {
      done = true
      break
    }
    head += r.value
  }
  if (!head.trim()) throw new CsvFormatError('empty file')
  async function* texts() {
    yield head
    if (done) return
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value
  }
  return { delimiter: sniffDelimiter(head), texts: texts() }
}

/** Trimmed header names; blank ones become "Coluna 3" / "Column 3" later in the views (kept ''). */
export function cleanHeaders(record: string[]): string[] {
  return record.map((h) =>
    h
      .replace(/^\uFEFF/, '')
      .trim()
      .replace(/\s+/g, ' ')
      .slice(0, 120),
  )
}

// Writing -----------------------------------------------------------------------------------------

/** OWASP CSV injection: a cell a spreadsheet would run as a formula is prefixed with `'`. */
export function safeCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
}

export interface CsvWriteOptions {
  delimiter: Delimiter
}

/** Rows to CSV text (CRLF line ends, quotes only where needed, formula cells neutralised). */
export function csvLines(rows: string[][], opts: CsvWriteOptions): string {
  return stringify(
    rows.map((r) => r.map(safeCell)),
    { delimiter: opts.delimiter, record_delimiter: 'windows', quoted_string: false },
  )
}

/** The UTF-8 byte order mark: Excel reads a BOM-less CSV as the system code page (mangled accents). */
export const BOM = '\uFEFF'
