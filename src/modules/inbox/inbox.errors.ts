/** Coded errors of the inbox (`inbox.*`); the message key is what the user reads. */
import { AppError } from '../../platform/http/errors'

export const INBOX_ERRORS = {
  /** A conversation, message or quick reply that does not exist in this organization. */
  notFound: () => new AppError('inbox.not_found', 404, 'error.not_found.title'),
  /** Outside the 24-hour window of a Cloud API channel only an approved template may be sent. */
  windowClosed: () => new AppError('inbox.window_closed', 422, 'inbox.error.window_closed'),
} as const
