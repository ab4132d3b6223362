/**
 * Inbound WhatsApp benchmark, in process (app.handle, no network), on PGlite and/or Postgres. Every
 * figure has a baseline measured in the same run, on the same database:
 *
 *   1. Accept latency of `POST /webhooks/whatsapp/:channelId` with a documented Cloud API payload (one
 *      text message) and a valid `X-Hub-Signature-256`: channel lookup, secrets unsealed, signature
 *      check, raw event stored in webhook_inbox with its processing job, the 200. p50/p95 over
 *      --messages requests, one after another, with the worker idle (goal: p95 <= 50 ms).
 *      Baseline: the same database work without HTTP, unsealing or the HMAC (`resolveChannel` +
 *      `storeWebhookEvent` in `withOrg`), interleaved request by request with the measured path.
 *   2. Processing throughput: the worker drains the queue (parse, match or create the lead through
 *      captureLead, upsert the conversation, store the message, timeline, events): messages per
 *      second. Contacts: --contacts distinct phones, so most messages go to existing conversations
 *      and leads. Baseline: the queue's own floor, as many no-op organization jobs through the same
 *      worker (claim, withOrg, complete).
 *   3. Accept latency while the worker drains a backlog of --messages events in the same process (one
 *      process serves webhooks and runs jobs): p50/p95, against (1).
 *   4. Statements the worker runs for one message, queue bookkeeping (claims, completion) excluded:
 *      a known contact, then a new one (the lead is created through captureLead).
 *
 *   bun bench/inbox.bench.ts [--db pglite|postgres|both] [--messages 400] [--contacts 100]
 *     [--pg-url postgres://postgres@127.0.0.1:5432/postgres]
 */
import { createHmac } from 'node:crypto'
import { createApp } from '../src/app'
import { loadConfig } from '../src/config/config'
import { JOBS } from '../src/jobs'
import { resolveChannel } from '../src/modules/whatsapp/whatsapp.channels'
import { cloudChannelForm, cloudInboundText, newChannel } from '../src/modules/whatsapp/whatsapp.fixtures'
import { storeWebhookEvent } from '../src/modules/whatsapp/whatsapp.inbound'
import { migrate } from '../src/platform/db/migrate'
import { withOrg } from '../src/platform/db/tenancy'
import { silentLogger as quiet } from '../src/platform/events/events.pg'
import { defineOrgJob } from '../src/platform/jobs/jobs.define'
import { enqueue } from '../src/platform/jobs/jobs.queue'
import { createWorker } from '../src/platform/jobs/jobs.worker'
import { silentLogger } from '../src/platform/log/logger'
import { createMailer } from '../src/platform/mail/mailer'
import { statementRecorder } from '../test/statements'
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
function cloudPayload(i: number, phoneNumberId: string, contact = i % opts.contacts) {
  return JSON.stringify(
    cloudInboundText({
      phoneNumberId,
      from: `55119${String(80000000 + contact).padStart(8, '0')}`,
      name: `Cliente ${contact}`,
      id: `wamid.bench.${process.pid}.${i}`,
      body: `Mensagem ${i}: quero um orçamento`,
    }),
  )
}

/** The queue's floor: a job that does nothing but run inside withOrg. */
const noop = defineOrgJob<{ i: number }>({ name: 'bench.noop', run: async () => {} })

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
    const post = async (i: number, contact?: number) => {
      const body = cloudPayload(i, phoneNumberId, contact)
      const sig = `sha256=${createHmac('sha256', APP_SECRET).update(body).digest('hex')}`
      const t0 = performance.now()
      const r = await app.handle(
        new Request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': sig },
          body,
        }),
      )
      const ms = performance.now() - t0
      if (r.status !== 200) throw new Error(`webhook ${i}: ${r.status} ${await r.text()}`)
      return ms
    }
    // The route's database work alone, on a body the route never sees (so nothing is deduplicated).
    const direct = async (i: number) => {
      const body = cloudPayload(i, phoneNumberId)
      const t0 = performance.now()
      const c = await resolveChannel(db, channel.id)
      await withOrg(db, c!.organizationId, (tx) =>
        storeWebhookEvent(tx, {
          channelId: c!.id,
          orgId: c!.organizationId,
          provider: c!.provider,
          body,
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'present' },
        }),
      )
      return performance.now() - t0
    }
    // Warm-up (JIT, statement caches), not measured.
    for (let i = 0; i < 10; i++) {
      await post(1_000_000 + i)
      await direct(2_000_000 + i)
    }
    const accept: number[] = []
    const baseline: number[] = []
    for (let i = 0; i < opts.messages; i++) {
      accept.push(await post(i))
      baseline.push(await direct(3_000_000 + i))
    }
    const total = 2 * (opts.messages + 10)

    const worker = createWorker({ db, jobs: [...JOBS, noop], log: quiet, defaultConcurrency: 4 })
    let t0 = performance.now()
    await worker.runDue()
    const secs = (performance.now() - t0) / 1000
    const [stored] = await db.raw.query<{ n: number; c: number; l: number }>(
      `select (select count(*)::int from messages) as n, (select count(*)::int from conversations) as c,
        (select count(*)::int from leads) as l`,
    )
    if (stored!.n !== total) throw new Error(`stored ${stored!.n} messages, expected ${total}`)

    // Queue floor: as many no-op jobs of the same organization through the same worker.
    await withOrg(db, actor.orgId, async (tx) => {
      for (let i = 0; i < total; i++) await enqueue(tx, noop, { i })
    })
    t0 = performance.now()
    const ran = await worker.runDue()
    const noopSecs = (performance.now() - t0) / 1000
    if (ran !== total) throw new Error(`ran ${ran} no-op jobs, expected ${total}`)

    // Accept while the worker drains a backlog in the same process.
    for (let i = 0; i < opts.messages; i++) await direct(4_000_000 + i)
    let draining = true
    const drained = (async () => {
      while (draining) if ((await worker.runDue()) === 0) await Bun.sleep(5)
    })()
    const busy: number[] = []
    for (let i = 0; i < opts.messages; i++) busy.push(await post(5_000_000 + i))
    draining = false
    await drained
    await worker.runDue()

    // Statements the worker runs for one message: a known contact, then a new one (lead created).
    const recorder = statementRecorder(db)
    const perMessage = async (i: number, contact?: number) => {
      await post(i, contact)
      const { statements } = await recorder.during(() => worker.runDue())
      // The queue's own bookkeeping (runDue claims on every queue until none is due, then completes)
      // is the floor measured above, not the message's work.
      return statements.filter((q) => !/^\s*(with next as|update jobs set state = 'completed')/.test(q))
        .length
    }
    const known = await perMessage(6_000_000)
    const fresh = await perMessage(7_000_000, opts.contacts)

    const ratio = (a: number, b: number) => fmt(a / b, 2)
    return {
      db: kind,
      'accept p50 ms': fmt(pct(accept, 50), 2),
      'accept p95 ms': fmt(pct(accept, 95), 2),
      'db work p50/p95 ms': `${fmt(pct(baseline, 50), 2)} / ${fmt(pct(baseline, 95), 2)}`,
      'ratio p50': ratio(pct(accept, 50), pct(baseline, 50)),
      'busy p50/p95 ms': `${fmt(pct(busy, 50), 2)} / ${fmt(pct(busy, 95), 2)}`,
      'processed msg/s': fmt(total / secs, 0),
      'no-op jobs/s': fmt(total / noopSecs, 0),
      'ms per msg / per job': ratio(secs, noopSecs),
      'work statements known/new contact': `${known} / ${fresh}`,
      conversations: String(stored!.c),
      leads: String(stored!.l),
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
