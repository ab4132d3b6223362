import type { FormError } from '../../src/platform/http/errors'
import type { T } from '../../src/shared/i18n'

export interface FormState {
  values: Record<string, string>
  errors?: FormError | null
}

export const emptyForm = (values: Record<string, string> = {}): FormState => ({ values, errors: null })

interface FieldProps {
  name: string
  label: string
  form: FormState
  t: T
  type?: string
  hint?: string
  autocomplete?: string
  required?: boolean
  autofocus?: boolean
  maxlength?: number
  placeholder?: string
}

/** A labelled input that keeps the user's value and shows its error inline (aria-invalid + describedby). */
export function Field(p: FieldProps) {
  const id = `f-${p.name}`
  const err = p.form.errors?.fields[p.name]
  const isPassword = p.type === 'password'
  const value = isPassword ? '' : (p.form.values[p.name] ?? '')
  const describedBy = [err ? `${id}-err` : '', p.hint ? `${id}-hint` : ''].filter(Boolean).join(' ')
  return (
    <div class="field">
      <label for={id} safe>
        {p.label}
      </label>
      <input
        class="input"
        id={id}
        name={p.name}
        type={p.type ?? 'text'}
        value={value}
        autocomplete={p.autocomplete}
        required={p.required}
        autofocus={p.autofocus || !!err}
        maxlength={p.maxlength}
        placeholder={p.placeholder}
        aria-invalid={err ? 'true' : undefined}
        aria-describedby={describedBy || undefined}
      />
      {p.hint && !err ? (
        <p class="hint" id={`${id}-hint`} safe>
          {p.hint}
        </p>
      ) : (
        ''
      )}
      {err ? <FieldError id={`${id}-err`} text={p.t(err, p.form.errors?.params[p.name])} /> : ''}
    </div>
  )
}

export function FieldError({ id, text }: { id: string; text: string }) {
  return (
    <p class="field-error" id={id} role="alert" safe>
      {text}
    </p>
  )
}

interface SelectProps {
  name: string
  label: string
  form: FormState
  t: T
  options: { value: string; label: string }[]
}

export function Select(p: SelectProps) {
  const id = `f-${p.name}`
  const err = p.form.errors?.fields[p.name]
  const current = p.form.values[p.name] ?? ''
  return (
    <div class="field">
      <label for={id} safe>
        {p.label}
      </label>
      <select
        class="input"
        id={id}
        name={p.name}
        aria-invalid={err ? 'true' : undefined}
        aria-describedby={err ? `${id}-err` : undefined}
      >
        {p.options.map((o) => (
          <option value={o.value} selected={o.value === current} safe>
            {o.label}
          </option>
        ))}
      </select>
      {err ? <FieldError id={`${id}-err`} text={p.t(err, p.form.errors?.params[p.name])} /> : ''}
    </div>
  )
}

export function FormAlert({ form, t }: { form: FormState; t: T }) {
  if (!form.errors) return ''
  return (
    <div class="alert alert-error" role="alert" safe>
      {t('error.form')}
    </div>
  )
}

/**
 * A read-only value with a copy button (an endpoint, a webhook URL, a token to paste elsewhere).
 * public/app.js copies `data-copy` and shows `data-copied` on the button for a moment.
 */
export function CopyField(p: { id: string; label: string; value: string; t: T; testId?: string }) {
  return (
    <div class="field">
      <label for={p.id} safe>
        {p.label}
      </label>
      <div class="copy-field">
        <input class="input" id={p.id} readonly value={p.value} data-testid={p.testId} />
        <button type="button" class="btn btn-sm" data-copy={p.value} data-copied={p.t('common.copied')} safe>
          {p.t('common.copy')}
        </button>
      </div>
    </div>
  )
}
