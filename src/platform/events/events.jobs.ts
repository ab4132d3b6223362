/**
 * Outbox housekeeping as a recurring system job: events older than `keepDays` that the durable
 * consumers have processed are deleted. A client further behind than that is told to reload.
 * Schedule it with the worker: `createWorker({ ..., jobs: [pruneOutboxJob], schedules: [pruneOutboxSchedule] })`.
 */
import { defineSystemJob } from '../jobs/jobs.define'
import type { Schedule } from '../jobs/jobs.worker'
import { pruneOutbox } from './events.outbox'

export const pruneOutboxJob = defineSystemJob<{ keepDays: number }>({
  name: 'events.prune-outbox',
  queue: 'maintenance',
  maxAttempts: 3,
  async run(ctx) {
    const olderThan = new Date(ctx.clock.now().getTime() - ctx.payload.keepDays * 86_400_000)
    await ctx.tx((tx) => pruneOutbox(tx, olderThan))
  },
})

export const pruneOutboxSchedule: Schedule<{ keepDays: number }> = {
  name: 'events.prune-outbox',
  cron: '17 3 * * *',
  job: pruneOutboxJob,
  payload: { keepDays: 14 },
}
