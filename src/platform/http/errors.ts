import type { MessageKey } from '../../shared/i18n'

/** A coded error with an HTTP status; `messageKey` is what the user reads. */
export class AppError extends Error {
  constructor(
    public readonly code: string,
    public readonly status: number,
    public readonly messageKey?: MessageKey,
    public readonly params?: Record<string, string | number>,
  ) {
    super(code)
  }
}

/** Field errors for a form: re-rendered inline with the user's input kept (status 422). */
export class FormError extends Error {
  constructor(
    public readonly fields: Record<string, MessageKey>,
    public readonly params: Record<string, Record<string, string | number>> = {},
  ) {
    super(`form: ${Object.keys(fields).join(', ')}`)
  }
}

export const notFound = () => new AppError('not_found', 404, 'error.not_found.title')
export const forbidden = (key: MessageKey = 'error.forbidden') => new AppError('forbidden', 403, key)

/** Collects field errors while validating, throws them together. */
export class Check {
  readonly fields: Record<string, MessageKey> = {}
  readonly params: Record<string, Record<string, string | number>> = {}
  add(field: string, key: MessageKey, params?: Record<string, string | number>) {
    if (!this.fields[field]) {
      this.fields[field] = key
      if (params) this.params[field] = params
    }
    return this
  }
  has(field: string) {
    return field in this.fields
  }
  throwIfAny() {
    if (Object.keys(this.fields).length) throw new FormError(this.fields, this.params)
  }
}
