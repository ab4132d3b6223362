-- In-app notifications: per user, within an organization. Same tenancy rules as 0001, plus a user
-- rule: members read and mark only their own; any member's action may create one for a teammate.
create table notifications (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  user_id uuid not null references users(id) on delete cascade,
  kind text not null check (length(kind) between 1 and 100),
  params jsonb not null default '{}',
  link text check (link is null or link ~ '^/'),
  actor_id uuid references users(id) on delete set null,
  read_at timestamptz,
  created_at timestamptz not null default now()
);
create index notifications_user_idx on notifications (organization_id, user_id, created_at desc, id desc);
create index notifications_unread_idx on notifications (organization_id, user_id) where read_at is null;

alter table notifications enable row level security;
alter table notifications force row level security;
-- The organization boundary, as on every tenant table.
create policy org_isolation on notifications
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));
-- Restrictive: within the organization, reading, marking and deleting are for the recipient only.
create policy recipient_only_select on notifications as restrictive for select
  using (user_id = (select nullif(current_setting('app.user_id', true), '')::uuid));
create policy recipient_only_update on notifications as restrictive for update
  using (user_id = (select nullif(current_setting('app.user_id', true), '')::uuid));
create policy recipient_only_delete on notifications as restrictive for delete
  using (user_id = (select nullif(current_setting('app.user_id', true), '')::uuid));

grant select, insert, delete on notifications to __APP_ROLE__;
grant update (read_at) on notifications to __APP_ROLE__;
