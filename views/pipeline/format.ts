import type { Locale } from '../../src/shared/i18n'

const moneyFormats = new Map<string, Intl.NumberFormat>()
function moneyFormat(locale: Locale, currency: string, compact: boolean) {
  const key = `${locale}|${currency}|${compact}`
  let f = moneyFormats.get(key)
  if (!f) {
    f = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      maximumFractionDigits: compact ? 1 : 0,
      minimumFractionDigits: 0,
      ...(compact ? { notation: 'compact' as const } : {}),
    })
    moneyFormats.set(key, f)
  }
  return f
}

/** R$ 12.500 (cents dropped on the board; the drawer shows them). */
export function money(cents: number, currency: string, locale: Locale): string {
  return moneyFormat(locale, currency, false).format(cents / 100)
}

/** R$ 1,2 mi for column totals above a million. */
export function moneyShort(cents: number, currency: string, locale: Locale): string {
  return moneyFormat(locale, currency, cents >= 100_000_000).format(cents / 100)
}

/** "12.500,00": the value as a user types it back in a form. */
export function moneyInput(cents: number, locale: Locale): string {
  return new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(
    cents / 100,
  )
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['week', 7 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
]

/** "3 days ago" / "há 3 dias" (narrow). */
export function ago(d: Date, locale: Locale, now = Date.now()): string {
  const s = Math.round((d.getTime() - now) / 1000)
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto', style: 'narrow' })
  for (const [unit, secs] of UNITS) if (Math.abs(s) >= secs) return rtf.format(Math.round(s / secs), unit)
  return rtf.format(0, 'minute')
}

/** "3d", "5h", "2w": the card's compact last-activity stamp. */
export function agoShort(d: Date, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - d.getTime()) / 1000))
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))}m`
  if (s < 86400) return `${Math.round(s / 3600)}h`
  if (s < 14 * 86400) return `${Math.round(s / 86400)}d`
  if (s < 60 * 86400) return `${Math.round(s / (7 * 86400))}w`
  return `${Math.round(s / (30 * 86400))}mo`
}

const AVATAR_COLORS = ['#4f46e5', '#0891b2', '#059669', '#d97706', '#db2777', '#7c3aed', '#2563eb', '#dc2626']
/** A stable color per person. */
export function avatarColor(id: string): string {
  let h = 0
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) | 0
  return AVATAR_COLORS[Math.abs(h) % AVATAR_COLORS.length]!
}

export const scoreClass = (score: number) => (score >= 70 ? 'hot' : score >= 40 ? 'warm' : 'cold')
