import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { createTestDatabaseUrl, TEST_DATABASE_URL } from '../../../test/db'
import { createDb } from '../db/client'
import { withOrg } from '../db/tenancy'
import { createOrg, createUser, sleep, spawnChild, waitFor } from '../events/events.fixtures'
import { recordEvent } from '../events/events.outbox'

const SERVER = join(import.meta.dir, 'realtime.child-server.ts')

function client(port: number, userId: string, orgId: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
    headers: { cookie: `sid=${userId}.${orgId}` },
  } as never)
  const msgs: Array<{ t: string; org?: string; v?: number; data?: unknown }> = []
  ws.onmessage = (m) => msgs.push(JSON.parse(String(m.data)))
  return {
    ws,
    msgs,
    events: () => msgs.filter((m) => m.t === 'event').map((m) => [m.org, m.v, m.data]),
    ready: () => waitFor(() => msgs.some((m) => m.t === 'ready'), 10_000, 'ready'),
  }
}

// Several instances need a real Postgres; the real-Postgres test run sets TEST_DATABASE_URL.
describe.skipIf(!TEST_DATABASE_URL)('two instances on one Postgres', () => {
  test('an event committed on instance A reaches a WebSocket client of instance B, and only its organization’s', async () => {
    const url = (await createTestDatabaseUrl())!
    const db = await createDb({ databaseUrl: url, max: 2 })
    const b = spawnChild(SERVER, { DATABASE_URL: url })
    try {
      const orgA = await createOrg(db, 'A')
      const orgB = await createOrg(db, 'B')
      const alice = await createUser(db)
      const carol = await createUser(db)
      const port = Number((await b.waitForLine('PORT', 30_000)).split(' ')[1])
      const a1 = client(port, alice, orgA)
      const b1 = client(port, carol, orgB)
      await Promise.all([a1.ready(), b1.ready()])

      // This process is instance A: it only writes; it runs no dispatcher and no hub.
      for (let n = 1; n <= 3; n++)
        await withOrg(db, orgA, (tx) => recordEvent(tx, { type: 'test.ping', payload: { n } }))
      await withOrg(db, orgB, (tx) => recordEvent(tx, { type: 'test.ping', payload: { n: 100 } }))

      // B polls once a minute: arriving within seconds means NOTIFY woke it.
      await waitFor(() => a1.events().length === 3 && b1.events().length === 1, 5_000, 'events on instance B')
      await sleep(100)
      expect(a1.events()).toEqual([
        [orgA, 1, { n: 1 }],
        [orgA, 2, { n: 2 }],
        [orgA, 3, { n: 3 }],
      ])
      expect(b1.events()).toEqual([[orgB, 1, { n: 100 }]])
      a1.ws.close()
      b1.ws.close()
    } finally {
      b.proc.kill('SIGTERM')
      await b.proc.exited
      await db.close()
    }
  }, 60_000)
})
