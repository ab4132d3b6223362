-- Lead search terms: one row per distinct word (lexeme) of a lead's search document, kept in step
-- with leads.search_text by triggers; the lead list's search and the board's `q` read them
-- (src/modules/leads/leads.search.ts).
--
-- Why not the GIN index on leads.search_tsv (0010)? The same reason as 0015: under row-level
-- security Postgres may only use an index for a condition whose operator is LEAKPROOF, and the
-- tsvector match (@@, ts_match_vq) is not, so every search as the app role read all of the
-- organization's leads (0.2 s at 100,000 leads). Text comparison is leakproof (text_ge, text_lt), so
-- a word prefix is a btree range scan under RLS: term >= 'sil' and term < 'sim'.
--
-- The terms are the lexemes of search_tsv = to_tsvector('simple', search_text): exactly what the
-- @@ match compared, so a prefix of a term is a prefix match of the tsquery. search_text already
-- carries the phone's digit runs (leadKeys), so they are terms like any word.
--
-- No foreign key to leads on purpose (as lead_name_keys): a merge re-points every table referencing
-- leads, and these rows must follow the lead's own text. The trigger deletes them with the lead.

create table lead_search_terms (
  organization_id uuid not null references organizations(id) on delete cascade,
  lead_id uuid not null,
  -- Byte order, whatever the database's collation: the application builds the prefix ranges.
  term text collate "C" not null
);
-- The one index: prefix ranges of a term, and deletes of a lead's own terms (known from its text).
create index lead_search_terms_term_idx on lead_search_terms (organization_id, term, lead_id);

-- Kept in step by triggers that run as the role writing the lead (the app role in a tenant
-- transaction: RLS applies). Inserts and deletes are statement-level with transition tables (one
-- insert of every new lead's terms, as 0015 does for name keys); a change of search_text is
-- row-level and writes only the difference.
create function lead_search_terms_inserted() returns trigger
language plpgsql as $$
begin
  insert into lead_search_terms (organization_id, lead_id, term)
  select n.organization_id, n.id, w from new_leads as n, unnest(tsvector_to_array(n.search_tsv)) as w;
  return null;
end
$$;

create function lead_search_terms_deleted() returns trigger
language plpgsql as $$
begin
  delete from lead_search_terms as t using old_leads as o, unnest(tsvector_to_array(o.search_tsv)) as w(term)
  where t.organization_id = o.organization_id and t.term = w.term and t.lead_id = o.id;
  return null;
end
$$;

create function lead_search_terms_changed() returns trigger
language plpgsql as $$
begin
  if old.search_text is not distinct from new.search_text and old.id = new.id
    and old.organization_id = new.organization_id then
    return null;
  end if;
  if old.id = new.id and old.organization_id = new.organization_id then
    -- Only the words that changed (a tag appended adds one row).
    delete from lead_search_terms
    where organization_id = old.organization_id and lead_id = old.id
      and term = any(array(select unnest(tsvector_to_array(old.search_tsv))
                           except select unnest(tsvector_to_array(new.search_tsv))));
    insert into lead_search_terms (organization_id, lead_id, term)
    select new.organization_id, new.id, w
    from (select unnest(tsvector_to_array(new.search_tsv)) except select unnest(tsvector_to_array(old.search_tsv))) as d(w);
  else
    delete from lead_search_terms
    where organization_id = old.organization_id and lead_id = old.id
      and term = any(tsvector_to_array(old.search_tsv));
    insert into lead_search_terms (organization_id, lead_id, term)
    select new.organization_id, new.id, w from unnest(tsvector_to_array(new.search_tsv)) as w;
  end if;
  return null;
end
$$;

create trigger leads_search_terms_insert after insert on leads
  referencing new table as new_leads for each statement execute function lead_search_terms_inserted();
create trigger leads_search_terms_delete after delete on leads
  referencing old table as old_leads for each statement execute function lead_search_terms_deleted();
create trigger leads_search_terms_update after update of search_text, organization_id, id on leads
  for each row execute function lead_search_terms_changed();

insert into lead_search_terms (organization_id, lead_id, term)
  select l.organization_id, l.id, w from leads l, unnest(tsvector_to_array(l.search_tsv)) as w;

-- The GIN index it replaces: never usable under RLS, and maintained on every lead write. search_tsv
-- stays: the terms are read from it, and a query word the parser splits ("ana+tag") is re-checked
-- against it on the few rows the terms found.
drop index if exists leads_search_idx;

alter table lead_search_terms enable row level security;
alter table lead_search_terms force row level security;
create policy org_isolation on lead_search_terms
  using (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid))
  with check (organization_id = (select nullif(current_setting('app.org_id', true), '')::uuid));

grant select, insert, delete on lead_search_terms to __APP_ROLE__;
