/**
 * Pipeline events through the platform's real-time path: outbox -> dispatcher -> WebSocket hub.
 * The hub is mounted here on the test app the way the server is expected to mount it (the platform
 * wires it into server.ts); sockets authenticate with the session cookie like a browser.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { createEventDispatcher, type EventDispatcher } from '../../platform/events/events.dispatcher'
import { silentLogger } from '../../platform/events/events.pg'
import { sessionCookieName } from '../../platform/http/context'
import { parseCookies } from '../../platform/http/cookies'
import { createRealtimeHub, type RealtimeHub } from '../../platform/realtime/realtime.hub'
import { validateSession } from '../auth/auth.sessions'
import { firstPipeline, leadRow, type Member, seedLeads, stagesOf } from './pipeline.fixtures'

let t: TestApp
let dispatcher: EventDispatcher
let hub: RealtimeHub
let base: string
let stop: () => Promise<void>
let a: Member
let b: Member

beforeAll(async () => {
  t = await createTestApp()
  dispatcher = createEventDispatcher({ db: t.db, log: silentLogger, pollMs: 60_000 })
  hub = createRealtimeHub({
    db: t.db,
    dispatcher,
    log: silentLogger,
    resolveSession: async (req) => {
      const token = parseCookies(req.headers.get('cookie'))[sessionCookieName(t.config)]
      const auth = token ? await validateSession(t.db, token) : null
      return auth?.org ? { userId: auth.user.id, orgId: auth.org.orgId, sessionId: auth.sessionId } : null
    },
  })
  await dispatcher.start()
  const app = t.app.use(hub.plugin()).listen({ port: 0, hostname: '127.0.0.1' })
  base = `127.0.0.1:${app.server!.port}`
  stop = async () => {
    hub.stop()
    await app.stop(true)
    await dispatcher.stop()
  }
  a = await signUpClient(t, { orgName: 'Live A' })
  b = await signUpClient(t, { orgName: 'Live B' })
})
afterAll(async () => {
  await stop?.()
  await t.close()
})

interface Socket {
  ws: WebSocket
  messages: any[]
  next(pred: (m: any) => boolean, ms?: number): Promise<any>
}

function connect(m: Member): Promise<Socket> {
  const cookie = [...m.client.jar].map(([k, v]) => `${k}=${v}`).join('; ')
  const ws = new WebSocket(`ws://${base}/ws`, { headers: { cookie, origin: `http://${base}` } } as any)
  const messages: any[] = []
  const waiters: { pred: (m: any) => boolean; resolve: (m: any) => void }[] = []
  ws.onmessage = (e) => {
    const msg = JSON.parse(String(e.data))
    messages.push(msg)
    for (const w of [...waiters]) if (w.pred(msg)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(msg)
  }
  const next = (pred: (m: any) => boolean, ms = 5_000) =>
    new Promise<any>((resolve, reject) => {
      const found = messages.find(pred)
      if (found) return resolve(found)
      const timer = setTimeout(() => reject(new Error('no such message')), ms)
      waiters.push({
        pred,
        resolve: (x) => {
          clearTimeout(timer)
          resolve(x)
        },
      })
    })
  return new Promise((resolve, reject) => {
    ws.onerror = () => reject(new Error('socket error'))
    const s = { ws, messages, next }
    next((x) => x.t === 'ready').then(() => resolve(s), reject)
  })
}

describe('live board updates', () => {
  test("a move reaches the organization's open boards at once, and never another organization's", async () => {
    const mate = await signUpClient(t, { orgName: 'unused' })
    // The teammate's session points at A's organization (as after accepting an invitation).
    await t.db.raw.query(
      "insert into organization_members (organization_id, user_id, role) values ($1, $2, 'member')",
      [a.orgId, mate.userId],
    )
    await t.db.raw.query('update sessions set active_org_id = $1 where user_id = $2', [a.orgId, mate.userId])
    const [id] = await seedLeads(t, a, 1, () => ({ fullName: 'Ao Vivo' }))
    const stages = await stagesOf(t.db, a.orgId, (await firstPipeline(t.db, a.orgId)).id)
    const mateWs = await connect(mate)
    const otherWs = await connect(b)
    const started = performance.now()
    const res = await a.client.post(
      `/pipeline/leads/${id}/move`,
      { stageId: stages[2]!.id, version: String((await leadRow(t.db, id!))!.version) },
      { accept: 'application/json' },
    )
    expect(res.status).toBe(200)
    const msg = await mateWs.next((m) => m.t === 'event' && m.type === 'lead.moved' && m.data.leadId === id)
    const ms = performance.now() - started
    expect(msg.data).toMatchObject({ toStageId: stages[2]!.id, fromStageId: stages[0]!.id, version: 2 })
    expect(msg.actor).toBe(a.userId)
    expect(ms).toBeLessThan(2_000)
    await Bun.sleep(300)
    expect(otherWs.messages.filter((m) => m.t === 'event')).toEqual([])
    mateWs.ws.close()
    otherWs.ws.close()
  })

  test('a board that reconnects with its last version receives the moves it missed, in order', async () => {
    const [id] = await seedLeads(t, a, 1, () => ({ fullName: 'Catch Up' }))
    const stages = await stagesOf(t.db, a.orgId, (await firstPipeline(t.db, a.orgId)).id)
    const [{ v }] = (await t.db.raw.query<{ v: string }>(
      'select version as v from outbox_counters where organization_id = $1',
      [a.orgId],
    )) as [{ v: string }]
    for (const [i, s] of [stages[1]!, stages[2]!, stages[3]!].entries()) {
      const res = await a.client.post(
        `/pipeline/leads/${id}/move`,
        { stageId: s.id, version: String(i + 1) },
        { accept: 'application/json' },
      )
      expect(res.status).toBe(200)
    }
    await dispatcher.drain()
    const cookie = [...a.client.jar].map(([k, val]) => `${k}=${val}`).join('; ')
    const ws = new WebSocket(`ws://${base}/ws?v=${v}`, { headers: { cookie } } as any)
    const got: any[] = []
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no ready')), 5_000)
      ws.onmessage = (e) => {
        const m = JSON.parse(String(e.data))
        got.push(m)
        if (m.t === 'ready') {
          clearTimeout(timer)
          resolve()
        }
      }
    })
    ws.close()
    const moves = got
      .filter((m) => m.type === 'lead.moved' && m.data.leadId === id)
      .map((m) => m.data.toStageId)
    expect(moves).toEqual([stages[1]!.id, stages[2]!.id, stages[3]!.id])
  })
})
