/**
 * Parts shared by the scoring and assignment settings pages: a condition as a sentence, and the
 * condition fields of a rule form (Alpine shows the inputs of the chosen type; without JavaScript
 * every input shows, each labelled, and the server reads the ones the type needs).
 */
import type { Condition, ConditionType } from '../../src/modules/leads/leads.conditions'
import type { CustomFieldDef } from '../../src/modules/leads/leads.table'
import type { MessageKey } from '../../src/shared/i18n'
import { FieldError, type FormState } from '../components/form'
import type { Ui } from '../ui'

const money = (cents: number, locale: string) =>
  new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }).format(cents / 100)

/** "Source is Google Ads or Site", in the reader's language. */
export function conditionText(ui: Ui, c: Condition | null, fields: CustomFieldDef[]): string {
  const { t } = ui
  if (!c) return t('rules.cond.invalid')
  const or = ` ${t('rules.or')} `
  switch (c.type) {
    case 'any':
      return t('rules.cond.any_text')
    case 'source':
      return t('rules.cond.source_text', { values: c.values.join(or) })
    case 'tag':
      return t('rules.cond.tag_text', { value: c.value })
    case 'present':
      return t('rules.cond.present_text', { field: t(`rules.field.${c.field}` as MessageKey) })
    case 'value_gte':
      return t('rules.cond.value_text', { value: money(c.cents, ui.locale) })
    case 'region':
      return t('rules.cond.region_text', { values: c.values.join(or) })
    case 'job_title':
      return t('rules.cond.job_title_text', { value: c.contains })
    case 'custom': {
      const label = fields.find((f) => f.key === c.key)?.label ?? c.key
      if (c.op === 'checked') return t('rules.cond.custom_checked_text', { field: label })
      if (c.op === 'gte') return t('rules.cond.custom_gte_text', { field: label, value: String(c.value) })
      return t('rules.cond.custom_eq_text', { field: label, value: String(c.value ?? '') })
    }
    case 'activity':
      return t('rules.cond.activity_text', { kind: activityLabel(ui, c.kind), days: c.days })
  }
}

const KNOWN_KINDS = new Set(['note', 'moved', 'edited', 'assigned', 'won', 'lost', 'message.inbound'])
export function activityLabel(ui: Ui, kind: string) {
  return KNOWN_KINDS.has(kind) ? ui.t(`rules.kind.${kind}` as MessageKey) : kind
}

/** The condition inputs of a rule form. `prefix` keeps ids unique when several forms share a page. */
export function ConditionFields(p: {
  ui: Ui
  form: FormState
  types: readonly ConditionType[]
  fields: CustomFieldDef[]
  kinds: string[]
  prefix: string
}) {
  const { ui, form, prefix } = p
  const { t } = ui
  const v = form.values
  const err = (name: string) => form.errors?.fields[name]
  const id = (name: string) => `${prefix}-${name}`
  const errorOf = (name: string) => {
    const e = err(name)
    return e ? <FieldError id={`${id(name)}-err`} text={t(e, form.errors?.params[name])} /> : ''
  }
  const invalid = (name: string) => (err(name) ? 'true' : undefined)
  const describedBy = (name: string) => (err(name) ? `${id(name)}-err` : undefined)
  const show = (types: ConditionType[]) => types.map((x) => `type === '${x}'`).join(' || ')
  const numberField = v.condKey ? p.fields.find((f) => f.key === v.condKey) : undefined
  return (
    <>
      <div class="field">
        <label for={id('condType')} safe>
          {t('rules.condition')}
        </label>
        <select
          class="input"
          id={id('condType')}
          name="condType"
          x-model="type"
          aria-invalid={invalid('condType')}
          aria-describedby={describedBy('condType')}
        >
          {p.types.map((x) => (
            <option value={x} selected={v.condType === x} safe>
              {t(`rules.cond.${x}` as MessageKey)}
            </option>
          ))}
        </select>
        {errorOf('condType')}
      </div>
      <div class="field" x-show={show(['source', 'tag', 'region', 'job_title'])}>
        <label for={id('condValues')}>
          <span x-show="type === 'source'" safe>
            {t('rules.values.source')}
          </span>
          <span x-show="type === 'tag'" x-cloak safe>
            {t('rules.values.tag')}
          </span>
          <span x-show="type === 'region'" x-cloak safe>
            {t('rules.values.region')}
          </span>
          <span x-show="type === 'job_title'" x-cloak safe>
            {t('rules.values.job_title')}
          </span>
          <span x-show="type === 'custom'" x-cloak safe>
            {t('rules.values.custom')}
          </span>
        </label>
        <input
          class="input"
          id={id('condValues')}
          name="condValues"
          value={v.condValues ?? ''}
          maxlength={500}
          autocomplete="off"
          aria-invalid={invalid('condValues')}
          aria-describedby={describedBy('condValues')}
        />
        <p class="hint" x-show="type === 'region'" x-cloak safe>
          {t('rules.values.region_hint')}
        </p>
        <p class="hint" x-show="type === 'source'" safe>
          {t('rules.values.list_hint')}
        </p>
        {errorOf('condValues')}
      </div>
      <div class="field" x-show={show(['present'])} x-cloak>
        <label for={id('condField')} safe>
          {t('rules.field')}
        </label>
        <select class="input" id={id('condField')} name="condField">
          {(['email', 'phone', 'company'] as const).map((f) => (
            <option value={f} selected={v.condField === f} safe>
              {t(`rules.field.${f}`)}
            </option>
          ))}
        </select>
        {errorOf('condField')}
      </div>
      {p.types.includes('custom') ? (
        <div class="form-row" x-show={show(['custom'])} x-cloak>
          <div class="field">
            <label for={id('condKey')} safe>
              {t('rules.custom_field')}
            </label>
            <select
              class="input"
              id={id('condKey')}
              name="condKey"
              aria-invalid={invalid('condKey')}
              aria-describedby={describedBy('condKey')}
            >
              <option value="">—</option>
              {p.fields.map((f) => (
                <option value={f.key} selected={v.condKey === f.key} safe>
                  {`${f.label} (${t(`rules.ftype.${f.type}` as MessageKey)})`}
                </option>
              ))}
            </select>
            {p.fields.length ? (
              <p class="hint" safe>
                {t('rules.custom_hint')}
              </p>
            ) : (
              <p class="hint" safe>
                {t('rules.custom_none')}
              </p>
            )}
            {errorOf('condKey')}
          </div>
          <div class="field">
            <label for={id('condOp')} safe>
              {t('rules.custom_op')}
            </label>
            <select class="input" id={id('condOp')} name="condOp">
              <option value="eq" selected={v.condOp !== 'gte'} safe>
                {t('rules.op.eq')}
              </option>
              <option value="gte" selected={v.condOp === 'gte' || numberField?.type === 'number'} safe>
                {t('rules.op.gte')}
              </option>
            </select>
          </div>
        </div>
      ) : (
        ''
      )}
      <div class="field" x-show={show(['value_gte', 'custom'])} x-cloak>
        <label for={id('condNumber')}>
          <span x-show="type === 'value_gte'" safe>
            {t('rules.number.value')}
          </span>
          <span x-show="type === 'custom'" x-cloak safe>
            {t('rules.number.custom')}
          </span>
        </label>
        <input
          class="input"
          id={id('condNumber')}
          name="condNumber"
          inputmode="decimal"
          value={v.condNumber ?? ''}
          maxlength={30}
          autocomplete="off"
          aria-invalid={invalid('condNumber')}
          aria-describedby={describedBy('condNumber')}
        />
        {errorOf('condNumber')}
      </div>
      {p.types.includes('activity') ? (
        <div class="form-row" x-show={show(['activity'])} x-cloak>
          <div class="field">
            <label for={id('condKind')} safe>
              {t('rules.activity_kind')}
            </label>
            <input
              class="input"
              id={id('condKind')}
              name="condKind"
              list={id('kinds')}
              value={v.condKind ?? 'note'}
              maxlength={40}
              autocomplete="off"
              aria-invalid={invalid('condKind')}
              aria-describedby={describedBy('condKind')}
            />
            <datalist id={id('kinds')}>
              {p.kinds.map((k) => (
                <option value={k} safe>
                  {activityLabel(ui, k)}
                </option>
              ))}
            </datalist>
            {errorOf('condKind')}
          </div>
          <div class="field">
            <label for={id('condDays')} safe>
              {t('rules.activity_days')}
            </label>
            <input
              class="input"
              id={id('condDays')}
              name="condDays"
              type="number"
              min="1"
              max="3650"
              value={v.condDays ?? '7'}
              aria-invalid={invalid('condDays')}
              aria-describedby={describedBy('condDays')}
            />
            {errorOf('condDays')}
          </div>
        </div>
      ) : (
        ''
      )}
    </>
  )
}

/** Up / down / on-off / delete buttons of a rule row (plain forms: work without JavaScript). */
export function RuleActions(p: {
  ui: Ui
  base: string
  name: string
  active: boolean
  first: boolean
  last: boolean
}) {
  const { t } = p.ui
  return (
    <div class="rule-actions">
      <form method="post" action={`${p.base}/move`}>
        <input type="hidden" name="dir" value="up" />
        <button
          type="submit"
          class="icon-btn"
          disabled={p.first}
          aria-label={t('rules.move_up', { name: p.name })}
          title={t('rules.move_up', { name: p.name })}
        >
          ↑
        </button>
      </form>
      <form method="post" action={`${p.base}/move`}>
        <input type="hidden" name="dir" value="down" />
        <button
          type="submit"
          class="icon-btn"
          disabled={p.last}
          aria-label={t('rules.move_down', { name: p.name })}
          title={t('rules.move_down', { name: p.name })}
        >
          ↓
        </button>
      </form>
      <form method="post" action={`${p.base}/active`}>
        <input type="hidden" name="active" value={p.active ? 'false' : 'true'} />
        <button
          type="submit"
          class={`switch${p.active ? ' on' : ''}`}
          role="switch"
          aria-checked={p.active ? 'true' : 'false'}
          aria-label={t('rules.active_label', { name: p.name })}
          title={p.active ? t('rules.active') : t('rules.inactive')}
        >
          <span class="knob" aria-hidden="true"></span>
        </button>
      </form>
      <form
        method="post"
        action={`${p.base}/delete`}
        data-confirm={t('rules.delete_confirm', { name: p.name })}
      >
        <button
          type="submit"
          class="btn btn-sm btn-ghost"
          aria-label={t('rules.delete_label', { name: p.name })}
          safe
        >
          {t('rules.delete')}
        </button>
      </form>
    </div>
  )
}

/** A labelled input with a per-form id prefix (several rule forms share a page). */
export function PField(p: {
  ui: Ui
  form: FormState
  prefix: string
  name: string
  label: string
  type?: string
  hint?: string
  maxlength?: number
  placeholder?: string
  required?: boolean
}) {
  const id = `${p.prefix}-${p.name}`
  const err = p.form.errors?.fields[p.name]
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
        value={p.form.values[p.name] ?? ''}
        maxlength={p.maxlength}
        placeholder={p.placeholder}
        required={p.required}
        autocomplete="off"
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
      {err ? <FieldError id={`${id}-err`} text={p.ui.t(err, p.form.errors?.params[p.name])} /> : ''}
    </div>
  )
}
