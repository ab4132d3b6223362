-- Lead capture: per-organization capture sources (a secret token behind POST /capture/TOKEN), every
-- raw submission kept for review (capture endpoint and Facebook Lead Ads), and Facebook connections.
-- Same tenancy rules as 0003: organization_id everywhere, RLS enabled AND forced, org_isolation,
-- composite (organization_id, id) foreign keys, indexes leading with organization_id.

create table capture_sources (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  name text not null check (length(name) between 1 and 80),
  -- Written on every lead it creates ("Site", "Landing Black Friday").
  source_label text not null check (length(source_label) between 1 and 60),
  tags text[] not null default '{}' check (cardinality(tags) <= 20),
  pipeline_id uuid,
  stage_id uuid,
  -- Where a plain form post lands afterwards (none: a small thank-you page).
  redirect_url text check (length(redirect_url) <= 500),
  -- Origins (https://site.com.br) whose pages may post and read the answer; empty = any.
  allowed_origins text[] not null default '{}' check (cardinality(allowed_origins) <= 20),
  active boolean not null default true,
  -- The token is looked up by its SHA-256 (hex), never compared in plain text. It is also public
  -- (embedded in the site's HTML), so an AES-256-GCM copy (SECRET_KEY) lets the settings page show it.
  token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  token_enc text not null,
  -- Per-token rate limit: a fixed window counted by the statement that resolves the token.
  rate_window_start timestamptz not null default now(),
  rate_count integer not null default 0,
  created_by uuid references users(id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, id),
  -- Where new leads go: both or neither (then the first open stage of the first pipeline). Deleting
  -- the stage (or its pipeline) sends them back to the default.
  foreign key (organization_id, pipeline_id, stage_id) references stages (organization_id, pipeline_id, id)
    on delete set null (pipeline_id, stage_id),
  check ((pipeline_id is null) = (stage_id is null))
);
create index capture_sources_org_idx on capture_sources (organization_id, created_at);

create table facebook_connections (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  name text not null check (length(name) between 1 and 80),
  -- AES-256-GCM (src/platform/crypto/secrets.ts, key derived from SECRET_KEY): never stored in clear.
  app_secret_enc text not null,
  verify_token_enc text not null,
  page_token_enc text not null,
  source_label text not null default 'Facebook Lead Ads' check (length(source_label) between 1 and 60),
  tags text[] not null default '{}' check (cardinality(tags) <= 20),
  active boolean not null default true,
  created_by uuid references users(id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, id)
);
create index facebook_connections_org_idx on facebook_connections (organization_id, created_at);

create table capture_submissions (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  source_id uuid,
  connection_id uuid,
  received_at timestamptz not null default now(),
  content_type text check (length(content_type) <= 200),
  -- The fields as received (a body too large to keep is summarised: size and its first bytes).
  payload jsonb not null default '{}',
  remote_ip text check (length(remote_ip) <= 64),
  status text not null default 'accepted' check (status in ('accepted', 'processed', 'rejected', 'spam')),
  error text check (length(error) <= 1000),
  lead_id uuid,
  -- What captureLead did: created / merged / flagged.
  outcome text check (outcome in ('created', 'merged', 'flagged')),
  -- The provider's id (Facebook leadgen_id): the same lead delivered twice is stored once.
  external_id text check (length(external_id) <= 200),
  processed_at timestamptz,
  unique (organization_id, id),
  foreign key (organization_id, source_id) references capture_sources (organization_id, id) on delete cascade,
  foreign key (organization_id, connection_id) references facebook_connections (organization_id, id)
    on delete cascade,
  foreign key (organization_id, lead_id) references leads (organization_id, id) on delete set null (lead_id)
);
create index capture_submissions_source_idx on capture_submissions (organization_id, source_id, received_at desc);
create index capture_submissions_status_idx on capture_submissions (organization_id, status, received_at desc);
create index capture_submissions_connection_idx on capture_submissions (organization_id, connection_id, received_at desc);
create index capture_submissions_lead_idx on capture_submissions (organization_id, lead_id) where lead_id is not null;
create unique index capture_submissions_external_idx on capture_submissions (organization_id, connection_id, external_id)
  where external_id is not null;

alter table capture_sources enable row level security;
alter table capture_sources force row level security;
create policy org_isolation on capture_sources
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table facebook_connections enable row level security;
alter table facebook_connections force row level security;
create policy org_isolation on facebook_connections
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table capture_submissions enable row level security;
alter table capture_submissions force row level security;
create policy org_isolation on capture_submissions
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

grant select, insert, update, delete on capture_sources to __APP_ROLE__;
grant select, insert, update, delete on facebook_connections to __APP_ROLE__;
-- Submissions are kept for review; they go only with their source or connection (cascade).
grant select, insert, update on capture_submissions to __APP_ROLE__;
