/**
 * Every module's background job handlers, registered with the worker at start (src/server.ts).
 * A job enqueued under a name missing here stays queued: add each module's jobs to this list.
 */
import { INBOX_JOBS } from './modules/inbox/inbox.jobs'
import { facebookLeadJob } from './modules/leads/leads.capture-facebook'
import { leadImportJob } from './modules/leads/leads.import'
import { SCORING_JOBS, scoringConsumer, scoringDailySchedule } from './modules/leads/leads.scoring.jobs'
import { processInboundJob } from './modules/whatsapp/whatsapp.inbound'
import { syncTemplatesSchedule, TEMPLATE_JOBS } from './modules/whatsapp/whatsapp.templates'
import type { DurableConsumer } from './platform/events/events.dispatcher'
import type { AnyJob } from './platform/jobs/jobs.define'
import type { Schedule } from './platform/jobs/jobs.worker'

export const JOBS: AnyJob[] = [
  ...SCORING_JOBS,
  facebookLeadJob,
  leadImportJob,
  ...INBOX_JOBS,
  processInboundJob,
  ...TEMPLATE_JOBS,
]

/** Recurring jobs (cron), fired once per slot across instances. */
export const SCHEDULES: Schedule<any>[] = [scoringDailySchedule, syncTemplatesSchedule]

/** Durable event consumers (once per event, in the organization's transaction): they enqueue jobs. */
export const CONSUMERS: Array<{ type: string; handler: DurableConsumer<any> }> = [
  { type: '*', handler: scoringConsumer },
]
