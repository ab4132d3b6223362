/**
 * LGPD (Lei Geral de Proteção de Dados): a person's data export and their hard deletion.
 *
 * `exportPersonalData` gathers everything held about one lead (the row with its custom fields, the
 * timeline with notes, and the rows of the Leads issue's other tables that point at it).
 *
 * `eraseLeads` is the only way leads are deleted (an LGPD request from the drawer, or a bulk delete
 * from the list): one transaction that deletes the leads (their timeline goes by cascade) and then
 * scrubs their personal data from every other place that can hold a copy, each one listed below
 * with why. It finishes with one audit entry per lead that carries no personal data (the lead id,
 * who, when, the legal basis). `leads.erase.test.ts` proves completeness generically: after an
 * erasure it scans every text/jsonb/text[] column of every table for the person's name, email and
 * phone digits. A new table that can hold lead data must get its line in SCRUBS (the test fails
 * otherwise).
 *
 * It runs as the connection's own role (withSystem) because the scrubbed tables are append-only for
 * the app role (audit_log, lead_activities, outbox_events); every statement names the organization
 * explicitly, and the leads are first looked up inside it, so another organization's ids erase nothing.
 */
import { sql } from 'drizzle-orm'
import { type Db, rowsOf } from '../../platform/db/client'
import { type OrgTx, type SystemTx, withSystem } from '../../platform/db/tenancy'
import { recordEvent } from '../../platform/events/events.outbox'
import { isUuid } from '../../shared/ids'
import { recordAudit } from '../orgs/orgs.audit'
import { pgTextArray } from '../pipeline/pipeline.repository'

export type LegalBasis = 'titular_request' | 'user_delete'
export const REMOVED = '[removed]'

type Raw = Record<string, unknown>
const q = async <T = Raw>(tx: OrgTx | SystemTx, s: ReturnType<typeof sql>) => rowsOf<T>(await tx.execute(s))

/** The strings that identify the person: name, email (as typed and its match key), phone forms. */
export function personNeedles(l: {
  full_name: string
  email: string | null
  email_key?: string | null
  phone: string | null
}): string[] {
  const out = [l.full_name, l.email, l.email_key]
  if (l.phone) {
    const digits = l.phone.replace(/\D/g, '')
    out.push(l.phone, digits)
    if (l.phone.startsWith('+55')) out.push(digits.slice(2))
  }
  return [...new Set(out.filter((s): s is string => !!s && s.trim().length >= 3))]
}

/**
 * Every place outside `leads` that can hold a copy of a lead's personal data. `byLead`: rows about the
 * lead (found by these uuid/text columns equal to its id) are deleted outright; `jsonb`/`text`/`arrays`:
 * any remaining row of the organization quoting the person has the quote replaced by "[removed]".
 * `optional` tables belong to other parts of the Leads issue and are skipped when absent.
 */
interface Scrub {
  table: string
  why: string
  byLead?: string[]
  jsonb?: string[]
  text?: string[]
  arrays?: string[]
  optional?: boolean
}
export const SCRUBS: Scrub[] = [
  {
    table: 'lead_activities',
    why: "the lead's own timeline goes by cascade; other leads' timelines may quote them (a merge)",
    jsonb: ['data'],
  },
  {
    table: 'audit_log',
    why: 'before/after snapshots (merges, imports, captures may log contact fields)',
    jsonb: ['before', 'after'],
  },
  {
    table: 'notifications',
    why: 'params carry the lead name ("Maria Silva was assigned to you"); links point at the lead',
    jsonb: ['params'],
  },
  {
    table: 'outbox_events',
    why: 'event payloads (a notification event carries its text)',
    jsonb: ['payload'],
  },
  {
    table: 'jobs',
    why: 'job payloads and errors (import rows, capture retries)',
    jsonb: ['payload'],
    text: ['last_error'],
  },
  // The Leads issue's other tables (migrations 0006-0008), skipped when absent.
  {
    table: 'lead_duplicates',
    why: 'review-queue pairs naming the lead; match reasons quote its fields',
    byLead: ['lead_a', 'lead_b'],
    jsonb: ['reasons'],
    optional: true,
  },
  {
    table: 'lead_merges',
    why: 'merge records keep a snapshot of the absorbed record (the same person)',
    byLead: ['kept_lead_id', 'merged_lead_id'],
    jsonb: ['snapshot', 'changes'],
    optional: true,
  },
  {
    table: 'capture_submissions',
    why: 'what a form or Facebook sent, kept for review: the raw payload has their contact data',
    byLead: ['lead_id'],
    jsonb: ['payload', 'errors', 'reasons'],
    text: ['error', 'reason'],
    optional: true,
  },
  {
    table: 'lead_import_rows',
    why: 'the import report keeps the CSV cells of merged, flagged and rejected rows',
    byLead: ['lead_id', 'duplicate_of_id'],
    jsonb: ['reasons'],
    arrays: ['cells'],
    optional: true,
  },
  { table: 'lead_imports', why: 'an import error may quote a cell', text: ['error'], optional: true },
  // The Inbox issue: conversations (and their messages) go with the lead by cascade; the raw
  // provider events kept for replay still quote the person's number, name and words.
  {
    table: 'webhook_inbox',
    why: 'raw WhatsApp webhook bodies: the contact phone, profile name and message text',
    text: ['body', 'error'],
    optional: true,
  },
  // Message attachments (photos, voice notes, documents the person sent or received): their bytes
  // and names. The files of the lead's messages are deleted in step 4 below; a file name quoting
  // the person elsewhere is scrubbed.
  { table: 'media_files', why: 'attachments: the file bytes and names', text: ['filename'], optional: true },
]

interface Column {
  table: string
  column: string
  type: string
}

/** The text-like columns of the tables that exist (information_schema), per table. */
async function columnsOf(tx: OrgTx | SystemTx, tables: string[]): Promise<Map<string, Column[]>> {
  const rows = await q<{ table_name: string; column_name: string; data_type: string; udt_name: string }>(
    tx,
    sql`select table_name, column_name, data_type, udt_name from information_schema.columns
      where table_schema = 'public' and table_name = any(${pgTextArray(tables)}::text[])
      order by table_name, ordinal_position`,
  )
  const out = new Map<string, Column[]>()
  for (const r of rows) {
    const list = out.get(r.table_name) ?? []
    list.push({ table: r.table_name, column: r.column_name, type: r.udt_name })
    out.set(r.table_name, list)
  }
  return out
}

const ident = (s: string) => sql.raw(`"${s.replace(/"/g, '""')}"`)
const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

function deepReplace(v: unknown, res: RegExp[]): unknown {
  if (typeof v === 'string') return res.reduce((s, re) => s.replace(re, REMOVED), v)
  // A phone stored as a JSON number (5521998765432) is personal data too.
  if (typeof v === 'number') {
    const text = String(v)
    const out = deepReplace(text, res)
    return out === text ? v : out
  }
  if (Array.isArray(v)) return v.map((x) => deepReplace(x, res))
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepReplace(x, res)]))
  return v
}

/** Replaces every quote of the needles in one column of the organization's rows; returns rows changed. */
async function scrubColumn(tx: SystemTx, orgId: string, c: Column, needles: string[], hasOrg: boolean) {
  if (!needles.length) return 0
  const pattern = needles.map(reEscape).join('|')
  const org = hasOrg ? sql`organization_id = ${orgId}::uuid` : sql`true`
  const t = ident(c.table)
  const col = ident(c.column)
  if (c.type === 'jsonb' || c.type === 'json') {
    // JSON is rewritten value by value (never as text), so the document stays valid JSON.
    const hits = await q<{ ctid: string; v: unknown }>(
      tx,
      sql`select ctid::text as ctid, ${col} as v from ${t} where ${org} and ${col}::text ~* ${pattern}`,
    )
    const res = needles.map((n) => new RegExp(reEscape(n), 'gi'))
    for (const h of hits) {
      const value = typeof h.v === 'string' ? JSON.parse(h.v) : h.v
      await tx.execute(
        sql`update ${t} set ${col} = ${JSON.stringify(deepReplace(value, res))}::${sql.raw(c.type)}
          where ctid = ${h.ctid}::tid`,
      )
    }
    return hits.length
  }
  if (c.type === '_text' || c.type === '_varchar') {
    const r = await q(
      tx,
      sql`update ${t} set ${col} = (select array_agg(regexp_replace(x, ${pattern}, ${REMOVED}, 'gi')) from unnest(${col}) x)
        where ${org} and array_to_string(${col}, ' ') ~* ${pattern} returning 1`,
    )
    return r.length
  }
  const r = await q(
    tx,
    sql`update ${t} set ${col} = regexp_replace(${col}, ${pattern}, ${REMOVED}, 'gi')
      where ${org} and ${col} ~* ${pattern} returning 1`,
  )
  return r.length
}

const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'jsonb', 'json', '_text', '_varchar'])

/** Deletes the stored file chunks of finished imports that contain any needle (as UTF-8 or Latin-1). */
async function dropImportChunks(tx: SystemTx, orgId: string, needles: string[]) {
  const forms = new Set<string>()
  for (const n of needles) {
    forms.add(Buffer.from(n, 'utf8').toString('hex'))
    forms.add(Buffer.from(n, 'latin1').toString('hex'))
  }
  const exists = await q<{ ok: boolean }>(
    tx,
    sql`select to_regclass('public.lead_import_chunks') is not null as ok`,
  )
  if (!exists[0]?.ok || !forms.size) return
  await tx.execute(
    sql`delete from lead_import_chunks c using lead_imports i
      where c.organization_id = ${orgId}::uuid and i.organization_id = c.organization_id and i.id = c.import_id
        and i.status in ('completed', 'failed')
        and (${sql.join(
          [...forms].map((h) => sql`position(decode(${h}, 'hex') in c.data) > 0`),
          sql` or `,
        )})`,
  )
}

export interface EraseActor {
  orgId: string
  userId: string
  ip?: string | null
}

/**
 * Hard-deletes leads of the actor's organization and scrubs their personal data everywhere.
 * Unknown ids (or another organization's) are ignored. Returns the number of leads erased.
 */
export async function eraseLeads(
  db: Db,
  actor: EraseActor,
  idsInput: string[],
  basis: LegalBasis,
): Promise<{ erased: number; ids: string[] }> {
  const ids = [...new Set(idsInput.filter((x) => isUuid(x)))]
  if (!ids.length) return { erased: 0, ids: [] }
  return withSystem(db, async (tx) => {
    // recordEvent and recordAudit read the organization (and actor) from the transaction settings.
    await tx.execute(
      sql`select set_config('app.org_id', ${actor.orgId}, true), set_config('app.user_id', ${actor.userId}, true)`,
    )
    const leads = await q<{
      id: string
      full_name: string
      email: string | null
      email_key: string | null
      phone: string | null
      pipeline_id: string
    }>(
      tx,
      sql`select id, full_name, email, email_key, phone, pipeline_id from leads
        where organization_id = ${actor.orgId}::uuid and id = any(${pgTextArray(ids)}::uuid[])
        order by id for update`,
    )
    if (!leads.length) return { erased: 0, ids: [] }
    const found = leads.map((l) => l.id)
    const needles = [...new Set(leads.flatMap(personNeedles))]
    const present = await columnsOf(
      tx,
      SCRUBS.map((s) => s.table),
    )

    // 1. Rows about these leads in the Leads tables that point at them: deleted (they are about them).
    for (const s of SCRUBS.filter((x) => x.byLead && present.has(x.table))) {
      const have = new Set(present.get(s.table)!.map((c) => c.column))
      const refs = s.byLead!.filter((c) => have.has(c))
      if (!refs.length) continue
      await tx.execute(
        sql`delete from ${ident(s.table)} where organization_id = ${actor.orgId}::uuid and (${sql.join(
          refs.map((c) => sql`${ident(c)} = any(${pgTextArray(found)}::uuid[])`),
          sql` or `,
        )})`,
      )
    }
    // The raw files of finished imports: a chunk holding their bytes (UTF-8 or Latin-1) goes.
    if (present.has('lead_imports')) await dropImportChunks(tx, actor.orgId, needles)
    // 2. Notifications that link to an erased lead: the notification is about them, it goes.
    await tx.execute(
      sql`delete from notifications where organization_id = ${actor.orgId}::uuid
        and link is not null and (${sql.join(
          found.map((id) => sql`position(${id} in link) > 0`),
          sql` or `,
        )})`,
    )
    // 3. Audit entries targeting an erased lead keep their action and date, not their snapshots.
    await tx.execute(
      sql`update audit_log set before = null, after = jsonb_build_object('erased', true)
        where organization_id = ${actor.orgId}::uuid and target_id = any(${pgTextArray(found)}::text[])`,
    )
    // 4. The attachments of their conversations' messages (media_files, chunks by cascade). The
    // messages' own cascade would take them too; deleting them by name keeps that explicit.
    if (
      (await q<{ ok: boolean }>(tx, sql`select to_regclass('public.media_files') is not null as ok`))[0]?.ok
    )
      await tx.execute(
        sql`delete from media_files f using messages m, conversations c
          where f.organization_id = ${actor.orgId}::uuid and m.organization_id = f.organization_id
            and m.id = f.message_id and c.organization_id = m.organization_id and c.id = m.conversation_id
            and c.lead_id = any(${pgTextArray(found)}::uuid[])`,
      )
    // 5. The leads themselves; lead_activities (timeline, notes) go by cascade.
    await tx.execute(
      sql`delete from leads where organization_id = ${actor.orgId}::uuid and id = any(${pgTextArray(found)}::uuid[])`,
    )
    // 6. Quotes of the person anywhere else (explicit tables and columns above).
    for (const s of SCRUBS) {
      const cols = present.get(s.table)
      if (!cols) continue
      const hasOrg = cols.some((c) => c.column === 'organization_id')
      const wanted = cols.filter(
        (c) =>
          TEXT_TYPES.has(c.type) &&
          [...(s.jsonb ?? []), ...(s.text ?? []), ...(s.arrays ?? [])].includes(c.column),
      )
      for (const c of wanted) await scrubColumn(tx, actor.orgId, c, needles, hasOrg)
    }
    // 7. The record of the erasure, without personal data; boards drop the cards.
    for (const id of found)
      await recordAudit(tx, {
        orgId: actor.orgId,
        actorId: actor.userId,
        action: 'lead.erased',
        targetType: 'lead',
        targetId: id,
        after: { legalBasis: basis },
        ip: actor.ip,
      })
    const orgTx = tx as unknown as OrgTx
    for (const p of new Set(leads.map((l) => l.pipeline_id)))
      await recordEvent(orgTx, { type: 'pipeline.updated', payload: { pipelineId: p } })
    return { erased: found.length, ids: found }
  })
}

// Export --------------------------------------------------------------------------------------------

/** Everything held about one lead, as JSON (null when it is not a lead of this organization). */
export async function exportPersonalData(tx: OrgTx, leadId: string): Promise<Record<string, unknown> | null> {
  if (!isUuid(leadId)) return null
  const [lead] = await q(
    tx,
    sql`select l.*, s.name as stage_name, p.name as pipeline_name, u.name as owner_name
      from leads l join stages s on s.id = l.stage_id join pipelines p on p.id = l.pipeline_id
      left join users u on u.id = l.owner_id where l.id = ${leadId}::uuid`,
  )
  if (!lead) return null
  const defs = await q<{ key: string; label: string; type: string }>(
    tx,
    sql`select key, label, type from custom_field_defs order by position, id`,
  )
  const custom = (typeof lead.custom === 'string' ? JSON.parse(lead.custom) : lead.custom) as Raw
  const timeline = await q(
    tx,
    sql`select a.id, a.kind, a.data, a.created_at, u.name as actor
      from lead_activities a left join users u on u.id = a.actor_id
      where a.lead_id = ${leadId}::uuid order by a.created_at, a.id`,
  )
  // Rows of the Leads issue's other tables that point at this lead (those this role may read).
  const related: Record<string, Raw[]> = {}
  const optional = SCRUBS.filter((s) => s.byLead)
  const present = await columnsOf(
    tx,
    optional.map((s) => s.table),
  )
  for (const [table, cols] of present) {
    const readable = await q<{ ok: boolean }>(
      tx,
      sql`select has_table_privilege(current_user, ${table}, 'select') as ok`,
    )
    if (!readable[0]?.ok) continue
    const wanted = optional.find((s) => s.table === table)?.byLead ?? []
    const refs = cols.filter((c) => wanted.includes(c.column))
    if (!refs.length) continue
    const rows = await q(
      tx,
      sql`select * from ${ident(table)} where ${sql.join(
        refs.map((c) => sql`${ident(c.column)} = ${leadId}::uuid`),
        sql` or `,
      )} limit 1000`,
    )
    if (rows.length) related[table] = rows
  }
  const { search_text: _s, search_tsv: _v, name_key: _n, email_key: _e, custom: _c, ...record } = lead
  return {
    exportedAt: new Date().toISOString(),
    legalBasis: 'LGPD art. 18 (titular request)',
    lead: record,
    customFields: defs
      .filter((d) => d.key in (custom ?? {}))
      .map((d) => ({ key: d.key, label: d.label, type: d.type, value: custom[d.key] })),
    timeline,
    related,
  }
}
