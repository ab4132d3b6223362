/**
 * Free-text search over leads, shared by the lead list and the board's `q` filter so both agree:
 * the query is folded like `leads.search_text` (accents and case ignored: "joao" finds "João",
 * "conceicao" finds "Conceição") and every word is a prefix ("mar sil" finds "Maria da Silva"),
 * matched with the GIN index on the stored `search_tsv` = to_tsvector('simple', search_text)
 * (migrations/0010_lead_list.sql).
 * A query made of phone characters ("(11) 98765-4321") is searched as one run of digits.
 */
import { type SQL, sql } from 'drizzle-orm'
import { fold } from '../../shared/text'

/** The to_tsquery text for a user's query, or null when nothing searchable is left. */
export function tsQuery(q: string | null | undefined): string | null {
  const raw = (q ?? '').trim()
  if (!raw) return null
  let words: string[]
  if (/^[\d\s()+.-]+$/.test(raw) && raw.replace(/\D/g, '').length >= 3) words = [raw.replace(/\D/g, '')]
  else
    words = fold(raw)
      .split(' ')
      // The 'simple' parser splits an address at the @ only when it is not an email: keep word runs.
      .map((w) => w.replace(/^[.@+]+|[.@+]+$/g, ''))
      .filter(Boolean)
  words = [...new Set(words)].slice(0, 8)
  if (!words.length) return null
  // fold() leaves only letters, digits, '@', '.', '+': nothing that needs quoting but the quote itself.
  return words.map((w) => `'${w.replace(/'/g, "''")}':*`).join(' & ')
}

/** The WHERE fragment of a search for the alias `alias` of `leads` (`true` when q is empty). */
export function searchSql(q: string | null | undefined, alias = 'l'): SQL {
  const tsq = tsQuery(q)
  if (!tsq) return sql`true`
  return sql`${sql.raw(alias)}.search_tsv @@ to_tsquery('simple', ${tsq})`
}
