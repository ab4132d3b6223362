/**
 * Routes of the lead list (/leads), its column choice, saved views and bulk actions, the LGPD export
 * and erasure of one lead, and Settings → Custom fields. Pages are full documents; htmx requests
 * that target `#list-region` get the region (and the canonical URL in HX-Push-Url), "load more" gets
 * rows. Every URL works without JavaScript.
 */

import { sql } from 'drizzle-orm'
import { Elysia } from 'elysia'
import leadsCss from '../../../public/leads.css' with { type: 'file' }
import leadsJs from '../../../public/leads-list.js' with { type: 'file' }
import { ErasePage } from '../../../views/leads/erase-page'
import { CustomFieldsPage, defFormValues, type FieldForms } from '../../../views/leads/fields-page'
import {
  LeadListPage,
  LeadRow,
  type ListPageProps,
  ListRegion,
  ListRows,
} from '../../../views/leads/list-page'
import { rowsOf } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { registerAsset } from '../../platform/http/assets'
import { type AppDeps, type OrgCtx, requireOrg, setFlash } from '../../platform/http/context'
import { FormError, notFound } from '../../platform/http/errors'
import { field, fields, html, json, redirect, uiOf, withForm } from '../../platform/http/respond'
import { isUuid } from '../../shared/ids'
import type { FilterScope } from '../pipeline/pipeline.repository'
import {
  createCustomField,
  deleteCustomField,
  FIELD_FORM,
  type FieldInput,
  listCustomFields,
  moveCustomField,
  updateCustomField,
} from './leads.custom-fields'
import { eraseLeads, exportPersonalData } from './leads.erase'
import {
  type BulkTarget,
  bulkAssign,
  bulkMove,
  bulkTag,
  cleanColumns,
  countMatching,
  deleteListView,
  findListView,
  LIST_PAGE,
  type ListQuery,
  listContext,
  listPage,
  listQueryString,
  listRowById,
  listUrl,
  listViews,
  parseListQuery,
  resolveTargets,
  saveColumns,
  savedColumns,
  saveListView,
} from './leads.list'

// Global: the drawer (on the board too) and settings pages use its custom-field and LGPD styles.
registerAsset('leads.css', leadsCss, 'text/css; charset=utf-8', { global: true })
registerAsset('leads-list.js', leadsJs, 'text/javascript; charset=utf-8')

const ADMINS = ['owner', 'admin'] as ('owner' | 'admin')[]

export function leadListRoutes(deps: AppDeps) {
  const { db } = deps
  const scope = (r: OrgCtx) => ({ orgId: r.org.orgId, userId: r.auth.user.id })
  const filterScope = (r: OrgCtx): FilterScope => ({ userId: r.auth.user.id, timezone: r.org.timezone })
  const fragment = (r: OrgCtx, target: string) =>
    r.isHtmx &&
    r.request.headers.get('hx-boosted') !== 'true' &&
    r.request.headers.get('hx-target') === target

  /** Everything the list page needs, in one tenant transaction. */
  async function loadList(
    r: OrgCtx,
    query: ListQuery,
    after: string | null,
    extra: Partial<ListPageProps> = {},
  ): Promise<ListPageProps> {
    const data = await withOrg(db, scope(r), async (tx) => {
      const defs = await listCustomFields(tx)
      const ctx = await listContext(tx)
      const page = await listPage(tx, query, filterScope(r), after)
      const total = await countMatching(tx, query, filterScope(r))
      const orgEmpty = total === 0 && rowsOf(await tx.execute(sql`select 1 from leads limit 1`)).length === 0
      return {
        defs,
        ctx,
        page,
        total,
        orgEmpty,
        columns: cleanColumns(await savedColumns(tx), defs),
        views: await listViews(tx),
      }
    })
    return {
      ui: uiOf(r),
      query,
      qs: listQueryString(query),
      ctx: data.ctx,
      defs: data.defs,
      columns: data.columns,
      rows: data.page.rows,
      next: data.page.next,
      total: data.total,
      orgEmpty: data.orgEmpty,
      views: data.views,
      after: after ?? undefined,
      ...extra,
    }
  }

  /** The list page, or its region for htmx (with the canonical URL pushed on filter/sort changes). */
  async function listResponse(r: OrgCtx, extra: Partial<ListPageProps> = {}, status = 200) {
    const query = parseListQuery(r.url.searchParams)
    const after = r.url.searchParams.get('after')
    const props = await loadList(r, query, after, extra)
    if (fragment(r, 'list-region')) {
      const res = await html(r, <ListRegion {...props} oob />, status)
      if (r.request.method === 'GET') res.headers.set('hx-push-url', listUrl(props.qs))
      return res
    }
    return html(r, <LeadListPage {...props} />, status)
  }

  const backTo = (r: OrgCtx, body: unknown) =>
    listUrl(listQueryString(parseListQuery(new URLSearchParams(field(body, 'query') || field(body, 'back')))))

  return (
    new Elysia({ name: 'leads.list.routes' })
      .get('/leads', async ({ request }) => listResponse(await requireOrg(deps, request)))
      .get('/leads/page', async ({ request }) => {
        const r = await requireOrg(deps, request)
        const query = parseListQuery(r.url.searchParams)
        const after = r.url.searchParams.get('after')
        const data = await withOrg(db, scope(r), async (tx) => {
          const defs = await listCustomFields(tx)
          return {
            defs,
            ctx: await listContext(tx),
            page: await listPage(tx, query, filterScope(r), after),
            columns: cleanColumns(await savedColumns(tx), defs),
          }
        })
        return html(
          r,
          <ListRows
            ui={uiOf(r)}
            rows={data.page.rows}
            next={data.page.next}
            columns={data.columns}
            defs={data.defs}
            ctx={data.ctx}
            qs={listQueryString(query)}
          />,
        )
      })
      // One row again (after the drawer changed the lead); 204 when it is gone.
      .get('/leads/rows/:leadId', async ({ request, params }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.leadId)) throw notFound()
        const data = await withOrg(db, scope(r), async (tx) => {
          const row = await listRowById(tx, params.leadId, filterScope(r))
          if (!row) return null
          const defs = await listCustomFields(tx)
          return {
            row,
            defs,
            ctx: await listContext(tx),
            columns: cleanColumns(await savedColumns(tx), defs),
          }
        })
        if (!data?.row) return new Response(null, { status: 204 })
        return html(
          r,
          <LeadRow
            ui={uiOf(r)}
            row={data.row}
            columns={data.columns}
            defs={data.defs}
            members={new Map(data.ctx.members.map((m) => [m.id, m.name]))}
            multiPipeline={data.ctx.pipelines.length > 1}
          />,
        )
      })
      .post('/leads/columns', async ({ request, body }) => {
        const r = await requireOrg(deps, request)
        const raw = (body as Record<string, unknown> | null)?.col
        const cols = field(body, 'reset') ? [] : (Array.isArray(raw) ? raw : raw ? [raw] : []).map(String)
        await withOrg(db, scope(r), async (tx) => {
          const defs = await listCustomFields(tx)
          if (!cols.length)
            await tx.execute(sql`delete from lead_list_prefs where user_id = ${r.auth.user.id}::uuid`)
          else await saveColumns(tx, r.actor, cols, defs)
        })
        return redirect(r, backTo(r, body))
      })

      // Saved views (personal) -------------------------------------------------------------------
      .post('/leads/views', async ({ request, body }) => {
        const r = await requireOrg(deps, request)
        const name = field(body, 'viewName')
        const res = await withForm(
          () =>
            withOrg(db, scope(r), async (tx) =>
              saveListView(
                tx,
                r.actor,
                { name, query: field(body, 'query'), columns: field(body, 'columns').split(',') },
                await listCustomFields(tx),
              ),
            ),
          async () => {
            setFlash(r, 'error', r.t('leads.view_name_required'))
            return redirect(r, backTo(r, body))
          },
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('pipeline.view_saved', { name: name.trim() }))
        return redirect(r, listUrl(res.value.query))
      })
      .get('/leads/views/:viewId', async ({ request, params }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.viewId)) throw notFound()
        const view = await withOrg(db, scope(r), async (tx) => {
          const v = await findListView(tx, params.viewId)
          if (!v) throw notFound()
          // Opening a view brings its columns along (they become the member's current choice).
          await saveColumns(tx, r.actor, v.columns, await listCustomFields(tx))
          return v
        })
        return redirect(r, listUrl(view.query))
      })
      .post('/leads/views/:viewId/delete', async ({ request, params }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.viewId)) throw notFound()
        await withOrg(db, scope(r), (tx) => deleteListView(tx, params.viewId))
        setFlash(r, 'success', r.t('pipeline.view_deleted'))
        return redirect(r, '/leads')
      })

      // Bulk actions -----------------------------------------------------------------------------
      .post('/leads/bulk', async ({ request, body }) => {
        const r = await requireOrg(deps, request)
        const action = field(body, 'action')
        const query = parseListQuery(new URLSearchParams(field(body, 'query')))
        const rawIds = (body as Record<string, unknown> | null)?.id
        const ids = (Array.isArray(rawIds) ? rawIds : rawIds ? [rawIds] : []).map(String).filter(isUuid)
        const all = field(body, 'all') === '1'
        const target: BulkTarget = all ? { all: query } : { ids }
        // The region re-renders with the list's own filters (from the form, not the request URL).
        const regionUrl = new URL(listUrl(listQueryString(query)), r.url)
        const region = (extra: Partial<ListPageProps>, status = 200) => {
          const rr = { ...r, url: regionUrl }
          return listResponse(rr, extra, status)
        }
        const done = async (
          n: number,
          key: 'leads.bulk.assigned' | 'leads.bulk.tagged' | 'leads.bulk.moved' | 'leads.bulk.deleted',
        ) => {
          const text = r.t(key, { n })
          if (fragment(r, 'list-region')) return region({ notice: { kind: 'success', text } })
          setFlash(r, 'success', text)
          return redirect(r, listUrl(listQueryString(query)))
        }
        const failed = async (e: FormError) => {
          const text = r.t(Object.values(e.fields)[0] ?? 'error.form')
          if (fragment(r, 'list-region')) return region({ notice: { kind: 'error', text } }, 422)
          setFlash(r, 'error', text)
          return redirect(r, listUrl(listQueryString(query)))
        }
        if (action === 'delete') {
          // Deleting is permanent (the LGPD erasure): a confirmation step first, with its count.
          if (field(body, 'confirmed') !== '1' || field(body, 'confirm') !== 'yes') {
            const count = await withOrg(db, scope(r), async (tx) =>
              all
                ? countMatching(tx, query, filterScope(r))
                : (await resolveTargets(tx, target, filterScope(r))).length,
            )
            const confirmDelete = { ids, all, count, error: field(body, 'confirmed') === '1' }
            if (fragment(r, 'list-region'))
              return region({ confirmDelete }, field(body, 'confirmed') ? 422 : 200)
            return listResponse(
              { ...r, url: regionUrl },
              { confirmDelete },
              field(body, 'confirmed') ? 422 : 200,
            )
          }
          const targets = await withOrg(db, scope(r), (tx) => resolveTargets(tx, target, filterScope(r)))
          const res = await eraseLeads(db, { ...scope(r), ip: r.ip }, targets, 'user_delete')
          return done(res.erased, 'leads.bulk.deleted')
        }
        const res = await withForm(
          () =>
            withOrg(db, scope(r), async (tx) => {
              const targets = await resolveTargets(tx, target, filterScope(r))
              if (action === 'assign')
                return {
                  n: await bulkAssign(tx, r.actor, targets, field(body, 'ownerId') || null),
                  key: 'leads.bulk.assigned' as const,
                }
              if (action === 'tag')
                return {
                  n: await bulkTag(tx, r.actor, targets, field(body, 'tag')),
                  key: 'leads.bulk.tagged' as const,
                }
              if (action === 'move')
                return {
                  n: await bulkMove(tx, r.actor, targets, field(body, 'stageId')),
                  key: 'leads.bulk.moved' as const,
                }
              throw new FormError({ action: 'leads.bulk.error.action' })
            }),
          failed,
        )
        if (!res.ok) return res.response
        return done(res.value.n, res.value.key)
      })

      // LGPD -------------------------------------------------------------------------------------
      .get('/leads/:leadId/personal-data.json', async ({ request, params }) => {
        const r = await requireOrg(deps, request, ADMINS)
        if (!isUuid(params.leadId)) throw notFound()
        const data = await withOrg(db, scope(r), (tx) => exportPersonalData(tx, params.leadId))
        if (!data) throw notFound()
        const res = json(r, data)
        res.headers.set('content-disposition', `attachment; filename="lead-${params.leadId}.json"`)
        res.headers.set('cache-control', 'no-store')
        return res
      })
      .get('/leads/:leadId/erase', async ({ request, params }) => {
        const r = await requireOrg(deps, request, ADMINS)
        const lead = await findLead(r, params.leadId)
        return html(r, <ErasePage ui={uiOf(r)} lead={lead} />)
      })
      .post('/leads/:leadId/erase', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request, ADMINS)
        const lead = await findLead(r, params.leadId)
        const typed = field(body, 'confirmName')
        const norm = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase()
        if (norm(typed) !== norm(lead.fullName))
          return html(r, <ErasePage ui={uiOf(r)} lead={lead} typed={typed} error />, 422)
        await eraseLeads(db, { ...scope(r), ip: r.ip }, [lead.id], 'titular_request')
        setFlash(r, 'success', r.t('leads.lgpd.erased'))
        return redirect(r, '/leads')
      })

      // Settings → Custom fields -----------------------------------------------------------------
      .get('/settings/fields', async ({ request }) => fieldsPage(await requireOrg(deps, request, ADMINS)))
      .post('/settings/fields', async ({ request, body }) => {
        const r = await requireOrg(deps, request, ADMINS)
        const input = fieldInput(body)
        const res = await withForm(
          () => withOrg(db, scope(r), (tx) => createCustomField(tx, r.actor, input)),
          (e) => fieldsPage(r, { create: { values: fields(body, [...FIELD_FORM]), errors: e } }, 422),
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('leads.fields.created', { name: input.label.trim() }))
        return redirect(r, '/settings/fields')
      })
      .post('/settings/fields/:fieldId', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request, ADMINS)
        if (!isUuid(params.fieldId)) throw notFound()
        const input = fieldInput(body)
        const res = await withForm(
          () => withOrg(db, scope(r), (tx) => updateCustomField(tx, r.actor, params.fieldId, input)),
          (e) =>
            fieldsPage(
              r,
              { edit: { id: params.fieldId, form: { values: fields(body, [...FIELD_FORM]), errors: e } } },
              422,
            ),
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('leads.fields.saved'))
        return redirect(r, '/settings/fields')
      })
      .post('/settings/fields/:fieldId/move', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request, ADMINS)
        if (!isUuid(params.fieldId)) throw notFound()
        const dir = field(body, 'dir') === 'up' ? 'up' : 'down'
        await withOrg(db, scope(r), (tx) => moveCustomField(tx, r.actor, params.fieldId, dir))
        return redirect(r, '/settings/fields')
      })
      .post('/settings/fields/:fieldId/delete', async ({ request, params }) => {
        const r = await requireOrg(deps, request, ADMINS)
        if (!isUuid(params.fieldId)) throw notFound()
        await withOrg(db, scope(r), (tx) => deleteCustomField(tx, r.actor, params.fieldId))
        setFlash(r, 'success', r.t('leads.fields.deleted'))
        return redirect(r, '/settings/fields')
      })
  )

  async function findLead(r: OrgCtx, leadId: string) {
    if (!isUuid(leadId)) throw notFound()
    const [lead] = await withOrg(db, scope(r), async (tx) =>
      rowsOf<{ id: string; full_name: string }>(
        await tx.execute(sql`select id, full_name from leads where id = ${leadId}::uuid`),
      ),
    )
    if (!lead) throw notFound()
    return { id: lead.id, fullName: lead.full_name }
  }

  async function fieldsPage(r: OrgCtx, forms: FieldForms = {}, status = 200) {
    const defs = await withOrg(db, scope(r), listCustomFields)
    return html(r, <CustomFieldsPage ui={uiOf(r)} defs={defs} forms={forms} />, status)
  }
}

function fieldInput(body: unknown): FieldInput {
  return {
    key: field(body, 'key'),
    label: field(body, 'label'),
    type: field(body, 'type'),
    options: field(body, 'options'),
    required: !!field(body, 'required'),
    showInList: !!field(body, 'showInList'),
  }
}

export { defFormValues, LIST_PAGE }
