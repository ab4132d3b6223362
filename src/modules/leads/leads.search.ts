/**
 * Free-text search over leads, shared by the lead list and the board's `q` filter so both agree:
 * the query is folded like `leads.search_text` (accents and case ignored: "joao" finds "João",
 * "conceicao" finds "Conceição") and every word is a prefix ("mar sil" finds "Maria da Silva"),
 * all words must match. A query made of phone characters ("(11) 98765-4321") is searched as one run
 * of digits.
 *
 * The match is `search_tsv @@ to_tsquery('simple', …)` (search_tsv = to_tsvector('simple',
 * search_text)), but answered from `lead_search_terms` (migrations/0019_lead_search_terms.sql), the
 * lexemes of search_tsv in a btree: under row-level security the tsvector match (@@) cannot use an
 * index (it is not LEAKPROOF), text comparison can. Each word is a range of terms
 * (`term >= 'sil' and term < 'sim'`, an Index Cond with organization_id); the ranges are intersected.
 * A word the text parser may split ("ana+tag", "x.y@z") is ranged by its leading letters and digits
 * and the candidates re-checked with @@, so the result is the tsquery's exactly.
 */
import { type SQL, sql } from 'drizzle-orm'
import { fold } from '../../shared/text'

/** The to_tsquery text for a user's query, or null when nothing searchable is left. */
export function tsQuery(q: string | null | undefined): string | null {
  const words = queryWords(q)
  if (!words.length) return null
  // fold() leaves only letters, digits, '@', '.', '+': nothing that needs quoting but the quote itself.
  return words.map((w) => `'${w.replace(/'/g, "''")}':*`).join(' & ')
}

/** The words of a query as tsQuery uses them (folded or the phone's digits), at most 8. */
function queryWords(q: string | null | undefined): string[] {
  const raw = (q ?? '').trim()
  if (!raw) return []
  let words: string[]
  if (/^[\d\s()+.-]+$/.test(raw) && raw.replace(/\D/g, '').length >= 3) words = [raw.replace(/\D/g, '')]
  else
    words = fold(raw)
      .split(' ')
      // The 'simple' parser splits an address at the @ only when it is not an email: keep word runs.
      .map((w) => w.replace(/^[.@+]+|[.@+]+$/g, ''))
      .filter(Boolean)
  return [...new Set(words)].slice(0, 8)
}

/**
 * The smallest string above every string that starts with `prefix`, in code point order (collation
 * "C" on UTF-8 compares bytes, which orders like code points): the last code point plus one,
 * skipping the surrogates; null when there is none (every string >= prefix starts with it).
 */
export function prefixEnd(prefix: string): string | null {
  const cps = [...prefix].map((c) => c.codePointAt(0)!)
  while (cps.length) {
    const last = cps.pop()!
    if (last >= 0x10ffff) continue
    const next = last + 1 === 0xd800 ? 0xe000 : last + 1
    return String.fromCodePoint(...cps, next)
  }
  return null
}

// The start of a word that the text parser keeps as the start of its first token: letters and
// ASCII digits ("x²y" is split at the ², "ana+tag" at the +, "joao.silva@x.com" is one token).
const LEADING_RUN = /^(?:[0-9]|\p{L})+/u
/** Shorter words are left to the @@ check (see termRanges). */
const MIN_RANGE = 2

/**
 * The term ranges of a query, one per word ({ from, to } with `to` null for no upper bound), and
 * whether they are the match exactly (every word a plain run) or only narrow it (re-check with @@).
 */
export function termRanges(q: string | null | undefined): {
  ranges: Array<{ from: string; to: string | null }>
  exact: boolean
} {
  const ranges: Array<{ from: string; to: string | null }> = []
  let exact = true
  for (const w of queryWords(q)) {
    const run = LEADING_RUN.exec(w)?.[0] ?? ''
    if (run !== w || !/^[a-z0-9]+$/.test(w)) exact = false
    // One letter ("m", typed first in the search box) matches a large part of any list: its range
    // would join most leads, when reading the list in order and checking @@ finds a page at once.
    if (run.length < MIN_RANGE) exact = false
    else ranges.push({ from: run, to: prefixEnd(run) })
  }
  return { ranges, exact: exact && ranges.length > 0 }
}

/** The WHERE fragment of a search for the alias `alias` of `leads` (`true` when q is empty). */
export function searchSql(q: string | null | undefined, alias = 'l'): SQL {
  const tsq = tsQuery(q)
  if (!tsq) return sql`true`
  const a = sql.raw(alias)
  const { ranges, exact } = termRanges(q)
  // One set of ids, the words' ranges intersected (each range read once: as separate IN (...) per word,
  // the planner probed the second range once per lead of the first, 2 s at 12,500 "joao"s).
  const ids = ranges.map(
    (r) =>
      sql`select t.lead_id from lead_search_terms t where t.term >= ${r.from}::text${
        r.to === null ? sql`` : sql` and t.term < ${r.to}::text`
      }`,
  )
  const parts = ids.length ? [sql`${a}.id in (${sql.join(ids, sql` intersect `)})`] : []
  if (!exact) parts.push(sql`${a}.search_tsv @@ to_tsquery('simple', ${tsq})`)
  return sql.join(parts, sql` and `)
}
