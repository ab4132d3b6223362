-- Lead scoring (rules + a learned model) and automatic assignment.
-- Same tenancy rules as 0003/0005: organization_id on every table, RLS enabled AND forced, the one
-- org_isolation policy, an index leading with organization_id, composite (organization_id, id)
-- foreign keys between tenant rows, and only the grants the app needs.

-- Scoring rules: "source is Google Ads: +20", "replied on WhatsApp in the last 7 days: +30, halving
-- every 3 days". The condition is validated jsonb (leads.conditions.ts), never code.
create table scoring_rules (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  name text not null check (length(name) between 1 and 80),
  condition jsonb not null check (jsonb_typeof(condition) = 'object' and condition ? 'type'),
  points integer not null check (points between -1000 and 1000 and points <> 0),
  -- Points shrink with the age of the triggering fact: linearly to 0 over decay_days, or halving
  -- every decay_days.
  decay text not null default 'none' check (decay in ('none', 'linear', 'half_life')),
  decay_days integer check (decay_days between 1 and 3650),
  active boolean not null default true,
  position integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, id),
  check ((decay = 'none') = (decay_days is null))
);
create index scoring_rules_org_idx on scoring_rules (organization_id, position, id);

-- The organization's learned win-probability model (one row per organization).
create table scoring_models (
  organization_id uuid primary key references organizations(id) on delete cascade,
  -- 'trained', or 'insufficient' (not enough won and lost leads), or 'failed'.
  status text not null check (status in ('trained', 'insufficient', 'failed')),
  -- Feature names, their mean and standard deviation (standardisation), weights and intercept.
  model jsonb not null default '{}' check (jsonb_typeof(model) = 'object'),
  sample_size integer not null default 0 check (sample_size >= 0),
  won integer not null default 0 check (won >= 0),
  lost integer not null default 0 check (lost >= 0),
  holdout_size integer not null default 0 check (holdout_size >= 0),
  accuracy real check (accuracy between 0 and 1),
  auc real check (auc between 0 and 1),
  -- The majority-class rate on the same held-out leads: what "always guess the commonest" scores.
  baseline real check (baseline between 0 and 1),
  trained_at timestamptz not null default now()
);

-- A "rescore every lead" run (after a rule change, the admin button, the daily decay pass), with
-- its progress for the settings page.
create table scoring_runs (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  reason text not null check (reason in ('rules', 'manual', 'daily', 'model')),
  state text not null default 'queued' check (state in ('queued', 'running', 'done', 'superseded', 'failed')),
  total integer not null default 0 check (total >= 0),
  done integer not null default 0 check (done >= 0),
  changed integer not null default 0 check (changed >= 0),
  started_at timestamptz,
  finished_at timestamptz,
  created_at timestamptz not null default now(),
  unique (organization_id, id)
);
create index scoring_runs_org_idx on scoring_runs (organization_id, created_at desc, id desc);

-- Assignment rules: the first active rule whose condition matches (and that has an available
-- member) picks the owner in its team, round-robin or least-loaded (fewest open leads).
create table assignment_rules (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  name text not null check (length(name) between 1 and 80),
  condition jsonb not null check (jsonb_typeof(condition) = 'object' and condition ? 'type'),
  strategy text not null default 'round_robin' check (strategy in ('round_robin', 'least_loaded')),
  -- Round-robin turn: the member who got the last lead (the rule row is locked FOR UPDATE to move it).
  last_user_id uuid,
  active boolean not null default true,
  position integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, id),
  foreign key (organization_id, last_user_id) references organization_members (organization_id, user_id)
    on delete set null (last_user_id)
);
create index assignment_rules_org_idx on assignment_rules (organization_id, position, id);

-- A rule's team. A member who leaves the organization leaves every team (cascade).
create table assignment_rule_members (
  organization_id uuid not null,
  rule_id uuid not null,
  user_id uuid not null,
  primary key (organization_id, rule_id, user_id),
  foreign key (organization_id, rule_id) references assignment_rules (organization_id, id) on delete cascade,
  foreign key (organization_id, user_id) references organization_members (organization_id, user_id)
    on delete cascade
);

-- Row-level security ------------------------------------------------------------------------------
alter table scoring_rules enable row level security;
alter table scoring_rules force row level security;
create policy org_isolation on scoring_rules
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table scoring_models enable row level security;
alter table scoring_models force row level security;
create policy org_isolation on scoring_models
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table scoring_runs enable row level security;
alter table scoring_runs force row level security;
create policy org_isolation on scoring_runs
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table assignment_rules enable row level security;
alter table assignment_rules force row level security;
create policy org_isolation on assignment_rules
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table assignment_rule_members enable row level security;
alter table assignment_rule_members force row level security;
create policy org_isolation on assignment_rule_members
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

grant select, insert, update, delete on scoring_rules to __APP_ROLE__;
grant select, insert, update on scoring_models to __APP_ROLE__;
grant select, insert, update on scoring_runs to __APP_ROLE__;
grant select, insert, update, delete on assignment_rules to __APP_ROLE__;
grant select, insert, delete on assignment_rule_members to __APP_ROLE__;
