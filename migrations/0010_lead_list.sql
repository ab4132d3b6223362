-- The lead list: per-user column choice and saved list views, plus the indexes its sorts page on.
-- Same tenancy rules as 0003: organization_id on every table, RLS enabled AND forced, the
-- org_isolation policy, a restrictive per-user policy (both tables are personal), composite
-- foreign keys to the member, indexes leading with organization_id, minimal grants.

-- Which columns a member shows in the list (null = the default set). One row per member.
create table lead_list_prefs (
  organization_id uuid not null,
  user_id uuid not null,
  -- Column ids ('name', 'company', 'cf:cnpj', ...), in display order; unknown ids are ignored on read.
  columns text[] not null default '{}' check (cardinality(columns) <= 60),
  updated_at timestamptz not null default now(),
  primary key (organization_id, user_id),
  foreign key (organization_id, user_id) references organization_members (organization_id, user_id)
    on delete cascade
);

-- A member's named list views: the list's query string (filters + sort) and its columns.
create table lead_list_views (
  id uuid primary key,
  organization_id uuid not null,
  user_id uuid not null,
  name text not null check (length(name) between 1 and 60),
  -- Canonical query string (owner=mine&q=joao&sort=-score), re-validated when applied.
  query text not null default '' check (length(query) <= 1000),
  columns text[] not null default '{}' check (cardinality(columns) <= 60),
  created_at timestamptz not null default now(),
  foreign key (organization_id, user_id) references organization_members (organization_id, user_id)
    on delete cascade
);
create index lead_list_views_user_idx on lead_list_views (organization_id, user_id, name);

alter table lead_list_prefs enable row level security;
alter table lead_list_prefs force row level security;
create policy org_isolation on lead_list_prefs
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));
create policy own_prefs on lead_list_prefs as restrictive
  using (user_id = (select nullif(current_setting('app.user_id', true), '')::uuid))
  with check (user_id = (select nullif(current_setting('app.user_id', true), '')::uuid));

alter table lead_list_views enable row level security;
alter table lead_list_views force row level security;
create policy org_isolation on lead_list_views
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));
create policy own_views on lead_list_views as restrictive
  using (user_id = (select nullif(current_setting('app.user_id', true), '')::uuid))
  with check (user_id = (select nullif(current_setting('app.user_id', true), '')::uuid));

grant select, insert, update, delete on lead_list_prefs to __APP_ROLE__;
grant select, insert, delete on lead_list_views to __APP_ROLE__;

-- Keyset paging of the list: one index per sort key, ending with id (the tie-breaker), scanned
-- forwards or backwards. Score already has leads_score_idx (organization_id, score desc, id).
drop index if exists leads_created_idx;
create index leads_created_idx on leads (organization_id, created_at, id);
create index leads_list_name_idx on leads (organization_id, name_key, id);
create index leads_list_value_idx on leads (organization_id, value_cents, id);
create index leads_list_activity_idx on leads (organization_id, last_activity_at, id);
-- leads_score_idx is (score desc, id): the list orders (score, id) both ways, which needs plain order.
create index leads_list_score_idx on leads (organization_id, score, id);

-- Search: the full-text document as a stored tsvector, so matching a row never re-parses its text
-- (with the expression index of 0005 the planner walked the organization's rows computing
-- to_tsvector for each: 1.2 s for a search at 100,000 leads). It replaces that index.
alter table leads add column search_tsv tsvector
  generated always as (to_tsvector('simple', search_text)) stored;
drop index if exists leads_search_idx;
create index leads_search_idx on leads using gin (search_tsv);
