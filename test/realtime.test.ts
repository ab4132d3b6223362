/**
 * The real server (startServer) with the hub, the dispatcher and the worker wired: WebSockets
 * authenticated by the session cookie, organization isolation, live notifications, logout.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config/config'
import { silentLogger } from '../src/platform/log/logger'
import { startServer } from '../src/server'
import { createTestDatabaseUrl } from './db'

let server: Awaited<ReturnType<typeof startServer>>
let base: string

beforeAll(async () => {
  const databaseUrl = await createTestDatabaseUrl()
  const config = loadConfig({
    PORT: '0',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'loved-rt-')),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  })
  server = await startServer(config, { log: silentLogger, handleSignals: false })
  base = `http://localhost:${server.port}`
})
afterAll(() => server.stop())

async function signUp(orgName: string) {
  const email = `${orgName.replace(/\W/g, '').toLowerCase()}.${Date.now()}@example.com`
  const res = await fetch(`${base}/signup`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ name: `Owner ${orgName}`, email, password: 'owner password', orgName }),
  })
  expect(res.status).toBe(303)
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!
  return { cookie, email }
}

interface Socket {
  ws: WebSocket
  messages: any[]
  closed: Promise<number>
  waitFor(pred: (m: any) => boolean, ms?: number): Promise<any>
}

function connect(cookie?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`, { headers: cookie ? { cookie } : {} } as any)
    const messages: any[] = []
    const waiters: Array<() => void> = []
    let closeCode: (code: number) => void
    const closed = new Promise<number>((r) => {
      closeCode = r
    })
    ws.onmessage = (e) => {
      messages.push(JSON.parse(String(e.data)))
      for (const w of waiters.splice(0)) w()
    }
    ws.onclose = (e) => closeCode(e.code)
    ws.onerror = () => reject(new Error('socket refused'))
    const waitFor = (pred: (m: any) => boolean, ms = 5000) =>
      new Promise<any>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`timeout; got ${JSON.stringify(messages)}`)), ms)
        const check = () => {
          const m = messages.find(pred)
          if (m) {
            clearTimeout(timer)
            res(m)
          } else waiters.push(check)
        }
        check()
      })
    ws.onopen = () => resolve({ ws, messages, closed, waitFor })
  })
}

const post = (cookie: string, path: string, form: Record<string, string>) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: base, cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  })

describe('live updates over /ws', () => {
  test('an unauthenticated socket is refused', async () => {
    await expect(connect()).rejects.toThrow(/refused/)
    const res = await fetch(`${base}/ws`, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    })
    expect(res.status).toBe(401)
  })

  test("a member receives their organization's events; another organization receives none", async () => {
    const a = await signUp('Live A')
    const b = await signUp('Live B')
    const sa = await connect(a.cookie)
    const sb = await connect(b.cookie)
    await sa.waitFor((m) => m.t === 'ready')
    await sb.waitFor((m) => m.t === 'ready')
    expect(
      (
        await post(a.cookie, '/settings/members/invite', {
          email: 'live-invitee@example.com',
          role: 'member',
        })
      ).status,
    ).toBe(200)
    const ev = await sa.waitFor((m) => m.t === 'event' && m.type === 'member.invited')
    expect(ev.data.role).toBe('member')
    await Bun.sleep(300)
    expect(sb.messages.filter((m) => m.t === 'event')).toEqual([])
    sa.ws.close()
    sb.ws.close()
  })

  test('the inviter gets a personal notification event when the teammate joins', async () => {
    const a = await signUp('Live Notify')
    const sa = await connect(a.cookie)
    await sa.waitFor((m) => m.t === 'ready')
    const res = await post(a.cookie, '/settings/members/invite', {
      email: 'joiner@example.com',
      role: 'member',
    })
    const link = new URL((await res.text()).match(/data-testid="invite-link"[^>]*>([^<]+)</)![1]!).pathname
    const joined = await fetch(`${base}${link}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'Joana Joiner', password: 'joiner password' }),
    })
    expect(joined.status).toBe(303)
    const ev = await sa.waitFor((m) => m.t === 'event' && m.type === 'notification.created')
    expect(ev.data.text).toContain('Joana Joiner')
    expect(ev.data.link).toBe('/settings/members')
    sa.ws.close()
  })

  test('logging out closes the socket, and its cookie no longer opens one', async () => {
    const a = await signUp('Live Logout')
    const sa = await connect(a.cookie)
    await sa.waitFor((m) => m.t === 'ready')
    expect((await post(a.cookie, '/logout', {})).status).toBe(303)
    expect(await sa.closed).toBe(4001)
    await expect(connect(a.cookie)).rejects.toThrow(/refused/)
  })

  test('pages carry the organization and its event version for the client to resume from', async () => {
    const a = await signUp('Live Version')
    await post(a.cookie, '/settings/members/invite', { email: 'v@example.com', role: 'member' })
    const html = await (await fetch(`${base}/dashboard`, { headers: { cookie: a.cookie } })).text()
    expect(html).toMatch(/data-rt-org="[0-9a-f-]{36}"/)
    expect(html).toContain('data-rt-version="1"')
    expect(html).toContain('/assets/realtime.js?v=')
  })
})
