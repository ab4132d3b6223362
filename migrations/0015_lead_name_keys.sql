-- Name blocking keys for duplicate search: one row per unordered pair of words of a lead's name key
-- ("maria aparecida silva" → "aparecida maria", "maria silva", "aparecida silva"), kept in step with
-- leads.name_key by a trigger.
--
-- Why not the GIN index on to_tsvector(name_key) (0005)? Under row-level security Postgres may only
-- use an index for a condition whose operator is LEAKPROOF, and the tsvector match (@@) is not: with
-- RLS on, the name lookup read every lead of the organization (a sequential scan per capture, so an
-- import of N rows did N²/2 row reads). Text equality is leakproof, so a btree on
-- (organization_id, key) is used under RLS: "the leads whose name has both these words" is one index
-- range scan.
--
-- No foreign key to leads on purpose: a merge re-points every table referencing leads, and these rows
-- must follow the lead's own name, not the merged lead's. The trigger deletes them with the lead.

create table lead_name_keys (
  organization_id uuid not null references organizations(id) on delete cascade,
  lead_id uuid not null,
  key text not null
);
-- The one index: lookups by key, and deletes by a lead's own keys (computed from its name key).
create index lead_name_keys_key_idx on lead_name_keys (organization_id, key, lead_id);

-- The keys of a name key: every unordered pair of its first six words, as "a b" with a <= b in byte
-- order (collation "C", whatever the database's: the application builds the same keys).
create function lead_name_pairs(name_key text) returns setof text
language sql immutable parallel safe as $$
  select distinct least(a.w collate "C", b.w collate "C") || ' ' || greatest(a.w collate "C", b.w collate "C")
  from unnest((string_to_array(name_key, ' '))[1:6]) with ordinality as a(w, i)
  join unnest((string_to_array(name_key, ' '))[1:6]) with ordinality as b(w, j) on a.i < b.j
  where a.w <> '' and b.w <> ''
$$;

-- Kept in step by triggers that run as the role writing the lead (the app role in a tenant
-- transaction: RLS applies). Inserts and deletes are statement-level (one insert of every new lead's
-- keys: a row-level plpgsql trigger cost four times the lead insert itself in a bulk import); a change
-- of name_key, rare, is row-level.
create function lead_name_keys_inserted() returns trigger
language plpgsql as $$
begin
  insert into lead_name_keys (organization_id, lead_id, key)
  select n.organization_id, n.id, k from new_leads as n, lead_name_pairs(n.name_key) as k;
  return null;
end
$$;

create function lead_name_keys_deleted() returns trigger
language plpgsql as $$
begin
  delete from lead_name_keys as k using old_leads as o, lead_name_pairs(o.name_key) as p(key)
  where k.organization_id = o.organization_id and k.key = p.key and k.lead_id = o.id;
  return null;
end
$$;

create function lead_name_keys_renamed() returns trigger
language plpgsql as $$
begin
  if old.name_key is not distinct from new.name_key and old.id = new.id
    and old.organization_id = new.organization_id then
    return null;
  end if;
  delete from lead_name_keys
  where organization_id = old.organization_id and key in (select lead_name_pairs(old.name_key)) and lead_id = old.id;
  insert into lead_name_keys (organization_id, lead_id, key)
  select new.organization_id, new.id, k from lead_name_pairs(new.name_key) as k;
  return null;
end
$$;

create trigger leads_name_keys_insert after insert on leads
  referencing new table as new_leads for each statement execute function lead_name_keys_inserted();
create trigger leads_name_keys_delete after delete on leads
  referencing old table as old_leads for each statement execute function lead_name_keys_deleted();
create trigger leads_name_keys_update after update of name_key, organization_id, id on leads
  for each row execute function lead_name_keys_renamed();

insert into lead_name_keys (organization_id, lead_id, key)
  select l.organization_id, l.id, k from leads l, lead_name_pairs(l.name_key) as k;

-- The GIN index it replaces: never usable under RLS, and maintained on every lead write.
drop index if exists leads_name_tokens_idx;

alter table lead_name_keys enable row level security;
alter table lead_name_keys force row level security;
create policy org_isolation on lead_name_keys
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

grant select, insert, delete on lead_name_keys to __APP_ROLE__;
