/**
 * The statements the app sends, for tests and benches: Drizzle's logger sees every query of a `Db`
 * (its transactions share the session's options). Those options are not public, so the casts live
 * here and nowhere else.
 */
import type { Db } from '../src/platform/db/client'

export interface QueryLogger {
  logQuery(query: string, params: unknown[]): void
}

/** Installs `logger` on the database's Drizzle session and returns the one it replaced. */
export function setQueryLogger(db: Db, logger: QueryLogger): QueryLogger {
  const session = (db.drizzle as any).session
  const previous = session.logger as QueryLogger
  session.options.logger = logger
  session.logger = logger
  return previous
}

/** Records statements only while `during(run)` runs, and hands them back with `run`'s result. */
export function statementRecorder(db: Db) {
  let current: string[] | null = null
  setQueryLogger(db, { logQuery: (q) => current?.push(q) })
  return {
    async during<T>(run: () => Promise<T>): Promise<{ value: T; statements: string[] }> {
      const statements: string[] = []
      current = statements
      try {
        return { value: await run(), statements }
      } finally {
        current = null
      }
    },
  }
}
