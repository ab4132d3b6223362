/**
 * The compiled binary (`bun run build`) as an operator runs it: copied nowhere near the source tree,
 * started from an unrelated directory with only DATA_DIR writable, stopped with SIGTERM, started
 * again on the same data. Also the CLI's --help/version/bad-config behaviour, and the refusal to
 * serve when the tenant role can bypass row-level security.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import postgres from 'postgres'
import { build } from '../scripts/build'
import { VERSION } from '../src/server'
import { createTestDatabaseUrl, TEST_DATABASE_URL } from './db'

const ROOT = resolve(import.meta.dir, '..')
const PASSWORD = 'correct horse battery staple'

let work: string
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'loved-binary-test-'))
})
afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

/**
 * Where the runner may (root, mount namespaces), the binary runs with `/` remounted read-only, the
 * source tree (and its node_modules) hidden under an empty tmpfs and only DATA_DIR writable: proof
 * that nothing is read from the checkout and nothing is written outside DATA_DIR.
 */
const SANDBOX = [
  'set -e',
  'mkdir -p "$1"',
  'mount --bind "$1" "$1"',
  'mount -t tmpfs -o ro tmpfs "$2"',
  'mount -o remount,bind,ro /',
  'shift 2',
  'exec "$@"',
].join('; ')

function sandboxed(dataDir: string, cmd: string[]): string[] {
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    SANDBOX,
    'sandbox',
    dataDir,
    ROOT,
    ...cmd,
  ]
}

function canSandbox(): boolean {
  if (work.startsWith(ROOT)) return false
  try {
    const probe = Bun.spawnSync(
      sandboxed(join(work, 'probe'), ['sh', '-c', `! touch ${work}/x 2>/dev/null`]),
      {
        stdout: 'ignore',
        stderr: 'ignore',
      },
    )
    return probe.exitCode === 0
  } catch {
    return false
  }
}

/** A port nobody listens on right now (the child binds it a moment later). */
function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = s.port as number
  s.stop(true)
  return port
}

interface Running {
  proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>
  base: string
  /** Everything written to stdout and stderr so far. */
  output(): string
  exited: Promise<number>
}

function spawn(cmd: string[], opts: { cwd: string; env: Record<string, string>; port?: number }): Running {
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd,
    // Only what the binary needs: no inherited DATABASE_URL, SECRET_KEY, ... from the test runner.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, LOG_LEVEL: 'info', ...opts.env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let out = ''
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder()
    const reader = stream.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      out += dec.decode(value, { stream: true })
    }
  }
  const drained = Promise.all([drain(proc.stdout), drain(proc.stderr)])
  return {
    proc,
    base: `http://127.0.0.1:${opts.port ?? 0}`,
    output: () => out,
    exited: proc.exited.then(async (code) => {
      await drained
      return code
    }),
  }
}

async function waitReady(r: Running, timeoutMs = 60_000): Promise<{ status: string; database: string }> {
  const deadline = Date.now() + timeoutMs
  let exited: number | null = null
  r.exited.then((c) => {
    exited = c
  })
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`exited with ${exited} before ready:\n${r.output()}`)
    try {
      const res = await fetch(`${r.base}/readyz`, { signal: AbortSignal.timeout(2000) })
      if (res.status === 200) return (await res.json()) as { status: string; database: string }
    } catch {
      // not listening yet
    }
    await Bun.sleep(50)
  }
  r.proc.kill('SIGKILL')
  throw new Error(`not ready after ${timeoutMs} ms:\n${r.output()}`)
}

async function stop(r: Running): Promise<number> {
  r.proc.kill('SIGTERM')
  const code = await Promise.race([r.exited, Bun.sleep(15_000).then(() => 'timeout' as const)])
  if (code === 'timeout') {
    r.proc.kill('SIGKILL')
    throw new Error(`did not exit within 15 s of SIGTERM:\n${r.output()}`)
  }
  return code
}

function logLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** POST a form as a browser on this origin would (Origin header, no redirect following). */
function postForm(base: string, path: string, form: Record<string, string>, cookie?: string) {
  return fetch(`${base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      origin: base,
      'content-type': 'application/x-www-form-urlencoded',
      'accept-language': 'en',
      ...(cookie ? { cookie } : {}),
    },
    body: new URLSearchParams(form).toString(),
  })
}

function sessionCookieOf(res: Response): string {
  const c = res.headers.getSetCookie().find((h) => /^(__Host-)?loved_session=[^;]+/.test(h))
  if (!c) throw new Error(`no session cookie in ${JSON.stringify(res.headers.getSetCookie())}`)
  return c.split(';')[0]!
}

/** Follow the redirect with the cookie and return the page. */
async function follow(base: string, res: Response, cookie: string): Promise<{ url: string; html: string }> {
  expect(res.status).toBe(303)
  const url = new URL(res.headers.get('location')!, base).toString()
  const page = await fetch(url, { headers: { cookie, 'accept-language': 'en' }, redirect: 'follow' })
  expect(page.status).toBe(200)
  return { url: page.url, html: await page.text() }
}

/** Fetch every `/assets/NAME?v=HASH` a page links; returns the names. */
async function checkAssets(base: string, html: string): Promise<string[]> {
  const assets = [...new Set(html.match(/\/assets\/[\w.-]+\?v=[0-9a-f]+/g) ?? [])]
  for (const url of assets) {
    const res = await fetch(`${base}${url}`)
    expect(res.status).toBe(200)
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100)
    if (url.includes('.css?')) expect(res.headers.get('content-type')).toContain('text/css')
    if (url.includes('.js?')) expect(res.headers.get('content-type')).toContain('javascript')
  }
  return assets.map((u) => u.slice('/assets/'.length, u.indexOf('?')))
}

async function signUpThrough(base: string, who: { name: string; email: string; orgName: string }) {
  const res = await postForm(base, '/signup', { ...who, password: PASSWORD })
  const cookie = sessionCookieOf(res)
  const page = await follow(base, res, cookie)
  expect(new URL(page.url).pathname).toBe('/dashboard')
  expect(page.html).toContain(who.orgName)
  return cookie
}

describe('the compiled binary', () => {
  let bin: string
  let elsewhere: string
  let sandbox = false
  /** The binary's command line, inside the read-only sandbox when available. */
  const serveCmd = (dataDir: string) => (sandbox ? sandboxed(dataDir, [bin, 'serve']) : [bin, 'serve'])

  beforeAll(async () => {
    const dir = join(work, 'bin')
    mkdirSync(dir)
    bin = (await build({ outfile: join(dir, 'loved'), quiet: true })).outfile
    // An unrelated, empty working directory: nothing can be found relative to it.
    elsewhere = join(work, 'elsewhere')
    mkdirSync(elsewhere)
    sandbox = canSandbox()
    if (!sandbox)
      console.warn('binary.test: no mount namespace here; the source tree stays visible to the binary')
  }, 180_000)

  test('prints its help and version', async () => {
    const help = spawn([bin, '--help'], { cwd: elsewhere, env: {} })
    expect(await help.exited).toBe(0)
    expect(help.output()).toContain('Usage: loved [command]')
    for (const cmd of ['serve', 'migrate', 'create-admin', 'version']) expect(help.output()).toContain(cmd)

    const version = spawn([bin, 'version'], { cwd: elsewhere, env: {} })
    expect(await version.exited).toBe(0)
    expect(version.output()).toBe(`${VERSION}\n`)
  })

  test('refuses a bad configuration with a clear message and a non-zero exit', async () => {
    const dataDir = join(work, 'bad-config')
    const r = spawn([bin, 'serve'], { cwd: elsewhere, env: { DATA_DIR: dataDir, PORT: 'abc' } })
    const code = await r.exited
    expect(code).not.toBe(0)
    expect(r.output()).toContain('Invalid configuration')
    expect(r.output()).toContain('PORT must be 0-65535, got "abc"')
  })

  test('serves from any directory with only DATA_DIR writable, stops cleanly on SIGTERM and keeps its data', async () => {
    const dataDir = join(work, 'data')
    const port = freePort()
    const env = {
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      BASE_URL: `http://127.0.0.1:${port}`,
    }

    // First boot: initdb + migrations inside the binary.
    const first = spawn(serveCmd(dataDir), { cwd: elsewhere, env, port })
    expect(await waitReady(first)).toEqual({ status: 'ready', database: 'pglite' })
    const base = first.base

    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    const login = await fetch(`${base}/login`, { headers: { 'accept-language': 'en' } })
    expect(login.status).toBe(200)
    const loginHtml = await login.text()
    expect(loginHtml).toContain('name="password"')

    // Every asset the page links is embedded and served with its content type.
    expect(await checkAssets(base, loginHtml)).toContain('app.css')

    // A write without a same-origin header is refused (CSRF), the real sign-up works.
    const forged = await fetch(`${base}/signup`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=x',
    })
    expect(forged.status).toBe(403)
    const who = { name: 'Bina Ryan', email: 'bina@example.com', orgName: 'Binary Works' }
    const cookie = await signUpThrough(base, who)
    const dash = await fetch(`${base}/dashboard`, { headers: { cookie, 'accept-language': 'en' } })
    expect(dash.status).toBe(200)
    expect((await checkAssets(base, await dash.text())).length).toBeGreaterThan(2)

    const code = await stop(first)
    expect(code).toBe(0)
    const logs = logLines(first.output())
    expect(logs.map((l) => l.msg)).toContain('server.listening')
    expect(logs.map((l) => l.msg)).toContain('db.migrated')
    expect(logs.at(-1)).toMatchObject({ msg: 'server.stopped' })
    expect(logs.some((l) => l.msg === 'server.stopping' && l.signal === 'SIGTERM')).toBe(true)
    expect(logs.some((l) => l.level === 'error')).toBe(false)
    // Everything it wrote is in DATA_DIR: the database and the generated secret.
    expect(readdirSync(dataDir).sort()).toEqual(['pg', 'secret.key'])

    // Second boot on the same DATA_DIR: no migrations to apply, the account and its session survive.
    const second = spawn(serveCmd(dataDir), { cwd: elsewhere, env, port })
    expect(await waitReady(second)).toEqual({ status: 'ready', database: 'pglite' })
    expect(logLines(second.output()).some((l) => l.msg === 'db.migrated')).toBe(false)
    const again = await fetch(`${base}/dashboard`, { headers: { cookie, 'accept-language': 'en' } })
    expect(again.status).toBe(200)
    expect(await again.text()).toContain(who.orgName)
    const res = await postForm(base, '/login', { email: who.email, password: PASSWORD, remember: '1' })
    const page = await follow(base, res, sessionCookieOf(res))
    expect(new URL(page.url).pathname).toBe('/dashboard')
    expect(page.html).toContain(who.orgName)
    expect(await stop(second)).toBe(0)
    expect(logLines(second.output()).at(-1)).toMatchObject({ msg: 'server.stopped' })
  }, 120_000)

  test.if(!!TEST_DATABASE_URL)(
    'serves from a real Postgres through DATABASE_URL',
    async () => {
      const databaseUrl = (await createTestDatabaseUrl())!
      const port = freePort()
      const dataDir = join(work, 'pg-data')
      const r = spawn(serveCmd(dataDir), {
        cwd: elsewhere,
        env: {
          DATA_DIR: dataDir,
          DATABASE_URL: databaseUrl,
          PORT: String(port),
          HOST: '127.0.0.1',
          BASE_URL: `http://127.0.0.1:${port}`,
        },
        port,
      })
      expect(await waitReady(r)).toEqual({ status: 'ready', database: 'postgres' })
      await signUpThrough(r.base, { name: 'Pat Gres', email: 'pat@example.com', orgName: 'Postgres Ltd' })
      expect(await stop(r)).toBe(0)
      expect(logLines(r.output()).at(-1)).toMatchObject({ msg: 'server.stopped' })
      const admin = postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} })
      await admin.unsafe(`drop database if exists "${new URL(databaseUrl).pathname.slice(1)}" with (force)`)
      await admin.end()
    },
    120_000,
  )
})

describe('the tenancy guard at start', () => {
  test('refuses to serve when the tenant role can bypass row-level security', async () => {
    const dataDir = join(work, 'bypass')
    const env = { DATA_DIR: dataDir }
    const migrate = spawn([process.execPath, 'src/main.ts', 'migrate'], { cwd: ROOT, env })
    expect(await migrate.exited).toBe(0)

    // What a careless `ALTER ROLE` by an operator would do.
    const pg = new PGlite({ dataDir: join(dataDir, 'pg') })
    await pg.exec('alter role loved_app bypassrls')
    await pg.close()

    const port = freePort()
    const r = spawn([process.execPath, 'src/main.ts', 'serve'], {
      cwd: ROOT,
      env: { ...env, PORT: String(port) },
      port,
    })
    const code = await Promise.race([r.exited, Bun.sleep(60_000).then(() => 'timeout' as const)])
    if (code === 'timeout') r.proc.kill('SIGKILL')
    expect(code).not.toBe(0)
    expect(code).not.toBe('timeout')
    expect(r.output()).toContain('BYPASSRLS')
    expect(r.output()).toContain('row-level security')
    // It never listened.
    expect(await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null)).toBeNull()
  }, 90_000)
})
