/**
 * Why a pair of labeled records was missed (or wrongly declared): the pattern the two records show
 * and what the pipeline did with them. Used by bench/dedup.bench.ts to print misses by category, so
 * a matcher change targets a real-world pattern instead of a generator artefact.
 *
 * Patterns are read from the records as a person would see them (normalized the way leads are):
 *   contact: what contact data they share — the same phone, the same email, both, other contact
 *            values on both sides (a second phone or address), or nothing comparable (one gave only a
 *            phone, the other only an email, or a field is missing);
 *   name:    the same name key, the same tokens in another order, a lone first name, a nickname ("Zé"
 *            for José), a middle initial, a typo, a dropped token (middle name, second surname), or
 *            something else.
 */

import { companyKey, type MatchRecord, oneEditApart, phoneKey } from '../src/modules/leads/leads.match'
import { isNicknameOf } from '../src/modules/leads/leads.nicknames'
import { emailMatchKey } from '../src/shared/email'
import { toE164 } from '../src/shared/phone'
import { nameKey } from '../src/shared/text'
import type { DedupRecord } from './dedup-data'

export function matchRecord(r: DedupRecord): MatchRecord {
  return {
    nameKey: nameKey(r.fullName),
    phone: toE164(r.phone, 'BR'),
    emailKey: emailMatchKey(r.email),
    company: r.company,
  }
}

export function contactPattern(a: MatchRecord, b: MatchRecord): string {
  const pa = phoneKey(a.phone)
  const pb = phoneKey(b.phone)
  const samePhone = !!pa && pa === pb
  const sameEmail = !!a.emailKey && a.emailKey === b.emailKey
  if (samePhone && sameEmail) return 'phone+email same'
  if (samePhone) return 'phone same'
  if (sameEmail) return 'email same'
  const otherPhone = !!pa && !!pb
  const otherEmail = !!a.emailKey && !!b.emailKey
  if (otherPhone || otherEmail) {
    const local = (k: string | null) => k?.split('@')[0] ?? ''
    if (otherEmail && local(a.emailKey) === local(b.emailKey)) return 'email local part same'
    return 'other phone/email'
  }
  return 'nothing comparable'
}

export function namePattern(a: string, b: string): string {
  if (a === b) return 'same name'
  const ta = a.split(' ').filter(Boolean)
  const tb = b.split(' ').filter(Boolean)
  if ([...ta].sort().join(' ') === [...tb].sort().join(' ')) return 'other order'
  if (ta.length === 1 || tb.length === 1) return 'first name only'
  if (ta.some((x) => tb.some((y) => isNicknameOf(x, y)))) return 'nickname'
  const initial = (xs: string[], ys: string[]) =>
    xs.some((x) => x.length === 1 && ys.some((y) => y.length > 1 && y[0] === x))
  if (initial(ta, tb) || initial(tb, ta)) return 'middle initial'
  const [short, long] = ta.length <= tb.length ? [ta, tb] : [tb, ta]
  const fits = (x: string, y: string) => x === y || (x.length >= 4 && oneEditApart(x, y))
  const typo = (xs: string[], ys: string[]) =>
    xs.every((x) => ys.some((y) => fits(x, y))) && xs.some((x) => !ys.includes(x))
  if (short.length === long.length && typo(short, long)) return 'typo'
  if (short.every((x) => long.includes(x))) return 'token dropped'
  if (typo(short, long)) return 'typo + token dropped'
  return 'other'
}

export function companyPattern(a: MatchRecord, b: MatchRecord): string {
  const ca = companyKey(a.company)
  const cb = companyKey(b.company)
  if (!ca || !cb) return ''
  return ca === cb ? 'company same' : 'company differs'
}

/** Union-find over lead ids: leads linked by open review pairs. */
export class Components {
  readonly #parent = new Map<string, string>()
  find(x: string): string {
    let p = this.#parent.get(x) ?? x
    while (p !== (this.#parent.get(p) ?? p)) p = this.#parent.get(p) ?? p
    this.#parent.set(x, p)
    return p
  }
  union(a: string, b: string) {
    const ra = this.find(a)
    const rb = this.find(b)
    if (ra !== rb) this.#parent.set(ra, rb)
  }
}
