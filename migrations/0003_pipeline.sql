-- Pipeline: pipelines, their stages, the shared leads table (the Leads issue extends it), the lead
-- timeline, configurable loss reasons and per-user saved board views.
-- Same tenancy rules as 0001: organization_id on every table, RLS enabled AND forced, one
-- org_isolation policy, indexes leading with organization_id, grants only for what the app does.
--
-- Cross-row references are composite foreign keys that include organization_id: a row can only point
-- at a row of its own organization. (Foreign-key checks run as the table owner and ignore RLS, so a
-- plain `references stages(id)` would let one tenant attach its lead to another tenant's stage.)

create table pipelines (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  name text not null check (length(name) between 1 and 80),
  currency text not null default 'BRL' check (currency ~ '^[A-Z]{3}$'),
  position integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, id)
);
create index pipelines_org_idx on pipelines (organization_id, position);

create table stages (
  id uuid primary key,
  organization_id uuid not null,
  pipeline_id uuid not null,
  name text not null check (length(name) between 1 and 60),
  color text not null default '#64748b' check (color ~ '^#[0-9a-f]{6}$'),
  -- Win probability in percent, for the weighted forecast.
  probability smallint not null default 0 check (probability between 0 and 100),
  kind text not null default 'open' check (kind in ('open', 'won', 'lost')),
  position integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, id),
  unique (organization_id, pipeline_id, id),
  foreign key (organization_id, pipeline_id) references pipelines (organization_id, id) on delete cascade
);
create index stages_org_pipeline_idx on stages (organization_id, pipeline_id, position);

create table leads (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  pipeline_id uuid not null,
  stage_id uuid not null,
  -- Order inside a stage: gap-based (new rows 2^20 apart, a move takes the midpoint of its new
  -- neighbours), so a move is a single-row update; a stage is renumbered only when a gap runs out.
  position bigint not null default 0,
  -- Compare-and-set token: every update bumps it; a move names the version it saw.
  version integer not null default 1,
  full_name text not null check (length(full_name) between 1 and 200),
  email text check (length(email) <= 254),
  phone text check (length(phone) <= 40),
  company text check (length(company) <= 200),
  job_title text check (length(job_title) <= 120),
  value_cents bigint not null default 0 check (value_cents between 0 and 100000000000000),
  currency text not null default 'BRL' check (currency ~ '^[A-Z]{3}$'),
  source text check (length(source) between 1 and 60),
  owner_id uuid,
  tags text[] not null default '{}' check (cardinality(tags) <= 20),
  score integer not null default 0 check (score between -1000 and 1000),
  lost_reason text check (length(lost_reason) <= 300),
  won_at timestamptz,
  lost_at timestamptz,
  last_activity_at timestamptz not null default now(),
  created_by uuid references users(id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, id),
  -- The stage belongs to the lead's pipeline and organization. No cascade: deleting a stage that
  -- still has leads fails; the app moves them first.
  foreign key (organization_id, pipeline_id, stage_id) references stages (organization_id, pipeline_id, id),
  -- The owner is a member of the organization; a member who leaves leaves their leads unassigned.
  foreign key (organization_id, owner_id) references organization_members (organization_id, user_id)
    on delete set null (owner_id)
);
-- The board: one stage's cards in order (keyset paging on position, id).
create index leads_stage_idx on leads (organization_id, stage_id, position, id);
-- Column counts and totals of a pipeline in one pass (index-only once the visibility map is set).
create index leads_pipeline_idx on leads (organization_id, pipeline_id, stage_id) include (value_cents);
create index leads_owner_idx on leads (organization_id, owner_id);
create index leads_created_idx on leads (organization_id, created_at);

create table lead_activities (
  id uuid primary key,
  organization_id uuid not null,
  lead_id uuid not null,
  actor_id uuid references users(id) on delete set null,
  -- created, edited, moved, note, won, lost, reopened, assigned... (the Leads issue adds more)
  kind text not null check (kind ~ '^[a-z][a-z_.]{0,39}$'),
  data jsonb not null default '{}',
  created_at timestamptz not null default now(),
  foreign key (organization_id, lead_id) references leads (organization_id, id) on delete cascade
);
create index lead_activities_lead_idx on lead_activities (organization_id, lead_id, created_at desc);

create table loss_reasons (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  label text not null check (length(label) between 1 and 80),
  position integer not null default 0,
  created_at timestamptz not null default now()
);
create index loss_reasons_org_idx on loss_reasons (organization_id, position);

create table saved_views (
  id uuid primary key,
  organization_id uuid not null,
  user_id uuid not null,
  pipeline_id uuid not null,
  name text not null check (length(name) between 1 and 60),
  -- The board's filter query string (owner=mine&tag=vip...), re-validated when applied.
  query text not null default '' check (length(query) <= 1000),
  created_at timestamptz not null default now(),
  foreign key (organization_id, user_id) references organization_members (organization_id, user_id)
    on delete cascade,
  foreign key (organization_id, pipeline_id) references pipelines (organization_id, id) on delete cascade
);
create index saved_views_user_idx on saved_views (organization_id, user_id, pipeline_id, name);

-- Row-level security ------------------------------------------------------------------------------
alter table pipelines enable row level security;
alter table pipelines force row level security;
create policy org_isolation on pipelines
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table stages enable row level security;
alter table stages force row level security;
create policy org_isolation on stages
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table leads enable row level security;
alter table leads force row level security;
create policy org_isolation on leads
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table lead_activities enable row level security;
alter table lead_activities force row level security;
create policy org_isolation on lead_activities
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table loss_reasons enable row level security;
alter table loss_reasons force row level security;
create policy org_isolation on loss_reasons
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table saved_views enable row level security;
alter table saved_views force row level security;
create policy org_isolation on saved_views
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));
-- Saved views are personal: a second, restrictive policy keeps them to their user inside the org.
create policy own_views on saved_views as restrictive
  using (user_id = (select nullif(current_setting('app.user_id', true), '')::uuid))
  with check (user_id = (select nullif(current_setting('app.user_id', true), '')::uuid));

-- Grants: only what the app does. Leads are not deleted by the pipeline (the Leads issue adds LGPD
-- deletion); the timeline is append-only.
grant select, insert, update, delete on pipelines to __APP_ROLE__;
grant select, insert, update, delete on stages to __APP_ROLE__;
grant select, insert, update on leads to __APP_ROLE__;
grant select, insert on lead_activities to __APP_ROLE__;
grant select, insert, update, delete on loss_reasons to __APP_ROLE__;
grant select, insert, delete on saved_views to __APP_ROLE__;
