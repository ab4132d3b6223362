-- Lead deduplication: per-organization settings, the queue of possible duplicates and the record of
-- every merge. Same tenancy rules as 0003/0005: organization_id on every table, RLS enabled AND
-- forced, the org_isolation policy, indexes leading with organization_id, composite foreign keys.

-- Settings: one row per organization (absent = the defaults below).
create table lead_settings (
  organization_id uuid primary key references organizations(id) on delete cascade,
  -- auto: certain matches merge by themselves, probable ones go to review; review: every match goes to
  -- review; off: no duplicate search at capture.
  dedup_mode text not null default 'auto' check (dedup_mode in ('auto', 'review', 'off')),
  -- Match scores are percentages: at or above auto_merge_min a match is certain, at or above
  -- review_min it is probable.
  auto_merge_min smallint not null default 90 check (auto_merge_min between 50 and 100),
  review_min smallint not null default 60 check (review_min between 30 and 100),
  updated_at timestamptz not null default now(),
  check (review_min <= auto_merge_min)
);

-- Possible duplicates, one row per unordered pair (lead_a < lead_b). A merge or an erasure deletes a
-- lead: its side becomes null and the row stays as history (status merged or dismissed); the queue
-- only shows open pairs with both sides present. Reasons hold codes and numbers, never personal data.
create table lead_duplicates (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  lead_a uuid,
  lead_b uuid,
  score smallint not null check (score between 0 and 100),
  reasons jsonb not null default '[]' check (jsonb_typeof(reasons) = 'array'),
  status text not null default 'open' check (status in ('open', 'merged', 'dismissed')),
  created_at timestamptz not null default now(),
  resolved_at timestamptz,
  resolved_by uuid references users(id) on delete set null,
  unique (organization_id, lead_a, lead_b),
  check (lead_a is null or lead_b is null or lead_a < lead_b),
  foreign key (organization_id, lead_a) references leads (organization_id, id) on delete set null (lead_a),
  foreign key (organization_id, lead_b) references leads (organization_id, id) on delete set null (lead_b)
);
create index lead_duplicates_open_idx on lead_duplicates (organization_id, status, score desc, id);
create index lead_duplicates_b_idx on lead_duplicates (organization_id, lead_b);

-- Every merge: who, when, and a snapshot of the lead that disappeared (audit, undo by hand). The
-- snapshot holds personal data, so it goes with the kept lead when that one is erased (cascade).
create table lead_merges (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  kept_lead_id uuid not null,
  merged_lead_id uuid not null,
  merged_by uuid references users(id) on delete set null,
  -- manual (review screen), or the capture channel of an automatic merge (import, capture, ...).
  via text not null check (via ~ '^[a-z_]{1,20}$'),
  snapshot jsonb not null,
  changes jsonb not null default '{}',
  created_at timestamptz not null default now(),
  foreign key (organization_id, kept_lead_id) references leads (organization_id, id) on delete cascade
);
create index lead_merges_kept_idx on lead_merges (organization_id, kept_lead_id, created_at desc);

-- Row-level security ------------------------------------------------------------------------------
alter table lead_settings enable row level security;
alter table lead_settings force row level security;
create policy org_isolation on lead_settings
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table lead_duplicates enable row level security;
alter table lead_duplicates force row level security;
create policy org_isolation on lead_duplicates
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table lead_merges enable row level security;
alter table lead_merges force row level security;
create policy org_isolation on lead_merges
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

-- Grants: only what the app does.
grant select, insert, update on lead_settings to __APP_ROLE__;
grant select, insert, update, delete on lead_duplicates to __APP_ROLE__;
grant select, insert on lead_merges to __APP_ROLE__;
-- A merge re-points every row that references the merged lead to the kept one (leads.dedup.ts finds
-- them in pg_constraint). Tables that reference leads must let the app role update that column; a
-- test fails for any that does not.
grant update (lead_id) on lead_activities to __APP_ROLE__;
grant update (kept_lead_id) on lead_merges to __APP_ROLE__;
