import type { Membership, SessionUser } from '../src/modules/auth/auth.sessions'
import type { Flash } from '../src/platform/http/context'
import type { Locale, T } from '../src/shared/i18n'

/** What every view may know about the request: plain data, built by the route, never the request itself. */
export interface Ui {
  t: T
  locale: Locale
  instanceName: string
  path: string
  flash: Flash | null
  user?: SessionUser
  org?: Membership | null
  memberships?: Membership[]
  /** SMTP is off and the user administers the instance: show the dev outbox link. */
  devOutbox?: boolean
  /** Unread notifications (top bar badge). */
  unread?: number
  /** Last event version of the organization when the page was rendered (live socket resumes there). */
  rtVersion?: number
}

export const orgLabel = (org: Pick<Membership, 'name' | 'displayName'>) => org.displayName || org.name

/** "Rocha & Filhos" -> "RF": the first letter or digit of the first two words that have one. */
export const initials = (name: string) =>
  name
    .trim()
    .split(/\s+/)
    .map((w) => w.match(/[\p{L}\p{N}]/u)?.[0] ?? '')
    .filter(Boolean)
    .slice(0, 2)
    .map((c) => c.toUpperCase())
    .join('') || '?'

export function formatDate(d: Date, locale: Locale, timeZone?: string, withTime = true) {
  return new Intl.DateTimeFormat(locale, {
    dateStyle: 'medium',
    ...(withTime ? { timeStyle: 'short' } : {}),
    timeZone: timeZone || undefined,
  }).format(d)
}
