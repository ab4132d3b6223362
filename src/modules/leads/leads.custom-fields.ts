/**
 * Custom fields: per-organization definitions (custom_field_defs) and the validation every write of
 * `leads.custom` goes through (`validateCustom`: manual forms, the drawer, CSV import, capture, API).
 *
 * Stored values are JSON: text → string, number → number, date → "YYYY-MM-DD", select → one of the
 * options, multiselect → array of options, boolean → true/false. Empty values are not stored.
 * Input is what people type, Brazil first: "1.234,56" and "1234.56" are numbers, "31/12/2024" and
 * "2024-12-31" are dates, "sim"/"não" are booleans.
 */
import { asc, eq, sql } from 'drizzle-orm'
import type { OrgTx } from '../../platform/db/tenancy'
import { Check, type FormError, forbidden, notFound } from '../../platform/http/errors'
import type { MessageKey } from '../../shared/i18n'
import { swapWithNeighbour } from '../../shared/order'
import { fold } from '../../shared/text'
import { recordAudit } from '../orgs/orgs.audit'
import type { Role } from '../orgs/orgs.table'
import { type CaptureCache, cachedRead } from './leads.capture-cache'
import { CUSTOM_FIELD_TYPES, type CustomFieldDef, type CustomFieldType, customFieldDefs } from './leads.table'

export type { CustomFieldDef, CustomFieldType }

export const TEXT_MAX = 500
export const MAX_FIELDS = 50

/** The organization's field definitions, in their display order. */
export async function listCustomFields(tx: OrgTx): Promise<CustomFieldDef[]> {
  return tx.select().from(customFieldDefs).orderBy(asc(customFieldDefs.position), asc(customFieldDefs.id))
}

// Value parsing ------------------------------------------------------------------------------------

const isEmpty = (v: unknown) =>
  v === undefined ||
  v === null ||
  (typeof v === 'string' && v.trim() === '') ||
  (Array.isArray(v) && v.every((x) => typeof x === 'string' && x.trim() === ''))

/** "1.234,56" | "1234.56" | "1,5" | "-3" → number; NaN when unreadable. Brazil first: "1.500" is 1500. */
export function parseNumber(input: unknown): number {
  if (typeof input === 'number') return Number.isFinite(input) ? input : Number.NaN
  if (typeof input !== 'string') return Number.NaN
  let s = input.trim().replace(/\s+/g, '')
  if (!/^[-+]?[\d.,]+$/.test(s) || !/\d/.test(s)) return Number.NaN
  const comma = s.lastIndexOf(',')
  const dot = s.lastIndexOf('.')
  if (comma >= 0 && dot >= 0) {
    // Both: the last one is the decimal separator, the other groups thousands.
    const dec = comma > dot ? ',' : '.'
    const group = dec === ',' ? '.' : ','
    s = s.split(group).join('').replace(dec, '.')
  } else if (comma >= 0) {
    // Only commas: one is the decimal comma ("1,5"); several group thousands ("1,234,567").
    s = s.split(',').length > 2 ? s.split(',').join('') : s.replace(',', '.')
  } else if (dot >= 0) {
    // Only dots: several group thousands ("1.234.567"); one followed by exactly three digits is the
    // Brazilian thousands dot ("1.500"); otherwise a decimal point ("1.5", "1234.56").
    const parts = s.split('.')
    if (parts.length > 2 || parts[1]!.length === 3) s = parts.join('')
  }
  if (!/^[-+]?\d+(\.\d+)?$/.test(s)) return Number.NaN
  const n = Number(s)
  return Number.isFinite(n) && Math.abs(n) < 1e15 ? n : Number.NaN
}

/** "31/12/2024", "31-12-2024", "2024-12-31", "2024-12-31T10:00:00Z" → "2024-12-31"; null when invalid. */
export function parseDate(input: unknown): string | null {
  if (input instanceof Date) return Number.isNaN(input.getTime()) ? null : input.toISOString().slice(0, 10)
  if (typeof input !== 'string') return null
  const s = input.trim()
  let y: number
  let m: number
  let d: number
  let match = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$/.exec(s)
  if (match) [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])]
  else {
    match = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(s)
    if (!match) return null
    ;[d, m, y] = [Number(match[1]), Number(match[2]), Number(match[3])]
  }
  if (y < 1800 || y > 2200 || m < 1 || m > 12 || d < 1) return null
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate()
  if (d > days) return null
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`
}

const TRUE = new Set(['true', '1', 'sim', 's', 'yes', 'y', 'on', 'x', 'verdadeiro'])
const FALSE = new Set(['false', '0', 'nao', 'n', 'no', 'off', 'falso'])
export function parseBoolean(input: unknown): boolean | null {
  if (typeof input === 'boolean') return input
  if (typeof input === 'number') return input === 1 ? true : input === 0 ? false : null
  if (typeof input !== 'string') return null
  const s = fold(input)
  return TRUE.has(s) ? true : FALSE.has(s) ? false : null
}

/** Finds an option ignoring case and accents ("sao paulo" picks "São Paulo"). */
function pickOption(options: string[], raw: string): string | null {
  const v = raw.trim()
  if (options.includes(v)) return v
  const f = fold(v)
  return options.find((o) => fold(o) === f) ?? null
}

type Coerced = { value: unknown } | { error: MessageKey; params?: Record<string, string | number> }

/** One value for one definition: the stored form, or why it is invalid. Never called with empty input. */
export function coerceValue(def: Pick<CustomFieldDef, 'type' | 'options'>, raw: unknown): Coerced {
  switch (def.type) {
    case 'text': {
      if (typeof raw !== 'string' && typeof raw !== 'number') return { error: 'leads.custom.error.text' }
      const s = String(raw).trim().replace(/\s+/g, ' ')
      return s.length > TEXT_MAX ? { error: 'error.too_long', params: { max: TEXT_MAX } } : { value: s }
    }
    case 'number': {
      const n = parseNumber(raw)
      return Number.isNaN(n) ? { error: 'leads.custom.error.number' } : { value: n }
    }
    case 'date': {
      const d = parseDate(raw)
      return d ? { value: d } : { error: 'leads.custom.error.date' }
    }
    case 'boolean': {
      const b = parseBoolean(raw)
      return b === null ? { error: 'leads.custom.error.boolean' } : { value: b }
    }
    case 'select': {
      if (typeof raw !== 'string') return { error: 'leads.custom.error.option' }
      const o = pickOption(def.options, raw)
      return o === null ? { error: 'leads.custom.error.option' } : { value: o }
    }
    case 'multiselect': {
      // An array, or "a, b" / "a; b" as spreadsheets and forms send it.
      const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[;,\n]/) : null
      if (!items) return { error: 'leads.custom.error.option' }
      const out: string[] = []
      for (const item of items) {
        if (typeof item !== 'string') return { error: 'leads.custom.error.option' }
        if (!item.trim()) continue
        const o = pickOption(def.options, item)
        if (o === null) return { error: 'leads.custom.error.option' }
        if (!out.includes(o)) out.push(o)
      }
      return { value: out }
    }
  }
}

/**
 * Validates and coerces custom field values for a write. Unknown keys are rejected; on a full write
 * (`partial` false: a form that shows every field) required fields must have a value and the result
 * holds every non-empty value; on a partial write (an import row, an API patch) only the given keys
 * are checked and returned, empty ones left out, so the caller merges it over what the lead has.
 * Throws the FormError of `Check` with fields `custom.<key>`.
 */
export async function validateCustom(
  tx: OrgTx,
  input: Record<string, unknown>,
  opts: { partial?: boolean; defs?: CustomFieldDef[]; cache?: CaptureCache } = {},
): Promise<Record<string, unknown>> {
  const defs = opts.defs ?? (await cachedRead(opts.cache, 'customFields', () => listCustomFields(tx)))
  return checkCustom(defs, input, opts.partial ?? false)
}

/** `validateCustom` without the database: the definitions are given. */
export function checkCustom(
  defs: CustomFieldDef[],
  input: Record<string, unknown>,
  partial: boolean,
): Record<string, unknown> {
  const byKey = new Map(defs.map((d) => [d.key, d]))
  const check = new Check()
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(input ?? {})) {
    if (!byKey.has(key)) check.add(`custom.${key}`, 'leads.custom.error.unknown', { key: key.slice(0, 40) })
  }
  for (const def of defs) {
    const given = Object.hasOwn(input ?? {}, def.key)
    if (partial && !given) continue
    const raw = input[def.key]
    if (isEmpty(raw)) {
      if (def.required) check.add(`custom.${def.key}`, 'error.required')
      continue
    }
    const r = coerceValue(def, raw)
    if ('error' in r) check.add(`custom.${def.key}`, r.error, r.params)
    else if (Array.isArray(r.value) && r.value.length === 0) {
      if (def.required) check.add(`custom.${def.key}`, 'error.required')
    } else out[def.key] = r.value
  }
  check.throwIfAny()
  return out
}

/**
 * The custom values a lead form posted (`custom.<key>` fields), or undefined when the form carried
 * none (`_custom` marks a form that shows them, so an emptied multiselect still counts).
 */
export function customFromForm(body: unknown): Record<string, unknown> | undefined {
  if (!body || typeof body !== 'object') return undefined
  const b = body as Record<string, unknown>
  if (!('_custom' in b)) return undefined
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(b)) {
    if (!k.startsWith('custom.')) continue
    // Multiselects post one field per checked box, plus an empty marker so "none" is sent.
    const value = Array.isArray(v) ? v.filter((x) => x !== '') : v
    out[k.slice(7)] = value
  }
  return out
}

/** A value as the list, the drawer and exports show it. */
export function formatCustom(
  def: Pick<CustomFieldDef, 'type'>,
  value: unknown,
  locale: string,
  t: (k: MessageKey) => string,
): string {
  if (value === undefined || value === null || value === '') return ''
  switch (def.type) {
    case 'number':
      return typeof value === 'number' ? new Intl.NumberFormat(locale).format(value) : String(value)
    case 'date': {
      const d = parseDate(value)
      return d ? new Intl.DateTimeFormat(locale, { timeZone: 'UTC' }).format(new Date(`${d}T00:00:00Z`)) : ''
    }
    case 'boolean':
      return value === true ? t('leads.custom.yes') : value === false ? t('leads.custom.no') : ''
    case 'multiselect':
      return Array.isArray(value) ? value.join(', ') : String(value)
    default:
      return String(value)
  }
}

/** A value as a form field holds it again (dates as YYYY-MM-DD, multiselect as a JSON array). */
export function customFormValue(def: Pick<CustomFieldDef, 'type'>, value: unknown): string {
  if (value === undefined || value === null) return ''
  if (def.type === 'multiselect') return JSON.stringify(Array.isArray(value) ? value : [value])
  if (def.type === 'boolean') return value === true ? 'true' : value === false ? 'false' : String(value)
  return String(value)
}

// Definitions (admin) ------------------------------------------------------------------------------

export interface FieldActor {
  orgId: string
  userId: string
  role: Role
  ip?: string | null
}
const requireAdmin = (a: FieldActor) => {
  if (a.role !== 'owner' && a.role !== 'admin') throw forbidden()
}

export interface FieldInput {
  key?: string
  label: string
  type?: string
  options: string
  required: boolean
  showInList: boolean
}

export const FIELD_FORM = ['key', 'label', 'type', 'options', 'required', 'showInList'] as const

/** "cnpj", or one made from the label ("Segmento de atuação" → segmento_de_atuacao). */
export function keyFromLabel(label: string): string {
  const k = fold(label)
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .replace(/^(\d)/, 'f_$1')
    .slice(0, 40)
  return k || 'campo'
}

function parseOptions(input: string): string[] {
  const out: string[] = []
  for (const line of input.split(/\n|;/)) {
    const o = line.trim().replace(/\s+/g, ' ')
    if (o && !out.some((x) => fold(x) === fold(o))) out.push(o)
  }
  return out
}

function checkDef(input: FieldInput, type: CustomFieldType | undefined, check: Check) {
  const label = input.label.trim().replace(/\s+/g, ' ')
  if (!label) check.add('label', 'error.required')
  else if (label.length > 80) check.add('label', 'error.too_long', { max: 80 })
  const options = parseOptions(input.options ?? '')
  if (type === 'select' || type === 'multiselect') {
    if (!options.length) check.add('options', 'leads.fields.error.options')
    else if (options.length > 100 || options.some((o) => o.length > 80))
      check.add('options', 'leads.fields.error.options_long')
  }
  return { label, options: type === 'select' || type === 'multiselect' ? options : [] }
}

export async function createCustomField(tx: OrgTx, actor: FieldActor, input: FieldInput) {
  requireAdmin(actor)
  const check = new Check()
  const type = CUSTOM_FIELD_TYPES.find((x) => x === input.type)
  if (!type) check.add('type', 'error.required')
  const { label, options } = checkDef(input, type, check)
  const key = (input.key ?? '').trim() || keyFromLabel(label)
  if (!/^[a-z][a-z0-9_]{0,39}$/.test(key)) check.add('key', 'leads.fields.error.key')
  const existing = await listCustomFields(tx)
  if (existing.some((d) => d.key === key)) check.add('key', 'leads.fields.error.key_taken')
  if (existing.length >= MAX_FIELDS) check.add('label', 'leads.fields.error.too_many', { max: MAX_FIELDS })
  check.throwIfAny()
  const [row] = await tx
    .insert(customFieldDefs)
    .values({
      organizationId: actor.orgId,
      key,
      label,
      type: type!,
      options: sql`${pgArray(options)}::text[]` as unknown as string[],
      required: input.required,
      showInList: input.showInList,
      position: existing.length,
    })
    .returning({ id: customFieldDefs.id })
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'custom_field.created',
    targetType: 'custom_field',
    targetId: row!.id,
    after: { label, key, type: type! },
    ip: actor.ip,
  })
  return row!.id
}

export async function updateCustomField(tx: OrgTx, actor: FieldActor, id: string, input: FieldInput) {
  requireAdmin(actor)
  const [before] = await tx.select().from(customFieldDefs).where(eq(customFieldDefs.id, id))
  if (!before) throw notFound()
  const check = new Check()
  const { label, options } = checkDef(input, before.type, check)
  check.throwIfAny()
  const next = { label, options, required: input.required, showInList: input.showInList }
  const changed = (Object.keys(next) as (keyof typeof next)[]).filter(
    (k) => JSON.stringify(before[k]) !== JSON.stringify(next[k]),
  )
  if (!changed.length) return
  await tx
    .update(customFieldDefs)
    .set({
      label,
      options: sql`${pgArray(options)}::text[]` as unknown as string[],
      required: input.required,
      showInList: input.showInList,
      updatedAt: new Date(),
    })
    .where(eq(customFieldDefs.id, id))
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'custom_field.updated',
    targetType: 'custom_field',
    targetId: id,
    before: { field: before.label, ...Object.fromEntries(changed.map((k) => [k, before[k]])) },
    after: Object.fromEntries(changed.map((k) => [k, next[k]])),
    ip: actor.ip,
  })
}

/** Deletes a definition and its values on every lead of the organization. */
export async function deleteCustomField(tx: OrgTx, actor: FieldActor, id: string) {
  requireAdmin(actor)
  const [row] = await tx.delete(customFieldDefs).where(eq(customFieldDefs.id, id)).returning()
  if (!row) throw notFound()
  await tx.execute(sql`update leads set custom = custom - ${row.key}::text where custom ? ${row.key}::text`)
  await listCustomFields(tx).then((rest) =>
    renumber(
      tx,
      rest.map((d) => d.id),
    ),
  )
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'custom_field.deleted',
    targetType: 'custom_field',
    targetId: id,
    before: { label: row.label, key: row.key },
    ip: actor.ip,
  })
}

/** Moves one definition up or down (keyboard-friendly buttons; no drag needed). */
export async function moveCustomField(tx: OrgTx, actor: FieldActor, id: string, dir: 'up' | 'down') {
  requireAdmin(actor)
  const list = await listCustomFields(tx)
  const ids = swapWithNeighbour(
    list.map((d) => d.id),
    id,
    dir,
  )
  if (ids === undefined) throw notFound()
  if (!ids) return
  await renumber(tx, ids)
  await recordAudit(tx, {
    orgId: actor.orgId,
    actorId: actor.userId,
    action: 'custom_field.reordered',
    targetType: 'custom_field',
    targetId: id,
    after: { order: ids.map((x) => list.find((d) => d.id === x)!.label).join(' → ') },
    ip: actor.ip,
  })
}

async function renumber(tx: OrgTx, ids: string[]) {
  for (const [i, id] of ids.entries())
    await tx.update(customFieldDefs).set({ position: i }).where(eq(customFieldDefs.id, id))
}

/** A Postgres text[] literal bound as one parameter. */
function pgArray(items: string[]): string {
  return `{${items.map((s) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`
}

export type { FormError }
