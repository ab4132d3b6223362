-- Platform services: domain events (transactional outbox), the durable job queue, recurring schedules.
-- Same tenancy rules as 0001: every table with organization_id has RLS enabled AND forced, one
-- org_isolation policy, an index leading with organization_id, and only the grants the app needs.

-- Outbox ------------------------------------------------------------------------------------------
-- One row per organization: the last version handed out. `recordEvent` bumps it with an upsert in the
-- writer's transaction, so the row lock serialises writers of one organization: version N commits (or
-- rolls back and is reused) before N+1 is allocated, and readers never see a gap.
create table outbox_counters (
  organization_id uuid primary key references organizations(id) on delete cascade,
  version bigint not null check (version > 0)
);

create table outbox_events (
  organization_id uuid not null references organizations(id) on delete cascade,
  version bigint not null,
  type text not null check (length(type) between 1 and 100),
  payload jsonb not null default '{}',
  -- Set for personal events (topic user:<id>); null for the whole organization.
  user_id uuid references users(id) on delete cascade,
  -- Who caused it (app.user_id of the writing transaction), informational.
  actor_id uuid,
  created_at timestamptz not null default now(),
  primary key (organization_id, version)
);
create index outbox_events_created_idx on outbox_events (created_at);

-- Durable consumers' position per organization (events handed to job enqueuers, webhooks...).
create table outbox_cursors (
  organization_id uuid primary key references organizations(id) on delete cascade,
  version bigint not null default 0,
  updated_at timestamptz not null default now()
);

-- Jobs --------------------------------------------------------------------------------------------
-- organization_id is null for system jobs: the org_isolation policy never matches null, so the app
-- role can neither see nor create them; the worker reaches them with withSystem.
create table jobs (
  id uuid primary key,
  organization_id uuid references organizations(id) on delete cascade,
  queue text not null default 'default' check (queue ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  name text not null check (length(name) between 1 and 200),
  payload jsonb not null default '{}',
  state text not null default 'queued'
    check (state in ('queued', 'running', 'failed', 'completed', 'dead', 'cancelled')),
  priority integer not null default 0,
  run_at timestamptz not null default now(),
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 5 check (max_attempts between 1 and 1000),
  idempotency_key text check (length(idempotency_key) between 1 and 400),
  locked_by text,
  locked_until timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz
);
create index jobs_org_idx on jobs (organization_id, state, run_at);
create index jobs_claim_idx on jobs (queue, priority desc, run_at) where state in ('queued', 'failed');
create index jobs_lease_idx on jobs (locked_until) where state = 'running';
create index jobs_finished_idx on jobs (finished_at) where state in ('completed', 'dead', 'cancelled');
-- One job per key and organization (system jobs share the null organization).
create unique index jobs_idempotency_uq on jobs (organization_id, idempotency_key) nulls not distinct
  where idempotency_key is not null;

-- Recurring jobs (system only: not a tenant table, no grant to the app role).
create table job_schedules (
  name text primary key,
  cron text not null,
  timezone text,
  job_name text not null,
  queue text not null,
  payload jsonb not null default '{}',
  next_run_at timestamptz not null,
  last_run_at timestamptz,
  updated_at timestamptz not null default now()
);

-- Row-level security ------------------------------------------------------------------------------
alter table outbox_counters enable row level security;
alter table outbox_counters force row level security;
create policy org_isolation on outbox_counters
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table outbox_events enable row level security;
alter table outbox_events force row level security;
create policy org_isolation on outbox_events
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table outbox_cursors enable row level security;
alter table outbox_cursors force row level security;
create policy org_isolation on outbox_cursors
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table jobs enable row level security;
alter table jobs force row level security;
create policy org_isolation on jobs
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

-- Grants: the outbox is append-only for the app role; jobs can be enqueued, listed, retried and
-- discarded (update), never deleted.
grant select, insert, update on outbox_counters to __APP_ROLE__;
grant select, insert on outbox_events to __APP_ROLE__;
grant select, insert, update on outbox_cursors to __APP_ROLE__;
grant select, insert, update on jobs to __APP_ROLE__;
