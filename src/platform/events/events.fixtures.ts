/**
 * Test fixtures for the platform services (imported by *.test.ts and the child-process scripts only):
 * organizations and users created as the system, and the event types the tests record.
 */
import { sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { withSystem } from '../db/tenancy'

declare module './events.types' {
  interface DomainEvents {
    'test.ping': { n: number }
    'test.note': { note: string }
  }
}

export async function createOrg(db: Db, name = 'Org'): Promise<string> {
  const id = Bun.randomUUIDv7()
  const slug = `o-${id.slice(-12)}`
  await withSystem(db, (tx) =>
    tx.execute(sql`insert into organizations (id, name, slug) values (${id}::uuid, ${name}, ${slug})`),
  )
  return id
}

export async function createUser(db: Db, name = 'User'): Promise<string> {
  const id = Bun.randomUUIDv7()
  await withSystem(db, (tx) =>
    tx.execute(sql`insert into users (id, email, name, password_hash)
      values (${id}::uuid, ${`u-${id.slice(-12)}@example.test`}, ${name}, 'x')`),
  )
  return id
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Polls `check` until it returns a truthy value, or throws after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

export interface Child {
  proc: ReturnType<typeof Bun.spawn>
  lines: string[]
  /** Resolves with the first output line starting with `prefix` (already printed or to come). */
  waitForLine(prefix: string, timeoutMs?: number): Promise<string>
}

/** Runs a fixture script in a separate Bun process; its stdout is read line by line. */
export function spawnChild(script: string, env: Record<string, string>): Child {
  const proc = Bun.spawn([process.execPath, script], {
    env: { ...process.env, ...env },
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const lines: string[] = []
  ;(async () => {
    const decoder = new TextDecoder()
    let buf = ''
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      buf += decoder.decode(value, { stream: true })
      let i = buf.indexOf('\n')
      while (i >= 0) {
        lines.push(buf.slice(0, i))
        buf = buf.slice(i + 1)
        i = buf.indexOf('\n')
      }
    }
  })()
  return {
    proc,
    lines,
    waitForLine: (prefix, timeoutMs = 30_000) =>
      waitFor<string | undefined>(
        () => {
          if (proc.exitCode !== null && !lines.some((l) => l.startsWith(prefix)))
            throw new Error(`child exited (${proc.exitCode}) before printing "${prefix}"`)
          return lines.find((l) => l.startsWith(prefix))
        },
        timeoutMs,
        `"${prefix}" from ${script}`,
      ) as Promise<string>,
  }
}
