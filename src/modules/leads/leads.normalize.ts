/**
 * The derived columns of a lead, recomputed on every write of its contact fields (insert, edit,
 * import, capture, merge): the email matching key, the name key used for duplicate blocking, the
 * region from the phone's area code and the accent-folded search document.
 */
import { sql } from 'drizzle-orm'
import { rowsOf } from '../../platform/db/client'
import type { OrgTx, SystemTx } from '../../platform/db/tenancy'
import { emailMatchKey } from '../../shared/email'
import { phoneRegion } from '../../shared/phone'
import { fold, nameKey } from '../../shared/text'
import { type CaptureCache, cachedRead } from './leads.capture-cache'

export interface LeadContact {
  fullName: string
  email: string | null
  phone: string | null
  company: string | null
  jobTitle: string | null
  tags: string[]
}

export interface LeadKeys {
  emailKey: string | null
  nameKey: string
  region: string | null
  searchText: string
}

export function leadKeys(l: LeadContact): LeadKeys {
  // The national digits too ("11987654321"), so a search for a phone as people type it finds it.
  const phoneDigits = l.phone ? [l.phone.slice(1), l.phone.startsWith('+55') ? l.phone.slice(3) : ''] : []
  return {
    emailKey: emailMatchKey(l.email),
    nameKey: nameKey(l.fullName),
    region: phoneRegion(l.phone),
    searchText: fold(
      [l.fullName, l.email, ...phoneDigits, l.company, l.jobTitle, ...l.tags].filter(Boolean).join(' '),
    ),
  }
}

/** The organization's default phone country (ISO 3166 alpha-2, 'BR' unless changed). */
export async function orgDefaultCountry(tx: OrgTx | SystemTx, cache?: CaptureCache): Promise<string> {
  return cachedRead(cache, 'defaultCountry', () => readDefaultCountry(tx))
}

async function readDefaultCountry(tx: OrgTx | SystemTx): Promise<string> {
  const [row] = rowsOf<{ c: string }>(
    await tx.execute(
      sql`select default_country as c from organizations
          where id = nullif(current_setting('app.org_id', true), '')::uuid`,
    ),
  )
  return row?.c ?? 'BR'
}
