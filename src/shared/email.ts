/**
 * Email addresses: what the user typed is stored as typed (trimmed, lower-cased domain and local
 * part, since no real provider distinguishes case). For matching only, `emailMatchKey` also applies
 * the provider rules that make two spellings reach one mailbox: Gmail ignores dots in the local part
 * and googlemail.com is gmail.com; Gmail, Outlook/Hotmail/Live, iCloud, Yahoo (with `-`) and Fastmail
 * deliver `name+tag@` to `name@`. The key is never shown or used to send.
 */
export const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** The stored form: trimmed, `mailto:` dropped, lower case ('' for nothing). */
export function normalizeEmail(raw: string | null | undefined): string {
  return (raw ?? '')
    .trim()
    .replace(/^mailto:/i, '')
    .toLowerCase()
}

const PLUS_TAG_DOMAINS = new Set([
  'gmail.com',
  'outlook.com',
  'outlook.com.br',
  'hotmail.com',
  'hotmail.com.br',
  'live.com',
  'msn.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'fastmail.com',
  'protonmail.com',
  'proton.me',
])

export function emailMatchKey(raw: string | null | undefined): string | null {
  const email = normalizeEmail(raw)
  if (!email || !EMAIL_RE.test(email)) return null
  const at = email.lastIndexOf('@')
  let local = email.slice(0, at)
  let domain = email.slice(at + 1)
  if (domain === 'googlemail.com') domain = 'gmail.com'
  if (PLUS_TAG_DOMAINS.has(domain)) local = local.split('+')[0]!
  if (domain === 'yahoo.com' || domain === 'yahoo.com.br') local = local.split('-')[0]!
  if (domain === 'gmail.com') local = local.replaceAll('.', '')
  return local ? `${local}@${domain}` : null
}
