// Schema barrel: every table of every module, for Drizzle's typed queries.
export * from '../../modules/auth/auth.table'
export * from '../../modules/orgs/orgs.table'
export * from '../mail/mail.table'
