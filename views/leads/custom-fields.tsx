/**
 * Custom fields in lead forms (inputs named `custom.<key>`, errors inline) and in the drawer (facts).
 * A form that shows them carries `_custom`, so an emptied multiselect still reaches validation.
 */
import { customFormValue, formatCustom } from '../../src/modules/leads/leads.custom-fields'
import type { CustomFieldDef } from '../../src/modules/leads/leads.table'
import { FieldError, type FormState } from '../components/form'
import type { Ui } from '../ui'

/** The form values of a lead's custom fields (`custom.<key>` → text as the inputs hold it). */
export function customFormValues(defs: CustomFieldDef[], custom: Record<string, unknown>) {
  return Object.fromEntries(defs.map((d) => [`custom.${d.key}`, customFormValue(d, custom[d.key])]))
}

/** Posted custom values back as form values (a 422 re-render keeps what the user typed). */
export function postedCustomValues(defs: CustomFieldDef[], posted: Record<string, unknown> | undefined) {
  if (!posted) return {}
  return Object.fromEntries(
    defs.map((d) => {
      const v = posted[d.key]
      if (d.type === 'multiselect')
        return [`custom.${d.key}`, JSON.stringify(Array.isArray(v) ? v : v ? [v] : [])]
      return [`custom.${d.key}`, Array.isArray(v) ? String(v[0] ?? '') : v == null ? '' : String(v)]
    }),
  )
}

function selected(value: string): string[] {
  if (!value) return []
  try {
    const v = JSON.parse(value)
    return Array.isArray(v) ? v.map(String) : [String(v)]
  } catch {
    return [value]
  }
}

export function CustomFieldInputs({ ui, defs, form }: { ui: Ui; defs: CustomFieldDef[]; form: FormState }) {
  if (!defs.length) return ''
  const { t } = ui
  return (
    <fieldset class="custom-fields" data-testid="custom-fields">
      <legend safe>{t('leads.custom.legend')}</legend>
      <input type="hidden" name="_custom" value="1" />
      {defs.map((d) => {
        const name = `custom.${d.key}`
        const id = `f-custom-${d.key}`
        const err = form.errors?.fields[name]
        const errText = err ? t(err, form.errors?.params[name]) : ''
        const value = form.values[name] ?? ''
        const invalid = err ? 'true' : undefined
        const described = err ? `${id}-err` : undefined
        const label = (
          <>
            <span safe>{d.label}</span>
            {d.required ? (
              <span class="req" aria-hidden="true">
                *
              </span>
            ) : (
              ''
            )}
          </>
        )
        if (d.type === 'multiselect') {
          const on = selected(value)
          return (
            <fieldset class="field cf-multi" aria-invalid={invalid} aria-describedby={described}>
              <legend>{label}</legend>
              <input type="hidden" name={name} value="" />
              <div class="cf-options">
                {d.options.map((o, i) => (
                  <label class="check" for={`${id}-${i}`}>
                    <input type="checkbox" id={`${id}-${i}`} name={name} value={o} checked={on.includes(o)} />
                    <span safe>{o}</span>
                  </label>
                ))}
              </div>
              {err ? <FieldError id={`${id}-err`} text={errText} /> : ''}
            </fieldset>
          )
        }
        let control: JSX.Element
        if (d.type === 'select')
          control = (
            <select class="input" id={id} name={name} aria-invalid={invalid} aria-describedby={described}>
              <option value="" selected={!value}>
                —
              </option>
              {d.options.map((o) => (
                <option value={o} selected={o === value} safe>
                  {o}
                </option>
              ))}
            </select>
          )
        else if (d.type === 'boolean')
          control = (
            <select class="input" id={id} name={name} aria-invalid={invalid} aria-describedby={described}>
              <option value="" selected={!value}>
                —
              </option>
              <option value="true" selected={value === 'true'} safe>
                {t('leads.custom.yes')}
              </option>
              <option value="false" selected={value === 'false'} safe>
                {t('leads.custom.no')}
              </option>
            </select>
          )
        else
          control = (
            <input
              class="input"
              id={id}
              name={name}
              // Dates and numbers are text inputs on purpose: "31/12/2024" and "1.234,56" are accepted.
              type="text"
              inputmode={d.type === 'number' ? 'decimal' : undefined}
              placeholder={d.type === 'date' ? t('leads.custom.date_placeholder') : undefined}
              value={value}
              maxlength={500}
              autocomplete="off"
              aria-invalid={invalid}
              aria-describedby={described}
            />
          )
        return (
          <div class="field">
            <label for={id}>{label}</label>
            {control}
            {err ? <FieldError id={`${id}-err`} text={errText} /> : ''}
          </div>
        )
      })}
    </fieldset>
  )
}

/** The drawer's read-only view of a lead's custom fields. */
export function CustomFacts({
  ui,
  defs,
  custom,
}: {
  ui: Ui
  defs: CustomFieldDef[]
  custom: Record<string, unknown>
}) {
  return (
    <>
      {defs.map((d) => {
        const text = formatCustom(d, custom[d.key], ui.locale, ui.t)
        return (
          <div class="fact" data-custom-key={d.key}>
            <dt safe>{d.label}</dt>
            <dd>{text ? <span safe>{text}</span> : <span class="subtle">—</span>}</dd>
          </div>
        )
      })}
    </>
  )
}
