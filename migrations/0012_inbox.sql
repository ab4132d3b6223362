-- The unified inbox (issue #6): conversations per contact per channel, their messages, and the
-- organization's quick replies (canned responses).
-- Same tenancy rules as 0003/0005: organization_id on every table, RLS enabled AND forced, the one
-- org_isolation policy, an index leading with organization_id, composite (organization_id, id)
-- foreign keys between tenant rows, and only the grants the app needs.

-- One thread per contact phone per channel. A provider switch keeps the channel id, so a thread
-- continues by phone number whatever provider carries it.
create table conversations (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  channel_id uuid not null,
  lead_id uuid not null,
  contact_phone text not null check (contact_phone ~ '^\+[1-9][0-9]{6,14}$'),
  contact_name text check (length(contact_name) <= 200),
  assignee_id uuid,
  status text not null default 'open' check (status in ('open', 'pending', 'closed')),
  unread_count integer not null default 0 check (unread_count >= 0),
  last_message_at timestamptz,
  last_message_preview text check (length(last_message_preview) <= 200),
  -- The customer-service window (Cloud API): free-form messages only within 24 h of this.
  last_inbound_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, id),
  unique (organization_id, channel_id, id),
  unique (organization_id, channel_id, contact_phone),
  foreign key (organization_id, channel_id) references whatsapp_channels (organization_id, id) on delete cascade,
  -- The LGPD eraser deletes a lead: its conversations (and their messages) go with it.
  foreign key (organization_id, lead_id) references leads (organization_id, id) on delete cascade,
  foreign key (organization_id, assignee_id) references organization_members (organization_id, user_id)
    on delete set null (assignee_id)
);
-- The list: newest activity first (keyset on last_message_at, id).
create index conversations_list_idx on conversations (organization_id, last_message_at desc nulls last, id desc);
create index conversations_assignee_idx on conversations (organization_id, assignee_id, last_message_at desc);
create index conversations_lead_idx on conversations (organization_id, lead_id);

create table messages (
  id uuid primary key,
  organization_id uuid not null,
  -- Denormalised from the conversation (kept equal by the composite FK): provider ids are unique
  -- per channel, which is how duplicate webhooks are recognised.
  channel_id uuid not null,
  conversation_id uuid not null,
  direction text not null check (direction in ('in', 'out')),
  type text not null check (type in ('text', 'image', 'audio', 'video', 'document', 'location', 'template', 'note', 'unknown')),
  body text check (length(body) <= 10000),
  -- {mime, filename, size, caption, providerMediaId, url, storageKey}: a reference, never the bytes.
  media jsonb check (media is null or jsonb_typeof(media) = 'object'),
  location jsonb check (location is null or jsonb_typeof(location) = 'object'),
  -- {name, language} of an approved template (Cloud API).
  template jsonb check (template is null or jsonb_typeof(template) = 'object'),
  reply_to_id uuid,
  provider_message_id text check (length(provider_message_id) <= 200),
  status text not null default 'pending' check (status in ('pending', 'sent', 'delivered', 'read', 'failed')),
  sent_at timestamptz,
  delivered_at timestamptz,
  read_at timestamptz,
  failed_at timestamptz,
  -- The provider's reason for a failure {code, message}, shown on the message.
  error jsonb check (error is null or jsonb_typeof(error) = 'object'),
  author_id uuid references users(id) on delete set null,
  created_at timestamptz not null default now(),
  unique (organization_id, id),
  foreign key (organization_id, channel_id, conversation_id)
    references conversations (organization_id, channel_id, id) on delete cascade,
  foreign key (organization_id, reply_to_id) references messages (organization_id, id) on delete set null (reply_to_id),
  check ((type = 'note') <= (direction = 'out'))
);
create index messages_conversation_idx on messages (organization_id, conversation_id, created_at, id);
create unique index messages_provider_id_idx on messages (organization_id, channel_id, provider_message_id)
  where provider_message_id is not null;

create table quick_replies (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  shortcut text not null check (shortcut ~ '^[a-z0-9][a-z0-9_-]{0,29}$'),
  body text not null check (length(body) between 1 and 2000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, shortcut)
);
create index quick_replies_org_idx on quick_replies (organization_id, shortcut);

-- Row-level security ------------------------------------------------------------------------------
alter table conversations enable row level security;
alter table conversations force row level security;
create policy org_isolation on conversations
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table messages enable row level security;
alter table messages force row level security;
create policy org_isolation on messages
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table quick_replies enable row level security;
alter table quick_replies force row level security;
create policy org_isolation on quick_replies
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

-- Grants: conversations and messages are never deleted by the app (the lead's erasure cascades);
-- quick replies are managed freely.
grant select, insert, update on conversations to __APP_ROLE__;
grant select, insert, update on messages to __APP_ROLE__;
grant select, insert, update, delete on quick_replies to __APP_ROLE__;
