// Schema barrel: every table of every module, for Drizzle's typed queries.
export * from '../../modules/auth/auth.table'
export * from '../../modules/leads/leads.table'
export * from '../../modules/notifications/notifications.table'
export * from '../../modules/orgs/orgs.table'
export * from '../../modules/pipeline/pipeline.table'
export * from '../events/events.table'
export * from '../jobs/jobs.table'
export * from '../mail/mail.table'
