/**
 * The match score of two lead records: pure functions, no database.
 *
 * Evidence is added up as log-odds points (the Fellegi–Sunter idea behind record linkage), then
 * turned into a percentage with the logistic function, so each piece of evidence is one readable
 * reason ("same phone +7", "different email −2.5") and thresholds are plain percentages.
 *
 * Names are compared token by token with Jaro-Winkler (`@skyra/jaro-winkler`: a small, typed,
 * dependency-free implementation; Jaro-Winkler is the comparator Winkler designed for person names
 * in census record linkage — it forgives typos and rewards a shared beginning). Tokens are folded
 * (accents, case) and Portuguese particles dropped before (`nameTokens`), and matched as a bag, so
 * "Silva, Maria" = "Maria da Silva" and "João" = "Joao"; a missing middle name costs little, a
 * middle initial ("Maria A. Silva") or a known nickname ("Zé", "Bia", "Paulinho") is close, and
 * names that agree on the first and last word but not in between ("Cláudia Fernanda Ramos",
 * "Cláudia Freitas Ramos") are weak evidence against, not another person.
 *
 * How specific a name is comes from the organization's own leads (Winkler's frequency-based
 * weights): the only lead with the name makes agreement strong; three or more make it weak.
 *
 * Contact data decides: the same phone or the same email key is strong evidence for; a different
 * phone AND a different email is strong evidence against, which keeps five "Maria Silva" apart.
 * One differing contact (a second phone, a work email) is weaker evidence against: a rare name, a
 * full three-word name or the same company can still put the pair in the review queue, never merge.
 */
import { jaroWinkler } from '@skyra/jaro-winkler'
import { fold } from '../../shared/text'
import type { MatchReason } from './leads.dedup.table'
import { formalNames, givenNameVariants, isNicknameOf } from './leads.nicknames'

export interface MatchRecord {
  /** leads.name_key: folded tokens without particles. */
  nameKey: string
  /** E.164. */
  phone: string | null
  emailKey: string | null
  company: string | null
}

export interface MatchResult {
  /** 0..100. */
  score: number
  /** A shared phone or email backs it: may merge automatically when the score is high enough. */
  certain: boolean
  /** Name similarity 0..1. */
  nameSimilarity: number
  reasons: MatchReason[]
}

const PRIOR = -4
const WORST_TOKEN = 0.88

/** One typo apart: one letter inserted, dropped, replaced, or two neighbours swapped. */
export function oneEditApart(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  if (a.length === b.length) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2)
  }
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1)
}

/**
 * Two name tokens: Jaro-Winkler, with initials ("m" for "maria") counted as a near match, a single
 * typo in a word of four letters or more ("Mria", "Deniel", "Jão") counted as close (0.92), where
 * Jaro-Winkler alone can fall below different names that share a beginning, and a known nickname
 * ("Zé" for "José") as close too (0.93).
 */
function tokenSim(a: string, b: string): number {
  if (a === b) return 1
  // Names repeat (a bulk import compares the same words thousands of times): remember the pairs.
  return remember(TOKEN_SIMS, a < b ? `${a}|${b}` : `${b}|${a}`, () => tokenSimOf(a, b))
}

const MEMO_MAX = 50_000
const TOKEN_SIMS = new Map<string, number>()

/** `compute()` once per key (pure functions of their key; the map is emptied when it gets big). */
function remember<V>(map: Map<string, V>, key: string, compute: () => V): V {
  const have = map.get(key)
  if (have !== undefined) return have
  if (map.size >= MEMO_MAX) map.clear()
  const value = compute()
  map.set(key, value)
  return value
}

function tokenSimOf(a: string, b: string): number {
  if (a.length === 1 || b.length === 1) return a[0] === b[0] ? 0.9 : 0
  const jw = jaroWinkler(a, b)
  // "Jão" for "João": a dropped letter leaves three; the word typed was still four letters or more.
  const typo = Math.min(a.length, b.length) >= 3 && Math.max(a.length, b.length) >= 4 && oneEditApart(a, b)
  if (typo) return Math.max(jw, 0.92)
  // "Zé" for "José", "Bia" for "Beatriz", "Paulinho" for "Paulo" (leads.nicknames.ts).
  if (isNicknameOf(a, b)) return Math.max(jw, 0.93)
  // A typo in a nickname ("Quiim" for Quim, "Marquinhs" for Marquinhos): a bit less close.
  return nicknameTypo(a, b) || nicknameTypo(b, a) ? Math.max(jw, 0.9) : jw
}

/** `a` is one typo away from a short form of `b` (both four letters or more, so "Lu" stays "Lu"). */
function nicknameTypo(a: string, b: string): boolean {
  if (a.length < 4) return false
  return givenNameVariants(b).some((v) => v !== b && v.length >= 4 && oneEditApart(a, v))
}

/**
 * Similarity of two names: every token pair is scored, then pairs are taken best first (each token
 * used once), so word order does not matter. `sim` mixes the mean and the worst pair, so one wrong
 * first name ("Maria" vs "Ana" Silva) is not averaged away; `worst` is that worst pair. A missing
 * middle name costs 3%; a lone first name against a full name is weak evidence (× 0.85).
 */
export function nameMatch(aKey: string, bKey: string): NameMatch {
  return remember(NAME_MATCHES, `${aKey}|${bKey}`, () => nameMatchOf(aKey, bKey))
}

export interface NameMatch {
  sim: number
  worst: number
  middleOnly: boolean
}
const NAME_MATCHES = new Map<string, NameMatch>()

function nameMatchOf(aKey: string, bKey: string): NameMatch {
  const a = aKey.split(' ').filter(Boolean)
  const b = bKey.split(' ').filter(Boolean)
  if (!a.length || !b.length) return { sim: 0, worst: 0, middleOnly: false }
  const pairs: [number, number, number][] = []
  for (let i = 0; i < a.length; i++)
    for (let j = 0; j < b.length; j++) pairs.push([tokenSim(a[i]!, b[j]!), i, j])
  pairs.sort((x, y) => y[0] - x[0])
  const usedA = new Set<number>()
  const usedB = new Set<number>()
  const scores: number[] = []
  const want = Math.min(a.length, b.length)
  for (const [s, i, j] of pairs) {
    if (usedA.has(i) || usedB.has(j)) continue
    usedA.add(i)
    usedB.add(j)
    scores.push(s)
    if (scores.length === want) break
  }
  const mean = scores.reduce((x, y) => x + y, 0) / scores.length
  const worst = Math.min(...scores)
  let sim = 0.5 * mean + 0.5 * worst
  if (a.length !== b.length) sim *= want === 1 ? 0.85 : 0.97
  // Brazilian full names are long (given names, mother's and father's surnames) and people write
  // a subset: "Cláudia Fernanda Ramos" and "Cláudia Freitas Ramos" may both be Cláudia Fernanda
  // Freitas Ramos. Same first and last word, only the words in between disagree.
  const middleOnly =
    worst < WORST_TOKEN &&
    a.length >= 3 &&
    b.length >= 3 &&
    tokenSim(a[0]!, b[0]!) >= WORST_TOKEN &&
    tokenSim(a.at(-1)!, b.at(-1)!) >= WORST_TOKEN
  return { sim: Math.round(sim * 1000) / 1000, worst: Math.round(worst * 1000) / 1000, middleOnly }
}

export const nameSimilarity = (aKey: string, bKey: string) => nameMatch(aKey, bKey).sim

/**
 * The phone as compared: E.164, with Brazil's ninth digit put back on an eight-digit mobile
 * (+55 92 7111-2143 and +55 92 97111-2143 are one line: libphonenumber still accepts some old
 * eight-digit mobile ranges as valid, so the stored forms can differ).
 */
export function phoneKey(e164: string | null | undefined): string | null {
  if (!e164) return null
  const m = /^\+55(\d{2})([6-9]\d{7})$/.exec(e164)
  return m ? `+55${m[1]}9${m[2]}` : e164
}

/** A Brazilian mobile (subscriber number 9xxxx-xxxx), as opposed to a landline. */
export function isMobile(e164: string): boolean {
  return /^\+55\d{2}9\d{8}$/.test(phoneKey(e164) ?? '')
}

/** Both stored forms a Brazilian mobile may have (for blocking on the phone index). */
export function phoneVariants(e164: string | null | undefined): string[] {
  const key = phoneKey(e164)
  if (!key) return []
  const m = /^\+55(\d{2})9([6-9]\d{7})$/.exec(key)
  return m ? [key, `+55${m[1]}${m[2]}`] : [key]
}

// Legal-form suffixes that say nothing about which company it is.
const COMPANY_NOISE = new Set(['ltda', 'sa', 's', 'a', 'me', 'epp', 'eireli', 'mei', 'cia', 'inc', 'llc'])
export function companyKey(company: string | null | undefined): string {
  if (!company) return ''
  return remember(COMPANY_KEYS, company, () => companyKeyOf(company))
}

const COMPANY_KEYS = new Map<string, string>()
const COMPANY_SIMS = new Map<string, number>()

/** Jaro-Winkler of two company keys (remembered, like token pairs). */
function companySim(a: string, b: string): number {
  return remember(COMPANY_SIMS, a < b ? `${a}|${b}` : `${b}|${a}`, () => jaroWinkler(a, b))
}

function companyKeyOf(company: string): string {
  return fold(company)
    .replace(/[@.+]/g, ' ')
    .split(' ')
    .filter((t) => t && !COMPANY_NOISE.has(t))
    .join(' ')
}

/**
 * The commonest given names and surnames of Brazil (IBGE, Censo 2010: Nomes do Brasil), folded. A
 * name made of both ("Maria Silva", "José Santos", "Ana Oliveira") is shared by many people however
 * few leads an organization has yet, so its own leads are not the only frequency table: such a name
 * never counts as the only one of its kind (leads.dedup.ts, `scoreCandidates`).
 */
const COMMON_GIVEN = new Set([
  'maria',
  'jose',
  'ana',
  'joao',
  'antonio',
  'francisco',
  'carlos',
  'paulo',
  'pedro',
  'lucas',
])
const COMMON_SURNAMES = new Set([
  'silva',
  'santos',
  'oliveira',
  'souza',
  'rodrigues',
  'ferreira',
  'alves',
  'pereira',
  'lima',
  'gomes',
])

/** "Maria Silva", "Zé Santos": a common given name (or a short form of one) and a common last surname. */
export function isCommonName(nameKey: string): boolean {
  const t = nameKey.split(' ').filter(Boolean)
  if (t.length < 2 || !COMMON_SURNAMES.has(t.at(-1)!)) return false
  return COMMON_GIVEN.has(t[0]!) || formalNames(t[0]!).some((f) => COMMON_GIVEN.has(f))
}

const round = (n: number) => Math.round(n * 10) / 10

export interface MatchContext {
  /**
   * How many people among the existing leads this name may refer to ((almost) the same name, in as
   * many words or not; leads that may be one person written down twice count once; the country's
   * commonest names count every lead and at least 2): 1 means the candidate is the only one, which
   * makes a name agreement likelier to be the same person; 3 or more (five "Maria Silva") makes it
   * weak. Unknown: 0.
   */
  sameNameCount?: number
}

/** The match score of two records, with its reasons (codes and points, no personal data). */
export function matchScore(a: MatchRecord, b: MatchRecord, ctx: MatchContext = {}): MatchResult {
  const reasons: MatchReason[] = []
  const { sim, worst, middleOnly } = nameMatch(a.nameKey, b.nameKey)
  let namePoints: number
  let nameCode: string | null = null
  // Only middle words differ: weak evidence against (a shared phone flags it, it does not merge).
  if (middleOnly) {
    namePoints = -1.5
    nameCode = 'name_middle'
  }
  // A token that matches nothing well ("Ana" vs "Luana" Santana Gomes: JW 0.87) is another name.
  else if (worst < WORST_TOKEN) namePoints = sim >= 0.75 ? -4 : -6
  else if (Math.min(a.nameKey.split(' ').length, b.nameKey.split(' ').length) === 1)
    namePoints = 1.5 // a lone first name ("Maria") says little
  else if (sim >= 0.97) namePoints = 4
  else if (sim >= 0.92) namePoints = 3
  else if (sim >= 0.85) namePoints = 1.5
  else if (sim >= 0.75) namePoints = -1
  else namePoints = -5
  reasons.push({
    code: nameCode ?? (namePoints > 0 ? 'name_similar' : 'name_different'),
    points: namePoints,
    similarity: sim,
  })
  if (sim >= 0.92) {
    // Three or more tokens on both sides ("Priscila Figueiredo Araújo"): a specific name.
    const tokens = Math.min(a.nameKey.split(' ').length, b.nameKey.split(' ').length)
    if (tokens >= 3) reasons.push({ code: 'name_full', points: 2 })
    // How many leads this name may refer to (Winkler's frequency-based weights, with the
    // organization's own leads as the frequency table): the only one is strong evidence; three or
    // more (five "Maria Silva") make a name weak.
    const n = ctx.sameNameCount ?? 0
    if (n === 1) reasons.push({ code: 'name_unique', points: 2 })
    else if (n >= 3) reasons.push({ code: 'name_common', points: -1.5 })
  }
  if (a.phone && b.phone) {
    if (phoneKey(a.phone) === phoneKey(b.phone)) reasons.push({ code: 'phone_same', points: 7 })
    // A landline and a mobile: many people give both (home or work, and their own); two mobiles
    // that differ are stronger evidence of two people, yet people do keep two (work and personal).
    else if (isMobile(a.phone) !== isMobile(b.phone)) reasons.push({ code: 'phone_different', points: -3 })
    else reasons.push({ code: 'phone_different', points: -3.5 })
  }
  if (a.emailKey && b.emailKey) {
    if (a.emailKey === b.emailKey) reasons.push({ code: 'email_same', points: 7 })
    else reasons.push({ code: 'email_different', points: -2.5 })
  }
  const ca = companyKey(a.company)
  const cb = companyKey(b.company)
  if (ca && cb) {
    // The same name at the same company is rarely two people (it explains a work email or phone
    // beside a personal one); the same company alone says little (several contacts per account).
    if (ca === cb || companySim(ca, cb) >= 0.92)
      reasons.push({ code: 'company_same', points: sim >= 0.92 || middleOnly ? 2 : 1 })
    else reasons.push({ code: 'company_different', points: -0.5 })
  }
  const total = PRIOR + reasons.reduce((s, r) => s + r.points, 0)
  const score = Math.round(100 / (1 + Math.exp(-total)))
  // Certain only with a shared phone or email: a name alone never merges by itself.
  const contact = reasons.some((r) => r.code === 'phone_same' || r.code === 'email_same')
  return {
    score,
    certain: contact,
    nameSimilarity: sim,
    reasons: reasons.map((r) => ({ ...r, points: round(r.points) })),
  }
}
