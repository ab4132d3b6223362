/**
 * The lead list (/leads): a page and its fragments (pure functions of props). Filters, sort and the
 * search live in the URL; the table pages with "Load more" (keyset cursor) and every control is a
 * plain link or form. public/leads-list.js adds keyboard navigation, row selection and the drawer.
 */
import { formatCustom } from '../../src/modules/leads/leads.custom-fields'
import {
  BASE_COLUMNS,
  type BaseColumn,
  type ListContext,
  type ListQuery,
  type ListRow,
  type ListView,
  listQueryString,
  listUrl,
  SORTABLE,
  type SortKey,
  sortParam,
} from '../../src/modules/leads/leads.list'
import type { CustomFieldDef } from '../../src/modules/leads/leads.table'
import type { BoardFilters } from '../../src/modules/pipeline/pipeline.schemas'
import { assetUrl } from '../../src/platform/http/assets'
import type { MessageKey } from '../../src/shared/i18n'
import { formatPhone } from '../../src/shared/phone'
import { Dropdown } from '../components/dropdown'
import { AppShell } from '../layouts/app-shell'
import { RangeFilterFields, SavedViewsDropdown } from '../pipeline/board-page'
import { agoShort, avatarColor, money, scoreClass } from '../pipeline/format'
import { PIcon } from '../pipeline/icons'
import { formatDate, initials, type Ui } from '../ui'
import { LIcon } from './icons'

export interface ListPageProps {
  ui: Ui
  query: ListQuery
  /** Canonical query string (filters, pipeline, stage, sort), without '?'. */
  qs: string
  ctx: ListContext
  defs: CustomFieldDef[]
  columns: string[]
  rows: ListRow[]
  next: string | null
  total: number
  /** The org has no lead at all (first-run empty state). */
  orgEmpty: boolean
  views: ListView[]
  /** A page that starts after a cursor (no-JS "next page"). */
  after?: string
  notice?: { kind: 'success' | 'error'; text: string }
  confirmDelete?: { ids: string[]; all: boolean; count: number; error?: boolean }
  /** Rendered as an htmx fragment: also update the controls outside the region (out of band). */
  oob?: boolean
}

const COL_LABEL: Record<BaseColumn, MessageKey> = {
  name: 'leads.col.name',
  company: 'leads.col.company',
  phone: 'leads.col.phone',
  email: 'leads.col.email',
  stage: 'leads.col.stage',
  owner: 'leads.col.owner',
  score: 'leads.col.score',
  value: 'leads.col.value',
  source: 'leads.col.source',
  tags: 'leads.col.tags',
  created: 'leads.col.created',
  activity: 'leads.col.activity',
}

export function columnLabel(ui: Ui, col: string, defs: CustomFieldDef[]): string {
  if (col.startsWith('cf:')) return defs.find((d) => `cf:${d.key}` === col)?.label ?? col.slice(3)
  return ui.t(COL_LABEL[col as BaseColumn])
}

function clientStrings(ui: Ui) {
  const { t } = ui
  return JSON.stringify({
    selected: t('leads.bulk.selected'),
    allMatching: t('leads.bulk.all_matching'),
  })
}

export function LeadListPage(p: ListPageProps) {
  const { ui } = p
  const { t } = ui
  return (
    <AppShell ui={ui} title={t('leads.title')}>
      <link rel="stylesheet" href={assetUrl('pipeline.css')} />
      <div class="leads-page" data-leads-page data-strings={clientStrings(ui)}>
        <ListHeader {...p} />
        <div class="list-toolbar">
          <ListToolbar {...p} />
          <ColumnChooser {...p} />
          {/* The column checkboxes (in the menu) belong to this form through their form attribute. */}
          <form id="columns-form" method="post" action="/leads/columns" hidden>
            <input type="hidden" name="query" value={p.qs} data-current-query />
          </form>
        </div>
        <div id="list-region" class="list-region" aria-live="polite" aria-busy="false">
          <ListRegion {...p} />
        </div>
        <div id="drawer-root" class="drawer-root"></div>
        <p id="list-help" class="sr-only" safe>
          {t('leads.keyboard_help')}
        </p>
      </div>
      <script src={assetUrl('leads-list.js')} defer></script>
    </AppShell>
  )
}

function ListHeader(p: ListPageProps) {
  const { ui, qs } = p
  const { t } = ui
  const firstPipeline = p.ctx.pipelines[0]
  return (
    <div class="page-head list-head">
      <div class="titles">
        <h1 safe>{t('leads.title')}</h1>
      </div>
      <div class="list-actions">
        <ViewsMenu {...p} />
        <a class="btn btn-sm" href="/leads/duplicates" data-testid="leads-duplicates">
          <LIcon name="copy" />
          <span class="hide-md" safe>
            {t('leads.duplicates')}
          </span>
        </a>
        <a class="btn btn-sm" href="/leads/import" data-testid="leads-import">
          <LIcon name="upload" />
          <span class="hide-md" safe>
            {t('leads.import')}
          </span>
        </a>
        <a
          class="btn btn-sm"
          href={`/leads/export.csv${qs ? `?${qs}` : ''}`}
          hx-boost="false"
          download=""
          data-testid="leads-export"
          id="export-link"
        >
          <LIcon name="download" />
          <span class="hide-md" safe>
            {t('leads.export')}
          </span>
        </a>
        {firstPipeline ? (
          <a class="btn btn-primary btn-sm" href={`/pipeline/leads/new?pipeline=${firstPipeline.id}`}>
            <PIcon name="plus" />
            <span safe>{t('pipeline.new_lead')}</span>
          </a>
        ) : (
          ''
        )}
      </div>
    </div>
  )
}

function ListToolbar(p: ListPageProps) {
  const { ui, query } = p
  const { t } = ui
  const f = query.filters
  const active =
    Object.keys(f).filter((k) => k !== 'q').length + (query.pipelineId ? 1 : 0) + (query.stageId ? 1 : 0)
  return (
    <form
      id="list-filter"
      class="filter-form list-filter"
      method="get"
      action="/leads"
      hx-get="/leads"
      hx-target="#list-region"
      hx-trigger="submit, change, input delay:300ms"
      hx-sync="this:replace"
      hx-indicator="#list-region"
      x-data={`{ filtersOpen: ${active > 0 ? 'true' : 'false'} }`}
    >
      <label class="search-box">
        <PIcon name="search" />
        <span class="sr-only" safe>
          {t('leads.search')}
        </span>
        <input
          type="search"
          name="q"
          value={f.q ?? ''}
          placeholder={t('leads.search_placeholder')}
          autocomplete="off"
          maxlength={100}
          data-testid="list-search"
        />
      </label>
      <input type="hidden" name="sort" id="list-sort" value={sortParam(query.sort)} />
      <button
        type="button"
        class={`btn btn-sm${active ? ' btn-active' : ''}`}
        x-on:click="filtersOpen = !filtersOpen"
        x-bind:aria-expanded="filtersOpen.toString()"
        aria-controls="list-filter-panel"
        data-testid="list-filters-toggle"
      >
        <PIcon name="sliders" />
        <span safe>{t('pipeline.filters')}</span>
        {active ? <span class="count-pill">{active}</span> : ''}
      </button>
      <FilterPanel {...p} active={active} />
    </form>
  )
}

function FilterPanel(p: ListPageProps & { active: number }) {
  const { ui, query, ctx } = p
  const { t } = ui
  const f = query.filters
  const owner = f.owner ?? ''
  const stages = ctx.stages.filter((s) => !query.pipelineId || s.pipelineId === query.pipelineId)
  return (
    <div
      class="filter-panel"
      id="list-filter-panel"
      x-show="filtersOpen"
      x-cloak={p.active ? undefined : true}
    >
      <div class="filter-field">
        <label for="flt-pipeline" safe>
          {t('leads.filter.pipeline')}
        </label>
        <select class="input input-sm" id="flt-pipeline" name="pipeline">
          <option value="" selected={!query.pipelineId} safe>
            {t('leads.filter.any')}
          </option>
          {ctx.pipelines.map((x) => (
            <option value={x.id} selected={x.id === query.pipelineId} safe>
              {x.name}
            </option>
          ))}
        </select>
      </div>
      <div class="filter-field">
        <label for="flt-stage" safe>
          {t('leads.filter.stage')}
        </label>
        <select class="input input-sm" id="flt-stage" name="stage">
          <option value="" selected={!query.stageId} safe>
            {t('leads.filter.any')}
          </option>
          {stages.map((s) => (
            <option value={s.id} selected={s.id === query.stageId} safe>
              {ctx.pipelines.length > 1 && !query.pipelineId
                ? `${ctx.pipelines.find((x) => x.id === s.pipelineId)?.name ?? ''} · ${s.name}`
                : s.name}
            </option>
          ))}
        </select>
      </div>
      <div class="filter-field">
        <label for="flt-owner" safe>
          {t('pipeline.filter.owner')}
        </label>
        <select class="input input-sm" id="flt-owner" name="owner">
          <option value="" selected={!owner} safe>
            {t('pipeline.filter.owner_any')}
          </option>
          <option value="mine" selected={owner === 'mine'} safe>
            {t('pipeline.filter.owner_mine')}
          </option>
          <option value="none" selected={owner === 'none'} safe>
            {t('pipeline.filter.owner_none')}
          </option>
          {ctx.members.map((m) => (
            <option value={m.id} selected={owner === m.id} safe>
              {m.name}
            </option>
          ))}
        </select>
      </div>
      <div class="filter-field">
        <label for="flt-source" safe>
          {t('pipeline.filter.source')}
        </label>
        <input class="input input-sm" id="flt-source" name="source" value={f.source ?? ''} maxlength={60} />
      </div>
      <div class="filter-field">
        <label for="flt-tag" safe>
          {t('pipeline.filter.tag')}
        </label>
        <input class="input input-sm" id="flt-tag" name="tag" value={f.tag ?? ''} maxlength={40} />
      </div>
      <RangeFilterFields t={t} filters={f} />
      <noscript>
        <button type="submit" class="btn btn-sm" safe>
          {t('pipeline.filter.apply')}
        </button>
      </noscript>
    </div>
  )
}

/** Columns: a menu of checkboxes saved per user (POST /leads/columns). */
function ColumnChooser(p: ListPageProps) {
  const { ui, defs, columns } = p
  const { t } = ui
  const all = [...BASE_COLUMNS.filter((c) => c !== 'name'), ...defs.map((d) => `cf:${d.key}`)]
  const button = (
    <>
      <LIcon name="columns" />
      <span class="hide-md" safe>
        {t('leads.columns')}
      </span>
    </>
  )
  return (
    <Dropdown
      label={t('leads.columns')}
      buttonClass="btn btn-sm"
      safeButton={button}
      align="right"
      menuClass="columns-menu"
      testId="columns-toggle"
    >
      <div class="menu-label" safe>
        {t('leads.columns_title')}
      </div>
      <div class="columns-list" data-testid="columns-menu">
        {all.map((c) => (
          <label class="check">
            <input
              type="checkbox"
              name="col"
              value={c}
              form="columns-form"
              checked={columns.includes(c)}
              data-testid={`col-${c}`}
            />
            <span safe>{columnLabel(ui, c, defs)}</span>
          </label>
        ))}
      </div>
      <div class="columns-actions">
        <button
          type="submit"
          class="btn btn-sm btn-primary"
          form="columns-form"
          data-testid="columns-save"
          safe
        >
          {t('leads.columns_save')}
        </button>
        <button type="submit" class="btn btn-sm" form="columns-form" name="reset" value="1" safe>
          {t('leads.columns_reset')}
        </button>
      </div>
    </Dropdown>
  )
}

function ViewsMenu(p: ListPageProps) {
  const { ui, views, qs, columns } = p
  const { t } = ui
  return (
    <SavedViewsDropdown t={t} testId="list-views-toggle">
      <a href="/leads" aria-current={qs ? undefined : 'true'}>
        <span safe>{t('leads.view_all')}</span>
      </a>
      <div class="menu-label" safe>
        {t('pipeline.views_mine')}
      </div>
      {views.length ? (
        views.map((v) => (
          <div class="view-row">
            <a href={`/leads/views/${v.id}`} aria-current={v.query === qs ? 'true' : undefined}>
              <span safe>{v.name}</span>
            </a>
            <form method="post" action={`/leads/views/${v.id}/delete`}>
              <button type="submit" class="icon-btn" aria-label={t('pipeline.view_delete', { name: v.name })}>
                <PIcon name="x" />
              </button>
            </form>
          </div>
        ))
      ) : (
        <p class="menu-empty" safe>
          {t('pipeline.views_none')}
        </p>
      )}
      <hr />
      <form class="view-save" method="post" action="/leads/views" data-save-view>
        <input type="hidden" name="query" value={qs} data-current-query />
        <input type="hidden" name="columns" value={columns.join(',')} />
        <label for="list-view-name" class="sr-only" safe>
          {t('pipeline.view_name')}
        </label>
        <input
          class="input input-sm"
          id="list-view-name"
          name="viewName"
          placeholder={t('pipeline.view_name')}
          maxlength={60}
          required
        />
        <button type="submit" class="btn btn-sm" safe>
          {t('pipeline.view_save')}
        </button>
      </form>
    </SavedViewsDropdown>
  )
}

/** What a filter/sort change replaces: chips, count, bulk bar, the table. */
export function ListRegion(p: ListPageProps) {
  const { ui, query, qs, rows, total } = p
  const { t } = ui
  const nf = new Intl.NumberFormat(ui.locale)
  return (
    <>
      {p.oob ? (
        <>
          {/* The filter form lives outside the region: its hidden sort and the export link follow. */}
          <input type="hidden" name="sort" id="list-sort" value={sortParam(query.sort)} hx-swap-oob="true" />
          <a
            id="export-link"
            hx-swap-oob="outerHTML"
            class="btn btn-sm"
            href={`/leads/export.csv${qs ? `?${qs}` : ''}`}
            hx-boost="false"
            download=""
            data-testid="leads-export"
          >
            <LIcon name="download" />
            <span class="hide-md" safe>
              {t('leads.export')}
            </span>
          </a>
        </>
      ) : (
        ''
      )}
      {p.notice ? (
        <div
          class={`alert alert-${p.notice.kind}`}
          role={p.notice.kind === 'error' ? 'alert' : 'status'}
          safe
        >
          {p.notice.text}
        </div>
      ) : (
        ''
      )}
      {p.confirmDelete ? <ConfirmDelete {...p} /> : ''}
      <div class="list-sub">
        <span class="list-count" data-testid="list-count" data-total={String(total)} safe>
          {t('leads.count', { n: nf.format(total) })}
        </span>
        <Chips {...p} />
      </div>
      {rows.length === 0 ? (
        <EmptyState {...p} />
      ) : (
        <form
          id="bulk-form"
          class="bulk-form"
          method="post"
          action="/leads/bulk"
          hx-post="/leads/bulk"
          hx-target="#list-region"
          data-total={String(total)}
        >
          <input type="hidden" name="query" value={qs} />
          <input type="hidden" name="all" value="" data-bulk-all />
          <BulkBar {...p} />
          <div class="table-scroll">
            <table class="lead-table" data-lead-table aria-describedby="list-help" aria-rowcount={total + 1}>
              <thead>
                <tr>
                  <th class="col-check" scope="col">
                    <input
                      type="checkbox"
                      data-select-page
                      aria-label={t('leads.select_page')}
                      title={t('leads.select_page')}
                    />
                  </th>
                  {p.columns.map((c) => (
                    <HeaderCell ui={ui} col={c} query={query} defs={p.defs} />
                  ))}
                </tr>
              </thead>
              <tbody data-rows>
                <ListRows {...p} />
              </tbody>
            </table>
          </div>
        </form>
      )}
    </>
  )
}

function HeaderCell({
  ui,
  col,
  query,
  defs,
}: {
  ui: Ui
  col: string
  query: ListQuery
  defs: CustomFieldDef[]
}) {
  const label = columnLabel(ui, col, defs)
  const sortable = SORTABLE.includes(col as SortKey)
  if (!sortable)
    return (
      <th scope="col" class={`col-${col.replace(':', '-')}`} safe>
        {label}
      </th>
    )
  const key = col as SortKey
  const current = query.sort.key === key
  // First click: names A→Z, numbers and dates high→low; clicking the sorted column flips it.
  const nextDesc = current ? !query.sort.desc : key !== 'name'
  const href = listUrl(listQueryString({ ...query, sort: { key, desc: nextDesc } }))
  return (
    <th
      scope="col"
      class={`col-${col} sortable`}
      aria-sort={current ? (query.sort.desc ? 'descending' : 'ascending') : undefined}
    >
      <a href={href} hx-get={href} hx-target="#list-region" hx-push-url="true" data-sort={key}>
        <span safe>{label}</span>
        <LIcon name={current ? (query.sort.desc ? 'arrowDown' : 'arrowUp') : 'arrowUpDown'} />
      </a>
    </th>
  )
}

/** Rows plus the "load more" row (the fragment of GET /leads/page). */
export function ListRows(p: Pick<ListPageProps, 'ui' | 'rows' | 'next' | 'columns' | 'defs' | 'ctx' | 'qs'>) {
  const { ui } = p
  const { t } = ui
  const members = new Map(p.ctx.members.map((m) => [m.id, m.name]))
  const nextUrl = p.next ? `/leads/page?${p.qs ? `${p.qs}&` : ''}after=${encodeURIComponent(p.next)}` : ''
  const pageUrl = p.next ? `/leads?${p.qs ? `${p.qs}&` : ''}after=${encodeURIComponent(p.next)}` : ''
  return (
    <>
      {p.rows.map((r) => (
        <LeadRow
          ui={ui}
          row={r}
          columns={p.columns}
          defs={p.defs}
          members={members}
          multiPipeline={p.ctx.pipelines.length > 1}
        />
      ))}
      {p.next ? (
        <tr class="more-row" data-more-row>
          <td colspan={String(p.columns.length + 1)}>
            <a
              class="btn btn-sm"
              href={pageUrl}
              hx-get={nextUrl}
              hx-target="closest tr"
              hx-swap="outerHTML"
              hx-push-url="false"
              data-load-more
            >
              <span safe>{t('pipeline.load_more')}</span>
            </a>
          </td>
        </tr>
      ) : (
        ''
      )}
    </>
  )
}

export function LeadRow({
  ui,
  row: r,
  columns,
  defs,
  members,
  multiPipeline,
}: {
  ui: Ui
  row: ListRow
  columns: string[]
  defs: CustomFieldDef[]
  members: Map<string, string>
  multiPipeline: boolean
}) {
  const { t } = ui
  const href = `/pipeline/leads/${r.id}`
  const cell = (c: string): JSX.Element => {
    switch (c) {
      case 'name':
        return (
          <th scope="row" class="col-name">
            <a
              class="row-link"
              href={href}
              hx-get={href}
              hx-target="#drawer-root"
              hx-push-url="true"
              tabindex="-1"
              data-row-link
              safe
            >
              {r.fullName}
            </a>
          </th>
        )
      case 'company':
        return <td safe>{r.company ?? ''}</td>
      case 'phone': {
        const phone: string = r.phone ? formatPhone(r.phone) : ''
        return (
          <td class="nowrap" safe>
            {phone}
          </td>
        )
      }
      case 'email':
        return (
          <td class="ellipsis" safe>
            {r.email ?? ''}
          </td>
        )
      case 'stage':
        return (
          <td class="nowrap">
            <span class="stage-chip" style={`--stage:${r.stageColor}`}>
              <span class="dot" aria-hidden="true"></span>
              <span safe>{multiPipeline ? `${r.pipelineName} · ${r.stageName}` : r.stageName}</span>
            </span>
          </td>
        )
      case 'owner': {
        const name = r.ownerId ? members.get(r.ownerId) : undefined
        return (
          <td class="nowrap">
            {name ? (
              <span class="person-inline">
                <span
                  class="avatar avatar-xs"
                  style={`--av:${avatarColor(r.ownerId!)}`}
                  aria-hidden="true"
                  safe
                >
                  {initials(name)}
                </span>
                <span safe>{name}</span>
              </span>
            ) : (
              <span class="subtle" safe>
                {t('pipeline.unassigned')}
              </span>
            )}
          </td>
        )
      }
      case 'score':
        return (
          <td class="num">
            <span class={`score-pill score-${scoreClass(r.score)}`}>{r.score}</span>
          </td>
        )
      case 'value': {
        const value: string = r.valueCents ? money(r.valueCents, r.currency, ui.locale) : '—'
        return (
          <td class="num nowrap" safe>
            {value}
          </td>
        )
      }
      case 'source':
        return <td safe>{r.source ?? ''}</td>
      case 'tags':
        return (
          <td>
            <span class="card-tags">
              {r.tags.map((tag) => (
                <span class="tag" safe>
                  {tag}
                </span>
              ))}
            </span>
          </td>
        )
      case 'created':
        return (
          <td class="nowrap">
            <time datetime={r.createdAt.toISOString()} safe>
              {formatDate(r.createdAt, ui.locale, ui.org?.timezone, false)}
            </time>
          </td>
        )
      case 'activity':
        return (
          <td class="nowrap">
            <time
              datetime={r.lastActivityAt.toISOString()}
              title={formatDate(r.lastActivityAt, ui.locale, ui.org?.timezone)}
              safe
            >
              {agoShort(r.lastActivityAt)}
            </time>
          </td>
        )
      default: {
        const def = defs.find((d) => `cf:${d.key}` === c)
        const text: string = def ? formatCustom(def, r.custom[def.key], ui.locale, ui.t) : ''
        return <td safe>{text}</td>
      }
    }
  }
  return (
    <tr data-row data-id={r.id} tabindex="-1" aria-label={r.fullName}>
      <td class="col-check">
        <input
          type="checkbox"
          name="id"
          value={r.id}
          data-row-check
          aria-label={t('leads.select_row', { name: r.fullName })}
        />
      </td>
      {columns.map((c) => cell(c))}
    </tr>
  )
}

function BulkBar(p: ListPageProps) {
  const { ui, ctx, total } = p
  const { t } = ui
  const nf = new Intl.NumberFormat(ui.locale)
  return (
    <section class="bulk-bar" data-bulk-bar hidden aria-label={t('leads.bulk.title')}>
      <span class="bulk-count" data-bulk-count aria-live="polite"></span>
      <button type="button" class="link-btn" data-select-all-matching hidden safe>
        {t('leads.bulk.select_all', { n: nf.format(total) })}
      </button>
      <span class="spacer"></span>
      <div class="bulk-actions">
        <label class="sr-only" for="bulk-tag" safe>
          {t('leads.bulk.tag')}
        </label>
        <input
          class="input input-sm"
          id="bulk-tag"
          name="tag"
          maxlength={40}
          placeholder={t('leads.bulk.tag_placeholder')}
          autocomplete="off"
        />
        <button type="submit" class="btn btn-sm" name="action" value="tag" data-testid="bulk-tag">
          <PIcon name="tag" />
          <span safe>{t('leads.bulk.tag')}</span>
        </button>
      </div>
      <div class="bulk-actions">
        <label class="sr-only" for="bulk-owner" safe>
          {t('leads.bulk.assign')}
        </label>
        <select class="input input-sm" id="bulk-owner" name="ownerId">
          <option value="" safe>
            {t('pipeline.unassigned')}
          </option>
          {ctx.members.map((m) => (
            <option value={m.id} safe>
              {m.name}
            </option>
          ))}
        </select>
        <button type="submit" class="btn btn-sm" name="action" value="assign" data-testid="bulk-assign">
          <PIcon name="userPlus" />
          <span safe>{t('leads.bulk.assign')}</span>
        </button>
      </div>
      <div class="bulk-actions">
        <label class="sr-only" for="bulk-stage" safe>
          {t('leads.bulk.move')}
        </label>
        <select class="input input-sm" id="bulk-stage" name="stageId">
          {ctx.stages
            .filter((s) => s.kind !== 'lost')
            .map((s) => (
              <option value={s.id} safe>
                {ctx.pipelines.length > 1
                  ? `${ctx.pipelines.find((x) => x.id === s.pipelineId)?.name ?? ''} · ${s.name}`
                  : s.name}
              </option>
            ))}
        </select>
        <button type="submit" class="btn btn-sm" name="action" value="move" data-testid="bulk-move">
          <PIcon name="move" />
          <span safe>{t('leads.bulk.move')}</span>
        </button>
      </div>
      <button
        type="submit"
        class="btn btn-sm btn-danger-soft"
        name="action"
        value="delete"
        data-testid="bulk-delete"
      >
        <PIcon name="trash" />
        <span safe>{t('leads.bulk.delete')}</span>
      </button>
    </section>
  )
}

function ConfirmDelete(p: ListPageProps) {
  const { ui, qs } = p
  const { t } = ui
  const c = p.confirmDelete!
  return (
    <form
      class="confirm-panel"
      method="post"
      action="/leads/bulk"
      hx-post="/leads/bulk"
      hx-target="#list-region"
      role="alertdialog"
      aria-labelledby="confirm-title"
      data-testid="bulk-delete-confirm"
    >
      <input type="hidden" name="action" value="delete" />
      <input type="hidden" name="confirmed" value="1" />
      <input type="hidden" name="query" value={qs} />
      <input type="hidden" name="all" value={c.all ? '1' : ''} />
      {c.all ? '' : c.ids.map((id) => <input type="hidden" name="id" value={id} />)}
      <h2 id="confirm-title" safe>
        {t('leads.bulk.delete_title', { n: c.count })}
      </h2>
      <p safe>{t('leads.bulk.delete_text')}</p>
      <label class="check">
        <input
          type="checkbox"
          name="confirm"
          value="yes"
          required
          aria-invalid={c.error ? 'true' : undefined}
        />
        <span safe>{t('leads.bulk.delete_confirm', { n: c.count })}</span>
      </label>
      {c.error ? (
        <p class="field-error" role="alert" safe>
          {t('leads.bulk.delete_confirm_required')}
        </p>
      ) : (
        ''
      )}
      <div class="form-actions">
        <a class="btn" href={listUrl(qs)} hx-get={listUrl(qs)} hx-target="#list-region" safe>
          {t('action.cancel')}
        </a>
        <button type="submit" class="btn btn-danger" data-testid="bulk-delete-submit" safe>
          {t('leads.bulk.delete_submit', { n: c.count })}
        </button>
      </div>
    </form>
  )
}

function Chips(p: ListPageProps) {
  const { ui, query, ctx } = p
  const { t } = ui
  const f = query.filters
  const chips: { label: string; q: ListQuery }[] = []
  const without = (k: keyof BoardFilters): ListQuery => {
    const filters = { ...f }
    delete filters[k]
    return { ...query, filters }
  }
  if (query.pipelineId)
    chips.push({
      label: `${t('leads.filter.pipeline')}: ${ctx.pipelines.find((x) => x.id === query.pipelineId)?.name ?? '?'}`,
      q: { ...query, pipelineId: undefined, stageId: undefined },
    })
  if (query.stageId)
    chips.push({
      label: `${t('leads.filter.stage')}: ${ctx.stages.find((x) => x.id === query.stageId)?.name ?? '?'}`,
      q: { ...query, stageId: undefined },
    })
  if (f.owner)
    chips.push({
      label: `${t('pipeline.filter.owner')}: ${
        f.owner === 'mine'
          ? t('pipeline.filter.owner_mine')
          : f.owner === 'none'
            ? t('pipeline.filter.owner_none')
            : (ctx.members.find((m) => m.id === f.owner)?.name ?? '?')
      }`,
      q: without('owner'),
    })
  if (f.source) chips.push({ label: `${t('pipeline.filter.source')}: ${f.source}`, q: without('source') })
  if (f.tag) chips.push({ label: `${t('pipeline.filter.tag')}: ${f.tag}`, q: without('tag') })
  if (f.scoreMin !== undefined || f.scoreMax !== undefined) {
    const filters = { ...f }
    delete filters.scoreMin
    delete filters.scoreMax
    chips.push({
      label: `${t('pipeline.score')}: ${f.scoreMin ?? '…'}–${f.scoreMax ?? '…'}`,
      q: { ...query, filters },
    })
  }
  if (f.createdFrom)
    chips.push({ label: `${t('pipeline.filter.from')} ${f.createdFrom}`, q: without('createdFrom') })
  if (f.createdTo) chips.push({ label: `${t('pipeline.filter.to')} ${f.createdTo}`, q: without('createdTo') })
  if (f.q) chips.push({ label: `“${f.q}”`, q: without('q') })
  if (!chips.length) return ''
  return (
    <div class="chips" data-testid="list-chips">
      {chips.map((c) => (
        <a class="chip" href={listUrl(listQueryString(c.q))}>
          <span safe>{c.label}</span>
          <PIcon name="x" />
        </a>
      ))}
      <a class="chip chip-clear" href={listUrl(listQueryString({ filters: {}, sort: query.sort }))} safe>
        {t('pipeline.filter.clear')}
      </a>
    </div>
  )
}

function EmptyState(p: ListPageProps) {
  const { ui } = p
  const { t } = ui
  if (p.orgEmpty)
    return (
      <div class="empty-state" data-testid="list-empty">
        <LIcon name="usersRound" />
        <h2 safe>{t('leads.empty.title')}</h2>
        <p class="muted" safe>
          {t('leads.empty.text')}
        </p>
        <div class="form-actions">
          <a class="btn" href="/leads/import">
            <LIcon name="upload" />
            <span safe>{t('leads.import')}</span>
          </a>
          {p.ctx.pipelines[0] ? (
            <a class="btn btn-primary" href={`/pipeline/leads/new?pipeline=${p.ctx.pipelines[0].id}`}>
              <PIcon name="plus" />
              <span safe>{t('pipeline.new_lead')}</span>
            </a>
          ) : (
            ''
          )}
        </div>
      </div>
    )
  return (
    <div class="empty-state" data-testid="list-empty-filtered">
      <PIcon name="search" />
      <h2 safe>{t('leads.empty.filtered_title')}</h2>
      <p class="muted" safe>
        {t('leads.empty.filtered_text')}
      </p>
      <a class="btn" href="/leads" safe>
        {t('pipeline.filter.clear')}
      </a>
    </div>
  )
}
