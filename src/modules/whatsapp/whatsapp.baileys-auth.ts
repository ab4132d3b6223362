/**
 * Baileys auth state in Postgres (`whatsapp_auth_state`), per channel, sealed at rest and under RLS —
 * instead of `useMultiFileAuthState`, which its own docs call unfit for production.
 *
 * Shape (Baileys' `AuthenticationState`): `creds` (row key 'creds') and a signal key store
 * `keys.get(type, ids)` / `keys.set({type: {id: value | null}})` (row key `<type>-<id>`). Values are
 * serialized with `BufferJSON.replacer` / `reviver` (Buffers survive), start from `initAuthCreds()`,
 * and `app-state-sync-key` values are rebuilt with `proto.Message.AppStateSyncKeyData.fromObject`
 * (as Baileys' own file store does). Each value is sealed for (channel, key): a value copied to
 * another channel or key does not open. `keys.set` writes a batch in one transaction.
 *
 * Baileys itself is imported lazily (it costs ~0.5 s and ~60 MB): only processes with a Baileys
 * channel pay for it.
 */
import type {
  AuthenticationCreds,
  AuthenticationState,
  SignalDataSet,
  SignalDataTypeMap,
} from '@whiskeysockets/baileys'
import { and, eq, inArray, sql } from 'drizzle-orm'
import { secretBox } from '../../platform/crypto/secrets'
import type { Db } from '../../platform/db/client'
import { type OrgTx, withOrg } from '../../platform/db/tenancy'
import { whatsappAuthState } from './whatsapp.table'

type BaileysModule = typeof import('@whiskeysockets/baileys')
let baileys: Promise<BaileysModule> | null = null
export const loadBaileys = (): Promise<BaileysModule> => {
  baileys ??= import('@whiskeysockets/baileys')
  return baileys
}

export interface ChannelRef {
  orgId: string
  channelId: string
}

export interface PostgresAuthState {
  state: AuthenticationState
  /** Persist `state.creds` (call on every `creds.update`). */
  saveCreds(): Promise<void>
}

const CHUNK = 200
const context = (channelId: string, key: string) => `whatsapp.auth:${channelId}:${key}`

export async function usePostgresAuthState(
  db: Db,
  ref: ChannelRef,
  secretKey: string,
): Promise<PostgresAuthState> {
  const { BufferJSON, initAuthCreds, proto } = await loadBaileys()
  const box = secretBox(secretKey)
  const seal = (key: string, value: unknown) =>
    box.seal(JSON.stringify(value, BufferJSON.replacer), context(ref.channelId, key))
  const open = (key: string, sealed: string) =>
    JSON.parse(box.open(sealed, context(ref.channelId, key)), BufferJSON.reviver)
  const scope = { orgId: ref.orgId }

  const readKeys = (keys: string[]) =>
    withOrg(db, scope, (tx) =>
      tx
        .select({ key: whatsappAuthState.key, valueEnc: whatsappAuthState.valueEnc })
        .from(whatsappAuthState)
        .where(and(eq(whatsappAuthState.channelId, ref.channelId), inArray(whatsappAuthState.key, keys))),
    )

  const [stored] = await readKeys(['creds'])
  const creds: AuthenticationCreds = stored ? open('creds', stored.valueEnc) : initAuthCreds()

  async function write(tx: OrgTx, rows: Array<{ key: string; value: unknown }>) {
    for (let i = 0; i < rows.length; i += CHUNK) {
      await tx
        .insert(whatsappAuthState)
        .values(
          rows.slice(i, i + CHUNK).map((r) => ({
            organizationId: ref.orgId,
            channelId: ref.channelId,
            key: r.key,
            valueEnc: seal(r.key, r.value),
          })),
        )
        .onConflictDoUpdate({
          target: [whatsappAuthState.organizationId, whatsappAuthState.channelId, whatsappAuthState.key],
          set: { valueEnc: sql`excluded.value_enc`, updatedAt: sql`now()` },
        })
    }
  }

  return {
    state: {
      creds,
      keys: {
        async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
          const out: { [id: string]: SignalDataTypeMap[T] } = {}
          if (!ids.length) return out
          const byKey = new Map(ids.map((id) => [`${type}-${id}`, id]))
          for (let i = 0; i < ids.length; i += CHUNK) {
            const rows = await readKeys([...byKey.keys()].slice(i, i + CHUNK))
            for (const row of rows) {
              let value = open(row.key, row.valueEnc)
              if (type === 'app-state-sync-key' && value)
                value = proto.Message.AppStateSyncKeyData.fromObject(value)
              out[byKey.get(row.key)!] = value
            }
          }
          return out
        },
        async set(data: SignalDataSet) {
          const upserts: Array<{ key: string; value: unknown }> = []
          const deletes: string[] = []
          for (const type of Object.keys(data) as Array<keyof SignalDataTypeMap>) {
            for (const [id, value] of Object.entries(data[type] ?? {})) {
              const key = `${type}-${id}`
              if (value) upserts.push({ key, value })
              else deletes.push(key)
            }
          }
          if (!upserts.length && !deletes.length) return
          await withOrg(db, scope, async (tx) => {
            for (let i = 0; i < deletes.length; i += CHUNK)
              await tx
                .delete(whatsappAuthState)
                .where(
                  and(
                    eq(whatsappAuthState.channelId, ref.channelId),
                    inArray(whatsappAuthState.key, deletes.slice(i, i + CHUNK)),
                  ),
                )
            await write(tx, upserts)
          })
        },
      },
    },
    saveCreds: () => withOrg(db, scope, (tx) => write(tx, [{ key: 'creds', value: creds }])),
  }
}

/** Forget a channel's credentials and keys (logged out, or deleted): the next socket asks for a QR. */
export async function clearAuthState(tx: OrgTx, channelId: string) {
  await tx.delete(whatsappAuthState).where(eq(whatsappAuthState.channelId, channelId))
}

export async function hasCreds(tx: OrgTx, channelId: string) {
  const [row] = await tx
    .select({ key: whatsappAuthState.key })
    .from(whatsappAuthState)
    .where(and(eq(whatsappAuthState.channelId, channelId), eq(whatsappAuthState.key, 'creds')))
  return !!row
}
