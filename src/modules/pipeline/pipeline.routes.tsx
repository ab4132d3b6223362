/**
 * Pipeline routes. Every page is a full document; htmx requests get the fragment they target
 * (`#board-region` for filters, `#drawer-root` for the lead drawer, a column's cards for paging), so
 * every URL works without JavaScript and deep links (a lead's drawer) open the board around it.
 * The board's move endpoint answers JSON to pipeline.js (fetch with `Accept: application/json`).
 */
import { Elysia } from 'elysia'
import pipelineCss from '../../../public/pipeline.css' with { type: 'file' }
import pipelineJs from '../../../public/pipeline.js' with { type: 'file' }
import { postedCustomValues } from '../../../views/leads/custom-fields'
import {
  BoardPage,
  type BoardPageProps,
  BoardRegion,
  boardUrl,
  CardsPage,
  FilterSuggestions,
  LeadCard,
  leadUrl,
} from '../../../views/pipeline/board-page'
import { LeadDrawer, type LeadDrawerProps, NewLeadDrawer } from '../../../views/pipeline/lead-drawer'
import {
  DeleteStagePage,
  PipelineSettingsPage,
  type SettingsForms,
} from '../../../views/pipeline/settings-page'
import { withOrg } from '../../platform/db/tenancy'
import { registerAsset } from '../../platform/http/assets'
import { type AppDeps, type OrgCtx, requireOrg, setFlash, withOrgRequest } from '../../platform/http/context'
import { AppError, FormError } from '../../platform/http/errors'
import { field, fields, html, json, redirect, uiOf, withForm } from '../../platform/http/respond'
import { isLocale, type Locale, type MessageKey } from '../../shared/i18n'
import { isUuid } from '../../shared/ids'
import { captureLead } from '../leads/leads.capture'
import { customFromForm, listCustomFields } from '../leads/leads.custom-fields'
import { scoringRulesActive } from '../leads/leads.scoring'
import { PIPELINE_ERRORS } from './pipeline.errors'
import {
  boardContext,
  countLeadsInStage,
  filterSuggestions,
  findPipeline,
  findStage,
  listStages,
} from './pipeline.repository'
import { type BoardFilters, filtersQuery, MoveBody, PageQuery, parseFilters } from './pipeline.schemas'
import type { StageKind } from './pipeline.table'
import {
  addNote,
  assignLead,
  canAdmin,
  closeLead,
  createLead,
  createLossReason,
  createPipeline,
  createStage,
  deleteLossReason,
  deletePipeline,
  deleteStage,
  deleteView,
  LEAD_FIELDS,
  type LeadInput,
  loadBoard,
  loadCard,
  loadColumnPage,
  loadLead,
  loadSettings,
  moveLead,
  renamePipeline,
  reorderStages,
  saveView,
  updateLead,
  updateStage,
} from './pipeline.usecases'

registerAsset('pipeline.css', pipelineCss, 'text/css; charset=utf-8')
registerAsset('pipeline.js', pipelineJs, 'text/javascript; charset=utf-8')

const STAGE_FIELDS = ['name', 'color', 'probability', 'kind']

export function pipelineRoutes(deps: AppDeps) {
  const { db } = deps
  const scope = (r: OrgCtx) => ({ orgId: r.org.orgId, userId: r.auth.user.id })
  const orgLocale = (r: OrgCtx): Locale => (isLocale(r.org.locale) ? r.org.locale : r.locale)
  /** An htmx request for a fragment (not a boosted navigation, which wants the whole page). */
  const fragmentOf = (request: Request, target?: string) =>
    request.headers.get('hx-request') === 'true' &&
    request.headers.get('hx-boosted') !== 'true' &&
    (target === undefined || request.headers.get('hx-target') === target)
  const fragment = (r: OrgCtx, target?: string) => fragmentOf(r.request, target)
  const wantsJson = (request: Request) => (request.headers.get('accept') ?? '').includes('application/json')
  /** The board filters of the page an htmx request comes from (the drawer's "back" link keeps them). */
  const backQuery = (r: OrgCtx) => {
    const current = r.request.headers.get('hx-current-url')
    if (!current) return ''
    try {
      const u = new URL(current)
      return u.pathname.startsWith('/pipeline/leads/') ? '' : filtersQuery(parseFilters(u.searchParams))
    } catch {
      return ''
    }
  }
  /** The path and query of the page an htmx request comes from. */
  const currentPath = (r: OrgCtx) => {
    try {
      const u = new URL(r.request.headers.get('hx-current-url') ?? '')
      return u.pathname + u.search
    } catch {
      return null
    }
  }
  const changed = (res: Response, leadId: string) => {
    res.headers.set('hx-trigger', JSON.stringify({ 'pipeline:changed': { id: leadId } }))
    return res
  }

  // Board ----------------------------------------------------------------------------------------

  /** The board: authenticated in its one tenant transaction (2 statements in all). */
  async function boardResponse(request: Request, pipelineId: string | null) {
    const filters = parseFilters(new URL(request.url).searchParams)
    const query = filtersQuery(filters)
    const { r, value: board } = await withOrgRequest(deps, request, undefined, (r, tx) => {
      if (pipelineId !== null && !isUuid(pipelineId)) throw PIPELINE_ERRORS.notFound()
      return loadBoard(tx, r.actor, { pipelineId, filters, timezone: r.org.timezone, locale: orgLocale(r) })
    })
    const props: BoardPageProps = { ui: uiOf(r), board, filters, query, canAdmin: canAdmin(r.org.role) }
    if (fragment(r, 'board-region')) {
      const res = await html(r, <BoardRegion {...props} />)
      // A filter change puts the canonical filters in the address bar (no empty fields): shareable,
      // and the back button returns to the previous filters. Board refreshes leave history alone.
      const target = boardUrl(board.pipeline.id, query)
      if (r.request.headers.get('hx-trigger') === 'filter-form' && currentPath(r) !== target)
        res.headers.set('hx-push-url', target)
      return res
    }
    return html(r, <BoardPage {...props} />)
  }

  async function drawerProps(
    r: OrgCtx,
    leadId: string,
    extra: Partial<LeadDrawerProps> = {},
  ): Promise<LeadDrawerProps> {
    const data = await withOrg(db, scope(r), async (tx) => ({
      ...(await loadLead(tx, r.actor, leadId)),
      customFields: await listCustomFields(tx),
      scoreComputed: await scoringRulesActive(tx),
    }))
    return {
      ui: uiOf(r),
      customFields: data.customFields,
      lead: data.lead,
      activities: data.activities,
      stages: data.stages,
      members: data.ctx.members,
      reasons: data.ctx.reasons,
      backQuery: backQuery(r),
      scoreComputed: data.scoreComputed,
      ...extra,
    }
  }

  /** The drawer as a fragment (htmx) or inside its board (a deep link / no JavaScript). */
  async function drawerResponse(
    r: OrgCtx,
    leadId: string,
    extra: Partial<LeadDrawerProps> = {},
    status = 200,
  ) {
    const props = await drawerProps(r, leadId, extra)
    if (fragment(r, 'drawer-root')) return html(r, <LeadDrawer {...props} />, status)
    const filters: BoardFilters = {}
    const board = await withOrg(db, scope(r), (tx) =>
      loadBoard(tx, r.actor, {
        pipelineId: props.lead.pipelineId,
        filters,
        timezone: r.org.timezone,
        locale: orgLocale(r),
      }),
    )
    return html(
      r,
      <BoardPage ui={uiOf(r)} board={board} filters={filters} query="" canAdmin={canAdmin(r.org.role)}>
        <LeadDrawer {...props} />
      </BoardPage>,
      status,
    )
  }

  /** After a drawer action: the fresh drawer for htmx (and a board refresh trigger), else a redirect. */
  async function afterLeadChange(r: OrgCtx, leadId: string, flashKey: MessageKey) {
    if (fragment(r, 'drawer-root')) return changed(await drawerResponse(r, leadId), leadId)
    setFlash(r, 'success', r.t(flashKey))
    return redirect(r, leadUrl(leadId))
  }

  /** Conflicts and closing errors re-render the drawer with a message instead of an error page. */
  async function leadAction(
    r: OrgCtx,
    leadId: string,
    section: NonNullable<LeadDrawerProps['error']>['section'],
    run: () => Promise<unknown>,
    flashKey: MessageKey,
  ) {
    if (!isUuid(leadId)) throw PIPELINE_ERRORS.notFound()
    try {
      await run()
    } catch (err) {
      if (err instanceof AppError && (err.status === 409 || err.status === 422) && err.code !== 'not_found') {
        const status = err.status
        const key = err.messageKey ?? 'error.form'
        const extra: Partial<LeadDrawerProps> =
          err.code === 'pipeline.conflict' || err.code === 'pipeline.stale_board'
            ? { notice: key }
            : { error: { section, key } }
        if (fragment(r, 'drawer-root')) return changed(await drawerResponse(r, leadId, extra, status), leadId)
        return drawerResponse(r, leadId, extra, status)
      }
      if (err instanceof FormError) {
        const key = Object.values(err.fields)[0] ?? 'error.form'
        return drawerResponse(r, leadId, { error: { section, key } }, 422)
      }
      throw err
    }
    return afterLeadChange(r, leadId, flashKey)
  }

  /** The lead form's fields; `score` stays undefined when the form did not offer it (computed scores). */
  const leadInput = (body: unknown) => {
    const v = fields(body, LEAD_FIELDS) as unknown as LeadInput
    if (!body || typeof body !== 'object' || !('score' in body)) delete v.score
    return v
  }

  return (
    new Elysia({ name: 'pipeline.routes' })
      .get('/pipeline', ({ request }) => boardResponse(request, null))
      .get('/pipeline/suggestions', async ({ request }) => {
        const r = await requireOrg(deps, request)
        const s = await withOrg(db, scope(r), filterSuggestions)
        return html(r, <FilterSuggestions {...s} />)
      })
      .get('/pipeline/:pipelineId', ({ request, params }) => boardResponse(request, params.pipelineId))
      .get(
        '/pipeline/:pipelineId/stages/:stageId/cards',
        async ({ request, params, query }) => {
          const filters = parseFilters(new URL(request.url).searchParams)
          const { r, value: data } = await withOrgRequest(deps, request, undefined, async (r, tx) => {
            if (!isUuid(params.pipelineId) || !isUuid(params.stageId)) throw PIPELINE_ERRORS.notFound()
            const page = await loadColumnPage(tx, r.actor, {
              pipelineId: params.pipelineId,
              stageId: params.stageId,
              filters,
              after: query.after,
              timezone: r.org.timezone,
            })
            const ctx = await boardContext(tx, r.auth.user.id)
            return { ...page, ctx }
          })
          const pipeline = data.ctx.pipelines.find((p) => p.id === params.pipelineId)!
          return html(
            r,
            <CardsPage
              ui={uiOf(r)}
              cards={data.cards}
              more={data.more}
              pipelineId={params.pipelineId}
              stageId={params.stageId}
              stageName={data.stage.name}
              currency={pipeline.currency}
              query={filtersQuery(filters)}
              members={data.ctx.members}
            />,
          )
        },
        { query: PageQuery },
      )

      // Leads ------------------------------------------------------------------------------------
      .get('/pipeline/leads/new', async ({ request }) => {
        const r = await requireOrg(deps, request)
        const pipelineId = r.url.searchParams.get('pipeline') ?? ''
        const stageParam = r.url.searchParams.get('stage') ?? ''
        if (!isUuid(pipelineId)) throw PIPELINE_ERRORS.notFound()
        const data = await withOrg(db, scope(r), async (tx) => {
          const pipeline = await findPipeline(tx, pipelineId)
          if (!pipeline) throw PIPELINE_ERRORS.notFound()
          return {
            pipeline,
            stages: await listStages(tx, pipelineId),
            ctx: await boardContext(tx, r.auth.user.id),
            customFields: await listCustomFields(tx),
            scoreComputed: await scoringRulesActive(tx),
          }
        })
        const stage =
          data.stages.find((s) => s.id === stageParam) ??
          data.stages.find((s) => s.kind === 'open') ??
          data.stages[0]!
        const drawer = (
          <NewLeadDrawer
            ui={uiOf(r)}
            pipelineId={pipelineId}
            pipelineName={data.pipeline.name}
            stageId={stage.id}
            stages={data.stages}
            members={data.ctx.members}
            currency={data.pipeline.currency}
            form={{ values: { ownerId: r.auth.user.id }, errors: null }}
            customFields={data.customFields}
            scoreComputed={data.scoreComputed}
          />
        )
        if (fragment(r, 'drawer-root')) return html(r, drawer)
        const board = await withOrg(db, scope(r), (tx) =>
          loadBoard(tx, r.actor, { pipelineId, filters: {}, timezone: r.org.timezone, locale: orgLocale(r) }),
        )
        return html(
          r,
          <BoardPage ui={uiOf(r)} board={board} filters={{}} query="" canAdmin={canAdmin(r.org.role)}>
            {drawer}
          </BoardPage>,
        )
      })
      .post('/pipeline/leads', async ({ request, body }) => {
        const r = await requireOrg(deps, request)
        const input = leadInput(body)
        const custom = customFromForm(body)
        const pipelineId = field(body, 'pipelineId')
        const stageId = field(body, 'stageId')
        // The manual form is one capture path: validation, deduplication, scoring and assignment
        // happen in captureLead, as for imports and capture endpoints.
        const res = await withForm(
          () =>
            withOrg(db, scope(r), async (tx) => {
              if (!isUuid(pipelineId) || !(await findPipeline(tx, pipelineId)))
                throw PIPELINE_ERRORS.notFound()
              const score = (input.score ?? '').trim()
              return captureLead(
                tx,
                {
                  ...input,
                  tags: input.tags.split(','),
                  custom,
                  pipelineId,
                  stageId: stageId || null,
                  score: score ? Number(score) : null,
                },
                { actorId: r.auth.user.id, channel: 'manual' },
              )
            }),
          async (e) => {
            const data = await withOrg(db, scope(r), async (tx) => {
              const pipeline = isUuid(pipelineId) ? await findPipeline(tx, pipelineId) : null
              if (!pipeline) throw PIPELINE_ERRORS.notFound()
              return {
                pipeline,
                stages: await listStages(tx, pipelineId),
                ctx: await boardContext(tx, r.auth.user.id),
                customFields: await listCustomFields(tx),
                scoreComputed: await scoringRulesActive(tx),
              }
            })
            return html(
              r,
              <NewLeadDrawer
                ui={uiOf(r)}
                pipelineId={pipelineId}
                pipelineName={data.pipeline.name}
                stageId={stageId}
                stages={data.stages}
                members={data.ctx.members}
                currency={data.pipeline.currency}
                form={{
                  values: {
                    ...(input as unknown as Record<string, string>),
                    ...postedCustomValues(data.customFields, custom),
                  },
                  errors: e,
                }}
                customFields={data.customFields}
                scoreComputed={data.scoreComputed}
              />,
              422,
            )
          },
        )
        if (!res.ok) return res.response
        const id = res.value.leadId
        const outcome = res.value.outcome
        if (fragment(r, 'drawer-root')) {
          const notice =
            outcome === 'merged'
              ? 'dedup.notice_merged'
              : outcome === 'flagged'
                ? 'dedup.notice_flagged'
                : undefined
          return changed(await drawerResponse(r, id, notice ? { notice } : {}), id)
        }
        const name = input.fullName.trim()
        setFlash(
          r,
          'success',
          outcome === 'merged'
            ? r.t('dedup.created_merged_flash', { name })
            : outcome === 'flagged'
              ? r.t('dedup.created_flagged_flash', { name })
              : r.t('pipeline.lead.created_flash', { name }),
        )
        return redirect(r, leadUrl(id))
      })
      .get('/pipeline/leads/:leadId', async ({ request, params }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.leadId)) throw PIPELINE_ERRORS.notFound()
        return drawerResponse(r, params.leadId)
      })
      .get('/pipeline/leads/:leadId/card', async ({ request, params }) => {
        const filters = parseFilters(new URL(request.url).searchParams)
        const { r, value: data } = await withOrgRequest(deps, request, undefined, async (r, tx) => {
          if (!isUuid(params.leadId)) throw PIPELINE_ERRORS.notFound()
          const card = await loadCard(tx, r.actor, params.leadId, filters, r.org.timezone)
          if (!card) {
            // Filtered out (204: the board drops the card) or not there at all (404).
            if (!(await loadCard(tx, r.actor, params.leadId, {}, r.org.timezone)))
              throw PIPELINE_ERRORS.notFound()
            return null
          }
          const stage = await findStage(tx, card.stageId)
          const ctx = await boardContext(tx, r.auth.user.id)
          return { card, stage: stage!, ctx }
        })
        // Gone, or filtered out: the board removes the card (204 is not swapped by htmx).
        if (!data) return new Response(null, { status: 204 })
        const pipeline = data.ctx.pipelines.find((p) => p.id === data.card.pipelineId)!
        const res = await html(
          r,
          <LeadCard
            ui={uiOf(r)}
            card={data.card}
            currency={pipeline.currency}
            stageName={data.stage.name}
            members={new Map(data.ctx.members.map((m) => [m.id, m]))}
          />,
        )
        res.headers.set('x-stage-id', data.card.stageId)
        res.headers.set('x-pipeline-id', data.card.pipelineId)
        return res
      })
      .post('/pipeline/leads/:leadId', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.leadId)) throw PIPELINE_ERRORS.notFound()
        const input = leadInput(body)
        const custom = customFromForm(body)
        const version = Number(field(body, 'version'))
        try {
          await withOrg(db, scope(r), (tx) =>
            updateLead(tx, r.actor, params.leadId, { ...input, custom }, version),
          )
        } catch (err) {
          if (err instanceof FormError) {
            const defs = await withOrg(db, scope(r), listCustomFields)
            const values = {
              ...(input as unknown as Record<string, string>),
              ...postedCustomValues(defs, custom),
            }
            return drawerResponse(r, params.leadId, { edit: { values, errors: err } }, 422)
          }
          if (err instanceof AppError && err.code === 'pipeline.conflict')
            return drawerResponse(r, params.leadId, { notice: 'pipeline.error.conflict' }, 409)
          throw err
        }
        return afterLeadChange(r, params.leadId, 'pipeline.lead.saved')
      })
      .post(
        '/pipeline/leads/:leadId/move',
        async ({ request, params, body }) => {
          const input = (leadId: string) => ({
            leadId,
            toStageId: body.stageId,
            afterId: body.afterId || null,
            version: body.version,
            value: body.value,
            reason: body.reason,
          })
          // The board's drag and keyboard moves (JSON): authenticated in the move's transaction, so a
          // move is 2 statements. The drawer's form keeps the ordinary path and its error rendering.
          if (wantsJson(request) && !fragmentOf(request, 'drawer-root')) {
            const { r, value } = await withOrgRequest(deps, request, undefined, (r, tx) => {
              if (!isUuid(params.leadId)) throw PIPELINE_ERRORS.notFound()
              return moveLead(tx, r.actor, input(params.leadId))
            })
            return json(r, { ok: true, ...value })
          }
          const r = await requireOrg(deps, request)
          if (!isUuid(params.leadId)) throw PIPELINE_ERRORS.notFound()
          const move = () => withOrg(db, scope(r), (tx) => moveLead(tx, r.actor, input(params.leadId)))
          return leadAction(r, params.leadId, 'move', move, 'pipeline.lead.saved')
        },
        { body: MoveBody },
      )
      .post('/pipeline/leads/:leadId/won', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request)
        return leadAction(
          r,
          params.leadId,
          'won',
          () =>
            withOrg(db, scope(r), (tx) =>
              closeLead(tx, r.actor, {
                leadId: params.leadId,
                kind: 'won',
                version: Number(field(body, 'version')),
                value: field(body, 'value'),
              }),
            ),
          'pipeline.lead.saved',
        )
      })
      .post('/pipeline/leads/:leadId/lost', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request)
        const reason = [field(body, 'reason').trim(), field(body, 'detail').trim()]
          .filter(Boolean)
          .join(' — ')
        return leadAction(
          r,
          params.leadId,
          'lost',
          () =>
            withOrg(db, scope(r), (tx) =>
              closeLead(tx, r.actor, {
                leadId: params.leadId,
                kind: 'lost',
                version: Number(field(body, 'version')),
                reason: reason || null,
              }),
            ),
          'pipeline.lead.saved',
        )
      })
      .post('/pipeline/leads/:leadId/reopen', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request)
        return leadAction(
          r,
          params.leadId,
          'move',
          () =>
            withOrg(db, scope(r), (tx) =>
              closeLead(tx, r.actor, {
                leadId: params.leadId,
                kind: 'open' as StageKind,
                version: Number(field(body, 'version')),
              }),
            ),
          'pipeline.lead.saved',
        )
      })
      .post('/pipeline/leads/:leadId/assign', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request)
        const ownerId = field(body, 'ownerId') || null
        return leadAction(
          r,
          params.leadId,
          'assign',
          () => withOrg(db, scope(r), (tx) => assignLead(tx, r.actor, params.leadId, ownerId)),
          'pipeline.lead.saved',
        )
      })
      .post('/pipeline/leads/:leadId/notes', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request)
        return leadAction(
          r,
          params.leadId,
          'note',
          () => withOrg(db, scope(r), (tx) => addNote(tx, r.actor, params.leadId, field(body, 'note'))),
          'pipeline.lead.saved',
        )
      })

      // Saved views ------------------------------------------------------------------------------
      .post('/pipeline/views', async ({ request, body }) => {
        const r = await requireOrg(deps, request)
        const pipelineId = field(body, 'pipelineId')
        if (!isUuid(pipelineId)) throw PIPELINE_ERRORS.notFound()
        const name = field(body, 'viewName')
        const res = await withForm(
          () =>
            withOrg(db, scope(r), (tx) =>
              saveView(tx, r.actor, { pipelineId, name, query: field(body, 'query') }),
            ),
          async () => {
            setFlash(r, 'error', r.t('error.required'))
            return redirect(
              r,
              boardUrl(pipelineId, filtersQuery(parseFilters(new URLSearchParams(field(body, 'query'))))),
            )
          },
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('pipeline.view_saved', { name: name.trim() }))
        return redirect(r, boardUrl(pipelineId, res.value.query))
      })
      .post('/pipeline/views/:viewId/delete', async ({ request, params }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.viewId)) throw PIPELINE_ERRORS.notFound()
        const view = await withOrg(db, scope(r), (tx) => deleteView(tx, r.actor, params.viewId))
        setFlash(r, 'success', r.t('pipeline.view_deleted'))
        return redirect(r, boardUrl(view.pipelineId))
      })

      // Settings (owners and admins) -------------------------------------------------------------
      .get('/pipeline/:pipelineId/settings', async ({ request, params }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        if (!isUuid(params.pipelineId)) throw PIPELINE_ERRORS.notFound()
        return settingsPage(r, params.pipelineId)
      })
      .post('/pipeline', async ({ request, body }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        const name = field(body, 'name')
        const res = await withForm(
          () => withOrg(db, scope(r), (tx) => createPipeline(tx, r.actor, { name, locale: orgLocale(r) })),
          async (e) => {
            const first = await withOrg(
              db,
              scope(r),
              async (tx) => (await boardContext(tx, r.auth.user.id)).pipelines[0],
            )
            return settingsPage(r, first!.id, { newPipeline: { values: { name }, errors: e } }, 422)
          },
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('pipeline.pipelines.created', { name: name.trim() }))
        return redirect(r, `/pipeline/${res.value}/settings`)
      })
      .post('/pipeline/:pipelineId/rename', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        if (!isUuid(params.pipelineId)) throw PIPELINE_ERRORS.notFound()
        const name = field(body, 'name')
        const res = await withForm(
          () => withOrg(db, scope(r), (tx) => renamePipeline(tx, r.actor, params.pipelineId, name)),
          (e) => settingsPage(r, params.pipelineId, { rename: { values: { name }, errors: e } }, 422),
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('pipeline.pipelines.renamed'))
        return redirect(r, `/pipeline/${params.pipelineId}/settings`)
      })
      .post('/pipeline/:pipelineId/delete', async ({ request, params }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        if (!isUuid(params.pipelineId)) throw PIPELINE_ERRORS.notFound()
        try {
          const name = await withOrg(db, scope(r), async (tx) => {
            const p = await findPipeline(tx, params.pipelineId)
            await deletePipeline(tx, r.actor, params.pipelineId)
            return p?.name ?? ''
          })
          setFlash(r, 'success', r.t('pipeline.pipelines.deleted', { name }))
          return redirect(r, '/pipeline')
        } catch (err) {
          if (err instanceof AppError && err.status === 409 && err.messageKey)
            return settingsPage(r, params.pipelineId, {}, 409, r.t(err.messageKey))
          throw err
        }
      })
      .post('/pipeline/:pipelineId/stages', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        if (!isUuid(params.pipelineId)) throw PIPELINE_ERRORS.notFound()
        const v = fields(body, STAGE_FIELDS)
        const res = await withForm(
          () => withOrg(db, scope(r), (tx) => createStage(tx, r.actor, params.pipelineId, v as never)),
          (e) => settingsPage(r, params.pipelineId, { newStage: { values: v, errors: e } }, 422),
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('pipeline.stages.added', { name: v.name!.trim() }))
        return redirect(r, `/pipeline/${params.pipelineId}/settings`)
      })
      .post('/pipeline/:pipelineId/stages/order', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        if (!isUuid(params.pipelineId)) throw PIPELINE_ERRORS.notFound()
        const raw = (body as Record<string, unknown> | null)?.ids
        const ids = (Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : []).map(String)
        const res = await withForm(
          () => withOrg(db, scope(r), (tx) => reorderStages(tx, r.actor, params.pipelineId, ids)),
          async (e) =>
            wantsJson(r.request)
              ? json(r, { error: { code: 'pipeline.order', message: r.t('pipeline.error.order') } }, 422)
              : settingsPage(r, params.pipelineId, { order: r.t(Object.values(e.fields)[0]!) }, 422),
        )
        if (!res.ok) return res.response
        if (wantsJson(r.request)) return json(r, { ok: true })
        setFlash(r, 'success', r.t('pipeline.stages.reordered'))
        return redirect(r, `/pipeline/${params.pipelineId}/settings`)
      })
      .post('/pipeline/:pipelineId/stages/:stageId', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        if (!isUuid(params.pipelineId) || !isUuid(params.stageId)) throw PIPELINE_ERRORS.notFound()
        const v = fields(body, STAGE_FIELDS)
        const res = await withForm(
          () =>
            withOrg(db, scope(r), async (tx) => {
              if (!(await findStage(tx, params.stageId, params.pipelineId))) throw PIPELINE_ERRORS.notFound()
              await updateStage(tx, r.actor, params.stageId, v as never)
            }),
          (e) =>
            settingsPage(
              r,
              params.pipelineId,
              { stage: { id: params.stageId, form: { values: v, errors: e } } },
              422,
            ),
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('pipeline.stages.saved'))
        return redirect(r, `/pipeline/${params.pipelineId}/settings`)
      })
      .get('/pipeline/:pipelineId/stages/:stageId/delete', async ({ request, params }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        return deleteStagePage(r, params.pipelineId, params.stageId, {})
      })
      .post('/pipeline/:pipelineId/stages/:stageId/delete', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        if (!isUuid(params.pipelineId) || !isUuid(params.stageId)) throw PIPELINE_ERRORS.notFound()
        const target = field(body, 'target')
        try {
          const res = await withOrg(db, scope(r), async (tx) => {
            const stage = await findStage(tx, params.stageId, params.pipelineId)
            if (!stage) throw PIPELINE_ERRORS.notFound()
            return {
              stage,
              ...(await deleteStage(tx, r.actor, params.stageId, isUuid(target) ? target : null)),
            }
          })
          setFlash(
            r,
            'success',
            res.target
              ? r.t('pipeline.stages.deleted_moved', {
                  name: res.stage.name,
                  count: res.moved,
                  target: res.target.name,
                })
              : r.t('pipeline.stages.deleted', { name: res.stage.name }),
          )
          return redirect(r, `/pipeline/${params.pipelineId}/settings`)
        } catch (err) {
          if (err instanceof FormError)
            return deleteStagePage(r, params.pipelineId, params.stageId, { target }, err, 422)
          if (err instanceof AppError && err.code === 'pipeline.last_stage')
            return settingsPage(r, params.pipelineId, {}, 409, r.t(err.messageKey!))
          throw err
        }
      })
      .post('/pipeline/loss-reasons', async ({ request, body }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        const back = field(body, 'back')
        const label = field(body, 'label')
        const res = await withForm(
          () => withOrg(db, scope(r), (tx) => createLossReason(tx, r.actor, label)),
          (e) => settingsPage(r, back, { reason: { values: { label }, errors: e } }, 422),
        )
        if (!res.ok) return res.response
        return redirect(r, isUuid(back) ? `/pipeline/${back}/settings` : '/pipeline')
      })
      .post('/pipeline/loss-reasons/:reasonId/delete', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        if (!isUuid(params.reasonId)) throw PIPELINE_ERRORS.notFound()
        await withOrg(db, scope(r), (tx) => deleteLossReason(tx, r.actor, params.reasonId))
        const back = field(body, 'back')
        return redirect(r, isUuid(back) ? `/pipeline/${back}/settings` : '/pipeline')
      })
  )

  async function settingsPage(
    r: OrgCtx,
    pipelineId: string,
    forms: SettingsForms = {},
    status = 200,
    alert?: string,
  ) {
    if (!isUuid(pipelineId)) throw PIPELINE_ERRORS.notFound()
    const data = await withOrg(db, scope(r), (tx) => loadSettings(tx, r.actor, pipelineId))
    return html(r, <PipelineSettingsPage ui={uiOf(r)} {...data} forms={forms} alert={alert} />, status)
  }

  async function deleteStagePage(
    r: OrgCtx,
    pipelineId: string,
    stageId: string,
    values: Record<string, string>,
    errors?: FormError,
    status = 200,
  ) {
    if (!isUuid(pipelineId) || !isUuid(stageId)) throw PIPELINE_ERRORS.notFound()
    const data = await withOrg(db, scope(r), async (tx) => {
      const pipeline = await findPipeline(tx, pipelineId)
      const stage = await findStage(tx, stageId, pipelineId)
      if (!pipeline || !stage) throw PIPELINE_ERRORS.notFound()
      const all = await listStages(tx, pipelineId)
      const counts = await countLeadsInStage(tx, stageId)
      return { pipeline, stage, others: all.filter((s) => s.id !== stageId), count: counts }
    })
    return html(
      r,
      <DeleteStagePage ui={uiOf(r)} {...data} form={{ values, errors: errors ?? null }} />,
      status,
    )
  }
}
