/**
 * Phone numbers: everything stored is E.164 (`+5511987654321`), parsed with libphonenumber-js (the
 * maintained port of Google's libphonenumber; its metadata knows every country's numbering plan).
 *
 * Brazil first: `(11) 98765-4321`, `11987654321`, `+55 11 9 8765 4321`, `011 98765 4321` and the
 * pre-2016 eight-digit mobile form `11 8765-4321` all give `+5511987654321`. The ninth digit was
 * added to every mobile number (subscriber numbers that start with 6–9); landlines (2–5) kept eight.
 * Spreadsheets still carry the old form, so an eight-digit Brazilian mobile gets its 9 back.
 */
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max'

export type E164 = string & { readonly __e164: unique symbol }

export function isCountryCode(v: string): v is CountryCode {
  return isSupportedCountry(v)
}

/** The E.164 form of a phone typed by a person, or null when it is not a valid number. */
export function toE164(raw: string | null | undefined, defaultCountry = 'BR'): E164 | null {
  if (!raw) return null
  // "0xx11", "(0xx11)": the old long-distance carrier prefix of Brazilian print.
  let text = raw.trim().replace(/^\(?0\s*x\s*x\s*/i, '0')
  if (!/\d/.test(text)) return null
  if (text.startsWith('00')) text = `+${text.slice(2)}`
  const country = isCountryCode(defaultCountry) ? defaultCountry : 'BR'
  let parsed = parsePhoneNumberFromString(text, country)
  if (parsed && parsed.countryCallingCode === '55') {
    const national = String(parsed.nationalNumber)
    // DDD (2 digits) + an 8-digit mobile number from before the ninth digit. Every Brazilian mobile
    // has had 9 digits since 2016, but the metadata still accepts some old 7xxx ranges as valid
    // eight-digit mobiles, so the rule goes by the digits, not by validity.
    if (national.length === 10 && /^[1-9][1-9][6-9]/.test(national)) {
      const withNine = parsePhoneNumberFromString(`+55${national.slice(0, 2)}9${national.slice(2)}`)
      if (withNine?.isValid()) parsed = withNine
    }
  }
  if (!parsed?.isValid()) return null
  return parsed.number as E164
}

/** A readable national or international form for display (`(11) 98765-4321`, `+1 415 555 2671`). */
export function formatPhone(e164: string, defaultCountry = 'BR'): string {
  const parsed = parsePhoneNumberFromString(e164)
  if (!parsed) return e164
  return parsed.country === defaultCountry ? parsed.formatNational() : parsed.formatInternational()
}

// Brazilian area codes (DDD) by state, from Anatel's numbering plan.
const DDD_STATE: Record<string, string> = {}
for (const [uf, codes] of Object.entries({
  SP: '11 12 13 14 15 16 17 18 19',
  RJ: '21 22 24',
  ES: '27 28',
  MG: '31 32 33 34 35 37 38',
  PR: '41 42 43 44 45 46',
  SC: '47 48 49',
  RS: '51 53 54 55',
  DF: '61',
  GO: '62 64',
  TO: '63',
  MT: '65 66',
  MS: '67',
  AC: '68',
  RO: '69',
  BA: '71 73 74 75 77',
  SE: '79',
  PE: '81 87',
  AL: '82',
  PB: '83',
  RN: '84',
  CE: '85 88',
  PI: '86 89',
  PA: '91 93 94',
  AM: '92 97',
  RR: '95',
  AP: '96',
  MA: '98 99',
})) {
  for (const code of codes.split(' ')) DDD_STATE[code] = uf
}

/**
 * The region of a number: `BR-SP` from a Brazilian area code, otherwise the ISO country (`US`).
 * Used by assignment rules ("leads from the South go to Ana's team").
 */
export function phoneRegion(e164: string | null | undefined): string | null {
  if (!e164) return null
  const parsed = parsePhoneNumberFromString(e164)
  if (!parsed) return null
  if (parsed.countryCallingCode === '55') {
    const uf = DDD_STATE[String(parsed.nationalNumber).slice(0, 2)]
    return uf ? `BR-${uf}` : 'BR'
  }
  return parsed.country ?? null
}

export const BRAZILIAN_STATES = [...new Set(Object.values(DDD_STATE))].sort()
