/**
 * The background jobs page: owners and admins see and act on their organization's jobs (under RLS);
 * instance administrators also see the system jobs (no organization), through withSystem.
 */
import { Elysia } from 'elysia'
import { JobsPage } from '../../../views/system/jobs-page'
import { withOrg, withSystem } from '../../platform/db/tenancy'
import { type AppDeps, type OrgCtx, requireOrg, setFlash } from '../../platform/http/context'
import { forbidden, notFound } from '../../platform/http/errors'
import { html, redirect, uiOf } from '../../platform/http/respond'
import {
  countJobs,
  countSystemJobs,
  discardJob,
  discardSystemJob,
  listJobs,
  listSystemJobs,
  retryJob,
  retrySystemJob,
} from '../../platform/jobs/jobs.queue'
import { JOB_STATES, type JobState } from '../../platform/jobs/jobs.table'
import { isUuid } from '../../shared/ids'

const ADMINS = ['owner', 'admin'] as const

export function systemRoutes(deps: AppDeps) {
  const { db } = deps
  const scope = (r: OrgCtx) => ({ orgId: r.org.orgId, userId: r.auth.user.id })
  const stateOf = (q: string | undefined): JobState | null =>
    JOB_STATES.includes(q as JobState) ? (q as JobState) : null
  const systemAdmin = async (request: Request) => {
    const r = await requireOrg(deps, request, [...ADMINS])
    if (!r.auth.user.isInstanceAdmin) throw forbidden()
    return r
  }

  return new Elysia({ name: 'system.routes' })
    .get('/settings/jobs', async ({ request, query }) => {
      const r = await requireOrg(deps, request, [...ADMINS])
      const state = stateOf(query.state)
      const data = await withOrg(db, scope(r), async (tx) => ({
        counts: await countJobs(tx),
        jobs: await listJobs(tx, { states: state ? [state] : undefined, limit: 100 }),
      }))
      return html(
        r,
        <JobsPage
          ui={uiOf(r)}
          scope="org"
          state={state}
          {...data}
          canSeeSystem={r.auth.user.isInstanceAdmin}
        />,
      )
    })
    .post('/settings/jobs/:id/:action', async ({ request, params }) => {
      const r = await requireOrg(deps, request, [...ADMINS])
      if (!isUuid(params.id) || !['retry', 'discard'].includes(params.action)) throw notFound()
      const ok = await withOrg(db, scope(r), (tx) =>
        (params.action === 'retry' ? retryJob : discardJob)(tx, params.id),
      )
      if (!ok) throw notFound()
      setFlash(r, 'success', r.t(params.action === 'retry' ? 'jobs.retried' : 'jobs.discarded'))
      return redirect(r, '/settings/jobs')
    })
    .get('/settings/jobs/system', async ({ request, query }) => {
      const r = await systemAdmin(request)
      const state = stateOf(query.state)
      const data = await withSystem(db, async (tx) => ({
        counts: await countSystemJobs(tx),
        jobs: await listSystemJobs(tx, { states: state ? [state] : undefined, limit: 100 }),
      }))
      return html(r, <JobsPage ui={uiOf(r)} scope="system" state={state} {...data} canSeeSystem />)
    })
    .post('/settings/jobs/system/:id/:action', async ({ request, params }) => {
      const r = await systemAdmin(request)
      if (!isUuid(params.id) || !['retry', 'discard'].includes(params.action)) throw notFound()
      const ok = await withSystem(db, (tx) =>
        (params.action === 'retry' ? retrySystemJob : discardSystemJob)(tx, params.id),
      )
      if (!ok) throw notFound()
      setFlash(r, 'success', r.t(params.action === 'retry' ? 'jobs.retried' : 'jobs.discarded'))
      return redirect(r, '/settings/jobs/system')
    })
}
