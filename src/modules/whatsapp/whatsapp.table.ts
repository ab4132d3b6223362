/**
 * WhatsApp tables (migrations/0011_whatsapp.sql): channels, Baileys auth state, the webhook inbox.
 * References between tenant rows are composite (organization_id, id) foreign keys.
 */
import {
  boolean,
  foreignKey,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  unique,
  uuid,
} from 'drizzle-orm/pg-core'
import { idColumn, ts } from '../../platform/db/columns'
import { organizations } from '../orgs/orgs.table'

export const WHATSAPP_PROVIDER_NAMES = ['cloud-api', 'baileys', 'sandbox'] as const
export type WhatsAppProviderName = (typeof WHATSAPP_PROVIDER_NAMES)[number]

export const CHANNEL_STATUSES = [
  'disconnected',
  'connecting',
  'qr',
  'open',
  'closed',
  'logged_out',
  'forbidden',
  'error',
] as const
export type ChannelStatus = (typeof CHANNEL_STATUSES)[number]

export type InboxStatus = 'pending' | 'processed' | 'failed'

export const whatsappChannels = pgTable(
  'whatsapp_channels',
  {
    id: idColumn(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    phoneNumber: text('phone_number'),
    provider: text('provider').$type<WhatsAppProviderName>().notNull(),
    config: jsonb('config').$type<Record<string, string>>().notNull().default({}),
    secretsEnc: text('secrets_enc'),
    status: text('status').$type<ChannelStatus>().notNull().default('disconnected'),
    statusDetail: text('status_detail'),
    pairingQr: text('pairing_qr'),
    pairingCode: text('pairing_code'),
    paused: boolean('paused').notNull().default(false),
    /** A provider switch in progress: what the channel was before it (whatsapp.switch.ts). */
    switchFrom: jsonb('switch_from').$type<SwitchFrom | null>(),
    templatesSyncedAt: ts('templates_synced_at'),
    templatesError: text('templates_error'),
    /** Which process holds the Baileys socket, until when (whatsapp.baileys-lease.ts, migrations/0017). */
    socketOwner: text('socket_owner'),
    socketLeaseUntil: ts('socket_lease_until'),
    createdBy: uuid('created_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [unique().on(t.organizationId, t.id)],
)
export type WhatsAppChannel = typeof whatsappChannels.$inferSelect

/** The channel before a switch (migrations/0014): restored as is by "Cancel". */
export interface SwitchFrom {
  provider: WhatsAppProviderName
  config: Record<string, string>
  secretsEnc: string | null
  phoneNumber: string | null
  paused: boolean
  status: ChannelStatus
  /** ISO time the switch started, and by whom. */
  startedAt: string
  startedBy: string | null
}

export const whatsappAuthState = pgTable(
  'whatsapp_auth_state',
  {
    organizationId: uuid('organization_id').notNull(),
    channelId: uuid('channel_id').notNull(),
    key: text('key').notNull(),
    valueEnc: text('value_enc').notNull(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.channelId, t.key] }),
    foreignKey({
      columns: [t.organizationId, t.channelId],
      foreignColumns: [whatsappChannels.organizationId, whatsappChannels.id],
    }).onDelete('cascade'),
  ],
)

export const webhookInbox = pgTable(
  'webhook_inbox',
  {
    id: idColumn(),
    organizationId: uuid('organization_id').notNull(),
    channelId: uuid('channel_id').notNull(),
    provider: text('provider').$type<WhatsAppProviderName>().notNull(),
    receivedAt: ts('received_at').notNull().defaultNow(),
    headers: jsonb('headers').$type<Record<string, string>>().notNull().default({}),
    body: text('body').notNull(),
    status: text('status').$type<InboxStatus>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    processedAt: ts('processed_at'),
    dedupKey: text('dedup_key'),
  },
  (t) => [
    unique().on(t.organizationId, t.id),
    foreignKey({
      columns: [t.organizationId, t.channelId],
      foreignColumns: [whatsappChannels.organizationId, whatsappChannels.id],
    }).onDelete('cascade'),
  ],
)
export type WebhookInboxRow = typeof webhookInbox.$inferSelect

/** Approved (and other) message templates of a Cloud API channel, synced from Meta (0014). */
export const whatsappTemplates = pgTable(
  'whatsapp_templates',
  {
    id: idColumn(),
    organizationId: uuid('organization_id').notNull(),
    channelId: uuid('channel_id').notNull(),
    name: text('name').notNull(),
    language: text('language').notNull(),
    status: text('status').notNull(),
    category: text('category'),
    parameterFormat: text('parameter_format').$type<'POSITIONAL' | 'NAMED'>().notNull().default('POSITIONAL'),
    body: text('body').notNull().default(''),
    params: jsonb('params').$type<string[]>().notNull().default([]),
    sendable: boolean('sendable').notNull().default(true),
    components: jsonb('components').$type<unknown[]>().notNull().default([]),
    providerTemplateId: text('provider_template_id'),
    syncedAt: ts('synced_at').notNull().defaultNow(),
  },
  (t) => [
    unique().on(t.organizationId, t.id),
    unique().on(t.organizationId, t.channelId, t.name, t.language),
    foreignKey({
      columns: [t.organizationId, t.channelId],
      foreignColumns: [whatsappChannels.organizationId, whatsappChannels.id],
    }).onDelete('cascade'),
  ],
)
export type WhatsAppTemplate = typeof whatsappTemplates.$inferSelect
