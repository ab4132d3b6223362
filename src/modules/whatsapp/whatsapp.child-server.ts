/**
 * Test fixture, not part of the app: the real server (startServer: HTTP, hub, job worker) in a child
 * process, for the inbound crash test. Env: DATA_DIR or DATABASE_URL, SECRET_KEY, MODE:
 *   accept — the worker is stopped, so a webhook is accepted (stored, job queued) and never processed;
 *            prints `LISTENING <port>` and waits to be killed.
 *   drain  — runs until every stored webhook is processed and no job is due, prints `DRAINED`, stops gracefully and exits 0.
 */
import { sql } from 'drizzle-orm'
import { loadConfig } from '../../config/config'
import { withSystem } from '../../platform/db/tenancy'
import { query, toNumber } from '../../platform/events/events.pg'
import { silentLogger } from '../../platform/log/logger'
import { startServer } from '../../server'

const env = process.env
const config = loadConfig(
  {
    PORT: '0',
    HOST: '127.0.0.1',
    SECRET_KEY: env.SECRET_KEY!,
    LOG_LEVEL: 'error',
    ...(env.DATABASE_URL ? { DATABASE_URL: env.DATABASE_URL } : { DATA_DIR: env.DATA_DIR! }),
  },
  { ensureSecret: false },
)
const s = await startServer(config, { log: silentLogger, handleSignals: false })

if (env.MODE === 'accept') {
  await s.worker.stop({ timeoutMs: 1_000 })
  console.log(`LISTENING ${s.port}`)
  await new Promise(() => {}) // the parent kills this process here
} else {
  // Done when every stored webhook is processed and no job is due (schedules stay queued for later).
  for (;;) {
    const [left] = await withSystem(s.db, (tx) =>
      query<{ n: unknown }>(
        tx,
        sql`select (select count(*) from webhook_inbox where status <> 'processed')
          + (select count(*) from jobs where state in ('queued', 'running') and run_at <= now()) as n`,
      ),
    )
    if (toNumber(left!.n) === 0) break
    await Bun.sleep(100)
  }
  console.log('DRAINED')
  await s.stop()
  process.exit(0)
}
