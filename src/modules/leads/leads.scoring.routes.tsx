/**
 * Settings → Scoring and Settings → Assignment (owners and admins). Plain forms that redirect
 * (303) on success and re-render with 422 and the input kept on errors; a rule change queues a
 * rescore of every lead. Ids of another organization's rules are 404 (RLS hides them).
 */
import { sql } from 'drizzle-orm'
import { Elysia } from 'elysia'
import scoringCss from '../../../public/leads-scoring.css' with { type: 'file' }
import { type AssignmentPageProps, AssignmentSettingsPage } from '../../../views/leads/assignment-settings'
import {
  type ScoringPageProps,
  ScoringProgress,
  ScoringSettingsPage,
} from '../../../views/leads/scoring-settings'
import { rowsOf } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { registerAsset } from '../../platform/http/assets'
import { type AppDeps, type OrgCtx, requireOrg, setFlash } from '../../platform/http/context'
import { notFound } from '../../platform/http/errors'
import { field, fields, html, redirect, safeNext, uiOf, withForm } from '../../platform/http/respond'
import { isUuid } from '../../shared/ids'
import {
  type AssignmentForm,
  createAssignmentRule,
  deleteAssignmentRule,
  findAssignmentRule,
  listAssignmentRules,
  listMembers,
  moveAssignmentRule,
  setAssignmentRuleActive,
  setAvailability,
  updateAssignmentRule,
} from './leads.assignment'
import { CONDITION_FIELDS, conditionFormValues, knownActivityKinds } from './leads.conditions'
import { listCustomFields } from './leads.custom-fields'
import {
  createRule,
  deleteRule,
  findRule,
  listRules,
  moveRule,
  RULE_FIELDS,
  type RuleForm,
  setRuleActive,
  updateRule,
} from './leads.scoring'
import {
  closedCounts,
  latestRun,
  requestTraining,
  startRescoreAll,
  trainModelJob,
} from './leads.scoring.jobs'
import { scoringModels } from './leads.scoring.table'

registerAsset('leads-scoring.css', scoringCss, 'text/css; charset=utf-8', { global: true })

const ADMINS = ['owner', 'admin'] as const

/** Checkbox lists arrive as a string (one) or an array (several). */
function list(body: unknown, name: string): string[] {
  const v = (body as Record<string, unknown> | null)?.[name]
  return (Array.isArray(v) ? v : v == null ? [] : [v]).map(String)
}

export function leadsScoringRoutes(deps: AppDeps) {
  const { db } = deps
  const scope = (r: OrgCtx) => ({ orgId: r.org.orgId, userId: r.auth.user.id })
  const admin = (request: Request) => requireOrg(deps, request, [...ADMINS])

  // Scoring ---------------------------------------------------------------------------------------

  async function scoringPage(r: OrgCtx, extra: Partial<ScoringPageProps> = {}, status = 200) {
    const data = await withOrg(db, scope(r), async (tx) => {
      const [model] = await tx.select().from(scoringModels).limit(1)
      const training = rowsOf(
        await tx.execute(sql`select 1 from jobs where name = ${trainModelJob.name}
          and organization_id = nullif(current_setting('app.org_id', true), '')::uuid
          and state in ('queued', 'running') limit 1`),
      )
      return {
        rules: await listRules(tx),
        fields: await listCustomFields(tx),
        run: await latestRun(tx),
        model: model ?? null,
        closed: await closedCounts(tx),
        training: training.length > 0,
      }
    })
    const defaults = { ...conditionFormValues(null), name: '', points: '', decay: 'none', decayDays: '' }
    return html(
      r,
      <ScoringSettingsPage
        ui={uiOf(r)}
        {...data}
        kinds={knownActivityKinds()}
        form={{ values: defaults as unknown as Record<string, string>, errors: null }}
        {...extra}
      />,
      status,
    )
  }

  const ruleForm = (body: unknown) => fields(body, RULE_FIELDS) as unknown as RuleForm

  /** A rule change: save it and queue a rescore of every lead, in one transaction. */
  async function ruleChange(r: OrgCtx, fn: Parameters<typeof withOrg>[2]) {
    await withOrg(db, scope(r), async (tx) => {
      await fn(tx)
      await startRescoreAll(tx, r.org.orgId, 'rules')
    })
  }

  // Assignment ------------------------------------------------------------------------------------

  async function assignmentPage(r: OrgCtx, extra: Partial<AssignmentPageProps> = {}, status = 200) {
    const data = await withOrg(db, scope(r), async (tx) => ({
      rules: await listAssignmentRules(tx),
      members: await listMembers(tx),
      fields: await listCustomFields(tx),
    }))
    const defaults = { ...conditionFormValues({ type: 'any' }), name: '', strategy: 'round_robin' }
    return html(
      r,
      <AssignmentSettingsPage
        ui={uiOf(r)}
        {...data}
        form={{ values: defaults as unknown as Record<string, string>, errors: null }}
        formMembers={[]}
        {...extra}
      />,
      status,
    )
  }

  const assignmentForm = (body: unknown): AssignmentForm => ({
    ...(fields(body, ['name', 'strategy', ...CONDITION_FIELDS]) as unknown as AssignmentForm),
    members: list(body, 'members'),
  })

  return (
    new Elysia({ name: 'leads.scoring.routes' })
      .get('/settings/scoring', async ({ request }) => scoringPage(await admin(request)))
      .get('/settings/scoring/progress', async ({ request }) => {
        const r = await admin(request)
        const run = await withOrg(db, scope(r), latestRun)
        return html(r, <ScoringProgress ui={uiOf(r)} run={run} />)
      })
      .post('/settings/scoring/rules', async ({ request, body }) => {
        const r = await admin(request)
        const f = ruleForm(body)
        const res = await withForm(
          () => ruleChange(r, (tx) => createRule(tx, r.actor, f)),
          (e) => scoringPage(r, { form: { values: f as unknown as Record<string, string>, errors: e } }, 422),
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('scoring.rule_added', { name: f.name.trim() }))
        return redirect(r, '/settings/scoring')
      })
      .post('/settings/scoring/rules/:id', async ({ request, params, body }) => {
        const r = await admin(request)
        if (!isUuid(params.id)) throw notFound()
        const f = ruleForm(body)
        const res = await withForm(
          () => ruleChange(r, (tx) => updateRule(tx, r.actor, params.id, f)),
          (e) =>
            scoringPage(
              r,
              {
                edit: { id: params.id, form: { values: f as unknown as Record<string, string>, errors: e } },
              },
              422,
            ),
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('scoring.rule_saved'))
        return redirect(r, '/settings/scoring')
      })
      .post('/settings/scoring/rules/:id/active', async ({ request, params, body }) => {
        const r = await admin(request)
        if (!isUuid(params.id)) throw notFound()
        await ruleChange(r, (tx) => setRuleActive(tx, r.actor, params.id, field(body, 'active') === 'true'))
        return redirect(r, '/settings/scoring')
      })
      .post('/settings/scoring/rules/:id/move', async ({ request, params, body }) => {
        const r = await admin(request)
        if (!isUuid(params.id)) throw notFound()
        const dir = field(body, 'dir') === 'up' ? 'up' : 'down'
        await withOrg(db, scope(r), (tx) => moveRule(tx, r.actor, params.id, dir))
        return redirect(r, '/settings/scoring')
      })
      .post('/settings/scoring/rules/:id/delete', async ({ request, params }) => {
        const r = await admin(request)
        if (!isUuid(params.id)) throw notFound()
        const name = await withOrg(db, scope(r), async (tx) => (await findRule(tx, params.id))?.name)
        await ruleChange(r, (tx) => deleteRule(tx, r.actor, params.id))
        setFlash(r, 'success', r.t('scoring.rule_deleted', { name: name ?? '' }))
        return redirect(r, '/settings/scoring')
      })
      .post('/settings/scoring/rescore', async ({ request }) => {
        const r = await admin(request)
        await withOrg(db, scope(r), (tx) => startRescoreAll(tx, r.org.orgId, 'manual'))
        setFlash(r, 'info', r.t('scoring.rescore_queued'))
        return redirect(r, '/settings/scoring')
      })
      .post('/settings/scoring/train', async ({ request }) => {
        const r = await admin(request)
        const queued = await withOrg(db, scope(r), requestTraining)
        setFlash(r, 'info', r.t(queued ? 'scoring.model.queued' : 'scoring.model.training'))
        return redirect(r, '/settings/scoring')
      })

      .get('/settings/assignment', async ({ request }) => assignmentPage(await admin(request)))
      .post('/settings/assignment/rules', async ({ request, body }) => {
        const r = await admin(request)
        const f = assignmentForm(body)
        const res = await withForm(
          () => withOrg(db, scope(r), (tx) => createAssignmentRule(tx, r.actor, f)),
          (e) =>
            assignmentPage(
              r,
              { form: { values: f as unknown as Record<string, string>, errors: e }, formMembers: f.members },
              422,
            ),
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('scoring.rule_added', { name: f.name.trim() }))
        return redirect(r, '/settings/assignment')
      })
      .post('/settings/assignment/rules/:id', async ({ request, params, body }) => {
        const r = await admin(request)
        if (!isUuid(params.id)) throw notFound()
        const f = assignmentForm(body)
        const res = await withForm(
          () => withOrg(db, scope(r), (tx) => updateAssignmentRule(tx, r.actor, params.id, f)),
          (e) =>
            assignmentPage(
              r,
              {
                edit: {
                  id: params.id,
                  form: { values: f as unknown as Record<string, string>, errors: e },
                  members: f.members,
                },
              },
              422,
            ),
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('scoring.rule_saved'))
        return redirect(r, '/settings/assignment')
      })
      .post('/settings/assignment/rules/:id/active', async ({ request, params, body }) => {
        const r = await admin(request)
        if (!isUuid(params.id)) throw notFound()
        await withOrg(db, scope(r), (tx) =>
          setAssignmentRuleActive(tx, r.actor, params.id, field(body, 'active') === 'true'),
        )
        return redirect(r, '/settings/assignment')
      })
      .post('/settings/assignment/rules/:id/move', async ({ request, params, body }) => {
        const r = await admin(request)
        if (!isUuid(params.id)) throw notFound()
        const dir = field(body, 'dir') === 'up' ? 'up' : 'down'
        await withOrg(db, scope(r), (tx) => moveAssignmentRule(tx, r.actor, params.id, dir))
        return redirect(r, '/settings/assignment')
      })
      .post('/settings/assignment/rules/:id/delete', async ({ request, params }) => {
        const r = await admin(request)
        if (!isUuid(params.id)) throw notFound()
        const name = await withOrg(
          db,
          scope(r),
          async (tx) => (await findAssignmentRule(tx, params.id))?.name,
        )
        await withOrg(db, scope(r), (tx) => deleteAssignmentRule(tx, r.actor, params.id))
        setFlash(r, 'success', r.t('scoring.rule_deleted', { name: name ?? '' }))
        return redirect(r, '/settings/assignment')
      })
      .post('/settings/assignment/members/:userId/availability', async ({ request, params, body }) => {
        const r = await admin(request)
        if (!isUuid(params.userId)) throw notFound()
        await withOrg(db, scope(r), (tx) =>
          setAvailability(tx, r.actor, params.userId, field(body, 'available') === 'true'),
        )
        return redirect(r, '/settings/assignment')
      })
      // Any member: "I'm away" / "I'm back" for themself.
      .post('/settings/availability', async ({ request, body }) => {
        const r = await requireOrg(deps, request)
        await withOrg(db, scope(r), (tx) =>
          setAvailability(tx, r.actor, r.auth.user.id, field(body, 'available') === 'true'),
        )
        setFlash(
          r,
          'success',
          r.t(field(body, 'available') === 'true' ? 'assignment.back' : 'assignment.away_set'),
        )
        return redirect(r, safeNext(field(body, 'back'), '/settings/profile'))
      })
  )
}
