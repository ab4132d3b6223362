/**
 * Input models. Board filters live in the URL (shareable, back button works): `parseFilters` keeps
 * only valid values and `filtersQuery` writes them back in one canonical order, so the same filters
 * always give the same URL. Request bodies of the JSON-ish endpoints are TypeBox models.
 */
import { t } from 'elysia'
import { isUuid } from '../../shared/ids'

export interface BoardFilters {
  /** 'mine', 'none' (unassigned) or a member's user id. */
  owner?: string
  source?: string
  tag?: string
  scoreMin?: number
  scoreMax?: number
  /** YYYY-MM-DD, inclusive, in the organization's time zone. */
  createdFrom?: string
  createdTo?: string
  q?: string
}

export const FILTER_KEYS = ['owner', 'source', 'tag', 'score_min', 'score_max', 'from', 'to', 'q'] as const

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/
const isDate = (s: string) => DATE_RE.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`))
const clean = (s: string | null | undefined, max: number) => {
  const v = (s ?? '').trim().replace(/\s+/g, ' ')
  return v && v.length <= max ? v : undefined
}
function score(s: string | null): number | undefined {
  if (s === null || !/^-?\d{1,4}$/.test(s.trim())) return undefined
  const n = Number(s)
  return n >= -1000 && n <= 1000 ? n : undefined
}

export function parseFilters(params: URLSearchParams): BoardFilters {
  const f: BoardFilters = {}
  const owner = params.get('owner')?.trim()
  if (owner === 'mine' || owner === 'none' || isUuid(owner)) f.owner = owner
  f.source = clean(params.get('source'), 60)
  f.tag = clean(params.get('tag'), 40)?.toLowerCase()
  f.scoreMin = score(params.get('score_min'))
  f.scoreMax = score(params.get('score_max'))
  const from = params.get('from')?.trim()
  const to = params.get('to')?.trim()
  if (from && isDate(from)) f.createdFrom = from
  if (to && isDate(to)) f.createdTo = to
  f.q = clean(params.get('q'), 100)
  for (const k of Object.keys(f) as (keyof BoardFilters)[]) if (f[k] === undefined) delete f[k]
  return f
}

/** The canonical query string of `f` ('' when no filter is set), without the leading '?'. */
export function filtersQuery(f: BoardFilters): string {
  const p = new URLSearchParams()
  if (f.owner) p.set('owner', f.owner)
  if (f.source) p.set('source', f.source)
  if (f.tag) p.set('tag', f.tag)
  if (f.scoreMin !== undefined) p.set('score_min', String(f.scoreMin))
  if (f.scoreMax !== undefined) p.set('score_max', String(f.scoreMax))
  if (f.createdFrom) p.set('from', f.createdFrom)
  if (f.createdTo) p.set('to', f.createdTo)
  if (f.q) p.set('q', f.q)
  return p.toString()
}

export const hasFilters = (f: BoardFilters) => Object.keys(f).length > 0

/** "vip, Indicação ,vip" -> ['vip', 'indicação']: trimmed, lower-cased, unique, at most 20. */
export function parseTags(input: string): string[] {
  const out: string[] = []
  for (const raw of input.split(',')) {
    const tag = raw.trim().toLowerCase().replace(/\s+/g, ' ')
    if (tag && tag.length <= 40 && !out.includes(tag)) out.push(tag)
  }
  return out.slice(0, 20)
}

/** "1.234,56", "1234.56", "R$ 1.234" -> cents; null when empty; NaN when unreadable. */
export function parseMoney(input: string): number | null {
  let s = input.replace(/[^\d.,-]/g, '')
  if (!s) return null
  const lastComma = s.lastIndexOf(',')
  const lastDot = s.lastIndexOf('.')
  // The last separator followed by 1-2 digits is the decimal one; the others group thousands.
  const dec = Math.max(lastComma, lastDot)
  if (dec >= 0 && s.length - dec - 1 <= 2 && s.length - dec - 1 > 0) {
    s = `${s.slice(0, dec).replace(/[.,]/g, '')}.${s.slice(dec + 1)}`
  } else {
    s = s.replace(/[.,]/g, '')
  }
  const n = Number(s)
  if (!Number.isFinite(n) || n < 0) return Number.NaN
  return Math.round(n * 100)
}

/** A card move from the board (drag, keyboard or the "Move to…" menu). */
export const MoveBody = t.Object({
  stageId: t.String({ format: 'uuid' }),
  /** The card it now follows in the target stage; empty = the top of the stage. */
  afterId: t.Optional(t.String()),
  /** The version the client saw (compare-and-set). */
  version: t.Numeric({ minimum: 1 }),
  /** Closing value when moving into a won stage (user input: "1.234,56"). */
  value: t.Optional(t.String({ maxLength: 40 })),
  /** Loss reason when moving into a lost stage. */
  reason: t.Optional(t.String({ maxLength: 300 })),
})
export type MoveBody = typeof MoveBody.static

export const PageQuery = t.Object({
  after: t.Optional(t.String({ maxLength: 80 })),
})
