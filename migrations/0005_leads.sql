-- Leads: the lead record grows what capture, deduplication, search, scoring and assignment need.
-- Later migrations of the Leads issue add their own tables (dedup, capture, scoring, assignment);
-- this one extends the shared `leads` table and adds custom fields.

-- The country whose numbering plan reads a phone typed without +CC (Brazil first).
alter table organizations add column default_country text not null default 'BR'
  check (default_country ~ '^[A-Z]{2}$');
-- A member marked unavailable (vacation, off shift) is skipped by automatic assignment.
alter table organization_members add column available boolean not null default true;

alter table leads
  -- `phone` now holds E.164 (+5511987654321); what could not be parsed is rejected at the edge.
  -- Email as typed stays in `email`; this is the matching key (Gmail dots, +tags): never shown.
  add column email_key text check (length(email_key) <= 254),
  -- Accent-folded name tokens without particles ("maria silva" for "Maria da Silva"): blocking key.
  add column name_key text not null default '' check (length(name_key) <= 400),
  -- BR-SP from the phone's area code, or the ISO country: for assignment rules and filters.
  add column region text check (length(region) <= 10),
  -- Values of the organization's custom fields, keyed by field key, validated on every write.
  add column custom jsonb not null default '{}' check (jsonb_typeof(custom) = 'object'),
  -- Accent-folded name, email, phone digits, company, title, tags: the full-text document.
  add column search_text text not null default '',
  -- Each scoring rule's contribution [{ruleId, label, points}], for "why this score".
  add column score_detail jsonb not null default '[]' check (jsonb_typeof(score_detail) = 'array'),
  add column scored_at timestamptz,
  -- The learned model's predicted win probability (0..1), when the organization trained one.
  add column win_probability real check (win_probability between 0 and 1);

create index leads_email_key_idx on leads (organization_id, email_key) where email_key is not null;
create index leads_phone_idx on leads (organization_id, phone) where phone is not null;
create index leads_name_key_idx on leads (organization_id, name_key);
-- Token blocking for dedup ("silva maria" finds "maria silva") and accent-free full-text search.
create index leads_name_tokens_idx on leads using gin (to_tsvector('simple', name_key));
create index leads_search_idx on leads using gin (to_tsvector('simple', search_text));
create index leads_score_idx on leads (organization_id, score desc, id);
create index leads_updated_idx on leads (organization_id, updated_at desc, id);

-- Custom fields -----------------------------------------------------------------------------------
create table custom_field_defs (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  -- The stable key in leads.custom and in imports/exports/the API ("cnpj", "segmento").
  key text not null check (key ~ '^[a-z][a-z0-9_]{0,39}$'),
  label text not null check (length(label) between 1 and 80),
  type text not null check (type in ('text', 'number', 'date', 'select', 'multiselect', 'boolean')),
  -- Choices of select / multiselect.
  options text[] not null default '{}' check (cardinality(options) <= 100),
  required boolean not null default false,
  -- Shown as a column in the lead list by default.
  show_in_list boolean not null default false,
  position integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, id),
  unique (organization_id, key)
);
create index custom_field_defs_org_idx on custom_field_defs (organization_id, position);

alter table custom_field_defs enable row level security;
alter table custom_field_defs force row level security;
create policy org_isolation on custom_field_defs
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

grant select, insert, update, delete on custom_field_defs to __APP_ROLE__;
-- LGPD erasure and merges delete leads (their timeline goes with them, by cascade).
grant delete on leads to __APP_ROLE__;
