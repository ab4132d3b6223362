/**
 * Settings → Custom fields (owners and admins): the organization's lead fields, in order. Each row
 * edits in place (a <details> form); up/down buttons reorder (keyboard-friendly, no drag needed).
 */
import type { CustomFieldDef, CustomFieldType } from '../../src/modules/leads/leads.table'
import { CUSTOM_FIELD_TYPES } from '../../src/modules/leads/leads.table'
import type { MessageKey } from '../../src/shared/i18n'
import { Field, FieldError, FormAlert, type FormState } from '../components/form'
import { SettingsLayout } from '../orgs/settings-pages'
import { PIcon } from '../pipeline/icons'
import type { Ui } from '../ui'
import { LIcon } from './icons'

export const TYPE_LABEL: Record<CustomFieldType, MessageKey> = {
  text: 'leads.fields.type.text',
  number: 'leads.fields.type.number',
  date: 'leads.fields.type.date',
  select: 'leads.fields.type.select',
  multiselect: 'leads.fields.type.multiselect',
  boolean: 'leads.fields.type.boolean',
}

export interface FieldForms {
  create?: FormState
  edit?: { id: string; form: FormState }
}

export function defFormValues(d: CustomFieldDef): Record<string, string> {
  return {
    label: d.label,
    options: d.options.join('\n'),
    required: d.required ? 'on' : '',
    showInList: d.showInList ? 'on' : '',
  }
}

function Toggles({ ui, form, prefix }: { ui: Ui; form: FormState; prefix: string }) {
  const { t } = ui
  return (
    <div class="toggles">
      <label class="check" for={`${prefix}-required`}>
        <input type="checkbox" id={`${prefix}-required`} name="required" checked={!!form.values.required} />
        <span safe>{t('leads.fields.required')}</span>
      </label>
      <label class="check" for={`${prefix}-list`}>
        <input type="checkbox" id={`${prefix}-list`} name="showInList" checked={!!form.values.showInList} />
        <span safe>{t('leads.fields.show_in_list')}</span>
      </label>
    </div>
  )
}

function OptionsField({ ui, form, id, show }: { ui: Ui; form: FormState; id: string; show: string }) {
  const { t } = ui
  const err = form.errors?.fields.options
  return (
    <div class="field" x-show={show}>
      <label for={id} safe>
        {t('leads.fields.options')}
      </label>
      <textarea
        class="input"
        id={id}
        name="options"
        rows="4"
        aria-invalid={err ? 'true' : undefined}
        aria-describedby={err ? `${id}-err` : `${id}-hint`}
        safe
      >
        {form.values.options ?? ''}
      </textarea>
      {err ? (
        <FieldError id={`${id}-err`} text={t(err)} />
      ) : (
        <p class="hint" id={`${id}-hint`} safe>
          {t('leads.fields.options_hint')}
        </p>
      )}
    </div>
  )
}

export function CustomFieldsPage({
  ui,
  defs,
  forms = {},
}: {
  ui: Ui
  defs: CustomFieldDef[]
  forms?: FieldForms
}) {
  const { t } = ui
  const create = forms.create ?? { values: { type: 'text' }, errors: null }
  const typeErr = create.errors?.fields.type
  return (
    <SettingsLayout
      ui={ui}
      tab="fields"
      title={t('leads.fields.title')}
      subtitle={t('leads.fields.subtitle')}
    >
      <section class="card" aria-labelledby="fields-list-title">
        <div class="card-head">
          <h3 id="fields-list-title" safe>
            {t('leads.fields.list')}
          </h3>
        </div>
        {defs.length ? (
          <ul class="field-defs" data-testid="field-defs">
            {defs.map((d, i) => {
              const editing = forms.edit?.id === d.id
              const form = editing ? forms.edit!.form : { values: defFormValues(d), errors: null }
              const choice = d.type === 'select' || d.type === 'multiselect'
              return (
                <li class="field-def" data-key={d.key}>
                  <div class="field-def-row">
                    <div class="field-def-main">
                      <strong safe>{d.label}</strong>
                      <span class="subtle mono" safe>
                        {d.key}
                      </span>
                      <span class="badge" safe>
                        {t(TYPE_LABEL[d.type])}
                      </span>
                      {d.required ? (
                        <span class="badge badge-accent" safe>
                          {t('leads.fields.required')}
                        </span>
                      ) : (
                        ''
                      )}
                      {d.showInList ? (
                        <span class="badge" safe>
                          {t('leads.fields.in_list')}
                        </span>
                      ) : (
                        ''
                      )}
                    </div>
                    <div class="field-def-actions">
                      <form method="post" action={`/settings/fields/${d.id}/move`}>
                        <input type="hidden" name="dir" value="up" />
                        <button
                          type="submit"
                          class="icon-btn"
                          disabled={i === 0}
                          aria-label={t('leads.fields.move_up', { name: d.label })}
                        >
                          <LIcon name="chevronUp" />
                        </button>
                      </form>
                      <form method="post" action={`/settings/fields/${d.id}/move`}>
                        <input type="hidden" name="dir" value="down" />
                        <button
                          type="submit"
                          class="icon-btn"
                          disabled={i === defs.length - 1}
                          aria-label={t('leads.fields.move_down', { name: d.label })}
                        >
                          <LIcon name="chevronDown" />
                        </button>
                      </form>
                      <form
                        method="post"
                        action={`/settings/fields/${d.id}/delete`}
                        data-confirm={t('leads.fields.delete_confirm', { name: d.label })}
                      >
                        <button
                          type="submit"
                          class="icon-btn"
                          aria-label={t('leads.fields.delete', { name: d.label })}
                        >
                          <PIcon name="trash" />
                        </button>
                      </form>
                    </div>
                  </div>
                  <details class="edit-box" open={editing}>
                    <summary class="btn btn-sm">
                      <PIcon name="pencil" />
                      <span safe>{t('leads.fields.edit')}</span>
                    </summary>
                    <form method="post" action={`/settings/fields/${d.id}`} class="form-grid" novalidate>
                      <FormAlert form={form} t={t} />
                      <Field
                        name="label"
                        label={t('leads.fields.label')}
                        form={form}
                        t={t}
                        required
                        maxlength={80}
                      />
                      {choice ? <OptionsField ui={ui} form={form} id={`opt-${d.id}`} show="true" /> : ''}
                      <Toggles ui={ui} form={form} prefix={`e-${d.id}`} />
                      <div class="form-actions">
                        <button type="submit" class="btn btn-primary btn-sm" safe>
                          {t('action.save')}
                        </button>
                      </div>
                    </form>
                  </details>
                </li>
              )
            })}
          </ul>
        ) : (
          <p class="card-body muted" safe>
            {t('leads.fields.none')}
          </p>
        )}
      </section>
      <section class="card card-body" aria-labelledby="fields-new-title">
        <h3 id="fields-new-title" safe>
          {t('leads.fields.new')}
        </h3>
        <form
          method="post"
          action="/settings/fields"
          class="form-grid"
          novalidate
          x-data={`{ type: ${JSON.stringify(create.values.type || 'text')} }`}
          data-testid="field-create"
        >
          <FormAlert form={create} t={t} />
          <div class="form-row">
            <Field name="label" label={t('leads.fields.label')} form={create} t={t} required maxlength={80} />
            <Field
              name="key"
              label={t('leads.fields.key')}
              hint={t('leads.fields.key_hint')}
              form={create}
              t={t}
              maxlength={40}
            />
          </div>
          <div class="field">
            <label for="f-type" safe>
              {t('leads.fields.type')}
            </label>
            <select
              class="input"
              id="f-type"
              name="type"
              x-model="type"
              aria-invalid={typeErr ? 'true' : undefined}
            >
              {CUSTOM_FIELD_TYPES.map((ty) => (
                <option value={ty} selected={create.values.type === ty} safe>
                  {t(TYPE_LABEL[ty])}
                </option>
              ))}
            </select>
            {typeErr ? <FieldError id="f-type-err" text={t(typeErr)} /> : ''}
          </div>
          <OptionsField
            ui={ui}
            form={create}
            id="f-options"
            show="type === 'select' || type === 'multiselect'"
          />
          <Toggles ui={ui} form={create} prefix="new" />
          <div class="form-actions">
            <button type="submit" class="btn btn-primary" safe>
              {t('leads.fields.create')}
            </button>
          </div>
        </form>
      </section>
    </SettingsLayout>
  )
}
