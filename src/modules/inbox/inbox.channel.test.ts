/**
 * The inbox's provider door is per database handle: two apps in one process (the test suite runs
 * every file in one) each reach their own providers, and a database without a resolver fails
 * transiently instead of borrowing another app's.
 */
import { describe, expect, test } from 'bun:test'
import type { Db } from '../../platform/db/client'
import { type ChannelRow, type SenderResolver, senderFor, setChannelSender } from './inbox.channel'

const channel = { id: 'c1', provider: 'sandbox' } as ChannelRow
const resolverNamed =
  (name: string): SenderResolver =>
  async ({ db, orgId }) => ({
    send: async () => ({ providerMessageId: `${name}:${orgId}:${db === dbA ? 'a' : 'b'}` }),
  })
const dbA = {} as Db
const dbB = {} as Db

describe('channel sender registry', () => {
  test('each database handle gets the resolver registered for it, with that handle', async () => {
    setChannelSender(dbA, resolverNamed('first'))
    setChannelSender(dbB, resolverNamed('second'))
    const send = async (db: Db) =>
      (await (await senderFor(db, 'org-1', channel)).send({ kind: 'text', to: '+5511999990000', text: 'x' }))
        .providerMessageId
    expect(await send(dbA)).toBe('first:org-1:a')
    expect(await send(dbB)).toBe('second:org-1:b')
  })

  test('a database without a resolver (or whose resolver was removed) is a transient no_resolver error', async () => {
    setChannelSender(dbA, resolverNamed('first'))
    setChannelSender(dbA, null)
    const err = await senderFor(dbA, 'org-1', channel).catch((e) => e)
    expect(err).toMatchObject({ permanent: false, code: 'no_resolver' })
    expect(await senderFor({} as Db, 'org-1', channel).catch((e) => e.code)).toBe('no_resolver')
  })
})
