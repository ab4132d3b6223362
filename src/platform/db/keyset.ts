import { and, type Column, eq, lt, or, type SQL } from 'drizzle-orm'
import type { Cursor } from '../../shared/cursor'

/**
 * Keyset pagination for lists ordered by (created_at desc, id desc): the rows strictly after the
 * cursor. Undefined without a cursor (first page).
 */
export function beforeCursor(createdAt: Column, id: Column, cursor: Cursor | undefined): SQL | undefined {
  if (!cursor) return undefined
  return or(lt(createdAt, cursor.createdAt), and(eq(createdAt, cursor.createdAt), lt(id, cursor.id)))
}

/** Fetch `size + 1` rows, then split: the page, and whether another follows. */
export function pageOf<T>(rows: T[], size: number): { rows: T[]; more: boolean } {
  return { rows: rows.slice(0, size), more: rows.length > size }
}
