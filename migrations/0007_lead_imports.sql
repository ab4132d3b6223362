-- CSV imports of leads (UI and CLI). The uploaded file is kept in the database, in 1 MiB chunks, so an
-- import survives a restart and any instance of a multi-instance deployment can run it; each batch
-- of rows commits with the checkpoint (`processed_rows`), so a resumed job never writes a row twice.
-- Rows that did not simply create a lead (merged, flagged, rejected) are kept for the report.
-- Same tenancy rules as 0003: organization_id everywhere, RLS enabled AND forced, org_isolation,
-- composite (organization_id, id) foreign keys, indexes leading with organization_id.

create table lead_imports (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  created_by uuid references users(id) on delete set null,
  -- 'ui' (upload, file stored in lead_import_chunks) or 'cli' (`loved import`, read from disk).
  channel text not null default 'ui' check (channel in ('ui', 'cli')),
  filename text not null check (length(filename) between 1 and 255),
  size_bytes bigint not null check (size_bytes >= 0),
  encoding text not null check (encoding in ('utf-8', 'windows-1252')),
  delimiter text not null check (delimiter in (',', ';', E'\t')),
  headers text[] not null check (cardinality(headers) between 1 and 200),
  -- Data rows in the file (the header line excluded), counted at upload.
  total_rows integer not null check (total_rows >= 0),
  -- One target per column, in column order: 'fullName', 'phone', 'custom.cnpj', ... or '' (ignored).
  mapping text[] not null default '{}',
  dedup text not null default 'auto' check (dedup in ('auto', 'review', 'off')),
  pipeline_id uuid,
  stage_id uuid,
  default_source text check (length(default_source) <= 60),
  default_tags text[] not null default '{}' check (cardinality(default_tags) <= 20),
  status text not null default 'draft'
    check (status in ('draft', 'queued', 'running', 'completed', 'failed')),
  -- The checkpoint: data rows done, committed with the batch that did them.
  processed_rows integer not null default 0,
  created_count integer not null default 0,
  merged_count integer not null default 0,
  flagged_count integer not null default 0,
  rejected_count integer not null default 0,
  error text check (length(error) <= 2000),
  started_at timestamptz,
  finished_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, id),
  -- A deleted pipeline or stage sends a pending import to the default one (captureLead's choice).
  foreign key (organization_id, pipeline_id) references pipelines (organization_id, id)
    on delete set null (pipeline_id),
  foreign key (organization_id, pipeline_id, stage_id) references stages (organization_id, pipeline_id, id)
    on delete set null (stage_id)
);
create index lead_imports_org_idx on lead_imports (organization_id, created_at desc, id);

create table lead_import_chunks (
  organization_id uuid not null,
  import_id uuid not null,
  seq integer not null check (seq >= 0),
  data bytea not null,
  primary key (organization_id, import_id, seq),
  foreign key (organization_id, import_id) references lead_imports (organization_id, id) on delete cascade
);

create table lead_import_rows (
  organization_id uuid not null,
  import_id uuid not null,
  -- 1 = the first data row after the header.
  row_number integer not null check (row_number >= 1),
  outcome text not null check (outcome in ('merged', 'flagged', 'rejected')),
  lead_id uuid,
  duplicate_of_id uuid,
  -- {field: {key, params}}: message keys, translated when the report is read.
  reasons jsonb not null default '{}' check (jsonb_typeof(reasons) = 'object'),
  -- The row's cells as read from the file (the report CSV gives them back for fixing).
  cells text[] not null default '{}',
  primary key (organization_id, import_id, row_number),
  foreign key (organization_id, import_id) references lead_imports (organization_id, id) on delete cascade,
  foreign key (organization_id, lead_id) references leads (organization_id, id) on delete set null (lead_id),
  foreign key (organization_id, duplicate_of_id) references leads (organization_id, id)
    on delete set null (duplicate_of_id)
);
create index lead_import_rows_lead_idx on lead_import_rows (organization_id, lead_id) where lead_id is not null;

alter table lead_imports enable row level security;
alter table lead_imports force row level security;
create policy org_isolation on lead_imports
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table lead_import_chunks enable row level security;
alter table lead_import_chunks force row level security;
create policy org_isolation on lead_import_chunks
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

alter table lead_import_rows enable row level security;
alter table lead_import_rows force row level security;
create policy org_isolation on lead_import_rows
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

grant select, insert, update, delete on lead_imports to __APP_ROLE__;
-- Chunks are deleted once the import has finished (the file is no longer needed, nor kept).
grant select, insert, delete on lead_import_chunks to __APP_ROLE__;
-- LGPD erasure deletes a person's report rows.
grant select, insert, delete on lead_import_rows to __APP_ROLE__;
-- A merge of two leads re-points the report rows to the kept lead (leads.dedup.ts).
grant update (lead_id, duplicate_of_id) on lead_import_rows to __APP_ROLE__;
