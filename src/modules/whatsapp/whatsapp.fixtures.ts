/**
 * Test helpers for WhatsApp channels (imported by *.test.ts and the bench only): the new-channel
 * form's fields — the body posted to /settings/channels (or, without the name, to a channel's
 * /switch) and the input of the `createChannel` use case — and a channel made through that use case.
 */
import type { Db } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import type { Actor } from '../orgs/orgs.usecases'
import { type ChannelForm, createChannel } from './whatsapp.channels'

/** The form's fields as a plain object type (an interface is not a `Record<string, string>` body). */
type Form = Pick<ChannelForm, keyof ChannelForm>
type Settings = Omit<Form, 'name'>

/** A Cloud API provider's settings, valid as they are; a test overrides what it is about. */
export const cloudApiFields = (o: Partial<Settings> = {}): Settings => ({
  provider: 'cloud-api',
  phoneNumber: '(11) 98765-0000',
  phoneNumberId: '106540352242922',
  wabaId: '102290129340398',
  accessToken: 'EAAG-test-token-1234',
  appSecret: 'app-secret-123',
  verifyToken: '',
  ...o,
})

/** The new-channel form of a Cloud API channel. */
export const cloudChannelForm = (o: Partial<Form> = {}): Form => ({
  name: 'Vendas',
  ...cloudApiFields(),
  ...o,
})

/** The new-channel form of a provider without settings (Baileys pairs later; sandbox): the Cloud API fields blank. */
export const bareChannelForm = (name: string, provider = 'baileys'): Form => ({
  name,
  provider,
  phoneNumber: '',
  phoneNumberId: '',
  wabaId: '',
  accessToken: '',
  appSecret: '',
  verifyToken: '',
})

/** Creates a channel through the use case, as `actor` (an owner or admin) in its organization. */
export const newChannel = (db: Db, actor: Actor, form: Form, secretKey: string) =>
  withOrg(db, { orgId: actor.orgId, userId: actor.userId }, (tx) => createChannel(tx, actor, form, secretKey))
