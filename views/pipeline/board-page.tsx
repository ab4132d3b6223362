/**
 * The pipeline board: a page and its fragments (pure functions of props). Every interaction works as
 * a plain link or form; public/pipeline.js adds drag-and-drop (SortableJS), keyboard moves, dialogs
 * and live updates on top.
 */

import type { PropsWithChildren } from '@kitajs/html'
import type {
  Card,
  Column,
  MemberRef,
  PipelineRef,
  ReasonRef,
  ViewRef,
} from '../../src/modules/pipeline/pipeline.repository'
import { type BoardFilters, filtersQuery } from '../../src/modules/pipeline/pipeline.schemas'
import type { Board } from '../../src/modules/pipeline/pipeline.usecases'
import { assetUrl } from '../../src/platform/http/assets'
import type { T } from '../../src/shared/i18n'
import { Dropdown } from '../components/dropdown'
import { AppShell } from '../layouts/app-shell'
import { initials, type Ui } from '../ui'
import { agoShort, avatarColor, money, moneyShort, scoreClass } from './format'
import { CARD_ICONS, CardIcon, type CardIconName, CardIconStyles, PIcon } from './icons'

export const boardUrl = (pipelineId: string, query = '') =>
  `/pipeline/${pipelineId}${query ? `?${query}` : ''}`
export const leadUrl = (leadId: string) => `/pipeline/leads/${leadId}`
const withQuery = (path: string, query: string) =>
  query ? `${path}${path.includes('?') ? '&' : '?'}${query}` : path

export interface BoardPageProps {
  ui: Ui
  board: Board
  filters: BoardFilters
  /** The canonical filter query string (no '?'). */
  query: string
  canAdmin: boolean
}

/** Strings the browser needs for announcements and dialogs. */
function clientStrings(ui: Ui) {
  const { t } = ui
  return JSON.stringify({
    moved: t('pipeline.announce.moved'),
    movedRemote: t('pipeline.announce.moved_remote'),
    conflict: t('pipeline.announce.conflict'),
    failed: t('pipeline.announce.failed'),
    cancelled: t('pipeline.announce.cancelled'),
    created: t('pipeline.announce.created'),
    someone: t('pipeline.act.someone'),
    wonTitle: t('pipeline.won_title'),
    lostTitle: t('pipeline.lost_title'),
    moveTitle: t('pipeline.move_title'),
    live: t('pipeline.live'),
    offline: t('pipeline.offline'),
  })
}

export function BoardPage(p: PropsWithChildren<BoardPageProps>) {
  const { ui, board } = p
  const { t } = ui
  return (
    <AppShell ui={ui} title={`${board.pipeline.name} · ${t('pipeline.title')}`}>
      <link rel="stylesheet" href={assetUrl('pipeline.css')} />
      <CardIconStyles />
      <div
        class="board-page"
        id="board-page"
        data-board-page
        data-pipeline-id={board.pipeline.id}
        data-user-id={ui.user?.id}
        data-locale={ui.locale}
        data-currency={board.pipeline.currency}
        data-strings={clientStrings(ui)}
        data-members={JSON.stringify(Object.fromEntries(board.ctx.members.map((m) => [m.id, m.name])))}
        data-summary={t('pipeline.open_value')}
      >
        <BoardHeader {...p} />
        <div id="board-region" class="board-region">
          <BoardRegion {...p} />
        </div>
        <div id="drawer-root" class="drawer-root">
          {p.children}
        </div>
        <div id="board-live" class="sr-only" aria-live="assertive" aria-atomic="true"></div>
        <div id="board-live-polite" class="sr-only" aria-live="polite" aria-atomic="true"></div>
        <p id="card-help" class="sr-only" safe>
          {t('pipeline.card_help')}
        </p>
        <MoveDialog ui={ui} columns={board.columns} />
        <WonDialog ui={ui} currency={board.pipeline.currency} />
        <LostDialog ui={ui} reasons={board.ctx.reasons} />
      </div>
      <script src={assetUrl('pipeline.js')} data-sortable={assetUrl('sortable.min.js')} defer></script>
    </AppShell>
  )
}

function BoardHeader(p: BoardPageProps) {
  const { ui, board, filters, query } = p
  const { t } = ui
  const pipeline = board.pipeline
  const active = Object.keys(filters).filter((k) => k !== 'q').length
  return (
    <div class="board-head">
      <div class="board-title">
        <PipelineSwitcher ui={ui} pipelines={board.ctx.pipelines} current={pipeline} />
        <LiveBadge ui={ui} />
      </div>
      <div class="board-tools">
        <form
          id="filter-form"
          class="filter-form"
          method="get"
          action={boardUrl(pipeline.id)}
          hx-get={boardUrl(pipeline.id)}
          hx-target="#board-region"
          hx-trigger="submit, change, input delay:350ms"
          hx-sync="this:replace"
          data-filter-form
          x-data={`{ filtersOpen: ${active > 0 ? 'true' : 'false'} }`}
        >
          <label class="search-box">
            <PIcon name="search" />
            <span class="sr-only" safe>
              {t('pipeline.filter.search')}
            </span>
            <input
              type="search"
              name="q"
              value={filters.q ?? ''}
              placeholder={t('pipeline.filter.search_placeholder')}
              autocomplete="off"
              maxlength={100}
            />
          </label>
          <button
            type="button"
            class={`btn btn-sm${active ? ' btn-active' : ''}`}
            x-on:click="filtersOpen = !filtersOpen"
            x-bind:aria-expanded="filtersOpen.toString()"
            aria-controls="filter-panel"
            data-testid="filters-toggle"
          >
            <PIcon name="sliders" />
            <span safe>{t('pipeline.filters')}</span>
            {active ? <span class="count-pill">{active}</span> : ''}
          </button>
          <FilterPanel ui={ui} members={board.ctx.members} filters={filters} />
        </form>
        <ViewsMenu
          ui={ui}
          views={board.ctx.views.filter((v) => v.pipelineId === pipeline.id)}
          pipeline={pipeline}
          query={query}
        />
        {p.canAdmin ? (
          <a
            class="btn btn-sm"
            href={`/pipeline/${pipeline.id}/settings`}
            title={t('pipeline.settings_title')}
            data-testid="pipeline-settings"
          >
            <PIcon name="settings" />
            <span class="hide-md" safe>
              {t('pipeline.settings')}
            </span>
          </a>
        ) : (
          ''
        )}
        <a
          class="btn btn-primary btn-sm"
          href={`/pipeline/leads/new?pipeline=${pipeline.id}`}
          hx-get={`/pipeline/leads/new?pipeline=${pipeline.id}`}
          hx-target="#drawer-root"
          hx-push-url="false"
          data-testid="new-lead"
        >
          <PIcon name="plus" />
          <span safe>{t('pipeline.new_lead')}</span>
        </a>
      </div>
    </div>
  )
}

function LiveBadge({ ui }: { ui: Ui }) {
  return (
    <span class="live-badge" data-live-badge data-state="off" title={ui.t('pipeline.offline')}>
      <span class="live-dot" aria-hidden="true"></span>
      <span class="live-text" safe>
        {ui.t('pipeline.live')}
      </span>
    </span>
  )
}

function PipelineSwitcher({
  ui,
  pipelines,
  current,
}: {
  ui: Ui
  pipelines: PipelineRef[]
  current: PipelineRef
}) {
  const { t } = ui
  const button = (
    <>
      <h1 safe>{current.name}</h1>
      <PIcon name="chevronDown" />
    </>
  )
  return (
    <Dropdown label={t('pipeline.switch')} buttonClass="pipeline-switch" safeButton={button}>
      <div class="menu-label" safe>
        {t('pipeline.switch')}
      </div>
      {pipelines.map((pl) => (
        <a href={boardUrl(pl.id)} aria-current={pl.id === current.id ? 'true' : undefined}>
          <span safe>{pl.name}</span>
          {pl.id === current.id ? (
            <span class="check-mark">
              <PIcon name="check" />
            </span>
          ) : (
            ''
          )}
        </a>
      ))}
    </Dropdown>
  )
}

/** The "Views" menu button of the board and of the lead list; the caller fills the menu. */
export function SavedViewsDropdown({ t, testId, children }: PropsWithChildren<{ t: T; testId: string }>) {
  const safeButton = (
    <>
      <PIcon name="bookmark" />
      <span class="hide-md" safe>
        {t('pipeline.views')}
      </span>
    </>
  )
  return (
    <Dropdown
      label={t('pipeline.views')}
      buttonClass="btn btn-sm"
      safeButton={safeButton}
      align="right"
      menuClass="views-menu"
      testId={testId}
    >
      {children}
    </Dropdown>
  )
}

function ViewsMenu({
  ui,
  views,
  pipeline,
  query,
}: {
  ui: Ui
  views: ViewRef[]
  pipeline: PipelineRef
  query: string
}) {
  const { t } = ui
  return (
    <SavedViewsDropdown t={t} testId="views-toggle">
      <a href={boardUrl(pipeline.id)} aria-current={query ? undefined : 'true'}>
        <span safe>{t('pipeline.view_all')}</span>
      </a>
      <div class="menu-label" safe>
        {t('pipeline.views_mine')}
      </div>
      {views.length ? (
        views.map((v) => (
          <div class="view-row">
            <a href={boardUrl(pipeline.id, v.query)} aria-current={v.query === query ? 'true' : undefined}>
              <span safe>{v.name}</span>
            </a>
            <form method="post" action={`/pipeline/views/${v.id}/delete`}>
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
      <form class="view-save" method="post" action="/pipeline/views" data-save-view>
        <input type="hidden" name="pipelineId" value={pipeline.id} />
        <input type="hidden" name="query" value={query} />
        <label for="view-name" class="sr-only" safe>
          {t('pipeline.view_name')}
        </label>
        <input
          class="input input-sm"
          id="view-name"
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

/** A free-text filter whose suggestions (the org's sources or tags) load on first focus. */
function SuggestedFilter(p: {
  label: string
  name: string
  value?: string
  list: string
  maxlength: number
}) {
  return (
    <div
      class="filter-field"
      hx-get="/pipeline/suggestions"
      hx-trigger="focusin once"
      hx-target="#filter-suggestions"
      hx-swap="innerHTML"
    >
      <label for={`flt-${p.name}`} safe>
        {p.label}
      </label>
      <input
        class="input input-sm"
        id={`flt-${p.name}`}
        name={p.name}
        value={p.value ?? ''}
        list={p.list}
        maxlength={p.maxlength}
        autocomplete="off"
      />
    </div>
  )
}

function FilterPanel({ ui, members, filters }: { ui: Ui; members: MemberRef[]; filters: BoardFilters }) {
  const { t } = ui
  const owner = filters.owner ?? ''
  return (
    <div
      class="filter-panel"
      id="filter-panel"
      x-show="filtersOpen"
      x-cloak={Object.keys(filters).filter((k) => k !== 'q').length ? undefined : true}
    >
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
          {members.map((m) => (
            <option value={m.id} selected={owner === m.id} safe>
              {m.name}
            </option>
          ))}
        </select>
      </div>
      <SuggestedFilter
        label={t('pipeline.filter.source')}
        name="source"
        value={filters.source}
        list="dl-sources"
        maxlength={60}
      />
      <SuggestedFilter
        label={t('pipeline.filter.tag')}
        name="tag"
        value={filters.tag}
        list="dl-tags"
        maxlength={40}
      />
      <RangeFilterFields t={t} filters={filters} />
      <noscript>
        <button type="submit" class="btn btn-sm" safe>
          {t('pipeline.filter.apply')}
        </button>
      </noscript>
      <div id="filter-suggestions"></div>
    </div>
  )
}

/**
 * The score range and created-date range fields of the board's filter panel, shared with the lead
 * list's (both read the same BoardFilters from the URL).
 */
export function RangeFilterFields({ t, filters }: { t: T; filters: BoardFilters }): JSX.Element {
  return (
    <>
      <div class="filter-field filter-range">
        <label for="flt-smin" safe>
          {t('pipeline.score')}
        </label>
        <div class="range-pair">
          <input
            class="input input-sm"
            id="flt-smin"
            name="score_min"
            type="number"
            min="-1000"
            max="1000"
            value={filters.scoreMin === undefined ? '' : String(filters.scoreMin)}
            aria-label={t('pipeline.filter.score_min')}
            placeholder="min"
          />
          <span aria-hidden="true">–</span>
          <input
            class="input input-sm"
            name="score_max"
            type="number"
            min="-1000"
            max="1000"
            value={filters.scoreMax === undefined ? '' : String(filters.scoreMax)}
            aria-label={t('pipeline.filter.score_max')}
            placeholder="max"
          />
        </div>
      </div>
      <div class="filter-field">
        <label for="flt-from" safe>
          {t('pipeline.filter.from')}
        </label>
        <input
          class="input input-sm"
          id="flt-from"
          name="from"
          type="date"
          value={filters.createdFrom ?? ''}
        />
      </div>
      <div class="filter-field">
        <label for="flt-to" safe>
          {t('pipeline.filter.to')}
        </label>
        <input class="input input-sm" id="flt-to" name="to" type="date" value={filters.createdTo ?? ''} />
      </div>
    </>
  )
}

export function FilterSuggestions({ sources, tags }: { sources: string[]; tags: string[] }) {
  return (
    <>
      <datalist id="dl-sources">
        {sources.map((s) => (
          <option value={s}></option>
        ))}
      </datalist>
      <datalist id="dl-tags">
        {tags.map((s) => (
          <option value={s}></option>
        ))}
      </datalist>
    </>
  )
}

/** The part of the page a filter change replaces: active filter chips and the board. */
export function BoardRegion(p: BoardPageProps) {
  const { ui, board, filters, query } = p
  const { t } = ui
  const pipeline = board.pipeline
  const open = board.columns.filter((c) => c.kind === 'open')
  const openCount = open.reduce((n, c) => n + c.count, 0)
  const openValue = open.reduce((n, c) => n + c.totalCents, 0)
  const weighted = open.reduce((n, c) => n + (c.totalCents * c.probability) / 100, 0)
  const members = new Map(board.ctx.members.map((m) => [m.id, m]))
  return (
    <>
      <div class="board-sub">
        <span class="board-summary" data-testid="board-summary">
          <strong safe>
            {t('pipeline.open_value', {
              count: openCount,
              value: moneyShort(openValue, pipeline.currency, ui.locale),
            })}
          </strong>
          <span class="subtle" safe>
            {t('pipeline.weighted', {
              value: moneyShort(Math.round(weighted), pipeline.currency, ui.locale),
            })}
          </span>
        </span>
        <FilterChips ui={ui} filters={filters} pipelineId={pipeline.id} members={members} />
      </div>
      <section
        class="board"
        data-board
        data-version={String(board.ctx.version)}
        data-query={query}
        aria-label={t('pipeline.board_label', { pipeline: pipeline.name })}
        tabindex="-1"
      >
        {board.columns.map((c) => (
          <BoardColumn
            ui={ui}
            column={c}
            pipeline={pipeline}
            query={query}
            members={members}
            filtered={query !== ''}
          />
        ))}
      </section>
    </>
  )
}

function FilterChips({
  ui,
  filters,
  pipelineId,
  members,
}: {
  ui: Ui
  filters: BoardFilters
  pipelineId: string
  members: Map<string, MemberRef>
}) {
  const { t } = ui
  const chips: { label: string; without: BoardFilters }[] = []
  const drop = (k: keyof BoardFilters): BoardFilters => {
    const f = { ...filters }
    delete f[k]
    return f
  }
  if (filters.owner)
    chips.push({
      label: `${t('pipeline.filter.owner')}: ${
        filters.owner === 'mine'
          ? t('pipeline.filter.owner_mine')
          : filters.owner === 'none'
            ? t('pipeline.filter.owner_none')
            : (members.get(filters.owner)?.name ?? '?')
      }`,
      without: drop('owner'),
    })
  if (filters.source)
    chips.push({ label: `${t('pipeline.filter.source')}: ${filters.source}`, without: drop('source') })
  if (filters.tag) chips.push({ label: `${t('pipeline.filter.tag')}: ${filters.tag}`, without: drop('tag') })
  if (filters.scoreMin !== undefined || filters.scoreMax !== undefined) {
    const f = { ...filters }
    delete f.scoreMin
    delete f.scoreMax
    chips.push({
      label: `${t('pipeline.score')}: ${filters.scoreMin ?? '…'}–${filters.scoreMax ?? '…'}`,
      without: f,
    })
  }
  if (filters.createdFrom)
    chips.push({ label: `${t('pipeline.filter.from')} ${filters.createdFrom}`, without: drop('createdFrom') })
  if (filters.createdTo)
    chips.push({ label: `${t('pipeline.filter.to')} ${filters.createdTo}`, without: drop('createdTo') })
  if (filters.q) chips.push({ label: `“${filters.q}”`, without: drop('q') })
  if (!chips.length) return ''
  return (
    <div class="chips" data-testid="filter-chips">
      {chips.map((c) => (
        <a class="chip" href={boardUrl(pipelineId, filtersQuery(c.without))}>
          <span safe>{c.label}</span>
          <PIcon name="x" />
        </a>
      ))}
      <a class="chip chip-clear" href={boardUrl(pipelineId)} safe>
        {t('pipeline.filter.clear')}
      </a>
    </div>
  )
}

export function BoardColumn({
  ui,
  column,
  pipeline,
  query,
  members,
  filtered,
}: {
  ui: Ui
  column: Column
  pipeline: PipelineRef
  query: string
  members: Map<string, MemberRef>
  filtered: boolean
}) {
  const { t } = ui
  const c = column
  const titleId = `col-title-${c.id}`
  return (
    <section
      class={`col col-${c.kind}`}
      data-stage-id={c.id}
      data-kind={c.kind}
      data-name={c.name}
      data-count={String(c.count)}
      data-total={String(c.totalCents)}
      style={`--stage:${c.color}`}
      aria-labelledby={titleId}
    >
      <header class="col-head">
        <div class="col-title">
          <h2 id={titleId} safe>
            {c.name}
          </h2>
          <span class="col-count" data-col-count>
            {c.count}
          </span>
        </div>
        <div class="col-meta">
          <span class="col-total" data-col-total safe>
            {moneyShort(c.totalCents, pipeline.currency, ui.locale)}
          </span>
          {c.kind === 'open' ? (
            <span class="col-prob" safe>
              {`${c.probability}%`}
            </span>
          ) : (
            <span class={`col-kind col-kind-${c.kind}`}>
              <PIcon name={c.kind === 'won' ? 'trophy' : 'circleX'} />
            </span>
          )}
        </div>
      </header>
      {/* The cards' links open the drawer: their hx-target and hx-push-url are inherited from here. */}
      <div class="col-cards" data-cards data-stage-id={c.id} hx-target="#drawer-root" hx-push-url="true">
        {c.cards.map((card) => (
          <LeadCard ui={ui} card={card} currency={pipeline.currency} stageName={c.name} members={members} />
        ))}
        {c.more ? (
          <ColumnMore
            ui={ui}
            pipelineId={pipeline.id}
            stageId={c.id}
            last={c.cards[c.cards.length - 1]!}
            query={query}
          />
        ) : (
          ''
        )}
        <div class="col-empty" aria-hidden="true" safe>
          {filtered ? t('pipeline.empty_column_filtered') : t('pipeline.empty_column')}
        </div>
      </div>
      {c.kind === 'open' ? (
        <a
          class="col-add"
          href={`/pipeline/leads/new?pipeline=${pipeline.id}&stage=${c.id}`}
          hx-get={`/pipeline/leads/new?pipeline=${pipeline.id}&stage=${c.id}`}
          hx-target="#drawer-root"
          hx-push-url="false"
          aria-label={t('pipeline.add_lead_to', { stage: c.name })}
        >
          <PIcon name="plus" />
          <span safe>{t('pipeline.new_lead')}</span>
        </a>
      ) : (
        ''
      )}
    </section>
  )
}

function ColumnMore({
  ui,
  pipelineId,
  stageId,
  last,
  query,
}: {
  ui: Ui
  pipelineId: string
  stageId: string
  last: Card
  query: string
}) {
  const url = withQuery(
    `/pipeline/${pipelineId}/stages/${stageId}/cards?after=${last.position}_${last.id}`,
    query,
  )
  // `intersect`, not `revealed`: the cards scroll inside their column, and htmx's `revealed` only
  // watches the window's scroll; an IntersectionObserver sees through scrolling ancestors.
  return (
    <div
      class="col-more"
      data-more
      hx-get={url}
      hx-trigger="intersect once"
      hx-target="this"
      hx-swap="outerHTML"
      hx-push-url="false"
    >
      <button
        type="button"
        class="btn btn-ghost btn-sm"
        hx-get={url}
        hx-target="closest .col-more"
        hx-swap="outerHTML"
      >
        <span safe>{ui.t('pipeline.load_more')}</span>
      </button>
    </div>
  )
}

/** A page of cards for one column (the "load more" response). */
export function CardsPage(p: {
  ui: Ui
  cards: Card[]
  more: boolean
  pipelineId: string
  stageId: string
  stageName: string
  currency: string
  query: string
  members: MemberRef[]
}) {
  const members = new Map(p.members.map((m) => [m.id, m]))
  return (
    <>
      {p.cards.map((card) => (
        <LeadCard ui={p.ui} card={card} currency={p.currency} stageName={p.stageName} members={members} />
      ))}
      {p.more ? (
        <ColumnMore
          ui={p.ui}
          pipelineId={p.pipelineId}
          stageId={p.stageId}
          last={p.cards[p.cards.length - 1]!}
          query={p.query}
        />
      ) : (
        ''
      )}
    </>
  )
}

/**
 * One board card. The hottest markup of the app (150 per board request, more on every scroll), so it
 * is written as one string rather than JSX, whose generic attribute handling was most of the board's
 * render time. Every user value goes through `esc` (Bun.escapeHTML: `& < > " '`, attributes
 * included); what is concatenated raw is constants, markup built here from escaped values, the
 * database uuid and numbers. A test feeds it hostile names, companies, tags, owners and stage names
 * (xss-scan does not see inside strings). The markup is what the JSX produced: the same elements,
 * attributes and order (tests, CSS and public/pipeline.js rely on it).
 */
export function LeadCard({
  ui,
  card,
  currency,
  stageName,
  members,
}: {
  ui: Ui
  card: Card
  currency: string
  stageName: string
  members: Map<string, MemberRef>
}): JSX.Element {
  const parts = localeCardParts(ui)
  const render = renderCardParts(ui, members)
  const value = esc(money(card.valueCents, card.currency || currency, ui.locale))
  // The id is a uuid from the database, and the numbers are numbers: nothing in them to escape.
  const url = leadUrl(card.id)
  const name = esc(card.fullName)
  const company = card.company ? esc(card.company) : null
  let out =
    `<article class="lead-card${card.wonAt ? ' is-won' : ''}${card.lostAt ? ' is-lost' : ''}" id="card-${card.id}" data-version="${card.version}" data-position="${card.position}" data-value="${card.valueCents}" data-name="${name}">` +
    `<a class="card-link" href="${url}" hx-get="${url}" aria-label="${parts.label({ name, company: company ?? '—', value, stage: render.stage(stageName) })}" aria-describedby="card-help" data-card-link>` +
    `<span class="card-name">${name}</span></a>` +
    `<button type="button" class="card-menu" tabindex="-1" data-move-menu aria-label="${parts.menu({ name })}">${ICON.ellipsis}</button>`
  if (company) out += `<div class="card-company">${company}</div>`
  out += `<div class="card-row"><span class="card-value">${value}</span>`
  if (card.tags.length) {
    out += '<span class="card-tags">'
    for (const tag of card.tags.slice(0, 3)) out += `<span class="tag">${esc(tag)}</span>`
    if (card.tags.length > 3) out += `<span class="tag tag-more">+${card.tags.length - 3}</span>`
    out += '</span>'
  }
  out += '</div><div class="card-foot">'
  out += (card.ownerId && render.avatar(card.ownerId)) || parts.unassigned
  out += '<span class="channels">'
  if (card.hasPhone) out += parts.phone
  if (card.hasEmail) out += parts.email
  out += '</span><span class="spacer"></span>'
  if (card.score) out += parts.score(card.score)
  out += render.age(card.lastActivityAt)
  out += '</div></article>'
  return out
}

const esc = (v: string) => Bun.escapeHTML(v)

/**
 * A message with `{name}` placeholders compiled once into a function of already escaped values
 * (the literal text is escaped here, once).
 */
function escapedMessage(text: string): (values: Record<string, string>) => string {
  const split = text.split(/\{(\w+)\}/)
  const literal = split.filter((_, i) => i % 2 === 0).map(esc)
  const names = split.filter((_, i) => i % 2 === 1)
  return (values) => {
    let out = literal[0]!
    for (let i = 0; i < names.length; i++) out += (values[names[i]!] ?? '') + literal[i + 1]!
    return out
  }
}

/**
 * What depends only on the locale (catalog text and icons), built once per locale for the process:
 * the card's labels, the titled icons and the score badges.
 */
const byLocale = new Map<string, ReturnType<typeof makeLocaleParts>>()
function localeCardParts(ui: Ui) {
  let parts = byLocale.get(ui.locale)
  if (!parts) {
    parts = makeLocaleParts(ui)
    byLocale.set(ui.locale, parts)
  }
  return parts
}
function makeLocaleParts({ t }: Ui) {
  const scores = new Map<number, string>()
  const scoreTitle = escapedMessage(t('pipeline.score_value'))
  return {
    label: escapedMessage(t('pipeline.card_label')),
    menu: escapedMessage(t('pipeline.card_menu')),
    unassigned: `<span class="avatar avatar-xs avatar-none" title="${esc(t('pipeline.unassigned'))}">${ICON.userPlus}</span>`,
    phone: `<span class="channel" title="${esc(t('pipeline.has_phone'))}">${ICON.phone}</span>`,
    email: `<span class="channel" title="${esc(t('pipeline.has_email'))}">${ICON.mail}</span>`,
    /** The score badge (a flame from 70 up); the usual 0–100 are kept. */
    score(score: number): string {
      let html = scores.get(score)
      if (html === undefined) {
        html = `<span class="score score-${scoreClass(score)}" title="${scoreTitle({ score: String(score) })}">${score >= 70 ? ICON.flame : ''}${score}</span>`
        if (score >= 0 && score <= 100) scores.set(score, html)
      }
      return html
    },
  }
}

/**
 * What the cards of one render share (the same `members` map): owner avatars (per member),
 * last-activity stamps (per day and age) and the escaped stage name.
 */
const byRender = new WeakMap<Map<string, MemberRef>, ReturnType<typeof makeRenderParts>>()
function renderCardParts(ui: Ui, members: Map<string, MemberRef>) {
  let parts = byRender.get(members)
  if (!parts || parts.ui !== ui) {
    parts = makeRenderParts(ui, members)
    byRender.set(members, parts)
  }
  return parts
}
function makeRenderParts(ui: Ui, members: Map<string, MemberRef>) {
  const { t } = ui
  const avatars = new Map<string, string>()
  const ages = new Map<string, string>()
  let stageRaw = ''
  let stageHtml = ''
  return {
    ui,
    stage(name: string): string {
      if (name !== stageRaw) {
        stageRaw = name
        stageHtml = esc(name)
      }
      return stageHtml
    },
    /** Last activity: the day in the title, "3d" on the card. */
    age(at: Date): string {
      const short = agoShort(at)
      const day = Math.floor(at.getTime() / 86_400_000)
      const key = `${day}|${short}`
      let html = ages.get(key)
      if (html === undefined) {
        html = `<span class="card-age" title="${esc(t('pipeline.last_activity', { when: at.toISOString().slice(0, 10) }))}">${ICON.clock}<span>${esc(short)}</span></span>`
        ages.set(key, html)
      }
      return html
    },
    /** The owner's avatar, or undefined for someone who is no longer a member (shown unassigned). */
    avatar(id: string): string | undefined {
      let html = avatars.get(id)
      if (html === undefined) {
        const owner = members.get(id)
        if (!owner) return undefined
        html = `<span class="avatar avatar-xs" style="--av:${avatarColor(owner.id)}" title="${esc(t('pipeline.owner_of', { name: owner.name }))}">${esc(initials(owner.name))}</span>`
        avatars.set(id, html)
      }
      return html
    },
  }
}

/** The card icons' markup, once (constants: `CardIcon` returns a fixed string per name). */
const ICON = Object.fromEntries(CARD_ICONS.map((name) => [name, CardIcon({ name }) as string])) as Record<
  CardIconName,
  string
>

// Dialogs (driven by pipeline.js; without JavaScript the drawer offers the same actions) ----------

function MoveDialog({ ui, columns }: { ui: Ui; columns: Column[] }) {
  const { t } = ui
  return (
    <dialog class="sheet" id="move-dialog" aria-labelledby="move-title">
      <form method="dialog" class="sheet-body">
        <div class="sheet-head">
          <h2 id="move-title" data-title safe>
            {t('pipeline.move_to')}
          </h2>
          <button type="submit" value="cancel" class="icon-btn" aria-label={t('pipeline.close')}>
            <PIcon name="x" />
          </button>
        </div>
        <fieldset class="move-list" aria-labelledby="move-title">
          {columns.map((c) => (
            <button
              type="submit"
              class="move-option"
              value={c.id}
              data-stage-id={c.id}
              style={`--stage:${c.color}`}
            >
              <span class="dot" aria-hidden="true"></span>
              <span safe>{c.name}</span>
              <span class="move-current" safe>
                {t('pipeline.current_stage')}
              </span>
            </button>
          ))}
        </fieldset>
      </form>
    </dialog>
  )
}

function WonDialog({ ui, currency }: { ui: Ui; currency: string }) {
  const { t } = ui
  return (
    <dialog class="sheet" id="won-dialog" aria-labelledby="won-title">
      <form method="dialog" class="sheet-body">
        <div class="sheet-head">
          <span class="sheet-icon sheet-icon-won" aria-hidden="true">
            <PIcon name="trophy" />
          </span>
          <h2 id="won-title" data-title safe>
            {t('pipeline.won_submit')}
          </h2>
        </div>
        <div class="field">
          <label for="won-value" safe>
            {t('pipeline.won_value')}
          </label>
          <input
            class="input"
            id="won-value"
            name="value"
            inputmode="decimal"
            autocomplete="off"
            maxlength={40}
          />
          <p class="hint" safe>
            {t('pipeline.lead.value_hint', { currency })}
          </p>
        </div>
        <div class="form-actions">
          <button type="submit" class="btn" value="cancel" formnovalidate safe>
            {t('action.cancel')}
          </button>
          <button type="submit" class="btn btn-primary btn-won" value="ok" safe>
            {t('pipeline.won_submit')}
          </button>
        </div>
      </form>
    </dialog>
  )
}

function LostDialog({ ui, reasons }: { ui: Ui; reasons: ReasonRef[] }) {
  const { t } = ui
  return (
    <dialog class="sheet" id="lost-dialog" aria-labelledby="lost-title">
      <form method="dialog" class="sheet-body">
        <div class="sheet-head">
          <span class="sheet-icon sheet-icon-lost" aria-hidden="true">
            <PIcon name="circleX" />
          </span>
          <h2 id="lost-title" data-title safe>
            {t('pipeline.lost_submit')}
          </h2>
        </div>
        <fieldset class="reasons">
          <legend safe>{t('pipeline.lost_reason')}</legend>
          {reasons.map((r) => (
            <label class="reason">
              <input type="radio" name="reason" value={r.label} />
              <span safe>{r.label}</span>
            </label>
          ))}
        </fieldset>
        <div class="field">
          <label for="lost-detail" safe>
            {reasons.length ? t('pipeline.lost_detail') : t('pipeline.lost_reason')}
          </label>
          <input
            class="input"
            id="lost-detail"
            name="detail"
            maxlength={200}
            autocomplete="off"
            required={!reasons.length}
          />
        </div>
        <p class="field-error" data-error hidden safe>
          {t('pipeline.error.reason_required')}
        </p>
        <div class="form-actions">
          <button type="submit" class="btn" value="cancel" formnovalidate safe>
            {t('action.cancel')}
          </button>
          <button type="submit" class="btn btn-primary btn-lost" value="ok" safe>
            {t('pipeline.lost_submit')}
          </button>
        </div>
      </form>
    </dialog>
  )
}
