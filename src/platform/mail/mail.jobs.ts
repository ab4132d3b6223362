import { defineSystemJob } from '../jobs/jobs.define'
import type { Schedule } from '../jobs/jobs.worker'
import type { Mailer } from './mailer'

/** Retries what failed to send (SMTP down) every minute; a no-op without SMTP or with nothing pending. */
export function mailFlushJob(mailer: Mailer) {
  const job = defineSystemJob<Record<string, never>>({
    name: 'mail.flush',
    queue: 'mail',
    maxAttempts: 1,
    run: () => mailer.flush(),
  })
  const schedule: Schedule<Record<string, never>> = {
    name: 'mail.flush',
    cron: '* * * * *',
    job,
    payload: {},
  }
  return { job, schedule }
}
