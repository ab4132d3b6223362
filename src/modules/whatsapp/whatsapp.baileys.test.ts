/**
 * The Baileys adapter with a fake transport emitting Baileys' real event shapes: pairing (QR
 * events), reconnect after a transient close, restartRequired, loggedOut (credentials wiped, new
 * QR), forbidden, no double sockets, the reconnect-loop guard, auth state surviving a restart
 * (read back from Postgres and decrypted), inbound normalization and paced sends.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { DisconnectReason, proto, type WAMessage } from '@whiskeysockets/baileys'
import { createTestDb } from '../../../test/db'
import type { Db } from '../../platform/db/client'
import { createWorker } from '../../platform/jobs/jobs.worker'
import { signUp } from '../auth/auth.usecases'
import type { Actor } from '../orgs/orgs.usecases'
import {
  type BaileysSupervisor,
  createBaileysSupervisor,
  DISCONNECT,
  jidToE164,
  normalizeReceipt,
  normalizeWaMessage,
  type SupervisorOptions,
  waMediaMessage,
} from './whatsapp.baileys'
import { createSocketLease } from './whatsapp.baileys-lease'
import { bareChannelForm, FakeTransport, newChannel as newChannelRow } from './whatsapp.fixtures'
import { processInboundJob } from './whatsapp.inbound'
import { deliverTo } from './whatsapp.runtime'

const SECRET = 'test-secret-key-test-secret-key-0123'

let db: Db
let actor: Actor
/** Teammates of `actor`'s organization: an admin (reads English) and a member. */
let admin: string
let member: string
let transports: FakeTransport[]
/** Which channel each fake socket was opened for. */
const channelOf = new Map<FakeTransport, string>()
let timers: Array<{ fn: () => void; ms: number; cleared: boolean }>
let sleeps: number[]
let sup: BaileysSupervisor

function supervisor(o: Partial<SupervisorOptions> = {}) {
  return createBaileysSupervisor({
    db,
    secretKey: SECRET,
    deliver: deliverTo(db),
    transport: async ({ auth, channelId }) => {
      const t = new FakeTransport(auth)
      transports.push(t)
      channelOf.set(t, channelId)
      return t
    },
    backoff: { baseMs: 1_000, maxMs: 60_000 },
    window: { ms: 60_000, max: 6 },
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(Math.round(ms))
    },
    setTimer: (fn, ms) => {
      const h = { fn, ms, cleared: false }
      timers.push(h)
      return h
    },
    clearTimer: (h) => {
      ;(h as { cleared: boolean }).cleared = true
    },
    ...o,
  })
}

async function newChannel(name = 'Celular da Ana') {
  const c = await newChannelRow(db, actor, bareChannelForm(name), SECRET)
  return { orgId: actor.orgId, channelId: c.id }
}
const row = async (id: string) =>
  (
    await db.raw.query<{
      status: string
      status_detail: string | null
      pairing_qr: string | null
      pairing_code: string | null
      phone_number: string | null
    }>(
      'select status, status_detail, pairing_qr, pairing_code, phone_number from whatsapp_channels where id = $1',
      [id],
    )
  )[0]!
const events = (id: string, type: string) =>
  db.raw.query<{ payload: any }>(
    `select payload from outbox_events where type = $1 and payload->>'channelId' = $2 order by version`,
    [type, id],
  )
const authKeys = async (id: string) =>
  (
    await db.raw.query<{ key: string }>(
      'select key from whatsapp_auth_state where channel_id = $1 order by key',
      [id],
    )
  ).map((r) => r.key)
/** The notifications about the channel named `name` (as the system: every recipient's). */
const alerts = (name: string) =>
  db.raw.query<{ user_id: string; kind: string; params: any; link: string }>(
    `select user_id::text as user_id, kind, params, link from notifications
      where organization_id = $1 and params->>'channel' = $2 order by created_at, user_id`,
    [actor.orgId, name],
  )
/** The live toasts pushed for the channel's notifications, by recipient. */
const toastsFor = async (channelId: string) =>
  new Map(
    (
      await db.raw.query<{ user_id: string; text: string }>(
        `select user_id::text as user_id, payload->>'text' as text from outbox_events
          where type = 'notification.created' and payload->>'link' = $1`,
        [`/settings/channels/${channelId}`],
      )
    ).map((r) => [r.user_id, r.text]),
  )
const last = () => transports[transports.length - 1]!
async function until(cond: () => boolean, ms = 10_000) {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await Bun.sleep(5)
  }
}

beforeAll(async () => {
  db = await createTestDb()
  const { user, org } = await signUp(db, {
    name: 'Ana',
    email: `ana.${Date.now()}@example.com`,
    password: 'correct horse battery',
    orgName: 'Baileys Org',
    locale: 'pt-BR',
  })
  actor = { orgId: org.id, userId: user.id, role: 'owner', ip: null }
  const teammate = async (name: string, role: string, locale: string) => {
    const { user } = await signUp(db, {
      name,
      email: `${name.toLowerCase()}.${Date.now()}@example.com`,
      password: 'correct horse battery',
      orgName: `${name} Org`,
      locale: 'pt-BR',
    })
    await db.raw.query(
      'insert into organization_members (organization_id, user_id, role) values ($1, $2, $3)',
      [org.id, user.id, role],
    )
    await db.raw.query('update users set locale = $2 where id = $1', [user.id, locale])
    return user.id
  }
  admin = await teammate('Bruno', 'admin', 'en')
  member = await teammate('Carla', 'member', 'pt-BR')
})
afterAll(() => db.close())
afterEach(() => sup.stopAll())
beforeEach(() => {
  transports = []
  timers = []
  sleeps = []
  sup = supervisor()
})

describe('pairing', () => {
  test('each QR WhatsApp sends is stored for the channel page and announced; open stores the number and clears it', async () => {
    const ref = await newChannel()
    await sup.start(ref)
    expect(transports).toHaveLength(1)
    expect((await row(ref.channelId)).status).toBe('connecting')
    last().emit('connection.update', { qr: '2@first-qr,abc' })
    await sup.settled()
    expect(await row(ref.channelId)).toMatchObject({ status: 'qr', pairing_qr: '2@first-qr,abc' })
    last().emit('connection.update', { qr: '2@second-qr,def' })
    await sup.settled()
    expect((await row(ref.channelId)).pairing_qr).toBe('2@second-qr,def')
    expect((await events(ref.channelId, 'whatsapp.channel.qr')).map((e) => e.payload.kind)).toEqual([
      'qr',
      'qr',
    ])

    // The phone scanned: Baileys updates the creds, then opens.
    const t = last()
    t.auth.creds.me = { id: '5511987654321:7@s.whatsapp.net', name: 'Ana' }
    t.auth.creds.registered = true
    t.emit('creds.update', { me: t.auth.creds.me })
    t.user = { id: '5511987654321:7@s.whatsapp.net' }
    t.emit('connection.update', { connection: 'open' })
    await sup.settled()
    await sup.settled()
    expect(await row(ref.channelId)).toMatchObject({
      status: 'open',
      pairing_qr: null,
      phone_number: '+5511987654321',
    })
    expect(await authKeys(ref.channelId)).toEqual(['creds'])
    expect((await events(ref.channelId, 'whatsapp.channel.status')).map((e) => e.payload.status)).toEqual([
      'connecting',
      'qr',
      'open',
    ])
    await sup.stop(ref.channelId)
  })

  test('a pairing code is asked of the socket once it waits for pairing, and shown', async () => {
    const ref = await newChannel()
    sup = supervisor({ pairingWaitMs: 10_000 })
    const pending = sup.requestPairingCode(ref, '+5511987654321')
    await until(() => transports.length === 1)
    last().emit('connection.update', { qr: '2@qr' })
    expect(await pending).toBe('ABCD1234')
    expect(last().pairing).toEqual(['5511987654321'])
    await sup.settled()
    expect((await row(ref.channelId)).pairing_code).toBe('ABCD1234')
    expect((await events(ref.channelId, 'whatsapp.channel.qr')).map((e) => e.payload.kind)).toEqual([
      'qr',
      'code',
    ])
    await sup.stop(ref.channelId)
  })
})

describe('closes, by DisconnectReason', () => {
  test('the numbers the supervisor uses are Baileys’ own', () => {
    for (const k of Object.keys(DISCONNECT) as Array<keyof typeof DISCONNECT>)
      expect(DISCONNECT[k]).toBe(DisconnectReason[k])
  })

  test('a transient close reconnects after an exponential, jittered backoff, with one socket at a time', async () => {
    const ref = await newChannel()
    await sup.start(ref)
    last().close(DisconnectReason.connectionClosed)
    await sup.settled()
    await sup.settled()
    expect(transports).toHaveLength(1)
    expect(transports[0]!.ended).toBe(true)
    expect(sup.sockets).toBe(0)
    expect(timers.map((x) => x.ms)).toEqual([750]) // 1000 * 2^0 * (0.5 + 0.5/2)
    expect(await row(ref.channelId)).toMatchObject({ status: 'connecting', status_detail: 'retry_in_ms:750' })
    // A start while the reconnect is pending adds no socket.
    await sup.start(ref)
    expect(transports).toHaveLength(1)
    timers[0]!.fn()
    await sup.settled()
    expect(transports).toHaveLength(2)
    expect(sup.sockets).toBe(1)
    last().close(DisconnectReason.timedOut)
    await sup.settled()
    expect(timers.map((x) => x.ms)).toEqual([750, 1500])
    timers[1]!.fn()
    await sup.settled()
    // Open resets the backoff.
    last().emit('connection.update', { connection: 'open' })
    last().close(DisconnectReason.connectionLost)
    await sup.settled()
    expect(timers.map((x) => x.ms)).toEqual([750, 1500, 750])
    await sup.stop(ref.channelId)
    expect(timers[2]!.cleared).toBe(true)
  })

  test('restartRequired opens a new socket at once; the old socket’s late events are ignored', async () => {
    const ref = await newChannel()
    await sup.start(ref)
    const old = last()
    old.close(DisconnectReason.restartRequired)
    await sup.settled()
    expect(transports).toHaveLength(2)
    expect(timers).toHaveLength(0)
    old.emit('connection.update', { qr: '2@stale' })
    await sup.settled()
    expect((await row(ref.channelId)).pairing_qr).toBeNull()
    expect(sup.sockets).toBe(1)
    await sup.stop(ref.channelId)
  })

  test('loggedOut wipes creds and keys, says so, and a new socket brings a new QR with fresh creds', async () => {
    const ref = await newChannel()
    await sup.start(ref)
    const first = last()
    first.auth.creds.me = { id: '5511987654321:7@s.whatsapp.net' }
    first.emit('creds.update', { me: first.auth.creds.me })
    await first.auth.keys.set({ 'pre-key': { '1': { public: Buffer.from([1]), private: Buffer.from([2]) } } })
    await sup.settled()
    expect(await authKeys(ref.channelId)).toEqual(['creds', 'pre-key-1'])
    first.close(DisconnectReason.loggedOut)
    await sup.settled()
    await sup.settled()
    expect(await authKeys(ref.channelId)).toEqual([])
    expect(transports).toHaveLength(2)
    expect(last().auth.creds.me).toBeUndefined()
    expect(Buffer.compare(last().auth.creds.noiseKey.private, first.auth.creds.noiseKey.private)).not.toBe(0)
    last().emit('connection.update', { qr: '2@new-qr' })
    await sup.settled()
    expect((await row(ref.channelId)).status).toBe('qr')
    expect((await events(ref.channelId, 'whatsapp.channel.status')).map((e) => e.payload.status)).toContain(
      'logged_out',
    )
    await sup.stop(ref.channelId)
  })

  test('forbidden stops for good and alerts; no new socket; the owner and the admin are notified, with a link to the channel', async () => {
    const ref = await newChannel('Bloqueado')
    await sup.start(ref)
    last().close(DisconnectReason.forbidden)
    await sup.settled()
    await sup.settled()
    expect(transports).toHaveLength(1)
    expect(timers).toHaveLength(0)
    expect(sup.isRunning(ref.channelId)).toBe(false)
    expect(await row(ref.channelId)).toMatchObject({ status: 'forbidden', status_detail: 'forbidden' })
    expect((await events(ref.channelId, 'whatsapp.channel.status')).at(-1)!.payload).toEqual({
      channelId: ref.channelId,
      status: 'forbidden',
      alert: true,
    })
    const sent = await alerts('Bloqueado')
    expect(sent.map((n) => n.user_id).sort()).toEqual([actor.userId, admin].sort())
    for (const n of sent)
      expect(n).toMatchObject({
        kind: 'whatsapp.forbidden',
        params: { channel: 'Bloqueado' },
        link: `/settings/channels/${ref.channelId}`,
      })
    // The live toast, in each recipient's language.
    const toasts = await toastsFor(ref.channelId)
    expect(toasts.get(actor.userId)).toBe(
      'O WhatsApp bloqueou o número do canal "Bloqueado": a sessão do WhatsApp Web parou.',
    )
    expect(toasts.get(admin)).toBe(
      'WhatsApp blocked the number of channel "Bloqueado": its WhatsApp Web session stopped.',
    )
    expect(toasts.has(member)).toBe(false)
  })

  test('multideviceMismatch stops and notifies the admins; connectionReplaced stops without notifying', async () => {
    const old = await newChannel('Celular antigo')
    await sup.start(old)
    last().close(DISCONNECT.multideviceMismatch)
    await sup.settled()
    expect(await row(old.channelId)).toMatchObject({
      status: 'forbidden',
      status_detail: 'multidevice_mismatch',
    })
    expect((await alerts('Celular antigo')).map((n) => n.kind)).toEqual([
      'whatsapp.multidevice_mismatch',
      'whatsapp.multidevice_mismatch',
    ])
    const replaced = await newChannel('Substituído')
    await sup.start(replaced)
    last().close(DISCONNECT.connectionReplaced)
    await sup.settled()
    expect(await row(replaced.channelId)).toMatchObject({ status: 'closed', status_detail: 'replaced' })
    expect(await alerts('Substituído')).toEqual([])
  })

  test('loggedOut notifies the admins once per incident: not again when the fresh socket is logged out too, again after the phone linked', async () => {
    const ref = await newChannel('Deslogado')
    await sup.start(ref)
    last().close(DisconnectReason.loggedOut)
    await sup.settled()
    await sup.settled()
    expect((await alerts('Deslogado')).map((n) => n.kind)).toEqual([
      'whatsapp.logged_out',
      'whatsapp.logged_out',
    ])
    expect((await toastsFor(ref.channelId)).get(admin)).toBe(
      'WhatsApp Web was logged out on the phone (channel "Deslogado"): scan a new QR code.',
    )
    // The retry (a fresh socket for a new QR) is logged out again: the same incident, no new alert.
    last().close(DisconnectReason.loggedOut)
    await sup.settled()
    await sup.settled()
    expect(await alerts('Deslogado')).toHaveLength(2)
    // The phone links again; a later logout is a new incident.
    last().emit('connection.update', { connection: 'open' })
    await sup.settled()
    last().close(DisconnectReason.loggedOut)
    await sup.settled()
    await sup.settled()
    expect(await alerts('Deslogado')).toHaveLength(4)
    await sup.stop(ref.channelId)
  })

  test('never a reconnect loop: too many (re)connects within the window end in status error, and the admins are told once', async () => {
    const ref = await newChannel('Em loop')
    await sup.start(ref)
    for (let i = 0; i < 10; i++) {
      last().close(DisconnectReason.restartRequired)
      await sup.settled()
    }
    await sup.settled()
    expect(transports).toHaveLength(6) // window.max
    expect(sup.isRunning(ref.channelId)).toBe(false)
    expect(await row(ref.channelId)).toMatchObject({ status: 'error', status_detail: 'too_many_reconnects' })
    // One alert for the stop, none for the reconnects before it.
    const sent = await alerts('Em loop')
    expect(sent.map((n) => [n.user_id, n.kind]).sort()).toEqual(
      [
        [actor.userId, 'whatsapp.reconnect_loop'],
        [admin, 'whatsapp.reconnect_loop'],
      ].sort(),
    )
  })

  test('concurrent starts make one socket', async () => {
    const ref = await newChannel()
    await Promise.all([sup.start(ref), sup.start(ref), sup.start(ref), sup.start(ref)])
    expect(transports).toHaveLength(1)
    expect(sup.sockets).toBe(1)
    await sup.stop(ref.channelId)
    expect(sup.sockets).toBe(0)
  })
})

describe('two instances, one socket (the lease)', () => {
  const pending = (ms: number) => timers.filter((x) => !x.cleared && x.ms === ms)
  const holderOf = async (id: string) =>
    (
      await db.raw.query<{ socket_owner: string | null }>(
        'select socket_owner from whatsapp_channels where id = $1',
        [id],
      )
    )[0]!.socket_owner

  test('only the lease holder opens a socket; the other waits, writes nothing, and takes over once it is let go', async () => {
    const ref = await newChannel()
    const a = supervisor({ lease: createSocketLease(db, { owner: 'instance-a', ttlMs: 30_000 }) })
    const b = supervisor({ lease: createSocketLease(db, { owner: 'instance-b', ttlMs: 30_000 }) })
    try {
      await a.start(ref)
      last().emit('connection.update', { connection: 'open' })
      await a.settled()
      await b.start(ref)
      await b.settled()
      expect(transports).toHaveLength(1)
      expect([a.sockets, b.sockets]).toEqual([1, 0])
      expect(await holderOf(ref.channelId)).toBe('instance-a')
      expect((await row(ref.channelId)).status).toBe('open') // b wrote no 'connecting' over it
      // b looks again when a lease could have lapsed; a still renews it, so b keeps waiting.
      const heartbeat = pending(10_000).at(-1)!
      heartbeat.fn()
      await a.settled()
      pending(30_000).at(-1)!.fn()
      await b.settled()
      expect(transports).toHaveLength(1)
      // a stops (shutdown, or an admin moved the channel): the lease is released at once.
      await a.stop(ref.channelId)
      expect(await holderOf(ref.channelId)).toBeNull()
      pending(30_000).at(-1)!.fn()
      await b.settled()
      expect(transports).toHaveLength(2)
      expect([a.sockets, b.sockets]).toEqual([0, 1])
      expect(await holderOf(ref.channelId)).toBe('instance-b')
    } finally {
      await a.stopAll()
      await b.stopAll()
    }
  })

  test('a holder that lost its lease (it stalled past the lapse and another took it) closes its socket', async () => {
    const ref = await newChannel()
    const a = supervisor({ lease: createSocketLease(db, { owner: 'instance-a', ttlMs: 30_000 }) })
    try {
      await a.start(ref)
      expect(a.sockets).toBe(1)
      await db.raw.query(
        "update whatsapp_channels set socket_owner = 'instance-z', socket_lease_until = now() + interval '1 minute' where id = $1",
        [ref.channelId],
      )
      pending(10_000).at(-1)!.fn()
      await a.settled()
      expect(a.sockets).toBe(0)
      expect(last().ended).toBe(true)
      expect(a.isRunning(ref.channelId)).toBe(true) // waiting to take it back when it lapses
      expect(pending(30_000)).toHaveLength(1)
    } finally {
      await a.stopAll()
    }
  })

  test('a holder whose channel moved to the Cloud API on another instance closes its socket and stops for good', async () => {
    const ref = await newChannel()
    const a = supervisor({ lease: createSocketLease(db, { owner: 'instance-a', ttlMs: 30_000 }) })
    try {
      await a.start(ref)
      last().emit('connection.update', { connection: 'open' })
      await a.settled()
      expect(a.sockets).toBe(1)
      // Another instance completed a switch away from WhatsApp Web (its own socket was not this one).
      await db.raw.query(
        `update whatsapp_channels set provider = 'cloud-api', status = 'open', switch_from = null where id = $1`,
        [ref.channelId],
      )
      pending(10_000).at(-1)!.fn()
      await a.settled()
      expect(a.sockets).toBe(0)
      expect(last().ended).toBe(true)
      expect(a.isRunning(ref.channelId)).toBe(false)
      expect(pending(30_000)).toHaveLength(0) // no waiting to take it back
      expect(await holderOf(ref.channelId)).toBeNull()
      expect((await row(ref.channelId)).status).toBe('open') // it wrote nothing over the new provider
      // Nor does a later start (a restart, a stray reconnect) open a socket for it.
      await a.start(ref)
      await a.settled()
      expect(transports).toHaveLength(1)
      expect(a.isRunning(ref.channelId)).toBe(false)
    } finally {
      await a.stopAll()
    }
  })
})

describe('auth state in Postgres', () => {
  test('creds and signal keys survive a restart: a new supervisor reads them back, decrypted, Buffers intact', async () => {
    const ref = await newChannel()
    await sup.start(ref)
    const t = last()
    t.auth.creds.me = { id: '5511987654321:9@s.whatsapp.net', name: 'Ana' }
    t.auth.creds.registered = true
    t.emit('creds.update', { me: t.auth.creds.me, registered: true })
    const syncKey = {
      keyData: Buffer.from('sync-key-data'),
      fingerprint: { rawId: 7, currentIndex: 1, deviceIndexes: [0] },
      timestamp: 1700000000,
    }
    await t.auth.keys.set({
      'pre-key': {
        '5': { public: Buffer.from([5, 5, 5]), private: Buffer.from([6, 6, 6]) },
        '6': { public: Buffer.from([1]), private: Buffer.from([2]) },
      },
      session: { '5511987654321.0': Buffer.from('session-bytes') as any },
      'app-state-sync-key': { AAAAAA: syncKey as any },
    })
    await t.auth.keys.set({ 'pre-key': { '6': null } })
    await sup.settled()
    await sup.stopAll()

    const raw = await db.raw.query<{ key: string; value_enc: string }>(
      'select key, value_enc from whatsapp_auth_state where channel_id = $1',
      [ref.channelId],
    )
    expect(raw.map((r) => r.key).sort()).toEqual([
      'app-state-sync-key-AAAAAA',
      'creds',
      'pre-key-5',
      'session-5511987654321.0',
    ])
    for (const r of raw) {
      expect(r.value_enc).toStartWith('v1.')
      expect(r.value_enc).not.toContain('5511987654321')
    }

    const sup2 = supervisor()
    await sup2.start(ref)
    const t2 = last()
    expect(t2).not.toBe(t)
    expect(t2.auth.creds.me?.id).toBe('5511987654321:9@s.whatsapp.net')
    expect(t2.auth.creds.registered).toBe(true)
    expect(Buffer.compare(t2.auth.creds.noiseKey.private, t.auth.creds.noiseKey.private)).toBe(0)
    const keys = await t2.auth.keys.get('pre-key', ['5', '6'])
    expect(Object.keys(keys)).toEqual(['5'])
    expect(Buffer.isBuffer(keys['5']!.public)).toBe(true)
    expect([...keys['5']!.private]).toEqual([6, 6, 6])
    const session = await t2.auth.keys.get('session', ['5511987654321.0'])
    expect(Buffer.from(session['5511987654321.0'] as any).toString()).toBe('session-bytes')
    const sync = await t2.auth.keys.get('app-state-sync-key', ['AAAAAA'])
    expect(sync.AAAAAA).toBeInstanceOf(proto.Message.AppStateSyncKeyData)
    expect(Buffer.from(sync.AAAAAA!.keyData!).toString()).toBe('sync-key-data')
    await sup2.stop(ref.channelId)
  })

  test('a value sealed for one channel does not open for another', async () => {
    const a = await newChannel('A')
    const b = await newChannel('B')
    await sup.start(a)
    last().emit('creds.update', {})
    await sup.settled()
    await sup.stop(a.channelId)
    await db.raw.query(
      `insert into whatsapp_auth_state (organization_id, channel_id, key, value_enc)
       select organization_id, $2, key, value_enc from whatsapp_auth_state where channel_id = $1 and key = 'creds'`,
      [a.channelId, b.channelId],
    )
    await expect(sup.start(b)).rejects.toThrow(/does not open/)
    // The channel is not left half-started: it says so, and a later start tries again.
    await sup.settled()
    expect(await row(b.channelId)).toMatchObject({ status: 'error', status_detail: 'start_failed' })
    expect(sup.isRunning(b.channelId)).toBe(false)
    await db.raw.query('delete from whatsapp_auth_state where channel_id = $1', [b.channelId])
    await sup.start(b)
    expect(sup.isRunning(b.channelId)).toBe(true)
  })
})

describe('a restart (resume)', () => {
  test('open, connecting and mid-pairing channels come back with the creds saved before; the pairing one gets a fresh QR; never two sockets', async () => {
    // Only this test's channels are candidates.
    await db.raw.query(`update whatsapp_channels set status = 'closed'`)
    const paired = await newChannel('Pareado')
    const pairing = await newChannel('Pareando')
    const blocked = await newChannel('Bloqueado')
    const off = await newChannel('Desconectado')
    // The first process: one phone linked (creds saved), one QR on screen, one forbidden, one disconnected.
    await sup.start(paired)
    const linked = last()
    linked.auth.creds.me = { id: '5511987654321:4@s.whatsapp.net' }
    linked.auth.creds.registered = true
    linked.emit('creds.update', { me: linked.auth.creds.me, registered: true })
    linked.emit('connection.update', { connection: 'open' })
    await sup.start(pairing)
    last().emit('connection.update', { qr: '2@qr-before-the-restart' })
    await sup.start(blocked)
    last().close(DisconnectReason.forbidden)
    await sup.settled()
    await db.raw.query(`update whatsapp_channels set paused = true, status = 'disconnected' where id = $1`, [
      off.channelId,
    ])
    expect(await row(pairing.channelId)).toMatchObject({
      status: 'qr',
      pairing_qr: '2@qr-before-the-restart',
    })

    // The process dies (no shutdown: the statuses stay as they were) and a new one starts.
    const next = supervisor()
    const before = transports.length
    try {
      // server.ts calls resume() once; two racing calls must still make one socket per channel.
      const [n] = await Promise.all([next.resume(), next.resume()])
      await next.settled()
      expect(n).toBe(2)
      const fresh = transports.slice(before)
      expect(fresh.map((t) => channelOf.get(t)).sort()).toEqual([paired.channelId, pairing.channelId].sort())
      expect(next.sockets).toBe(2)
      expect(next.isRunning(blocked.channelId)).toBe(false)
      expect(next.isRunning(off.channelId)).toBe(false)
      // The linked phone: the same credentials, read back from Postgres (no new QR).
      const again = fresh.find((t) => channelOf.get(t) === paired.channelId)!
      expect(again.auth.creds.me?.id).toBe('5511987654321:4@s.whatsapp.net')
      expect(again.auth.creds.registered).toBe(true)
      expect(Buffer.compare(again.auth.creds.noiseKey.private, linked.auth.creds.noiseKey.private)).toBe(0)
      again.emit('connection.update', { connection: 'open' })
      // The pairing channel: the dead QR is gone at once, and the new socket's QR replaces it.
      expect(await row(pairing.channelId)).toMatchObject({ status: 'connecting', pairing_qr: null })
      fresh
        .find((t) => channelOf.get(t) === pairing.channelId)!
        .emit('connection.update', {
          qr: '2@qr-after-the-restart',
        })
      await next.settled()
      expect(await row(pairing.channelId)).toMatchObject({
        status: 'qr',
        pairing_qr: '2@qr-after-the-restart',
      })
      expect(await row(paired.channelId)).toMatchObject({ status: 'open' })
      expect(await row(blocked.channelId)).toMatchObject({ status: 'forbidden' })
    } finally {
      await next.stopAll()
    }
  })
})

describe('normalized like the Cloud API', () => {
  const text = (jid: string, extra: Partial<WAMessage> = {}): WAMessage =>
    ({
      key: { remoteJid: jid, fromMe: false, id: '3A1B2C' },
      messageTimestamp: 1750090702,
      pushName: 'Sheena',
      message: { extendedTextMessage: { text: 'Quero o plano anual', contextInfo: { stanzaId: '3EB0ABC' } } },
      ...extra,
    }) as WAMessage

  test('JIDs become E.164 (device suffix dropped, Brazilian ninth digit restored); groups and LIDs without a number are skipped', () => {
    expect(jidToE164('5511987654321:12@s.whatsapp.net')).toBe('+5511987654321')
    expect(jidToE164('551187654321@s.whatsapp.net')).toBe('+5511987654321')
    expect(jidToE164('120363025246125888@g.us')).toBeNull()
    expect(jidToE164('status@broadcast')).toBeNull()
    expect(normalizeWaMessage(text('5511987654321@s.whatsapp.net'), '+5511900000000' as any)).toEqual({
      providerMessageId: '3A1B2C',
      from: '+5511987654321',
      to: '+5511900000000',
      timestamp: 1750090702000,
      type: 'text',
      text: 'Quero o plano anual',
      contactName: 'Sheena',
      replyToProviderId: '3EB0ABC',
    })
    expect(normalizeWaMessage(text('120363025246125888@g.us'))).toBeNull()
    expect(
      normalizeWaMessage(
        text('5511987654321@s.whatsapp.net', {
          key: { remoteJid: '5511987654321@s.whatsapp.net', fromMe: true, id: 'x' },
        }),
      ),
    ).toBeNull()
    const lid = text('123456789@lid')
    lid.key.remoteJidAlt = '5511987654321@s.whatsapp.net'
    expect(normalizeWaMessage(lid)!.from).toBe('+5511987654321')
    expect(normalizeWaMessage(text('123456789@lid'))).toBeNull()
  })

  test('media, location and disappearing envelopes', () => {
    const base = {
      key: { remoteJid: '5511987654321@s.whatsapp.net', fromMe: false, id: 'M1' },
      messageTimestamp: 1,
    }
    const img = normalizeWaMessage({
      ...base,
      message: {
        ephemeralMessage: { message: { imageMessage: { mimetype: 'image/jpeg', caption: 'foto' } } },
      },
    } as WAMessage)
    expect([img!.type, img!.media, img!.text]).toEqual([
      'image',
      { providerMediaId: 'M1', mime: 'image/jpeg', caption: 'foto' },
      'foto',
    ])
    const ptt = normalizeWaMessage({
      ...base,
      message: { audioMessage: { mimetype: 'audio/ogg; codecs=opus', ptt: true } },
    } as WAMessage)
    expect(ptt!.media).toEqual({ providerMediaId: 'M1', mime: 'audio/ogg; codecs=opus', voice: true })
    const loc = normalizeWaMessage({
      ...base,
      message: { locationMessage: { degreesLatitude: -23.56, degreesLongitude: -46.65, name: 'MASP' } },
    } as WAMessage)
    expect(loc!.location).toEqual({ latitude: -23.56, longitude: -46.65, name: 'MASP' })
    expect(normalizeWaMessage({ ...base, message: { protocolMessage: { type: 0 } } } as WAMessage)).toBeNull()
  })

  test('receipts of our messages map SERVER_ACK/DELIVERY_ACK/READ to sent/delivered/read', () => {
    const u = (status: number, fromMe = true) => ({
      key: { remoteJid: '5511987654321@s.whatsapp.net', fromMe, id: '3EB01' },
      update: { status },
    })
    expect(normalizeReceipt(u(2), 5)).toEqual({
      providerMessageId: '3EB01',
      status: 'sent',
      timestamp: 5,
      recipient: '+5511987654321',
    })
    expect(normalizeReceipt(u(3), 5)!.status).toBe('delivered')
    expect(normalizeReceipt(u(4), 5)!.status).toBe('read')
    expect(normalizeReceipt(u(5), 5)!.status).toBe('read')
    expect(normalizeReceipt(u(0), 5)!.status).toBe('failed')
    expect(normalizeReceipt(u(1), 5)).toBeNull()
    expect(normalizeReceipt(u(3, false), 5)).toBeNull()
  })

  test('socket events are stored in webhook_inbox and processed by the same job into whatsapp.inbound', async () => {
    const ref = await newChannel()
    await sup.start(ref)
    last().emit('messages.upsert', {
      type: 'notify',
      messages: [text('5511987654321@s.whatsapp.net'), text('120363025246125888@g.us')],
    })
    last().emit('messages.upsert', { type: 'append', messages: [text('5511911112222@s.whatsapp.net')] })
    last().emit('messages.update', [
      {
        key: { remoteJid: '5511987654321@s.whatsapp.net', fromMe: true, id: '3EB01' },
        update: { status: 3 },
      },
    ])
    await sup.settled()
    const rows = await db.raw.query<{ provider: string; status: string }>(
      'select provider, status from webhook_inbox where channel_id = $1',
      [ref.channelId],
    )
    expect(rows).toEqual([
      { provider: 'baileys', status: 'pending' },
      { provider: 'baileys', status: 'pending' },
    ])
    expect(await createWorker({ db, jobs: [processInboundJob] }).runDue()).toBe(2)
    const ev = await events(ref.channelId, 'whatsapp.inbound')
    expect(ev.flatMap((e) => e.payload.messages.map((m: any) => [m.from, m.text]))).toEqual([
      ['+5511987654321', 'Quero o plano anual'],
    ])
    expect(ev.flatMap((e) => e.payload.statuses.map((s: any) => [s.providerMessageId, s.status]))).toEqual([
      ['3EB01', 'delivered'],
    ])
    await sup.stop(ref.channelId)
  })
})

describe('sending', () => {
  test('sends are paced per channel, with a typing presence before each, and a quoted reply', async () => {
    const ref = await newChannel()
    let clock = 1_000_000
    sup = supervisor({
      now: () => clock,
      pacing: { minGapMs: 3_000, jitterMs: 2_000, typingMsPerChar: 100, maxTypingMs: 1_500 },
    })
    await sup.start(ref)
    await expect(sup.send(ref, { kind: 'text', to: '+5511987654321', text: 'oi' })).rejects.toMatchObject({
      code: 'not_connected',
      permanent: false,
    })
    last().emit('connection.update', { connection: 'open' })
    const [a, b] = await Promise.all([
      sup.send(ref, { kind: 'text', to: '+5511987654321', text: 'Olá!', replyToProviderId: '3A1B2C' }),
      sup.send(ref, { kind: 'text', to: '+5511987654321', text: 'Tudo bem?' }),
    ])
    expect([a.providerMessageId, b.providerMessageId]).toEqual(['3EB01', '3EB02'])
    const t = last()
    expect(t.sent.map((s) => [s.jid, s.content.text])).toEqual([
      ['5511987654321@s.whatsapp.net', 'Olá!'],
      ['5511987654321@s.whatsapp.net', 'Tudo bem?'],
    ])
    expect(t.sent[0]!.quoted!.key.id).toBe('3A1B2C')
    expect(t.presence.map((p) => p[0])).toEqual(['composing', 'paused', 'composing', 'paused'])
    // First send: typing 4 chars * 100 ms; second: the gap (3000 + 0.5 * 2000) since the first, then typing.
    expect(sleeps).toEqual([400, 4000, 900])
    clock += 1
    await sup.stop(ref.channelId)
  })

  test('templates are not a WhatsApp Web thing: a permanent, explained refusal', async () => {
    const { createBaileysProvider } = await import('./whatsapp.baileys')
    const { sendRequest } = await import('./whatsapp.provider')
    const p = createBaileysProvider({
      channel: { id: 'c', orgId: 'o', phoneNumber: null, config: {} },
      secrets: {},
      fetch,
      graphUrl: '',
      deliver: async () => {},
      baileys: sup,
    })
    expect(p.sendTemplate).toBeUndefined()
    expect(() =>
      sendRequest(p, { kind: 'template', to: '+5511987654321', template: { name: 'x', language: 'pt_BR' } }),
    ).toThrow('cannot send template')
  })
})

describe('media', () => {
  const mediaKey = new Uint8Array(32).map((_, i) => 255 - i)
  const received = {
    key: { remoteJid: '5511987654321@s.whatsapp.net', fromMe: false, id: '3A0DOC' },
    messageTimestamp: 1750090702,
    message: {
      documentWithCaptionMessage: {
        message: {
          documentMessage: {
            url: 'https://mmg.whatsapp.net/v/t62.7119-24/doc.enc',
            directPath: '/v/t62.7119-24/doc.enc',
            mimetype: 'application/pdf',
            fileName: 'proposta.pdf',
            caption: 'segue',
            mediaKey,
            fileSha256: new Uint8Array(32).fill(1),
            fileEncSha256: new Uint8Array(32).fill(2),
            fileLength: 9,
          },
        },
      },
    },
  } as unknown as WAMessage

  test('a received media message keeps, as strings, what downloadMediaMessage needs later', () => {
    const m = normalizeWaMessage(received)!
    expect(m.type).toBe('document')
    expect(m.media).toMatchObject({
      providerMediaId: '3A0DOC',
      mime: 'application/pdf',
      filename: 'proposta.pdf',
      size: 9,
    })
    expect(m.media!.providerData).toEqual({
      protoKey: 'documentMessage',
      mediaKey: Buffer.from(mediaKey).toString('base64'),
      remoteJid: '5511987654321@s.whatsapp.net',
      directPath: '/v/t62.7119-24/doc.enc',
      url: 'https://mmg.whatsapp.net/v/t62.7119-24/doc.enc',
      fileSha256: Buffer.from(new Uint8Array(32).fill(1)).toString('base64'),
      fileEncSha256: Buffer.from(new Uint8Array(32).fill(2)).toString('base64'),
    })
    // It survives the JSON of webhook_inbox and rebuilds the WAMessage Baileys downloads from.
    const back = waMediaMessage(JSON.parse(JSON.stringify(m.media)))!
    expect(back.key).toEqual({ remoteJid: '5511987654321@s.whatsapp.net', fromMe: false, id: '3A0DOC' })
    const doc = back.message!.documentMessage!
    expect(Buffer.from(doc.mediaKey!).equals(Buffer.from(mediaKey))).toBe(true)
    expect([doc.directPath, doc.mimetype, doc.fileLength]).toEqual([
      '/v/t62.7119-24/doc.enc',
      'application/pdf',
      9,
    ])
  })

  test('the provider downloads through the channel socket; too big or gone is permanent, not connected is transient', async () => {
    const { createBaileysProvider } = await import('./whatsapp.baileys')
    const ref = await newChannel()
    const p = createBaileysProvider({
      channel: { id: ref.channelId, orgId: ref.orgId, phoneNumber: null, config: {} },
      secrets: {},
      fetch,
      graphUrl: '',
      deliver: async () => {},
      baileys: sup,
    })
    const media = normalizeWaMessage(received)!.media!
    await expect(p.downloadMedia!(media, { maxBytes: 1024 })).rejects.toMatchObject({
      permanent: false,
      code: 'not_connected',
    })
    await sup.start(ref)
    last().emit('connection.update', { connection: 'open' })
    const pdf = new TextEncoder().encode('%PDF-1.4\n')
    last().media.set(Buffer.from(mediaKey).toString('hex'), pdf)
    const got = await p.downloadMedia!(media, { maxBytes: 1024 })
    expect(new TextDecoder().decode(got.data)).toBe('%PDF-1.4\n')
    expect(got).toMatchObject({ mime: 'application/pdf', filename: 'proposta.pdf' })
    expect(last().downloads[0]!.key.id).toBe('3A0DOC')
    await expect(p.downloadMedia!({ ...media, size: 4096 }, { maxBytes: 1024 })).rejects.toMatchObject({
      permanent: true,
      code: 'media_too_large',
    })
    last().media.clear()
    await expect(p.downloadMedia!(media, { maxBytes: 1024 })).rejects.toMatchObject({
      permanent: true,
      code: 'media_gone',
    })
    await sup.stop(ref.channelId)
  })

  test('image, video, audio and document go out as Baileys media content with buffer, mimetype, caption, fileName', async () => {
    const ref = await newChannel()
    await sup.start(ref)
    last().emit('connection.update', { connection: 'open' })
    const data = new Uint8Array([1, 2, 3])
    const to = '+5511987654321'
    for (const [mediaType, mime, filename] of [
      ['image', 'image/jpeg', 'a.jpg'],
      ['video', 'video/mp4', 'b.mp4'],
      ['audio', 'audio/ogg', 'c.ogg'],
      ['document', 'application/pdf', 'd.pdf'],
    ] as const)
      await sup.send(ref, { kind: 'media', to, mediaType, data, mime, filename, caption: 'legenda' })
    const sent = last().sent.map((s) =>
      Object.fromEntries(
        Object.entries(s.content).map(([k, v]) => [k, Buffer.isBuffer(v) ? `<${[...v].join(',')}>` : v]),
      ),
    )
    expect(sent).toEqual([
      { image: '<1,2,3>', caption: 'legenda', mimetype: 'image/jpeg' },
      { video: '<1,2,3>', caption: 'legenda', mimetype: 'video/mp4' },
      { audio: '<1,2,3>', mimetype: 'audio/ogg' },
      { document: '<1,2,3>', mimetype: 'application/pdf', fileName: 'd.pdf', caption: 'legenda' },
    ])
    await sup.stop(ref.channelId)
  })
})
