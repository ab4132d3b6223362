/**
 * kill -9 between accepting a webhook and processing it loses nothing: a real server process
 * (whatsapp.child-server.ts) accepts a signed Cloud API delivery with its worker stopped, is killed
 * with SIGKILL, and the next start processes the stored event into a lead, a conversation and a
 * message — on PGlite on disk and on Postgres.
 */
import { describe, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabaseUrl, TEST_DATABASE_URL } from '../../../test/db'
import { createDb } from '../../platform/db/client'
import { migrate } from '../../platform/db/migrate'
import { spawnChild } from '../../platform/events/events.fixtures'
import { signUp } from '../auth/auth.usecases'
import { cloudChannelForm, cloudInboundText, newChannel } from './whatsapp.fixtures'

const CHILD = join(import.meta.dir, 'whatsapp.child-server.ts')
const SECRET = 'crash-secret-key-crash-secret-key-0123'
const APP_SECRET = 'crash-app-secret'
const PHONE_NUMBER_ID = '106540352242922'

/** Meta's documented inbound text message (one entry, one change, one message). */
const DELIVERY = JSON.stringify(
  cloudInboundText({
    phoneNumberId: PHONE_NUMBER_ID,
    from: '5511987654321',
    name: 'Sheena Nelson',
    id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERTQ2QkI5QzFBM0Q2MkI4MAA=',
    body: 'Ainda tem o apartamento de 2 quartos?',
  }),
)

/** `dataDir` is the server's DATA_DIR; its embedded database lives in `<dataDir>/pg`. */
type Target = { dataDir: string } | { databaseUrl: string }

async function scenario(target: Target) {
  const open = () =>
    'databaseUrl' in target
      ? createDb({ databaseUrl: target.databaseUrl, max: 2 })
      : createDb({ dataDir: join(target.dataDir, 'pg') })
  const env: Record<string, string> = {
    SECRET_KEY: SECRET,
    ...('databaseUrl' in target ? { DATABASE_URL: target.databaseUrl } : { DATA_DIR: target.dataDir }),
  }
  let db = await open()
  await migrate(db)
  const { user, org } = await signUp(db, {
    name: 'Ana',
    email: `ana.crash.${Date.now()}@example.com`,
    password: 'correct horse battery',
    orgName: 'Imobiliária Crash',
    locale: 'pt-BR',
  })
  const channel = await newChannel(
    db,
    { orgId: org.id, userId: user.id, role: 'owner', ip: null },
    cloudChannelForm({
      phoneNumber: '(11) 3333-0000',
      phoneNumberId: PHONE_NUMBER_ID,
      accessToken: 'EAAG-crash-token-0001',
      appSecret: APP_SECRET,
      verifyToken: 'crash-verify-token',
    }),
    SECRET,
  )
  await db.close() // PGlite: one process at a time on a data directory

  // 1. Accepted (stored, job queued), then killed before any processing.
  const first = spawnChild(CHILD, { ...env, MODE: 'accept' })
  const port = (await first.waitForLine('LISTENING', 60_000))!.split(' ')[1]
  const signature = `sha256=${createHmac('sha256', APP_SECRET).update(DELIVERY).digest('hex')}`
  const res = await fetch(`http://127.0.0.1:${port}/webhooks/whatsapp/${channel.id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
    body: DELIVERY,
  })
  expect([res.status, await res.text()]).toEqual([200, 'EVENT_RECEIVED'])
  first.proc.kill('SIGKILL')
  await first.proc.exited
  expect(first.proc.signalCode).toBe('SIGKILL')

  db = await open()
  const stored = await db.raw.query<{ status: string; body: string }>(
    'select status, body from webhook_inbox where channel_id = $1',
    [channel.id],
  )
  expect(stored).toEqual([{ status: 'pending', body: DELIVERY }])
  expect(await db.raw.query('select id from messages')).toEqual([])
  await db.close()

  // 2. The next start processes it: lead, conversation and message, once.
  const second = spawnChild(CHILD, { ...env, MODE: 'drain' })
  await second.waitForLine('DRAINED', 90_000)
  expect(await second.proc.exited).toBe(0)

  db = await open()
  try {
    expect(
      await db.raw.query<{ status: string }>('select status from webhook_inbox where channel_id = $1', [
        channel.id,
      ]),
    ).toEqual([{ status: 'processed' }])
    const messages = await db.raw.query<{ body: string; direction: string; conversation_id: string }>(
      'select body, direction, conversation_id from messages',
    )
    expect(messages).toHaveLength(1)
    expect(messages[0]).toMatchObject({ body: 'Ainda tem o apartamento de 2 quartos?', direction: 'in' })
    const leads = await db.raw.query<{ phone: string; full_name: string }>(
      'select phone, full_name from leads where organization_id = $1',
      [org.id],
    )
    expect(leads).toEqual([{ phone: '+5511987654321', full_name: 'Sheena Nelson' }])
  } finally {
    await db.close()
  }
}

describe('kill -9 between accepting a webhook and processing it', () => {
  test('PGlite on disk: the stored event is processed at the next start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'loved-wa-crash-'))
    try {
      await scenario({ dataDir })
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  }, 180_000)

  test.skipIf(!TEST_DATABASE_URL)(
    'Postgres: the stored event is processed at the next start',
    async () => {
      const databaseUrl = (await createTestDatabaseUrl())!
      await scenario({ databaseUrl })
    },
    180_000,
  )
})
