-- Foundation: organizations, users, membership, sessions, invitations, audit log.
-- Tenancy rules (docs/architecture.md): every tenant table has organization_id, RLS enabled AND
-- forced, one org_isolation policy, an index leading with organization_id, and grants to the app
-- role only for what the app does. __APP_ROLE__ is replaced by the migrator (APP_ROLE).

-- Roles are cluster-wide: create it once, tolerate a concurrent creator.
do $$ begin
  create role __APP_ROLE__ nologin nosuperuser nobypassrls;
exception when duplicate_object then null;
end $$;

-- A non-superuser migrating user must be a member to `set role` to it.
do $$ begin
  if not (select rolsuper from pg_roles where rolname = current_user) then
    execute format('grant %I to %I', '__APP_ROLE__', current_user);
  end if;
end $$;

grant usage on schema public to __APP_ROLE__;

create table organizations (
  id uuid primary key,
  name text not null check (length(name) between 1 and 120),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  locale text not null default 'pt-BR',
  timezone text not null default 'America/Sao_Paulo',
  display_name text,
  logo_url text,
  primary_color text check (primary_color is null or primary_color ~ '^#[0-9a-fA-F]{6}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table users (
  id uuid primary key,
  email text not null unique check (email = lower(email)),
  name text not null,
  password_hash text not null,
  locale text,
  is_instance_admin boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table organization_members (
  organization_id uuid not null references organizations(id) on delete cascade,
  user_id uuid not null references users(id) on delete cascade,
  role text not null check (role in ('owner', 'admin', 'member')),
  created_at timestamptz not null default now(),
  primary key (organization_id, user_id)
);
-- The org switcher lists a user's organizations (a system query).
create index organization_members_user_idx on organization_members (user_id);

create table invitations (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  email text not null check (email = lower(email)),
  role text not null check (role in ('owner', 'admin', 'member')),
  token_hash text not null unique,
  invited_by uuid references users(id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  accepted_at timestamptz,
  accepted_by uuid references users(id) on delete set null,
  revoked_at timestamptz
);
create index invitations_org_idx on invitations (organization_id, created_at desc);

create table audit_log (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  actor_user_id uuid references users(id) on delete set null,
  action text not null,
  target_type text,
  target_id text,
  before jsonb,
  after jsonb,
  ip text,
  created_at timestamptz not null default now()
);
create index audit_log_org_idx on audit_log (organization_id, created_at desc, id desc);

-- Not tenant tables: sessions and credentials belong to users and are only reached by withSystem.
create table sessions (
  id text primary key,                  -- hex SHA-256 of the token; the token itself is never stored
  user_id uuid not null references users(id) on delete cascade,
  active_org_id uuid references organizations(id) on delete set null,
  remember boolean not null default false,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  absolute_expires_at timestamptz not null,
  ip text,
  user_agent text
);
create index sessions_user_idx on sessions (user_id);

create table password_resets (
  token_hash text primary key,
  user_id uuid not null references users(id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
create index password_resets_user_idx on password_resets (user_id);

create table login_throttle (
  key text primary key,
  failures integer not null default 0,
  window_start timestamptz not null default now(),
  locked_until timestamptz
);

create table mail_outbox (
  id uuid primary key,
  to_address text not null,
  subject text not null,
  text_body text not null,
  html_body text,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  attempts integer not null default 0,
  last_error text
);
create index mail_outbox_unsent_idx on mail_outbox (created_at) where sent_at is null;

-- Row-level security ------------------------------------------------------------------------------
alter table organizations enable row level security;
alter table organizations force row level security;
create policy org_isolation on organizations
  using (id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table organization_members enable row level security;
alter table organization_members force row level security;
create policy org_isolation on organization_members
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table invitations enable row level security;
alter table invitations force row level security;
create policy org_isolation on invitations
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table audit_log enable row level security;
alter table audit_log force row level security;
create policy org_isolation on audit_log
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

-- Users are global, but the app role sees only itself and members of the current organization
-- (the subquery is itself filtered by organization_members' policy).
alter table users enable row level security;
alter table users force row level security;
create policy member_visibility on users for select
  using (
    id = (select nullif(current_setting('app.user_id', true), '')::uuid)
    or exists (select 1 from organization_members m where m.user_id = users.id)
  );
create policy self_update on users for update
  using (id = (select nullif(current_setting('app.user_id', true), '')::uuid))
  with check (id = (select nullif(current_setting('app.user_id', true), '')::uuid));

-- Grants: only what the app does. The audit log is append-only for the app role.
grant select, update on organizations to __APP_ROLE__;
-- Never the password hash: tenant code reads users column by column.
grant select (id, email, name, locale, is_instance_admin, created_at, updated_at) on users to __APP_ROLE__;
grant update (name, locale, updated_at) on users to __APP_ROLE__;
grant select, insert, update, delete on organization_members to __APP_ROLE__;
grant select, insert, update, delete on invitations to __APP_ROLE__;
grant select, insert on audit_log to __APP_ROLE__;
