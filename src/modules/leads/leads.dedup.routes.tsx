/**
 * Deduplication routes: the review queue, the side-by-side merge screen, "not a duplicate", the
 * as-you-type check of the new-lead form, the nav badge and Settings → Duplicates. Another
 * organization's pair is a 404 (RLS hides it; the ids are checked to be uuids first).
 */
import { sql } from 'drizzle-orm'
import { Elysia } from 'elysia'
import dedupCss from '../../../public/leads-dedup.css' with { type: 'file' }
import {
  DedupSettingsPage,
  DuplicatesBadge,
  DuplicatesPage,
  DuplicateWarning,
  duplicatesUrl,
  MergePage,
  mergeRows,
} from '../../../views/leads/duplicates'
import { leadUrl } from '../../../views/pipeline/board-page'
import { rowsOf } from '../../platform/db/client'
import { type OrgTx, withOrg } from '../../platform/db/tenancy'
import { registerAsset } from '../../platform/http/assets'
import { type AppDeps, type OrgCtx, requireOrg, setFlash } from '../../platform/http/context'
import { AppError } from '../../platform/http/errors'
import { field, fields, html, redirect, uiOf, withForm } from '../../platform/http/respond'
import { emailMatchKey } from '../../shared/email'
import { isUuid } from '../../shared/ids'
import { toE164 } from '../../shared/phone'
import { nameKey } from '../../shared/text'
import { boardContext } from '../pipeline/pipeline.repository'
import {
  countOpenPairs,
  DEDUP_ERRORS,
  dismissPair,
  findPair,
  keptSide,
  loadDedupSettings,
  MERGE_FIELDS,
  mergePair,
  openPairs,
  possibleDuplicates,
  type SideChoices,
  saveDedupSettings,
} from './leads.dedup'
import { orgDefaultCountry } from './leads.normalize'

registerAsset('leads-dedup.css', dedupCss, 'text/css; charset=utf-8')

async function pipelineCurrency(tx: OrgTx, pipelineId: string) {
  const [r] = rowsOf<{ currency: string }>(
    await tx.execute(sql`select currency from pipelines where id = ${pipelineId}::uuid`),
  )
  return r?.currency ?? 'BRL'
}

export function dedupRoutes(deps: AppDeps) {
  const { db } = deps
  const scope = (r: OrgCtx) => ({ orgId: r.org.orgId, userId: r.auth.user.id })
  const actor = (r: OrgCtx) => ({ orgId: r.org.orgId, userId: r.auth.user.id, ip: r.ip, role: r.org.role })

  async function mergePage(
    r: OrgCtx,
    pairId: string,
    extra: { chosen?: SideChoices; notice?: 'dedup.error.conflict' } = {},
    status = 200,
  ) {
    const data = await withOrg(db, scope(r), async (tx) => {
      const pair = await findPair(tx, pairId)
      if (pair?.status !== 'open') throw DEDUP_ERRORS.notFound()
      const ctx = await boardContext(tx, r.auth.user.id)
      return { pair, members: ctx.members, currency: await pipelineCurrency(tx, pair.a.pipelineId) }
    })
    const ui = uiOf(r)
    return html(
      r,
      <MergePage
        ui={ui}
        pair={data.pair}
        rows={mergeRows(ui, data.pair, data.members, data.currency)}
        keep={keptSide(data.pair)}
        {...extra}
      />,
      status,
    )
  }

  return (
    new Elysia({ name: 'leads.dedup.routes' })
      .get('/leads/duplicates', async ({ request }) => {
        const r = await requireOrg(deps, request)
        const data = await withOrg(db, scope(r), (tx) => openPairs(tx))
        return html(r, <DuplicatesPage ui={uiOf(r)} pairs={data.pairs} total={data.total} />)
      })
      .get('/leads/duplicates/badge', async ({ request }) => {
        const r = await requireOrg(deps, request)
        const n = await withOrg(db, scope(r), countOpenPairs)
        return html(r, <DuplicatesBadge count={n} />)
      })
      // The new-lead form asks while the user types (debounced): who might this already be?
      .get('/leads/duplicates/check', async ({ request }) => {
        const r = await requireOrg(deps, request)
        const q = r.url.searchParams
        const name = (q.get('fullName') ?? '').slice(0, 200)
        const matches = await withOrg(db, scope(r), async (tx) => {
          const settings = await loadDedupSettings(tx)
          if (settings.dedupMode === 'off') return []
          const phone = toE164((q.get('phone') ?? '').slice(0, 40), await orgDefaultCountry(tx))
          const found = await possibleDuplicates(
            tx,
            {
              nameKey: nameKey(name),
              phone,
              emailKey: emailMatchKey(q.get('email')),
              company: q.get('company'),
            },
            settings.reviewMin,
          )
          return found.map((c) => ({
            id: c.lead.id,
            fullName: c.lead.fullName,
            phone: c.lead.phone,
            email: c.lead.email,
            stageName: c.lead.stageName,
            score: c.match.score,
          }))
        })
        return html(r, <DuplicateWarning ui={uiOf(r)} matches={matches} />)
      })
      .get('/leads/duplicates/:pairId', async ({ request, params }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.pairId)) throw DEDUP_ERRORS.notFound()
        return mergePage(r, params.pairId)
      })
      .post('/leads/duplicates/:pairId/merge', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.pairId)) throw DEDUP_ERRORS.notFound()
        const sides: SideChoices = {}
        for (const f of MERGE_FIELDS) {
          const v = field(body, `f_${f}`)
          if (v === 'a' || v === 'b') sides[f] = v
        }
        const versions = { a: Number(field(body, 'versionA')), b: Number(field(body, 'versionB')) }
        try {
          const result = await withOrg(db, scope(r), async (tx) => {
            const res = await mergePair(
              tx,
              actor(r),
              params.pairId,
              sides,
              Number.isInteger(versions.a) && Number.isInteger(versions.b) ? versions : undefined,
            )
            const [kept] = rowsOf<{ full_name: string }>(
              await tx.execute(sql`select full_name from leads where id = ${res.keptId}::uuid`),
            )
            return { ...res, name: kept?.full_name ?? '' }
          })
          setFlash(r, 'success', r.t('dedup.merged_flash', { name: result.name }))
          return redirect(r, leadUrl(result.keptId))
        } catch (err) {
          // Someone changed one of the leads since the screen was drawn: show the fresh values.
          if (err instanceof AppError && err.code === 'leads.merge_conflict')
            return mergePage(r, params.pairId, { chosen: sides, notice: 'dedup.error.conflict' }, 409)
          throw err
        }
      })
      .post('/leads/duplicates/:pairId/dismiss', async ({ request, params }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.pairId)) throw DEDUP_ERRORS.notFound()
        await withOrg(db, scope(r), (tx) => dismissPair(tx, actor(r), params.pairId))
        setFlash(r, 'success', r.t('dedup.dismissed_flash'))
        return redirect(r, duplicatesUrl)
      })

      // Settings → Duplicates (owners and admins) -----------------------------------------------
      .get('/settings/dedup', async ({ request }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        const s = await withOrg(db, scope(r), loadDedupSettings)
        const values = {
          mode: s.dedupMode,
          autoMergeMin: String(s.autoMergeMin),
          reviewMin: String(s.reviewMin),
        }
        return html(r, <DedupSettingsPage ui={uiOf(r)} form={{ values, errors: null }} />)
      })
      .post('/settings/dedup', async ({ request, body }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        const input = fields(body, ['mode', 'autoMergeMin', 'reviewMin'])
        const res = await withForm(
          () => withOrg(db, scope(r), (tx) => saveDedupSettings(tx, actor(r), input as never)),
          async (e) => html(r, <DedupSettingsPage ui={uiOf(r)} form={{ values: input, errors: e }} />, 422),
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('dedup.settings.saved'))
        return redirect(r, '/settings/dedup')
      })
  )
}
