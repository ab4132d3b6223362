import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { hashToken } from '../../platform/crypto/tokens'
import { createSession, SESSION_POLICY, validateSession } from './auth.sessions'
import { THROTTLE } from './auth.throttle'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

const DAY = 86_400_000

describe('sign-up', () => {
  test('creates the user, an organization and an owner membership, and logs in', async () => {
    const { client, userId, orgId } = await signUpClient(t, { orgName: 'Agência Ação Digital' })
    const [org] = await t.db.raw.query<{ slug: string; name: string }>(
      'select slug, name from organizations where id = $1',
      [orgId],
    )
    expect(org).toEqual({ slug: 'agencia-acao-digital', name: 'Agência Ação Digital' })
    const [m] = await t.db.raw.query<{ role: string }>(
      'select role from organization_members where user_id = $1',
      [userId],
    )
    expect(m?.role).toBe('owner')
    const html = await client.page('/dashboard')
    expect(html).toContain('Agência Ação Digital')
  })

  test('keeps the input and shows inline errors for bad fields (422)', async () => {
    const c = t.client()
    const res = await c.post('/signup', {
      name: 'Bia',
      email: 'not-an-email',
      password: 'short',
      orgName: '',
    })
    expect(res.status).toBe(422)
    const html = await res.text()
    expect(html).toContain('value="Bia"')
    expect(html).toContain('value="not-an-email"')
    expect(html).toMatch(/id="f-email-err"[^>]*>[^<]+</)
    expect(html).toMatch(/id="f-password-err"/)
    expect(html).toMatch(/id="f-orgName-err"/)
    expect(html).not.toContain('value="short"') // passwords are never echoed back
  })

  test('refuses a second account with the same email, whatever its case', async () => {
    const { email } = await signUpClient(t)
    const res = await t
      .client()
      .post('/signup', { name: 'X', email: email.toUpperCase(), password: 'another password', orgName: 'Y' })
    expect(res.status).toBe(422)
    expect(await res.text()).toMatch(/f-email-err/)
  })

  test('gives the second organization with the same name a distinct slug', async () => {
    const a = await signUpClient(t, { orgName: 'Same Name' })
    const b = await signUpClient(t, { orgName: 'Same Name' })
    const rows = await t.db.raw.query<{ slug: string }>(
      'select slug from organizations where id in ($1, $2) order by slug',
      [a.orgId, b.orgId],
    )
    expect(rows.map((r) => r.slug)).toEqual(['same-name', 'same-name-2'])
  })
})

describe('log in and sessions', () => {
  test('stores only the SHA-256 of the session token', async () => {
    const { client } = await signUpClient(t)
    const token = client.jar.get('loved_session')!
    expect(token).toMatch(/^[a-z2-7]{32}$/)
    const byToken = await t.db.raw.query('select 1 from sessions where id = $1', [token])
    const byHash = await t.db.raw.query('select 1 from sessions where id = $1', [hashToken(token)])
    expect(byToken.length).toBe(0)
    expect(byHash.length).toBe(1)
  })

  test('sets HttpOnly SameSite=Lax cookies, persistent only with "remember me"', async () => {
    const { email, password } = await signUpClient(t)
    const remember = await t.client().post('/login', { email, password, remember: '1' })
    expect(remember.status).toBe(303)
    const c1 = remember.headers.getSetCookie().find((c) => c.startsWith('loved_session='))!
    expect(c1).toContain('HttpOnly')
    expect(c1).toContain('SameSite=Lax')
    expect(c1).toContain('Expires=')
    const browser = await t.client().post('/login', { email, password })
    const c2 = browser.headers.getSetCookie().find((c) => c.startsWith('loved_session='))!
    expect(c2).not.toContain('Expires=')
    expect(c2).not.toContain('Max-Age')
  })

  test('uses the __Host- prefix and Secure over https', async () => {
    const https = await createTestApp({ BASE_URL: 'https://crm.example.com' })
    try {
      const c = https.client()
      const res = await c.post('/signup', {
        name: 'S',
        email: 's@example.com',
        password: 'long enough pw',
        orgName: 'S',
      })
      expect(res.status).toBe(303)
      const cookie = res.headers.getSetCookie().find((x) => x.startsWith('__Host-loved_session='))!
      expect(cookie).toContain('Secure')
      expect(cookie).toContain('Path=/')
      expect(cookie).not.toContain('Domain=')
    } finally {
      await https.close()
    }
  })

  test('rejects a wrong password with a message and keeps the email', async () => {
    const { email } = await signUpClient(t)
    const res = await t.client().post('/login', { email, password: 'wrong password!' })
    expect(res.status).toBe(401)
    const html = await res.text()
    expect(html).toContain('role="alert"')
    expect(html).toContain(`value="${email}"`)
  })

  test('slides the expiry when less than half is left, never past the absolute cap', async () => {
    const { userId } = await signUpClient(t)
    const start = new Date('2026-01-01T00:00:00Z')
    const { token } = await createSession(t.db, { userId, orgId: null, remember: true }, start)
    const early = await validateSession(t.db, token, new Date(start.getTime() + 2 * DAY))
    expect(early?.refreshed).toBe(false)
    const later = await validateSession(t.db, token, new Date(start.getTime() + 20 * DAY))
    expect(later?.refreshed).toBe(true)
    expect(later!.expiresAt.getTime()).toBe(start.getTime() + 50 * DAY)
    // Keep using it every 20 days: it stops at 90 days after creation.
    let now = start.getTime() + 20 * DAY
    let last = later
    while (last) {
      now += 20 * DAY
      last = await validateSession(t.db, token, new Date(now))
      if (last)
        expect(last.expiresAt.getTime()).toBeLessThanOrEqual(
          start.getTime() + SESSION_POLICY.remember.absolute,
        )
    }
    expect(now).toBeGreaterThanOrEqual(start.getTime() + 90 * DAY)
    expect(now).toBeLessThanOrEqual(start.getTime() + 110 * DAY)
  })

  test('an idle session expires and is deleted', async () => {
    const { userId } = await signUpClient(t)
    const start = new Date()
    const { token } = await createSession(t.db, { userId, orgId: null, remember: false }, start)
    expect(
      await validateSession(t.db, token, new Date(start.getTime() + SESSION_POLICY.browser.idle + 1000)),
    ).toBeNull()
    expect((await t.db.raw.query('select 1 from sessions where id = $1', [hashToken(token)])).length).toBe(0)
  })

  test('log out deletes the session server-side', async () => {
    const { client } = await signUpClient(t)
    const token = client.jar.get('loved_session')!
    const res = await client.post('/logout')
    expect(res.status).toBe(303)
    expect((await t.db.raw.query('select 1 from sessions where id = $1', [hashToken(token)])).length).toBe(0)
    // The old cookie no longer works.
    const again = await t.client().get('/dashboard', { cookie: `loved_session=${token}` })
    expect(again.status).toBe(303)
    expect(again.headers.get('location')).toBe('/login?next=%2Fdashboard')
  })

  test('redirects after login only to local paths', async () => {
    const { email, password } = await signUpClient(t)
    const evil = await t.client().post('/login', { email, password, next: '//evil.example.com/x' })
    expect(evil.headers.get('location')).toBe('/dashboard')
    const ok = await t.client().post('/login', { email, password, next: '/settings/profile' })
    expect(ok.headers.get('location')).toBe('/settings/profile')
  })
})

describe('CSRF', () => {
  test('refuses a cross-site form post even with a valid session', async () => {
    const { client } = await signUpClient(t)
    const res = await client.post('/orgs', { name: 'Evil Org' }, { origin: 'https://evil.example.com' })
    expect(res.status).toBe(403)
    const n = await t.db.raw.query("select 1 from organizations where name = 'Evil Org'")
    expect(n.length).toBe(0)
  })

  test('refuses a write with neither Origin nor Sec-Fetch-Site, accepts Sec-Fetch-Site: same-origin', async () => {
    const { client } = await signUpClient(t)
    const bare = await client.request('POST', '/orgs', {
      form: { name: 'No Origin' },
      headers: { origin: '' },
    })
    expect(bare.status).toBe(403)
    const site = await client.request('POST', '/orgs', {
      form: { name: 'Fetch Site Org' },
      headers: { origin: '', 'sec-fetch-site': 'same-origin' },
    })
    expect(site.status).toBe(303)
    const cross = await client.request('POST', '/orgs', {
      form: { name: 'Cross Site Org' },
      headers: { origin: '', 'sec-fetch-site': 'cross-site' },
    })
    expect(cross.status).toBe(403)
  })

  test('changes nothing on GET', async () => {
    const { client } = await signUpClient(t)
    const token = client.jar.get('loved_session')!
    expect((await client.get('/logout')).status).toBe(404)
    expect((await t.db.raw.query('select 1 from sessions where id = $1', [hashToken(token)])).length).toBe(1)
  })
})

describe('login throttling', () => {
  test('locks an account after repeated failures with Retry-After, and the right password waits too', async () => {
    const { email, password } = await signUpClient(t)
    for (let i = 0; i < THROTTLE.account; i++) {
      const res = await t.client().post('/login', { email, password: `wrong-${i}-password` })
      expect(res.status).toBe(401)
    }
    const locked = await t.client().post('/login', { email, password })
    expect(locked.status).toBe(429)
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await locked.text()).toMatch(/min/)
  })

  test('limits failures per IP across accounts when behind a trusted proxy', async () => {
    const proxied = await createTestApp({ TRUST_PROXY: 'true' })
    try {
      const ip = { 'x-forwarded-for': '203.0.113.9' }
      for (let i = 0; i < THROTTLE.ip; i++) {
        const res = await proxied
          .client()
          .post('/login', { email: `nobody${i}@example.com`, password: 'whatever123' }, ip)
        expect(res.status).toBe(401)
      }
      const res = await proxied
        .client()
        .post('/login', { email: 'someone-else@example.com', password: 'whatever123' }, ip)
      expect(res.status).toBe(429)
      const other = await proxied
        .client()
        .post(
          '/login',
          { email: 'someone-else@example.com', password: 'whatever123' },
          { 'x-forwarded-for': '203.0.113.10' },
        )
      expect(other.status).toBe(401)
    } finally {
      await proxied.close()
    }
  })
})

describe('password reset', () => {
  test('emails a one-time link through the outbox; using it changes the password and ends old sessions', async () => {
    const { client, email } = await signUpClient(t)
    const res = await t.client().post('/forgot-password', { email })
    expect(res.status).toBe(200)
    const [mail] = await t.db.raw.query<{ text_body: string }>(
      'select text_body from mail_outbox where to_address = $1 order by created_at desc limit 1',
      [email],
    )
    const link = mail!.text_body.match(/http:\/\/localhost:3000(\/reset-password\/[a-z2-7]+)/)![1]!
    expect((await t.client().get(link)).status).toBe(200)
    const done = await t.client().post(link, { password: 'brand new password' })
    expect(done.status).toBe(303)
    expect((await client.get('/dashboard')).status).toBe(303) // old session gone
    expect((await t.client().post('/login', { email, password: 'brand new password' })).status).toBe(303)
    expect((await t.client().post(link, { password: 'third password!' })).status).toBe(410) // one-time
  })

  test('answers the same for unknown emails and sends nothing', async () => {
    const res = await t.client().post('/forgot-password', { email: 'ghost@example.com' })
    expect(res.status).toBe(200)
    expect(
      (await t.db.raw.query("select 1 from mail_outbox where to_address = 'ghost@example.com'")).length,
    ).toBe(0)
  })

  test('changing the password from the profile logs out other sessions but keeps this one', async () => {
    const { client, email, password } = await signUpClient(t)
    const other = t.client()
    expect((await other.post('/login', { email, password })).status).toBe(303)
    const wrong = await client.post('/settings/password', {
      current: 'nope nope',
      password: 'a new password',
    })
    expect(wrong.status).toBe(422)
    const ok = await client.post('/settings/password', { current: password, password: 'a new password' })
    expect(ok.status).toBe(303)
    expect((await client.get('/dashboard')).status).toBe(200)
    expect((await other.get('/dashboard')).status).toBe(303)
  })
})
