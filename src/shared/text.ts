/**
 * Text folding for matching and search: lower case, accents removed (NFD then combining marks
 * dropped: "João Conceição" → "joao conceicao"), punctuation to spaces, whitespace collapsed.
 * Stored copies (leads.search_text, leads.name_key) and queries are folded by the same function,
 * so search ignores accents without a database extension (PGlite ships without `unaccent`).
 */
export function fold(text: string | null | undefined): string {
  if (!text) return ''
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}@.+]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
}

// Portuguese name particles: "Maria da Silva" and "Maria Silva" are the same name for matching.
const PARTICLES = new Set(['da', 'das', 'de', 'do', 'dos', 'e', 'di', 'del', 'van', 'von'])

/**
 * A person's name as matching tokens: folded, particles dropped ("Maria da Silva" → maria silva).
 * The spreadsheet form "Surname, Given names" is put back in the usual order ("Costa Marques,
 * Natália" → natalia costa marques), so the first token is the given name.
 */
export function nameTokens(name: string | null | undefined): string[] {
  const parts = (name ?? '').split(',')
  const ordered =
    parts.length === 2 && parts[0]!.trim() && parts[1]!.trim() ? `${parts[1]} ${parts[0]}` : name
  return fold(ordered)
    .replace(/[@.+]/g, ' ')
    .split(' ')
    .filter((t) => t.length > 0 && !PARTICLES.has(t))
}

/** The stored name key: the tokens joined by one space (leads.name_key). */
export const nameKey = (name: string | null | undefined) => nameTokens(name).join(' ')
