import { isUuid } from './ids'

/** Keyset pagination cursor "<ISO time>_<uuid>" for lists ordered by (created_at desc, id desc). */
export interface Cursor {
  createdAt: Date
  id: string
}

export function parseCursor(raw: string | undefined | null): Cursor | undefined {
  const [at, id] = (raw ?? '').split('_')
  if (!at || !id || !isUuid(id) || Number.isNaN(Date.parse(at))) return undefined
  return { createdAt: new Date(at), id }
}

export const formatCursor = (c: Cursor) => `${c.createdAt.toISOString()}_${c.id}`

/** The cursor for the next page, when there is one. */
export function nextCursor(rows: Cursor[], more: boolean): string | undefined {
  const last = rows.at(-1)
  return more && last ? formatCursor(last) : undefined
}
