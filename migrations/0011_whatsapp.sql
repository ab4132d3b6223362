-- WhatsApp channels (issue #6, provider layer): a channel is one number of an organization behind one
-- provider (cloud-api | baileys | sandbox); Baileys' auth state (creds and signal keys) per channel;
-- and the webhook inbox, where every raw inbound provider event is stored BEFORE the provider gets its
-- 200, then processed by a job. Same tenancy rules as 0003: organization_id everywhere, RLS enabled AND
-- forced, org_isolation, composite (organization_id, id) foreign keys, indexes leading with
-- organization_id. Secrets are sealed with AES-256-GCM (src/platform/crypto/secrets.ts, SECRET_KEY).

create table whatsapp_channels (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  name text not null check (length(name) between 1 and 80),
  -- E.164 (+5511999998888); null until a Baileys channel is paired.
  phone_number text check (phone_number ~ '^\+[1-9][0-9]{6,14}$'),
  provider text not null check (provider in ('cloud-api', 'baileys', 'sandbox')),
  -- Non-secret provider settings (Cloud API: phoneNumberId, wabaId).
  config jsonb not null default '{}',
  -- The provider's secrets as one sealed JSON object (Cloud API: accessToken, appSecret, verifyToken).
  secrets_enc text,
  status text not null default 'disconnected' check (status in
    ('disconnected', 'connecting', 'qr', 'open', 'closed', 'logged_out', 'forbidden', 'error')),
  status_detail text check (length(status_detail) <= 500),
  -- Baileys pairing in progress: the current QR (rotates every ~20 s) or pairing code, shown to admins.
  pairing_qr text check (length(pairing_qr) <= 2000),
  pairing_code text check (length(pairing_code) <= 20),
  -- Sending stopped by an admin (disconnect) or while a provider connects.
  paused boolean not null default false,
  created_by uuid references users(id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, id)
);
create index whatsapp_channels_org_idx on whatsapp_channels (organization_id, created_at);
-- The supervisor resumes Baileys channels that were connected (system scan at start).
create index whatsapp_channels_resume_idx on whatsapp_channels (organization_id, provider, status);

create table whatsapp_auth_state (
  organization_id uuid not null,
  channel_id uuid not null,
  -- 'creds' or '<type>-<id>' (e.g. 'pre-key-12', 'session-5511...', 'app-state-sync-key-AAA=').
  key text not null check (length(key) between 1 and 300),
  -- The value as BufferJSON text, sealed for (channel, key).
  value_enc text not null,
  updated_at timestamptz not null default now(),
  primary key (organization_id, channel_id, key),
  foreign key (organization_id, channel_id) references whatsapp_channels (organization_id, id) on delete cascade
);

create table webhook_inbox (
  id uuid primary key,
  organization_id uuid not null,
  channel_id uuid not null,
  provider text not null check (provider in ('cloud-api', 'baileys', 'sandbox')),
  received_at timestamptz not null default now(),
  -- A subset of the request headers (content-type, user-agent, the signature header's presence).
  headers jsonb not null default '{}',
  -- The raw body as received (webhook providers), or the normalized events (socket providers).
  body text not null,
  status text not null default 'pending' check (status in ('pending', 'processed', 'failed')),
  attempts integer not null default 0,
  error text check (length(error) <= 2000),
  processed_at timestamptz,
  -- Meta redelivers the same body until it gets a 200: stored once per channel.
  dedup_key text check (length(dedup_key) <= 200),
  unique (organization_id, id),
  foreign key (organization_id, channel_id) references whatsapp_channels (organization_id, id) on delete cascade
);
create index webhook_inbox_org_idx on webhook_inbox (organization_id, channel_id, received_at desc);
create index webhook_inbox_pending_idx on webhook_inbox (organization_id, status, received_at)
  where status <> 'processed';
create unique index webhook_inbox_dedup_idx on webhook_inbox (organization_id, channel_id, dedup_key)
  where dedup_key is not null;

alter table whatsapp_channels enable row level security;
alter table whatsapp_channels force row level security;
create policy org_isolation on whatsapp_channels
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table whatsapp_auth_state enable row level security;
alter table whatsapp_auth_state force row level security;
create policy org_isolation on whatsapp_auth_state
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table webhook_inbox enable row level security;
alter table webhook_inbox force row level security;
create policy org_isolation on webhook_inbox
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

grant select, insert, update, delete on whatsapp_channels to __APP_ROLE__;
grant select, insert, update, delete on whatsapp_auth_state to __APP_ROLE__;
-- Raw events are evidence: never edited in place beyond their processing state, gone only with the channel.
grant select, insert on webhook_inbox to __APP_ROLE__;
grant update (status, attempts, error, processed_at) on webhook_inbox to __APP_ROLE__;
