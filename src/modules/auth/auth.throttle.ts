/**
 * Login throttling, kept in Postgres so it survives restarts and holds across instances.
 * Per account: 5 failures in 15 min lock that account for 15 min. Per IP: 30 failures in 15 min.
 */
import { eq, sql } from 'drizzle-orm'
import type { Db } from '../../platform/db/client'
import { withSystem } from '../../platform/db/tenancy'
import { loginThrottle } from './auth.table'

export const THROTTLE = {
  windowMs: 15 * 60 * 1000,
  lockMs: 15 * 60 * 1000,
  account: 5,
  ip: 30,
}

export const throttleKeys = (email: string, ip: string | null) => [
  { key: `account:${email}`, limit: THROTTLE.account },
  ...(ip ? [{ key: `ip:${ip}`, limit: THROTTLE.ip }] : []),
]

/** Milliseconds until a login may be tried again, or 0. */
export async function throttledFor(db: Db, keys: { key: string }[], now = new Date()): Promise<number> {
  return withSystem(db, async (tx) => {
    let wait = 0
    for (const { key } of keys) {
      const [row] = await tx.select().from(loginThrottle).where(eq(loginThrottle.key, key))
      if (row?.lockedUntil && row.lockedUntil > now)
        wait = Math.max(wait, row.lockedUntil.getTime() - now.getTime())
    }
    return wait
  })
}

export async function recordFailure(db: Db, keys: { key: string; limit: number }[], now = new Date()) {
  // Raw sql`` parameters must be strings: postgres.js does not serialise Date there.
  const windowStart = new Date(now.getTime() - THROTTLE.windowMs).toISOString()
  const nowIso = now.toISOString()
  const lockIso = new Date(now.getTime() + THROTTLE.lockMs).toISOString()
  await withSystem(db, async (tx) => {
    for (const { key, limit } of keys) {
      // One upsert: restart the window when it is over, count, and lock at the limit.
      await tx
        .insert(loginThrottle)
        .values({
          key,
          failures: 1,
          windowStart: now,
          lockedUntil: limit <= 1 ? new Date(now.getTime() + THROTTLE.lockMs) : null,
        })
        .onConflictDoUpdate({
          target: loginThrottle.key,
          set: {
            failures: sql`case when ${loginThrottle.windowStart} < ${windowStart}::timestamptz then 1 else ${loginThrottle.failures} + 1 end`,
            windowStart: sql`case when ${loginThrottle.windowStart} < ${windowStart}::timestamptz then ${nowIso}::timestamptz else ${loginThrottle.windowStart} end`,
            lockedUntil: sql`case when (case when ${loginThrottle.windowStart} < ${windowStart}::timestamptz then 1 else ${loginThrottle.failures} + 1 end) >= ${limit} then ${lockIso}::timestamptz else ${loginThrottle.lockedUntil} end`,
          },
        })
    }
  })
}

export async function clearFailures(db: Db, key: string) {
  await withSystem(db, (tx) => tx.delete(loginThrottle).where(eq(loginThrottle.key, key)))
}
