/**
 * Boot: config -> database -> migrations -> tenancy check -> HTTP. Graceful shutdown on SIGTERM/SIGINT:
 * stop accepting, let in-flight requests finish, close the database.
 */

import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createApp } from './app'
import type { Config } from './config/config'
import { createDb, type Db } from './platform/db/client'
import { migrate } from './platform/db/migrate'
import { assertAppRoleIsolated } from './platform/db/tenancy'
import { createLogger, type Logger } from './platform/log/logger'
import { createMailer } from './platform/mail/mailer'

export const VERSION = '0.1.0'

export async function openDatabase(config: Config, log: Logger): Promise<Db> {
  if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true })
  const db = await createDb({
    databaseUrl: config.databaseUrl,
    dataDir: config.databaseUrl ? undefined : join(config.dataDir, 'pg'),
    appRole: config.appRole,
  })
  log.info('db.open', {
    kind: db.kind,
    dataDir: db.kind === 'pglite' ? join(config.dataDir, 'pg') : undefined,
  })
  return db
}

export async function startServer(config: Config, opts: { log?: Logger; handleSignals?: boolean } = {}) {
  const log = opts.log ?? createLogger(config.logLevel)
  const started = performance.now()
  const db = await openDatabase(config, log)
  const { applied } = await migrate(db)
  if (applied.length) log.info('db.migrated', { applied })
  await assertAppRoleIsolated(db)
  // PGlite's initdb (first boot) leaves ~750 MB of wasm memory that only a full collection frees;
  // two passes (finalise, then reclaim) bring RSS back to ~200 MB. Migrations ran = first boot/upgrade.
  if (db.kind === 'pglite' && applied.length) {
    Bun.gc(true)
    await Bun.sleep(0)
    Bun.gc(true)
  }
  const mailer = createMailer(db, config.smtp, log)
  void mailer.flush() // anything a crash left unsent
  // Retry what failed to send (SMTP down) once a minute; a no-op without SMTP.
  const mailRetry = setInterval(() => void mailer.flush(), 60_000)
  mailRetry.unref()
  const app = createApp({ config, db, log, mailer })
  app.listen({ port: config.port, hostname: config.host })
  const server = app.server!
  // PORT=0 picked a free port: links in emails must point at it unless BASE_URL was given.
  if (config.port === 0 && config.baseUrl.port === '0')
    config.baseUrl = new URL(`http://localhost:${server.port}`)
  log.info('server.listening', {
    url: `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${server.port}`,
    baseUrl: config.baseUrl.toString(),
    version: VERSION,
    bootMs: Math.round(performance.now() - started),
  })

  let stopping: Promise<void> | null = null
  const stop = (signal = 'stop') => {
    stopping ??= (async () => {
      log.info('server.stopping', { signal })
      clearInterval(mailRetry)
      await server.stop(false) // stop accepting; in-flight requests complete
      await db.close()
      log.info('server.stopped')
    })()
    return stopping
  }
  if (opts.handleSignals !== false) {
    for (const sig of ['SIGTERM', 'SIGINT'] as const)
      process.once(sig, () => {
        void stop(sig).then(() => process.exit(0))
      })
  }
  return { app, server, db, port: server.port as number, stop }
}
