/**
 * Test helpers for the pipeline (imported by *.test.ts, the e2e test and the bench only): leads
 * created through the real use cases, and small readers of the board state.
 */

import type { signUpClient, TestApp } from '../../../test/harness'
import type { Db } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { createLead, type LeadInput, type PipelineActor } from './pipeline.usecases'

export type Member = Awaited<ReturnType<typeof signUpClient>>

export const actorOf = (
  m: { orgId: string; userId: string },
  role: PipelineActor['role'] = 'owner',
): PipelineActor => ({
  orgId: m.orgId,
  userId: m.userId,
  role,
})

export const blankLead: LeadInput = {
  fullName: '',
  email: '',
  phone: '',
  company: '',
  jobTitle: '',
  value: '',
  source: '',
  ownerId: '',
  tags: '',
  score: '',
}

export async function stagesOf(db: Db, orgId: string, pipelineId?: string) {
  return db.raw.query<{ id: string; name: string; kind: string; position: number; pipeline_id: string }>(
    `select id, name, kind, position, pipeline_id from stages where organization_id = $1
       ${pipelineId ? 'and pipeline_id = $2' : ''} order by pipeline_id, position`,
    pipelineId ? [orgId, pipelineId] : [orgId],
  )
}

export async function firstPipeline(db: Db, orgId: string) {
  const [p] = await db.raw.query<{ id: string; name: string }>(
    'select id, name from pipelines where organization_id = $1 order by position, id limit 1',
    [orgId],
  )
  return p!
}

/** Creates leads through the use case (as `m`), into `stageId` or the first open stage. */
export async function seedLeads(
  t: Pick<TestApp, 'db'>,
  m: { orgId: string; userId: string },
  n: number,
  make: (i: number) => Partial<LeadInput> & { stageId?: string; pipelineId?: string } = () => ({}),
) {
  const pipeline = await firstPipeline(t.db, m.orgId)
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const extra = make(i)
    const created = await withOrg(t.db, { orgId: m.orgId, userId: m.userId }, (tx) =>
      createLead(tx, actorOf(m), {
        ...blankLead,
        fullName: `Lead ${i + 1}`,
        ...extra,
        pipelineId: extra.pipelineId ?? pipeline.id,
      }),
    )
    ids.push(created.id)
  }
  return ids
}

export async function leadRow(db: Db, id: string) {
  const [r] = await db.raw.query<{
    id: string
    stage_id: string
    pipeline_id: string
    position: string | number
    version: number
    value_cents: string | number
    won_at: Date | null
    lost_at: Date | null
    lost_reason: string | null
    owner_id: string | null
  }>('select * from leads where id = $1', [id])
  return r
}

/** The stage's lead ids in board order. */
export async function columnIds(db: Db, stageId: string) {
  return (
    await db.raw.query<{ id: string }>('select id from leads where stage_id = $1 order by position, id', [
      stageId,
    ])
  ).map((r) => r.id)
}
