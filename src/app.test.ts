import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, type TestApp } from '../test/harness'
import { createLogger } from './platform/log/logger'

let t: TestApp
const lines: Record<string, unknown>[] = []
beforeAll(async () => {
  t = await createTestApp({}, { log: createLogger('info', {}, (l) => lines.push(JSON.parse(l))) })
})
afterAll(() => t.close())

describe('operations endpoints', () => {
  test('/healthz answers without touching the database', async () => {
    const res = await t.client().get('/healthz')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })
  })

  test('/readyz reports ready once migrations are applied, 503 while one is pending', async () => {
    const ok = await t.client().get('/readyz')
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ status: 'ready' })
    await t.db.raw.exec("delete from loved_migrations where id = '0001_foundation'")
    try {
      const res = await t.client().get('/readyz')
      expect(res.status).toBe(503)
      expect(await res.json()).toEqual({ status: 'migrating', pending: ['0001_foundation'] })
    } finally {
      await t.db.raw.exec("insert into loved_migrations (id) values ('0001_foundation')")
    }
  })
})

describe('request logging', () => {
  test('each request logs one JSON line with its id, echoed in x-request-id', async () => {
    const res = await t.client().get('/login', { 'x-request-id': 'trace-abc-123' })
    expect(res.headers.get('x-request-id')).toBe('trace-abc-123')
    await Bun.sleep(5)
    const line = lines.find((l) => l.reqId === 'trace-abc-123' && l.msg === 'http')
    expect(line).toMatchObject({ level: 'info', method: 'GET', path: '/login', status: 200 })
    expect(typeof line?.ms).toBe('number')
  })

  test('an unexpected error shows the 500 page with the request id and logs the stack', async () => {
    const own: Record<string, any>[] = []
    const b = await createTestApp({}, { log: createLogger('info', {}, (l) => own.push(JSON.parse(l))) })
    try {
      // Routes must be added before the app handles its first request.
      b.app.get('/__boom', () => {
        throw new Error('kaboom')
      })
      const res = await b.client().get('/__boom', { 'x-request-id': 'boom-1' })
      expect(res.status).toBe(500)
      expect(await res.text()).toContain('boom-1')
      const err = own.find((l) => l.msg === 'http.unhandled' && l.reqId === 'boom-1')
      expect(err?.err?.message).toBe('kaboom')
      expect(err?.err?.stack).toContain('kaboom')
    } finally {
      await b.close()
    }
  })
})

describe('static assets', () => {
  test('are served from /assets with long caching when versioned', async () => {
    const res = await t.client().get('/assets/htmx.min.js?v=1')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('javascript')
    expect(res.headers.get('cache-control')).toContain('immutable')
    expect((await res.text()).length).toBeGreaterThan(10_000)
    expect((await t.client().get('/assets/../../etc/passwd')).status).toBe(404)
  })
})
