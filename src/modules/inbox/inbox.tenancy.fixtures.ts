/**
 * Test helper for the cross-tenant tests (src/platform/db/tenancy.test.ts, inbox.tenancy.test.ts):
 * gives an organization a row in every inbox and WhatsApp tenant table, each through the path that
 * writes it in production — channels through the channel use case, a signed Cloud API webhook
 * through the route and the processing job (webhook_inbox → lead, conversation, message), a sandbox
 * "write as a customer" with an attachment (media_files and their chunks), a quick reply, a template
 * sync and Baileys credentials.
 */
import { createHmac } from 'node:crypto'
import type { TestApp } from '../../../test/harness'
import { BASE } from '../../../test/harness'
import { withOrg } from '../../platform/db/tenancy'
import { createWorker } from '../../platform/jobs/jobs.worker'
import { usePostgresAuthState } from '../whatsapp/whatsapp.baileys-auth'
import {
  bareChannelForm,
  cloudChannelForm,
  cloudInboundText,
  newChannel,
} from '../whatsapp/whatsapp.fixtures'
import { processInboundJob, simulateInbound } from '../whatsapp/whatsapp.inbound'
import { storeTemplates } from '../whatsapp/whatsapp.templates'
import { prepareAttachment, storeMediaFile } from './inbox.media'
import { createQuickReply } from './inbox.usecases'

/** Every tenant table of the inbox and the WhatsApp channels. */
export const INBOX_TENANT_TABLES = [
  'whatsapp_channels',
  'whatsapp_auth_state',
  'whatsapp_templates',
  'webhook_inbox',
  'conversations',
  'messages',
  'quick_replies',
  'media_files',
  'media_file_chunks',
] as const

/** The smallest valid PNG (1×1), so the stored attachment is sniffed as an image. */
const PNG = Uint8Array.from(
  atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='),
  (c) => c.charCodeAt(0),
)

export interface InboxTenant {
  cloudChannel: string
  sandboxChannel: string
  baileysChannel: string
  conversation: string
  lead: string
  message: string
  mediaFile: string
  quickReply: string
  /** Text that appears only in this tenant's rows (to look for in another tenant's pages). */
  secret: string
}

export async function seedInboxTenant(
  t: Pick<TestApp, 'db' | 'config' | 'handle'>,
  m: { orgId: string; userId: string },
  label = 'A',
): Promise<InboxTenant> {
  const actor = { orgId: m.orgId, userId: m.userId, role: 'owner' as const, ip: null }
  const secret = `segredo de ${label}`
  const appSecret = `app-secret-${label}`
  const cloud = await newChannel(
    t.db,
    actor,
    cloudChannelForm({ name: `Cloud ${label}`, appSecret }),
    t.config.secretKey,
  )
  const sandbox = await newChannel(
    t.db,
    actor,
    bareChannelForm(`Sandbox ${label}`, 'sandbox'),
    t.config.secretKey,
  )
  const baileys = await newChannel(
    t.db,
    actor,
    bareChannelForm(`Web ${label}`, 'baileys'),
    t.config.secretKey,
  )

  // Meta's signed webhook: stored raw before the 200, then processed into lead, conversation, message.
  const body = JSON.stringify(
    cloudInboundText({
      from: '5511987650001',
      name: `Cliente de ${label}`,
      id: `wamid.tenant.${label}.${Bun.randomUUIDv7()}`,
      body: secret,
    }),
  )
  const res = await t.handle(
    new Request(`${BASE}/webhooks/whatsapp/${cloud.id}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`,
      },
      body,
    }),
  )
  if (res.status !== 200) throw new Error(`webhook: ${res.status} ${await res.text()}`)
  await createWorker({ db: t.db, jobs: [processInboundJob] }).runDue()

  const ids = await withOrg(t.db, m, async (tx) => {
    // The sandbox's "write as a customer" with an image: media_files + media_file_chunks.
    const file = await storeMediaFile(
      tx,
      prepareAttachment({ data: PNG, mime: 'image/png', filename: 'a.png' }),
    )
    await simulateInbound(tx, sandbox.id, {
      from: '+5511987650002',
      text: `${secret} (foto)`,
      media: { type: 'image', fileId: file.id, mime: file.mime, filename: 'a.png' },
    })
    const quickReply = await createQuickReply(tx, actor, {
      shortcut: `preco-${label.toLowerCase()}`,
      body: secret,
    })
    await storeTemplates(tx, cloud.id, [
      {
        name: 'boas_vindas',
        language: 'pt_BR',
        status: 'APPROVED',
        category: 'MARKETING',
        components: [{ type: 'BODY', text: `Olá {{1}}, ${secret}` }],
      },
    ])
    return { mediaFile: file.id, quickReply }
  })
  await createWorker({ db: t.db, jobs: [processInboundJob] }).runDue()
  // WhatsApp Web credentials, stored the way the supervisor stores them.
  const auth = await usePostgresAuthState(t.db, { orgId: m.orgId, channelId: baileys.id }, t.config.secretKey)
  await auth.saveCreds()

  const [conv] = await t.db.raw.query<{ id: string; lead_id: string }>(
    'select id, lead_id from conversations where channel_id = $1',
    [cloud.id],
  )
  const [msg] = await t.db.raw.query<{ id: string }>('select id from messages where conversation_id = $1', [
    conv!.id,
  ])
  return {
    cloudChannel: cloud.id,
    sandboxChannel: sandbox.id,
    baileysChannel: baileys.id,
    conversation: conv!.id,
    lead: conv!.lead_id,
    message: msg!.id,
    secret,
    ...ids,
  }
}
