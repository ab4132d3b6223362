/**
 * Shared test harness: createTestApp() gives a fresh database (PGlite, or the real Postgres when
 * TEST_DATABASE_URL is set) and the app, driven through app.handle(); TestClient keeps cookies like a
 * browser and sends same-origin headers on writes.
 */
import { createApp } from '../src/app'
import { type Config, loadConfig } from '../src/config/config'
import { signUp } from '../src/modules/auth/auth.usecases'
import type { Db } from '../src/platform/db/client'
import { type Logger, silentLogger } from '../src/platform/log/logger'
import { createMailer, type Mailer } from '../src/platform/mail/mailer'
import { createTestDb } from './db'

export { createTestDb, TEST_DATABASE_URL } from './db'

export const BASE = 'http://localhost:3000'

export interface TestApp {
  app: ReturnType<typeof createApp>
  db: Db
  config: Config
  mailer: Mailer
  handle(req: Request): Promise<Response>
  client(): TestClient
  close(): Promise<void>
}

export async function createTestApp(
  env: Record<string, string> = {},
  opts: { log?: Logger } = {},
): Promise<TestApp> {
  const db = await createTestDb()
  const config = loadConfig(
    { BASE_URL: BASE, SECRET_KEY: 'test-secret-key-test-secret-key-0123', ...env },
    { ensureSecret: false },
  )
  const log = opts.log ?? silentLogger
  const mailer = createMailer(db, config.smtp, log)
  const app = createApp({ config, db, log, mailer })
  const handle = (req: Request) => app.handle(req)
  return {
    app,
    db,
    config,
    mailer,
    handle,
    client: () => new TestClient(handle, config.baseUrl.origin),
    close: () => db.close(),
  }
}

export class TestClient {
  readonly jar = new Map<string, string>()
  constructor(
    private readonly handler: (req: Request) => Promise<Response>,
    readonly origin: string,
    readonly headers: Record<string, string> = {},
  ) {}

  private cookieHeader() {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  private store(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = c.split(';')
      const i = pair.indexOf('=')
      const name = pair.slice(0, i).trim()
      const value = pair.slice(i + 1).trim()
      const expired = attrs.some((a) => /^\s*max-age=0/i.test(a))
      if (expired || value === '') this.jar.delete(name)
      else this.jar.set(name, value)
    }
  }

  async request(
    method: string,
    path: string,
    init: { form?: Record<string, string>; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...this.headers, ...init.headers }
    if (this.jar.size) headers.cookie = this.cookieHeader()
    let body: string | undefined
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(init.form).toString()
    }
    if (method !== 'GET' && !('origin' in headers) && !('Origin' in headers)) headers.origin = this.origin
    const res = await this.handler(
      new Request(new URL(path, this.origin), { method, headers, body, redirect: 'manual' }),
    )
    this.store(res)
    return res
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, { headers })
  }

  post(path: string, form: Record<string, string> = {}, headers?: Record<string, string>) {
    return this.request('POST', path, { form, headers })
  }

  /** GET and return the body text, asserting the status. */
  async page(path: string, status = 200): Promise<string> {
    const res = await this.get(path)
    const text = await res.text()
    if (res.status !== status)
      throw new Error(`GET ${path}: expected ${status}, got ${res.status}\n${text.slice(0, 500)}`)
    return text
  }
}

let seq = 0
/** Signs a user up through the real use case and logs a client in. */
export async function signUpClient(
  t: TestApp,
  input: Partial<{ name: string; email: string; password: string; orgName: string }> = {},
) {
  const n = ++seq
  const email = input.email ?? `user${n}.${Date.now()}@example.com`
  const password = input.password ?? 'correct horse battery'
  const client = t.client()
  const res = await client.post('/signup', {
    name: input.name ?? `User ${n}`,
    email,
    password,
    orgName: input.orgName ?? `Org ${n}`,
  })
  if (res.status !== 303) throw new Error(`signup failed: ${res.status} ${await res.text()}`)
  const me = await t.db.raw.query<{ id: string }>('select id from users where email = $1', [email])
  const org = await t.db.raw.query<{ organization_id: string }>(
    'select organization_id from organization_members where user_id = $1',
    [me[0]!.id],
  )
  return { client, email, password, userId: me[0]!.id, orgId: org[0]!.organization_id }
}

export { signUp }
