-- Every request's session lookup as a PL/pgSQL function. The statement (session, user, memberships,
-- unread notifications, event version) is the same as before; what changes is that PL/pgSQL keeps its
-- plan per connection, so a request no longer pays to parse and plan a five-table statement: on
-- PGlite that was half of the lookup (0.59 -> 0.27 ms measured by bench/pipeline.bench.ts's probe).
-- It runs with the caller's rights (SECURITY INVOKER): called by the app role it would see nothing,
-- since that role cannot read sessions; the server calls it as the connection's own role.
-- To change the lookup, add a migration with `create or replace function` (forward-only).
create function loved_session_lookup(p_id text)
returns table (
  active_org_id uuid,
  remember boolean,
  expires_at timestamptz,
  absolute_expires_at timestamptz,
  user_id uuid,
  email text,
  name text,
  locale text,
  is_instance_admin boolean,
  memberships json,
  unread integer,
  rt_version bigint
)
language plpgsql stable
as $$
begin
  return query
  select s.active_org_id, s.remember, s.expires_at, s.absolute_expires_at,
    u.id, u.email, u.name, u.locale, u.is_instance_admin,
    coalesce((
      select json_agg(json_build_object(
        'orgId', o.id, 'name', o.name, 'displayName', o.display_name, 'slug', o.slug, 'role', m.role,
        'locale', o.locale, 'timezone', o.timezone, 'logoUrl', o.logo_url, 'primaryColor', o.primary_color
      ) order by o.name, o.id)
      from organization_members m join organizations o on o.id = m.organization_id
      where m.user_id = u.id
    ), '[]'::json),
    (select count(*)::int from notifications n
      where n.organization_id = s.active_org_id and n.user_id = u.id and n.read_at is null),
    (select c.version from outbox_counters c where c.organization_id = s.active_org_id)
  from sessions s join users u on u.id = s.user_id
  where s.id = p_id;
end
$$;
revoke all on function loved_session_lookup(text) from public;
