/**
 * Every module's background job handlers, registered with the worker at start (src/server.ts).
 * A job enqueued under a name missing here stays queued: add each module's jobs to this list.
 */
import type { AnyJob } from './platform/jobs/jobs.define'

export const JOBS: AnyJob[] = []
