/**
 * Boot: config -> database -> migrations -> tenancy check -> HTTP. Graceful shutdown on SIGTERM/SIGINT:
 * stop accepting, let in-flight requests finish, close the database.
 */

import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createApp } from './app'
import type { Config } from './config/config'
import { CONSUMERS, JOBS, SCHEDULES } from './jobs'
import { validateSession } from './modules/auth/auth.sessions'
import { whatsappRuntime } from './modules/whatsapp/whatsapp.runtime'
import { createDb, type Db } from './platform/db/client'
import { lockDataDir } from './platform/db/data-dir-lock'
import { maintenanceJob, maintenanceSchedule } from './platform/db/maintenance'
import { migrate } from './platform/db/migrate'
import { assertAppRoleIsolated } from './platform/db/tenancy'
import { createEventDispatcher } from './platform/events/events.dispatcher'
import { pruneOutboxJob, pruneOutboxSchedule } from './platform/events/events.jobs'
import { sessionCookieName } from './platform/http/context'
import { parseCookies } from './platform/http/cookies'
import { createWorker } from './platform/jobs/jobs.worker'
import { createLogger, type Logger } from './platform/log/logger'
import { mailFlushJob } from './platform/mail/mail.jobs'
import { createMailer } from './platform/mail/mailer'
import { createRealtimeHub } from './platform/realtime/realtime.hub'

export const VERSION = '0.1.0'

export async function openDatabase(config: Config, log: Logger): Promise<Db> {
  let unlock = () => {}
  if (!config.databaseUrl) {
    mkdirSync(config.dataDir, { recursive: true })
    unlock = lockDataDir(config.dataDir) // one process per embedded database
  }
  let db: Db
  try {
    db = await createDb({
      databaseUrl: config.databaseUrl,
      dataDir: config.databaseUrl ? undefined : join(config.dataDir, 'pg'),
      appRole: config.appRole,
    })
  } catch (err) {
    unlock()
    throw err
  }
  log.info('db.open', {
    kind: db.kind,
    dataDir: db.kind === 'pglite' ? join(config.dataDir, 'pg') : undefined,
  })
  const close = db.close
  return {
    ...db,
    close: async () => {
      await close()
      unlock()
    },
  }
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

  // Platform services: events after commit (outbox), background jobs, the WebSocket hub.
  const dispatcher = createEventDispatcher({ db, log })
  for (const c of CONSUMERS) dispatcher.consume(c.type as never, c.handler)
  const mail = mailFlushJob(mailer)
  const worker = createWorker({
    db,
    log,
    jobs: [pruneOutboxJob, maintenanceJob, mail.job, ...JOBS],
    queues: { default: { concurrency: 4 }, mail: { concurrency: 1 }, maintenance: { concurrency: 1 } },
    schedules: [pruneOutboxSchedule, maintenanceSchedule, mail.schedule, ...SCHEDULES],
  })
  const realtime = createRealtimeHub({
    db,
    dispatcher,
    log,
    allowedOrigins: [config.baseUrl.origin],
    resolveSession: async (request) => {
      const token = parseCookies(request.headers.get('cookie'))[sessionCookieName(config)]
      const auth = token ? await validateSession(db, token) : null
      return auth?.org ? { userId: auth.user.id, orgId: auth.org.orgId, sessionId: auth.sessionId } : null
    },
  })
  await dispatcher.start() // before listening: the hub must see every event committed from now on
  await worker.start()

  const app = createApp({ config, db, log, mailer, realtime })
  app.listen({ port: config.port, hostname: config.host })
  // WhatsApp Web sockets of the channels that were connected when the process stopped.
  const whatsapp = whatsappRuntime(db).baileys
  void whatsapp.resume().then(
    (n) => n && log.info('whatsapp.baileys.resumed', { channels: n }),
    (err) => log.error('whatsapp.baileys.resume_failed', { err }),
  )
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
      realtime.stop()
      await whatsapp.stopAll() // close the sockets (credentials stay: the next start resumes)
      await server.stop(false) // stop accepting; in-flight requests complete
      const jobs = await worker.stop({ timeoutMs: 10_000 })
      await dispatcher.stop()
      await db.close()
      log.info('server.jobs_stopped', { ...jobs })
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
  return { app, server, db, worker, dispatcher, realtime, port: server.port as number, stop }
}
