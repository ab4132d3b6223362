/**
 * Test fixture, not part of the app: a second "instance" (a separate process) serving /ws on the
 * database at DATABASE_URL, with a dispatcher that polls only once a minute, so what it delivers
 * quickly came through LISTEN/NOTIFY. Sessions come from a `sid=<userId>.<orgId>` cookie.
 * Prints `PORT <n>` once listening.
 */
import { Elysia } from 'elysia'
import { createDb } from '../db/client'
import { createEventDispatcher } from '../events/events.dispatcher'
import { silentLogger } from '../events/events.pg'
import { createRealtimeHub } from './realtime.hub'

const db = await createDb({ databaseUrl: process.env.DATABASE_URL!, max: 4 })
const dispatcher = createEventDispatcher({ db, log: silentLogger, pollMs: 60_000 })
const hub = createRealtimeHub({
  db,
  dispatcher,
  log: silentLogger,
  resolveSession: async (req) => {
    const m = /(?:^|;\s*)sid=([0-9a-f-]{36})\.([0-9a-f-]{36})/.exec(req.headers.get('cookie') ?? '')
    return m ? { userId: m[1]!, orgId: m[2]! } : null
  },
})
await dispatcher.start()
const app = new Elysia().use(hub.plugin()).listen({ port: 0, hostname: '127.0.0.1' })
console.log(`PORT ${app.server!.port}`)

process.on('SIGTERM', async () => {
  hub.stop()
  await app.stop(true)
  await dispatcher.stop()
  await db.close()
  process.exit(0)
})
