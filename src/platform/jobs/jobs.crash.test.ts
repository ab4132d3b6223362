import { describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { createTestDatabaseUrl, TEST_DATABASE_URL } from '../../../test/db'
import { createDb } from '../db/client'
import { migrate } from '../db/migrate'
import { withOrg, withSystem } from '../db/tenancy'
import { createOrg, spawnChild } from '../events/events.fixtures'
import { query, toNumber } from '../events/events.pg'
import { defineOrgJob } from './jobs.define'
import { enqueue, getJob } from './jobs.queue'

const CHILD = join(import.meta.dir, 'jobs.child-worker.ts')
// Same name as the child's handler; this process only enqueues it.
const effectJob = defineOrgJob<{ label: string }>({ name: 'test.effect', async run() {} })

type Target = { dataDir: string } | { databaseUrl: string }

async function crashScenario(target: Target) {
  const open = () =>
    'databaseUrl' in target
      ? createDb({ databaseUrl: target.databaseUrl, max: 2 })
      : createDb({ dataDir: target.dataDir })
  const env: Record<string, string> =
    'databaseUrl' in target ? { DATABASE_URL: target.databaseUrl } : { DATA_DIR: target.dataDir }

  let db = await open()
  if ('dataDir' in target) await migrate(db)
  await db.raw.exec(`create table test_effects (job_id uuid primary key);
    create table test_counter (n integer not null); insert into test_counter values (0);
    grant select, insert, update on test_effects, test_counter to ${db.appRole};`)
  const org = await createOrg(db)
  const { id } = await withOrg(db, org, (tx) => enqueue(tx, effectJob, { label: 'once' }))
  await db.close() // PGlite: one process at a time on a data directory

  const first = spawnChild(CHILD, { ...env, MODE: 'crash', LEASE_MS: '3000' })
  await first.waitForLine('EFFECT', 60_000)
  first.proc.kill('SIGKILL')
  await first.proc.exited
  const killedAt = Date.now()
  expect(first.proc.signalCode).toBe('SIGKILL')

  db = await open()
  const counter = async () =>
    toNumber((await withSystem(db, (tx) => query<{ n: unknown }>(tx, sql`select n from test_counter`)))[0]!.n)
  // The first run's effect committed before the kill; the job is still held by the dead process.
  expect(await counter()).toBe(1)
  expect(await withSystem(db, (tx) => getJob(tx, id))).toMatchObject({ state: 'running', attempts: 1 })
  await db.close()

  const second = spawnChild(CHILD, { ...env, MODE: 'crash', LEASE_MS: '3000', EXIT_WHEN_DONE: '1' })
  await second.waitForLine('COMPLETED', 60_000)
  expect(await second.proc.exited).toBe(0)
  expect(Date.now() - killedAt).toBeLessThan(60_000)

  db = await open()
  try {
    expect(await withSystem(db, (tx) => getJob(tx, id))).toMatchObject({ state: 'completed', attempts: 2 })
    expect(await counter()).toBe(1)
    const effects = await withSystem(db, (tx) => query(tx, sql`select job_id from test_effects`))
    expect(effects).toHaveLength(1)
  } finally {
    await db.close()
  }
}

describe('crash safety', () => {
  test('a worker killed with SIGKILL mid-job: after a restart the job completes and its effect happened once (PGlite on disk)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loved-crash-'))
    try {
      await crashScenario({ dataDir: dir })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 150_000)

  test.skipIf(!TEST_DATABASE_URL)(
    'a worker killed with SIGKILL mid-job: after a restart the job completes and its effect happened once (Postgres)',
    async () => {
      const url = await createTestDatabaseUrl()
      await crashScenario({ databaseUrl: url! })
    },
    150_000,
  )
})
