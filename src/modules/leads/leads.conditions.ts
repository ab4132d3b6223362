/**
 * Conditions of scoring and assignment rules: a closed, validated discriminated union stored as
 * jsonb (never user code). `readCondition` re-validates what comes back from the database, so a row
 * edited by hand cannot make evaluation throw; `matchCondition` evaluates one against a lead's facts
 * and says when the triggering fact happened (for decay).
 *
 * Activity kinds are an open list: any module that writes `lead_activities` (the inbox's
 * `message.inbound`, calls...) can be named in a rule; `registerActivityKind` adds it to the choices
 * the settings page suggests.
 */
import type { Check } from '../../platform/http/errors'
import { fold } from '../../shared/text'
import type { CustomFieldType } from './leads.table'

export type PresentField = 'company' | 'email' | 'phone'
export const PRESENT_FIELDS: readonly PresentField[] = ['company', 'email', 'phone']
export type CustomOp = 'eq' | 'gte' | 'checked'

export type Condition =
  /** Source is one of the values (one value: "equals"); accent- and case-insensitive. */
  | { type: 'source'; values: string[] }
  | { type: 'tag'; value: string }
  | { type: 'present'; field: PresentField }
  /** Value in cents, at least. */
  | { type: 'value_gte'; cents: number }
  /** Region from the phone (BR-SP) or a whole country (BR). */
  | { type: 'region'; values: string[] }
  | { type: 'job_title'; contains: string }
  | { type: 'custom'; key: string; op: CustomOp; value?: string | number }
  /** Has a timeline entry of this kind within the last `days` days. */
  | { type: 'activity'; kind: string; days: number }
  /** Always (assignment fallback rules). */
  | { type: 'any' }

export type ConditionType = Condition['type']
export const SCORING_CONDITIONS: readonly ConditionType[] = [
  'source',
  'tag',
  'present',
  'value_gte',
  'region',
  'job_title',
  'custom',
  'activity',
]
export const ASSIGNMENT_CONDITIONS: readonly ConditionType[] = ['any', 'source', 'tag', 'region', 'custom']

const KIND_RE = /^[a-z][a-z_.]{0,39}$/
const activityKinds = new Set(['note', 'moved', 'edited', 'assigned', 'won', 'lost', 'message.inbound'])
/** Lets another module (inbox, voice) offer its activity kinds in rule forms. */
export function registerActivityKind(kind: string) {
  if (KIND_RE.test(kind)) activityKinds.add(kind)
}
export const knownActivityKinds = () => [...activityKinds].sort()

/** What a condition is evaluated against: one read of the lead and its recent activity. */
export interface LeadFacts {
  source: string | null
  tags: string[]
  company: string | null
  email: string | null
  phone: string | null
  valueCents: number
  region: string | null
  jobTitle: string | null
  custom: Record<string, unknown>
  createdAt: Date
  /** The latest entry of each activity kind (within the longest window any rule asks about). */
  activity: Record<string, Date>
}

export interface Match {
  matched: boolean
  /** When the triggering fact happened (decay runs from it): the activity, else the lead's creation. */
  at: Date
}

const splitList = (s: string) =>
  [
    ...new Set(
      s
        .split(/[,;\n]/)
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  ].slice(0, 50)

export function matchCondition(c: Condition, f: LeadFacts, now: Date): Match {
  const no = { matched: false, at: f.createdAt }
  const yes = { matched: true, at: f.createdAt }
  switch (c.type) {
    case 'any':
      return yes
    case 'source': {
      const s = f.source ? fold(f.source) : null
      return s !== null && c.values.some((v) => fold(v) === s) ? yes : no
    }
    case 'tag': {
      const want = fold(c.value)
      return f.tags.some((t) => fold(t) === want) ? yes : no
    }
    case 'present':
      return f[c.field]?.trim() ? yes : no
    case 'value_gte':
      return f.valueCents >= c.cents ? yes : no
    case 'region': {
      const r = f.region?.toUpperCase()
      if (!r) return no
      return c.values.some((v) => r === v || r.startsWith(`${v}-`)) ? yes : no
    }
    case 'job_title':
      return f.jobTitle && fold(f.jobTitle).includes(fold(c.contains)) ? yes : no
    case 'custom': {
      const v = f.custom[c.key]
      if (c.op === 'checked') return v === true || v === 'true' ? yes : no
      if (v === undefined || v === null || v === '') return no
      if (c.op === 'gte') {
        const n = typeof v === 'number' ? v : Number(v)
        return Number.isFinite(n) && n >= Number(c.value) ? yes : no
      }
      const want = fold(String(c.value ?? ''))
      if (Array.isArray(v)) return v.some((x) => fold(String(x)) === want) ? yes : no
      return fold(String(v)) === want ? yes : no
    }
    case 'activity': {
      const at = f.activity[c.kind]
      if (!at) return no
      return now.getTime() - at.getTime() <= c.days * 86_400_000 ? { matched: true, at } : no
    }
  }
}

/** The longest activity window of a set of conditions (0: no activity read needed). */
export function activityWindowDays(conds: Condition[]): number {
  return conds.reduce((m, c) => (c.type === 'activity' ? Math.max(m, c.days) : m), 0)
}

/** Re-validates a stored condition; null when it is not one we understand (the rule is skipped). */
export function readCondition(raw: unknown): Condition | null {
  if (!raw || typeof raw !== 'object') return null
  const c = raw as Record<string, unknown>
  const strs = (v: unknown) =>
    Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string') ? (v as string[]) : null
  switch (c.type) {
    case 'any':
      return { type: 'any' }
    case 'source':
    case 'region': {
      const values = strs(c.values)
      return values ? { type: c.type, values } : null
    }
    case 'tag':
      return typeof c.value === 'string' && c.value ? { type: 'tag', value: c.value } : null
    case 'present':
      return PRESENT_FIELDS.includes(c.field as PresentField)
        ? { type: 'present', field: c.field as PresentField }
        : null
    case 'value_gte':
      return Number.isSafeInteger(c.cents) ? { type: 'value_gte', cents: c.cents as number } : null
    case 'job_title':
      return typeof c.contains === 'string' && c.contains ? { type: 'job_title', contains: c.contains } : null
    case 'custom': {
      if (typeof c.key !== 'string' || !['eq', 'gte', 'checked'].includes(c.op as string)) return null
      const value = typeof c.value === 'string' || typeof c.value === 'number' ? c.value : undefined
      return { type: 'custom', key: c.key, op: c.op as CustomOp, ...(value === undefined ? {} : { value }) }
    }
    case 'activity':
      return typeof c.kind === 'string' && KIND_RE.test(c.kind) && Number.isInteger(c.days)
        ? { type: 'activity', kind: c.kind, days: c.days as number }
        : null
    default:
      return null
  }
}

/** The condition fields of a rule form (all strings, as posted). */
export interface ConditionForm {
  condType: string
  condValues: string
  condNumber: string
  condField: string
  condKey: string
  condOp: string
  condKind: string
  condDays: string
}
export const CONDITION_FIELDS: (keyof ConditionForm)[] = [
  'condType',
  'condValues',
  'condNumber',
  'condField',
  'condKey',
  'condOp',
  'condKind',
  'condDays',
]

/** Parses a number as people type it in Brazil or elsewhere ("1.500,50", "1500.5"). */
export function parseNumber(s: string): number | null {
  const v = s.trim().replace(/\s/g, '')
  if (!v) return null
  let norm = v
  if (v.includes(',') && v.includes('.'))
    norm =
      v.lastIndexOf(',') > v.lastIndexOf('.') ? v.replace(/\./g, '').replace(',', '.') : v.replace(/,/g, '')
  else if (v.includes(',')) norm = v.replace(',', '.')
  const n = Number(norm)
  return Number.isFinite(n) ? n : null
}

/**
 * Validates a posted condition. Errors go to `check` under the field that is wrong; custom fields
 * are checked against the organization's definitions (type decides the operator).
 */
export function parseConditionForm(
  f: ConditionForm,
  allowed: readonly ConditionType[],
  customDefs: { key: string; type: CustomFieldType }[],
  check: Check,
): Condition | null {
  const type = f.condType as ConditionType
  if (!allowed.includes(type)) {
    check.add('condType', 'error.required')
    return null
  }
  const text = (field: keyof ConditionForm, max: number) => {
    const v = (f[field] ?? '').trim()
    if (!v) check.add(field, 'error.required')
    else if (v.length > max) check.add(field, 'error.too_long', { max })
    return v
  }
  switch (type) {
    case 'any':
      return { type: 'any' }
    case 'source': {
      const values = splitList(f.condValues ?? '')
      if (!values.length) check.add('condValues', 'error.required')
      else if (values.some((v) => v.length > 60)) check.add('condValues', 'error.too_long', { max: 60 })
      return { type, values }
    }
    case 'region': {
      const values = splitList(f.condValues ?? '').map((v) => v.toUpperCase())
      if (!values.length) check.add('condValues', 'error.required')
      else if (!values.every((v) => /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/.test(v)))
        check.add('condValues', 'scoring.error.region')
      return { type, values }
    }
    case 'tag': {
      const value = text('condValues', 40)
      return { type, value }
    }
    case 'job_title':
      return { type, contains: text('condValues', 120) }
    case 'present': {
      const field = f.condField as PresentField
      if (!PRESENT_FIELDS.includes(field)) check.add('condField', 'error.required')
      return { type, field }
    }
    case 'value_gte': {
      const n = parseNumber(f.condNumber ?? '')
      if (n === null || n < 0 || n > 1_000_000_000_000) {
        check.add('condNumber', 'scoring.error.number')
        return null
      }
      return { type, cents: Math.round(n * 100) }
    }
    case 'custom': {
      const def = customDefs.find((d) => d.key === f.condKey)
      if (!def) {
        check.add('condKey', 'scoring.error.custom_key')
        return null
      }
      if (def.type === 'boolean') return { type, key: def.key, op: 'checked' }
      const op: CustomOp = def.type === 'number' && f.condOp === 'gte' ? 'gte' : 'eq'
      if (def.type === 'number') {
        const n = parseNumber(f.condNumber ?? '')
        if (n === null) {
          check.add('condNumber', 'scoring.error.number')
          return null
        }
        return { type, key: def.key, op, value: n }
      }
      return { type, key: def.key, op: 'eq', value: text('condValues', 120) }
    }
    case 'activity': {
      const kind = (f.condKind ?? '').trim().toLowerCase()
      if (!KIND_RE.test(kind)) check.add('condKind', 'scoring.error.kind')
      const days = Number((f.condDays ?? '').trim())
      if (!Number.isInteger(days) || days < 1 || days > 3650) check.add('condDays', 'scoring.error.days')
      return { type, kind, days }
    }
  }
  return null
}

/** The form values that re-create a stored condition (for edit forms). */
export function conditionFormValues(c: Condition | null): ConditionForm {
  const base: ConditionForm = {
    condType: c?.type ?? 'source',
    condValues: '',
    condNumber: '',
    condField: 'email',
    condKey: '',
    condOp: 'eq',
    condKind: 'note',
    condDays: '7',
  }
  if (!c) return base
  switch (c.type) {
    case 'source':
    case 'region':
      return { ...base, condValues: c.values.join(', ') }
    case 'tag':
      return { ...base, condValues: c.value }
    case 'job_title':
      return { ...base, condValues: c.contains }
    case 'present':
      return { ...base, condField: c.field }
    case 'value_gte':
      return { ...base, condNumber: String(c.cents / 100) }
    case 'custom':
      return {
        ...base,
        condKey: c.key,
        condOp: c.op,
        ...(typeof c.value === 'number' ? { condNumber: String(c.value) } : { condValues: c.value ?? '' }),
      }
    case 'activity':
      return { ...base, condKind: c.kind, condDays: String(c.days) }
    default:
      return base
  }
}
