/**
 * The Baileys socket lease (migrations/0017): which process may hold the WhatsApp Web socket of a
 * channel. The supervisor acquires it before opening a socket, renews it on a heartbeat while the
 * socket lives, and releases it when it closes the socket; a process that cannot acquire it leaves the
 * channel to the holder and tries again once the lease could have lapsed. Each statement is one
 * compare-and-set on the channel row (under the channel organization's RLS), so two instances never
 * both win: the database's row lock decides.
 *
 * The lease exists only while the channel wants a WhatsApp Web socket: provider `baileys` and not
 * paused by Disconnect (a switch TO WhatsApp Web pairs while paused, so `switch_from` set counts as
 * wanted). Once a switch moves the channel to another provider, or an admin disconnects it, renewal
 * fails on every instance, and the holder closes its socket (docs/whatsapp.md, "Baileys").
 */
import { sql } from 'drizzle-orm'
import type { Db } from '../../platform/db/client'
import { rowsOf } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import type { ChannelRef } from './whatsapp.baileys-auth'

export interface SocketLease {
  /** This process now holds the channel's lease (or already did). */
  acquire(ref: ChannelRef): Promise<boolean>
  /** Extends a lease this process holds; false when it lost it (lapsed and taken by another). */
  renew(ref: ChannelRef): Promise<boolean>
  /** Lets go (no-op when another process holds it). */
  release(ref: ChannelRef): Promise<void>
  /** The channel still wants a WhatsApp Web socket (baileys, not disconnected; it exists). */
  wanted(ref: ChannelRef): Promise<boolean>
  readonly owner: string
  readonly ttlMs: number
}

export function createSocketLease(db: Db, opts: { owner: string; ttlMs?: number }): SocketLease {
  const owner = opts.owner
  const ttlMs = opts.ttlMs ?? 30_000
  const until = sql`now() + make_interval(secs => ${ttlMs / 1000})`
  // A channel that wants a socket: on WhatsApp Web and not paused by Disconnect (a switch to it
  // pairs while paused). Anything else: no lease to take or keep.
  const wanted = sql`provider = 'baileys' and (not paused or switch_from is not null)`
  const run = async (ref: ChannelRef, statement: ReturnType<typeof sql>) =>
    rowsOf<{ id: string }>(await withOrg(db, ref.orgId, (tx) => tx.execute(statement))).length > 0
  return {
    owner,
    ttlMs,
    acquire: (ref) =>
      run(
        ref,
        sql`update whatsapp_channels set socket_owner = ${owner}, socket_lease_until = ${until}
          where id = ${ref.channelId}::uuid and ${wanted}
            and (socket_owner is null or socket_owner = ${owner} or socket_lease_until < now())
          returning id`,
      ),
    renew: (ref) =>
      run(
        ref,
        sql`update whatsapp_channels set socket_lease_until = ${until}
          where id = ${ref.channelId}::uuid and socket_owner = ${owner} and ${wanted}
          returning id`,
      ),
    wanted: (ref) =>
      run(ref, sql`select id from whatsapp_channels where id = ${ref.channelId}::uuid and ${wanted}`),
    release: async (ref) => {
      await run(
        ref,
        sql`update whatsapp_channels set socket_owner = null, socket_lease_until = null
          where id = ${ref.channelId}::uuid and socket_owner = ${owner}
          returning id`,
      )
    },
  }
}
