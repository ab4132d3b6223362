/**
 * Real-time fan-out: time from an event's commit to its receipt by the last of N WebSocket clients of
 * one organization, for N = 1, 100, 500 (p50/p99 and the ratio fan-out(500)/fan-out(1)).
 *
 *   bun bench/fanout.bench.ts [--rounds 100] [--postgres]
 *
 * The server (dispatcher + hub, PGlite in a temp data directory, or with --postgres a scratch database
 * on BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres) runs in a child process;
 * the clients run in this one, all on loopback. Each round asks the server to commit one event
 * (POST /emit answers with the wall-clock time right after COMMIT returned); every client stamps the
 * arrival of that version. Both processes read the same clock (performance.timeOrigin + now()).
 * The path measured: NOTIFY → dispatcher reads the outbox → server.publish → N sockets → N clients.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Elysia } from 'elysia'
import postgres from 'postgres'

const now = () => performance.timeOrigin + performance.now()
const args = process.argv.slice(2)

if (args[0] === '--server') await serve()
else await main()

async function serve() {
  const { createDb } = await import('../src/platform/db/client')
  const { migrate } = await import('../src/platform/db/migrate')
  const { withOrg } = await import('../src/platform/db/tenancy')
  const { createEventDispatcher } = await import('../src/platform/events/events.dispatcher')
  const { createOrg, createUser } = await import('../src/platform/events/events.fixtures')
  const { recordEvent } = await import('../src/platform/events/events.outbox')
  const { silentLogger } = await import('../src/platform/events/events.pg')
  const { createRealtimeHub } = await import('../src/platform/realtime/realtime.hub')

  const db = await createDb(
    process.env.DATABASE_URL
      ? { databaseUrl: process.env.DATABASE_URL, max: 4 }
      : { dataDir: process.env.DATA_DIR! },
  )
  await migrate(db)
  const orgId = await createOrg(db, 'Bench')
  const userId = await createUser(db, 'Bench')
  const dispatcher = createEventDispatcher({ db, log: silentLogger })
  const hub = createRealtimeHub({
    db,
    dispatcher,
    log: silentLogger,
    resolveSession: async (req) =>
      req.headers.get('cookie')?.includes('sid=bench') ? { userId, orgId } : null,
  })
  await dispatcher.start()
  const app = new Elysia()
    .use(hub.plugin())
    .post('/emit', async () => {
      const { version } = await withOrg(db, { orgId, userId }, (tx) =>
        recordEvent(tx, { type: 'test.ping', payload: { n: 0 } }),
      )
      return { version, committedAt: now() }
    })
    .get('/connections', () => ({ n: hub.connections }))
    .listen({ port: 0, hostname: '127.0.0.1' })
  console.log(`PORT ${app.server!.port}`)
  process.on('SIGTERM', async () => {
    hub.stop()
    await app.stop(true)
    await dispatcher.stop()
    await db.close()
    process.exit(0)
  })
}

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

async function main() {
  const i = args.indexOf('--rounds')
  const rounds = Math.min(i >= 0 ? Number(args[i + 1]) : 100, 1_000)
  const usePostgres = args.includes('--postgres')
  const env: Record<string, string> = {}
  let cleanup = async () => {}
  if (usePostgres) {
    const url = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
    const name = `loved_bench_fanout_${process.pid}`
    const admin = postgres(url, { max: 1, onnotice: () => {} })
    await admin.unsafe(`create database ${name}`)
    const u = new URL(url)
    u.pathname = `/${name}`
    env.DATABASE_URL = u.toString()
    cleanup = async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end()
    }
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'loved-bench-fanout-'))
    env.DATA_DIR = dir
    cleanup = async () => rmSync(dir, { recursive: true, force: true })
  }

  const server = Bun.spawn([process.execPath, import.meta.path, '--server'], {
    env: { ...process.env, ...env },
    stdout: 'pipe',
    stderr: 'inherit',
  })
  try {
    const reader = server.stdout.getReader()
    let out = ''
    const deadline = Date.now() + 60_000
    while (!/PORT (\d+)/.test(out) && Date.now() < deadline) {
      const { value, done } = await reader.read()
      if (done) break
      out += new TextDecoder().decode(value)
    }
    const port = Number(/PORT (\d+)/.exec(out)?.[1])
    if (!port) throw new Error(`server did not start: ${out}`)
    const base = `http://127.0.0.1:${port}`

    const results: Array<{ n: number; p50: number; p99: number; max: number; firstP50: number }> = []
    for (const n of [1, 100, 500]) {
      // Per version: how many clients have it, and when the last one got it.
      const got = new Map<number, { count: number; first: number; last: number }>()
      const sockets: WebSocket[] = []
      let ready = 0
      for (let c = 0; c < n; c++) {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { cookie: 'sid=bench' } } as never)
        ws.onmessage = (m) => {
          const t = now()
          const msg = JSON.parse(String(m.data)) as { t: string; v: number }
          if (msg.t === 'ready') ready++
          if (msg.t !== 'event') return
          const g = got.get(msg.v) ?? { count: 0, first: t, last: 0 }
          g.count++
          g.last = t
          got.set(msg.v, g)
        }
        sockets.push(ws)
        if (c % 50 === 49) await Bun.sleep(5) // do not stampede the accept queue
      }
      const until = Date.now() + 30_000
      while (ready < n && Date.now() < until) await Bun.sleep(10)
      if (ready < n) throw new Error(`only ${ready}/${n} clients connected`)

      const samples: number[] = []
      const firsts: number[] = []
      for (let r = 0; r < rounds + 5; r++) {
        const res = (await (await fetch(`${base}/emit`, { method: 'POST' })).json()) as {
          version: number
          committedAt: number
        }
        const wait = Date.now() + 10_000
        while ((got.get(res.version)?.count ?? 0) < n && Date.now() < wait) await Bun.sleep(1)
        const g = got.get(res.version)
        if (!g || g.count < n)
          throw new Error(`round ${r}: ${g?.count ?? 0}/${n} clients got version ${res.version}`)
        if (r >= 5) {
          // the first rounds warm up
          samples.push(g.last - res.committedAt)
          firsts.push(g.first - res.committedAt)
        }
        await Bun.sleep(5)
      }
      for (const ws of sockets) ws.close()
      await Bun.sleep(200)
      samples.sort((a, b) => a - b)
      firsts.sort((a, b) => a - b)
      results.push({
        n,
        p50: pct(samples, 0.5),
        p99: pct(samples, 0.99),
        max: samples[samples.length - 1]!,
        firstP50: pct(firsts, 0.5),
      })
    }

    const f = (x: number) => x.toFixed(2)
    console.log(
      `\nFan-out, commit → last of N clients, ${rounds} rounds each, ${usePostgres ? 'Postgres 15' : 'PGlite (disk)'}\n`,
    )
    console.log('| N clients | last: p50 | p99 | max | first of N: p50 |')
    console.log('|---|---|---|---|---|')
    for (const r of results)
      console.log(`| ${r.n} | ${f(r.p50)} ms | ${f(r.p99)} ms | ${f(r.max)} ms | ${f(r.firstP50)} ms |`)
    const one = results[0]!
    const five = results[2]!
    console.log(
      `\nratio fan-out(500)/fan-out(1): p50 ${(five.p50 / one.p50).toFixed(2)}, p99 ${(five.p99 / one.p99).toFixed(2)}`,
    )
  } finally {
    server.kill('SIGTERM')
    await Promise.race([server.exited, Bun.sleep(10_000)])
    server.kill('SIGKILL')
    await cleanup()
  }
}
