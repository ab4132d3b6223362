-- Message media (issue #6): the organization's file store for WhatsApp attachments, in the database
-- (one process on PGlite or Postgres, no object store to run), as 1 MiB bytea chunks like the CSV
-- imports of 0007. A file belongs to one message: deleting the message (the LGPD erasure of a lead
-- deletes its conversations, hence their messages) deletes the file and its chunks by cascade.
-- Same tenancy rules as 0003/0012: organization_id everywhere, RLS enabled AND forced, the one
-- org_isolation policy, indexes leading with organization_id, composite foreign keys.

create table media_files (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  -- Null only between a sandbox upload and the processing of its simulated inbound message.
  message_id uuid,
  mime text not null check (length(mime) between 3 and 200),
  filename text check (length(filename) <= 255),
  -- The cap (16 MiB) is enforced by the application (src/modules/inbox/inbox.media.ts); the check
  -- only stops a runaway row.
  size bigint not null check (size between 0 and 104857600),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  created_at timestamptz not null default now(),
  unique (organization_id, id),
  foreign key (organization_id, message_id) references messages (organization_id, id) on delete cascade
);
create index media_files_message_idx on media_files (organization_id, message_id);

create table media_file_chunks (
  organization_id uuid not null,
  file_id uuid not null,
  seq integer not null check (seq >= 0),
  data bytea not null,
  primary key (organization_id, file_id, seq),
  foreign key (organization_id, file_id) references media_files (organization_id, id) on delete cascade
);

alter table media_files enable row level security;
alter table media_files force row level security;
create policy org_isolation on media_files
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table media_file_chunks enable row level security;
alter table media_file_chunks force row level security;
create policy org_isolation on media_file_chunks
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

-- Files are written once and go with their message (cascade): the app only attaches a sandbox upload
-- to the message it became, and never deletes.
grant select, insert on media_files to __APP_ROLE__;
grant update (message_id) on media_files to __APP_ROLE__;
grant select, insert on media_file_chunks to __APP_ROLE__;
