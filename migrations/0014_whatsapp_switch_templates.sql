-- WhatsApp (issue #6): a provider switch started from the settings page, and the approved message
-- templates of Cloud API channels synced for the inbox's template picker.
--
-- switch_from: while a switch is in progress, what the channel was before it (provider, config,
-- sealed secrets, phone number, paused), so "Cancel" can put it back; null otherwise. The channel id
-- never changes, so conversations, messages and leads stay attached to it.
alter table whatsapp_channels add column switch_from jsonb;
alter table whatsapp_channels add column templates_synced_at timestamptz;
alter table whatsapp_channels add column templates_error text check (length(templates_error) <= 500);

-- One row per (channel, template name, language) as Meta lists it (GET /{waba-id}/message_templates).
-- `params`: the body's parameters in order ("1", "2"… or the names of NAMED templates);
-- `sendable`: false when sending it needs something the composer cannot give (a media header, a
-- header or button variable).
create table whatsapp_templates (
  id uuid primary key,
  organization_id uuid not null,
  channel_id uuid not null,
  name text not null check (length(name) between 1 and 512),
  language text not null check (length(language) between 2 and 15),
  status text not null check (length(status) between 1 and 40),
  category text check (length(category) <= 40),
  parameter_format text not null default 'POSITIONAL' check (parameter_format in ('POSITIONAL', 'NAMED')),
  body text not null default '' check (length(body) <= 4096),
  params jsonb not null default '[]',
  sendable boolean not null default true,
  components jsonb not null default '[]',
  provider_template_id text check (length(provider_template_id) <= 100),
  synced_at timestamptz not null default now(),
  unique (organization_id, id),
  unique (organization_id, channel_id, name, language),
  foreign key (organization_id, channel_id) references whatsapp_channels (organization_id, id) on delete cascade
);
create index whatsapp_templates_org_idx on whatsapp_templates (organization_id, channel_id, status, name);

alter table whatsapp_templates enable row level security;
alter table whatsapp_templates force row level security;
create policy org_isolation on whatsapp_templates
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

grant select, insert, update, delete on whatsapp_templates to __APP_ROLE__;
