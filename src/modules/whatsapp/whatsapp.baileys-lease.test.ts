/**
 * The Baileys socket lease: two processes (two lease holders on one database) never both hold a
 * channel; a lapsed lease is taken over; a holder that lost it learns so on its next renewal; a
 * channel that no longer wants a WhatsApp Web socket (switched to another provider, disconnected)
 * cannot be renewed nor taken; and another organization's process cannot take a channel it cannot
 * see (RLS).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestDb } from '../../../test/db'
import type { Db } from '../../platform/db/client'
import { signUp } from '../auth/auth.usecases'
import type { Actor } from '../orgs/orgs.usecases'
import type { ChannelRef } from './whatsapp.baileys-auth'
import { createSocketLease } from './whatsapp.baileys-lease'
import { bareChannelForm, newChannel } from './whatsapp.fixtures'

const SECRET = 'test-secret-key-test-secret-key-0123'
let db: Db
let a: Actor
let b: Actor

async function org(name: string): Promise<Actor> {
  const { user, org } = await signUp(db, {
    name,
    email: `${name.toLowerCase().replace(/\W/g, '')}.${Date.now()}@example.com`,
    password: 'correct horse battery',
    orgName: name,
    locale: 'pt-BR',
  })
  return { orgId: org.id, userId: user.id, role: 'owner', ip: null }
}

async function channel(actor: Actor): Promise<ChannelRef> {
  const c = await newChannel(db, actor, bareChannelForm('Celular'), SECRET)
  return { orgId: actor.orgId, channelId: c.id }
}

const holder = async (id: string) =>
  (
    await db.raw.query<{ socket_owner: string | null }>(
      'select socket_owner from whatsapp_channels where id = $1',
      [id],
    )
  )[0]!.socket_owner

beforeAll(async () => {
  db = await createTestDb()
  a = await org('Lease A')
  b = await org('Lease B')
})
afterAll(() => db?.close())

describe('Baileys socket lease', () => {
  test('one holder at a time; a lapsed lease is taken over and the old holder learns it on renewal', async () => {
    const ref = await channel(a)
    const one = createSocketLease(db, { owner: 'host-1:100', ttlMs: 400 })
    const two = createSocketLease(db, { owner: 'host-2:200', ttlMs: 400 })
    expect(await one.acquire(ref)).toBe(true)
    expect(await one.acquire(ref)).toBe(true) // re-entrant for its holder
    expect(await two.acquire(ref)).toBe(false)
    expect(await one.renew(ref)).toBe(true)
    expect(await two.renew(ref)).toBe(false)
    expect(await holder(ref.channelId)).toBe('host-1:100')
    // The holder stops renewing (it died): once the lease lapses the other takes the channel.
    await Bun.sleep(600)
    expect(await two.acquire(ref)).toBe(true)
    expect(await holder(ref.channelId)).toBe('host-2:200')
    expect(await one.renew(ref)).toBe(false)
    // Releasing what another holds changes nothing; the holder's release frees it at once.
    await one.release(ref)
    expect(await holder(ref.channelId)).toBe('host-2:200')
    await two.release(ref)
    expect(await holder(ref.channelId)).toBeNull()
    expect(await one.acquire(ref)).toBe(true)
  })

  test('concurrent acquisitions: exactly one wins', async () => {
    const ref = await channel(a)
    const leases = Array.from({ length: 8 }, (_, i) =>
      createSocketLease(db, { owner: `host-${i}`, ttlMs: 30_000 }),
    )
    const won = await Promise.all(leases.map((l) => l.acquire(ref)))
    expect(won.filter(Boolean).length).toBe(1)
    expect(await holder(ref.channelId)).toBe(`host-${won.indexOf(true)}`)
  })

  test("another organization's reference cannot take or free the channel (RLS)", async () => {
    const ref = await channel(a)
    const mine = createSocketLease(db, { owner: 'host-a', ttlMs: 30_000 })
    expect(await mine.acquire(ref)).toBe(true)
    const intruder = createSocketLease(db, { owner: 'host-a', ttlMs: 30_000 })
    const crossed = { orgId: b.orgId, channelId: ref.channelId }
    expect(await intruder.renew(crossed)).toBe(false)
    await intruder.release(crossed)
    expect(await holder(ref.channelId)).toBe('host-a')
    // Even with the lease free, B's process cannot acquire A's channel.
    await mine.release(ref)
    expect(await intruder.acquire(crossed)).toBe(false)
    expect(await holder(ref.channelId)).toBeNull()
  })

  test('once the channel moves to another provider or is disconnected, renewal fails and nobody can take it', async () => {
    const ref = await channel(a)
    const one = createSocketLease(db, { owner: 'host-1', ttlMs: 30_000 })
    const two = createSocketLease(db, { owner: 'host-2', ttlMs: 30_000 })
    const set = (assignments: string) =>
      db.raw.query(`update whatsapp_channels set ${assignments} where id = $1`, [ref.channelId])
    expect(await one.acquire(ref)).toBe(true)
    expect(await one.wanted(ref)).toBe(true)
    // A switch to the Cloud API completed on another instance: the holder's next renewal fails.
    await set(`provider = 'cloud-api', switch_from = null`)
    expect(await one.renew(ref)).toBe(false)
    expect(await one.wanted(ref)).toBe(false)
    expect(await two.acquire(ref)).toBe(false)
    expect(await one.acquire(ref)).toBe(false)
    // A switch back to WhatsApp Web pairs while paused: wanted again, the socket may be held.
    await set(`provider = 'baileys', paused = true, switch_from = '{"provider":"cloud-api"}'::jsonb`)
    expect(await one.wanted(ref)).toBe(true)
    expect(await one.renew(ref)).toBe(true)
    // Disconnect (paused, no switch): no socket anywhere.
    await set(`paused = true, switch_from = null`)
    expect(await one.renew(ref)).toBe(false)
    expect(await two.acquire(ref)).toBe(false)
    // Reconnect: the holder renews again; a deleted channel is wanted by nobody.
    await set('paused = false')
    expect(await one.renew(ref)).toBe(true)
    await db.raw.query('delete from whatsapp_channels where id = $1', [ref.channelId])
    expect(await one.renew(ref)).toBe(false)
    expect(await one.wanted(ref)).toBe(false)
  })
})
