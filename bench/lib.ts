/**
 * Shared pieces of the benchmarks: child servers on loopback, readiness, sign-up, a bounded load
 * generator and RSS readings. Everything stays on 127.0.0.1 and every wait has a deadline.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import postgres from 'postgres'
import { createDb, type Db } from '../src/platform/db/client'

export const ROOT = resolve(import.meta.dir, '..')

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `loved-bench-${prefix}-`))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const cleanups: Array<() => void> = []
const children = new Set<Bun.Subprocess>()
function cleanup() {
  for (const c of children) c.kill('SIGKILL')
  for (const f of cleanups.splice(0)) f()
}
process.on('exit', cleanup)
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    cleanup()
    process.exit(130)
  })

export function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = s.port as number
  s.stop(true)
  return port
}

export interface Child {
  proc: Bun.Subprocess
  pid: number
  base: string
  /** Resolves with the exit code. */
  exited: Promise<number>
  stop(): Promise<number>
}

/** Start a server process on a free loopback port; its output goes to `logFile`. */
export function startChild(cmd: string[], env: Record<string, string>, logFile: string, cwd = ROOT): Child {
  const port = freePort()
  const proc = Bun.spawn(cmd, {
    cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      HOST: '127.0.0.1',
      PORT: String(port),
      BASE_URL: `http://127.0.0.1:${port}`,
      ...env,
    },
    stdin: 'ignore',
    stdout: Bun.file(logFile),
    stderr: Bun.file(`${logFile}.err`),
  })
  children.add(proc)
  const exited = proc.exited.then((code) => {
    children.delete(proc)
    return code
  })
  return {
    proc,
    pid: proc.pid,
    base: `http://127.0.0.1:${port}`,
    exited,
    async stop() {
      proc.kill('SIGTERM')
      const code = await Promise.race([exited, Bun.sleep(15_000).then(() => null)])
      if (code === null) {
        proc.kill('SIGKILL')
        return exited
      }
      return code
    },
  }
}

/** Poll `path` until it answers 200; returns ms since `since`. */
export async function waitFor(
  child: Child,
  path: string,
  since: number,
  timeoutMs = 60_000,
): Promise<number> {
  const deadline = since + timeoutMs
  let exitCode: number | null = null
  void child.exited.then((c) => {
    exitCode = c
  })
  while (performance.now() < deadline) {
    if (exitCode !== null) throw new Error(`server exited with ${exitCode} before ${path} answered`)
    try {
      const res = await fetch(`${child.base}${path}`, { signal: AbortSignal.timeout(1000) })
      if (res.status === 200) return performance.now() - since
    } catch {
      // not listening yet
    }
    await Bun.sleep(5)
  }
  child.proc.kill('SIGKILL')
  throw new Error(`${path} not ready within ${timeoutMs} ms`)
}

/** Sign up through the HTTP form and return the session cookie (`name=value`). */
export async function signUp(base: string, n = Date.now()): Promise<string> {
  const res = await fetch(`${base}/signup`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      name: 'Bench User',
      email: `bench${n}@example.com`,
      password: 'correct horse battery staple',
      orgName: 'Bench Org',
    }).toString(),
  })
  if (res.status !== 303)
    throw new Error(`sign-up answered ${res.status}: ${(await res.text()).slice(0, 300)}`)
  const cookie = res.headers
    .getSetCookie()
    .find((c) => /^(__Host-)?loved_session=/.test(c))
    ?.split(';')[0]
  if (!cookie) throw new Error('no session cookie after sign-up')
  const page = await fetch(`${base}/dashboard`, { headers: { cookie } })
  if (page.status !== 200) throw new Error(`/dashboard answered ${page.status}`)
  await page.arrayBuffer()
  return cookie
}

export interface LoadResult {
  requests: number
  concurrency: number
  seconds: number
  rps: number
  p50: number
  p90: number
  p99: number
  max: number
  errors: number
  bytes: number
}

/**
 * `concurrency` fetch loops over keep-alive connections, `requests` in total (bounded, loopback).
 * Latency is measured per request from send to the end of the body.
 */
export async function load(
  url: string,
  opts: { requests: number; concurrency: number; headers?: Record<string, string> },
): Promise<LoadResult> {
  const lat = new Float64Array(opts.requests)
  let next = 0
  let errors = 0
  let bytes = 0
  const started = performance.now()
  const loop = async () => {
    for (;;) {
      const i = next++
      if (i >= opts.requests) return
      const t0 = performance.now()
      try {
        const res = await fetch(url, { headers: opts.headers })
        const body = await res.arrayBuffer()
        bytes += body.byteLength
        if (res.status !== 200) errors++
      } catch {
        errors++
      }
      lat[i] = performance.now() - t0
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, loop))
  const seconds = (performance.now() - started) / 1000
  lat.sort()
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!
  return {
    requests: opts.requests,
    concurrency: opts.concurrency,
    seconds,
    rps: opts.requests / seconds,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    max: lat[lat.length - 1]!,
    errors,
    bytes,
  }
}

/** Resident set size of a process, in MB (Linux /proc; `ps` elsewhere). */
export function rssMB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1])
    if (kb) return kb / 1024
  } catch {
    // not Linux
  }
  const out = Bun.spawnSync(['ps', '-o', 'rss=', '-p', String(pid)])
    .stdout.toString()
    .trim()
  return Number(out) / 1024
}

/** 1/5/15-minute load average: other work on the box skews every number here. */
export async function loadAvg(): Promise<string> {
  const text = await Bun.file('/proc/loadavg')
    .text()
    .catch(() => '? ? ?')
  return text.split(' ').slice(0, 3).join(' ')
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export const fmt = (n: number, digits = 1) => n.toFixed(digits)

export function table(rows: Array<Record<string, string | number>>): string {
  const cols = Object.keys(rows[0] ?? {})
  const cell = (v: string | number) => (typeof v === 'number' ? fmt(v) : v)
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]!).length)))
  const line = (vals: string[]) =>
    vals.map((v, i) => (i === 0 ? v.padEnd(width[i]!) : v.padStart(width[i]!))).join('  ')
  return [
    line(cols),
    line(width.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(cols.map((c) => cell(r[c]!)))),
  ].join('\n')
}

export function parseArgs<T extends Record<string, number | string | boolean>>(defaults: T): T {
  const out: Record<string, number | string | boolean> = { ...defaults }
  const argv = process.argv.slice(2)
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i]!.replace(/^--/, '').split('=', 2) as [string, string | undefined]
    const camel = (s: string) => s.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())
    const negated = k.startsWith('no-') && typeof defaults[camel(k.slice(3))] === 'boolean'
    if (negated) {
      out[camel(k.slice(3))] = false
      continue
    }
    const key = camel(k)
    if (!(key in defaults)) {
      console.error(`unknown option --${k}; options: ${Object.keys(defaults).join(', ')}`)
      process.exit(2)
    }
    const d = defaults[key]
    if (typeof d === 'boolean') out[key] = inline === undefined ? true : inline !== 'false'
    else {
      const v = inline ?? argv[++i] ?? ''
      out[key] = typeof d === 'number' ? Number(v) : v
    }
  }
  return out as T
}

/**
 * A throwaway database for one bench run: a fresh PGlite data directory, or a new database on the
 * Postgres server of `pgUrl` (dropped again by `drop`).
 */
export async function openBenchDb(
  kind: 'pglite' | 'postgres',
  label: string,
  pgUrl: string,
  opts: { max?: number } = {},
): Promise<{ db: Db; drop(): Promise<void> }> {
  if (kind === 'pglite') {
    const db = await createDb({ dataDir: join(tempDir(`bench-${label}`), 'pg') })
    return { db, drop: () => db.close() }
  }
  const name = `loved_bench_${label.replace(/\W/g, '_')}_${process.pid}`
  const dropIt = async () => {
    const admin = postgres(pgUrl, { max: 1, onnotice: () => {} })
    await admin.unsafe(`drop database if exists ${name} with (force)`)
    return admin
  }
  const admin = await dropIt()
  await admin.unsafe(`create database ${name}`)
  await admin.end()
  const url = new URL(pgUrl)
  url.pathname = `/${name}`
  const db = await createDb({ databaseUrl: url.toString(), max: opts.max ?? 4 })
  return {
    db,
    async drop() {
      await db.close()
      await (await dropIt()).end()
    },
  }
}
