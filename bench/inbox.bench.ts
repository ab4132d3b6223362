/**
 * Inbound WhatsApp benchmark, in process (app.handle, no network), on PGlite and/or Postgres:
 *
 *   1. Accept latency of `POST /webhooks/whatsapp/:channelId` with a documented Cloud API payload (one
 *      text message) and a valid `X-Hub-Signature-256`: signature check + raw event stored in
 *      webhook_inbox + processing job enqueued, before the 200. p50/p95 over --messages requests,
 *      sent one after another (goal: p95 <= 50 ms).
 *   2. Processing throughput: the worker then drains the queue (parse, match or create the lead through
 *      captureLead, upsert the conversation, store the message, timeline, events): messages per second.
 *      Contacts: --contacts distinct phones, so most messages go to existing conversations and leads.
 *
 *   bun bench/inbox.bench.ts [--db pglite|postgres|both] [--messages 400] [--contacts 100]
 *     [--pg-url postgres://postgres@127.0.0.1:5432/postgres]
 */
import { createHmac } from 'node:crypto'
import { createApp } from '../src/app'
import { loadConfig } from '../src/config/config'
import { JOBS } from '../src/jobs'
import { cloudChannelForm, cloudInboundText, newChannel } from '../src/modules/whatsapp/whatsapp.fixtures'
import { migrate } from '../src/platform/db/migrate'
import { silentLogger as quiet } from '../src/platform/events/events.pg'
import { createWorker } from '../src/platform/jobs/jobs.worker'
import { silentLogger } from '../src/platform/log/logger'
import { createMailer } from '../src/platform/mail/mailer'
import { fmt, loadAvg, openBenchDb, parseArgs, table } from './lib'

const opts = parseArgs({
  db: 'both',
  messages: 400,
  contacts: 100,
  pgUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
})
const BASE = 'http://localhost:3000'
const APP_SECRET = 'bench-app-secret-123'

/** Meta's documented inbound text message webhook (one entry, one change, one message). */
function cloudPayload(i: number, phoneNumberId: string) {
  return JSON.stringify(
    cloudInboundText({
      phoneNumberId,
      from: `55119${String(80000000 + (i % opts.contacts)).padStart(8, '0')}`,
      name: `Cliente ${i % opts.contacts}`,
      id: `wamid.bench.${process.pid}.${i}`,
      body: `Mensagem ${i}: quero um orçamento`,
    }),
  )
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

async function run(kind: 'pglite' | 'postgres') {
  const { db, drop } = await openBenchDb(kind, 'inbox', opts.pgUrl)
  try {
    await migrate(db)
    const config = loadConfig(
      { BASE_URL: BASE, SECRET_KEY: 'bench-secret-key-bench-secret-key-0123' },
      { ensureSecret: false },
    )
    const app = createApp({
      config,
      db,
      log: silentLogger,
      mailer: createMailer(db, config.smtp, silentLogger),
    })
    const email = `bench.${Date.now()}@example.com`
    const res = await app.handle(
      new Request(`${BASE}/signup`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin: BASE, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          name: 'Bench',
          email,
          password: 'correct horse battery',
          orgName: 'Bench',
        }),
      }),
    )
    if (res.status !== 303) throw new Error(`sign-up: ${res.status}`)
    const [m] = await db.raw.query<{ user_id: string; organization_id: string }>(
      'select m.user_id, m.organization_id from organization_members m join users u on u.id = m.user_id where u.email = $1',
      [email],
    )
    const actor = { orgId: m!.organization_id, userId: m!.user_id, role: 'owner' as const, ip: null }
    const phoneNumberId = '106540352242922'
    const channel = await newChannel(
      db,
      actor,
      cloudChannelForm({
        name: 'Bench',
        phoneNumber: '+5511955550000',
        phoneNumberId,
        accessToken: 'bench-access-token-0123456789',
        appSecret: APP_SECRET,
        verifyToken: 'bench-verify-token',
      }),
      config.secretKey,
    )
    const url = `${BASE}/webhooks/whatsapp/${channel.id}`
    const accept: number[] = []
    // Warm-up (JIT, statement caches), not measured.
    for (let i = 0; i < 10; i++) {
      const body = cloudPayload(1_000_000 + i, phoneNumberId)
      await app.handle(
        new Request(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-hub-signature-256': `sha256=${createHmac('sha256', APP_SECRET).update(body).digest('hex')}`,
          },
          body,
        }),
      )
    }
    for (let i = 0; i < opts.messages; i++) {
      const body = cloudPayload(i, phoneNumberId)
      const sig = `sha256=${createHmac('sha256', APP_SECRET).update(body).digest('hex')}`
      const t0 = performance.now()
      const r = await app.handle(
        new Request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': sig },
          body,
        }),
      )
      accept.push(performance.now() - t0)
      if (r.status !== 200) throw new Error(`webhook ${i}: ${r.status} ${await r.text()}`)
    }
    const worker = createWorker({ db, jobs: JOBS, log: quiet, defaultConcurrency: 4 })
    const t0 = performance.now()
    await worker.runDue()
    const secs = (performance.now() - t0) / 1000
    const [stored] = await db.raw.query<{ n: number; c: number; l: number }>(
      `select (select count(*)::int from messages) as n, (select count(*)::int from conversations) as c,
        (select count(*)::int from leads) as l`,
    )
    const total = opts.messages + 10
    if (stored!.n !== total) throw new Error(`stored ${stored!.n} messages, expected ${total}`)
    return {
      db: kind,
      messages: total,
      'accept p50 ms': fmt(pct(accept, 50), 2),
      'accept p95 ms': fmt(pct(accept, 95), 2),
      'processed msg/s': fmt(total / secs, 0),
      conversations: stored!.c,
      leads: stored!.l,
    }
  } finally {
    await drop()
  }
}

const kinds = opts.db === 'both' ? (['pglite', 'postgres'] as const) : [opts.db as 'pglite' | 'postgres']
const rows = []
for (const k of kinds) rows.push(await run(k))
console.log(`inbox bench (load: ${await loadAvg()})`)
console.log(table(rows))
process.exit(0)
