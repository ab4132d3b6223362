/**
 * Settings → Assignment (owners and admins): ordered rules (condition → team, round-robin or
 * least-loaded; the first match with an available member wins) and the team's availability.
 */

import type { MemberRow } from '../../src/modules/leads/leads.assignment'
import {
  ASSIGNMENT_CONDITIONS,
  type Condition,
  conditionFormValues,
} from '../../src/modules/leads/leads.conditions'
import type { AssignmentRule } from '../../src/modules/leads/leads.scoring.table'
import type { CustomFieldDef } from '../../src/modules/leads/leads.table'
import { FieldError, FormAlert, type FormState } from '../components/form'
import { SettingsLayout } from '../orgs/settings-pages'
import { initials, type Ui } from '../ui'
import { ConditionFields, conditionText, PField, RuleActions } from './rule-parts'

export type AssignmentRuleView = AssignmentRule & { parsed: Condition | null; members: string[] }

export interface AssignmentPageProps {
  ui: Ui
  rules: AssignmentRuleView[]
  members: MemberRow[]
  fields: CustomFieldDef[]
  form: FormState
  /** Members chosen in the new-rule form (kept on 422). */
  formMembers: string[]
  edit?: { id: string; form: FormState; members: string[] }
}

function AssignmentForm(p: {
  ui: Ui
  form: FormState
  chosen: string[]
  members: MemberRow[]
  fields: CustomFieldDef[]
  action: string
  prefix: string
  submit: string
}) {
  const { ui, form } = p
  const { t } = ui
  const v = form.values
  const memberErr = form.errors?.fields.members
  return (
    <form
      method="post"
      action={p.action}
      class="form-grid rule-form"
      novalidate
      x-data={`{ type: ${JSON.stringify(v.condType || 'any')} }`}
    >
      <FormAlert form={form} t={t} />
      <PField
        ui={ui}
        form={form}
        prefix={p.prefix}
        name="name"
        label={t('rules.name')}
        required
        maxlength={80}
        placeholder={t('assignment.name_placeholder')}
      />
      <ConditionFields
        ui={ui}
        form={form}
        types={ASSIGNMENT_CONDITIONS}
        fields={p.fields}
        kinds={[]}
        prefix={p.prefix}
      />
      <fieldset class="field team-pick" aria-describedby={memberErr ? `${p.prefix}-members-err` : undefined}>
        <legend safe>{t('assignment.team')}</legend>
        <div class="team-grid">
          {p.members.map((m) => (
            <label class={`check member-check${m.available ? '' : ' away'}`}>
              <input type="checkbox" name="members" value={m.id} checked={p.chosen.includes(m.id)} />
              <span safe>{m.name}</span>
              {m.available ? (
                ''
              ) : (
                <span class="badge" safe>
                  {t('assignment.away')}
                </span>
              )}
            </label>
          ))}
        </div>
        {memberErr ? <FieldError id={`${p.prefix}-members-err`} text={t(memberErr)} /> : ''}
      </fieldset>
      <fieldset class="field">
        <legend safe>{t('assignment.strategy')}</legend>
        <div class="strategy-grid">
          {(['round_robin', 'least_loaded'] as const).map((s) => (
            <label class="strategy-opt">
              <input type="radio" name="strategy" value={s} checked={(v.strategy || 'round_robin') === s} />
              <span>
                <strong safe>{t(`assignment.strategy.${s}`)}</strong>
                <span class="subtle" safe>
                  {t(`assignment.strategy.${s}_hint`)}
                </span>
              </span>
            </label>
          ))}
        </div>
      </fieldset>
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" safe>
          {p.submit}
        </button>
      </div>
    </form>
  )
}

export function AssignmentSettingsPage(p: AssignmentPageProps) {
  const { ui } = p
  const { t } = ui
  const nameOf = new Map(p.members.map((m) => [m.id, m]))
  return (
    <SettingsLayout
      ui={ui}
      tab="assignment"
      title={t('assignment.title')}
      subtitle={t('assignment.subtitle')}
    >
      <section class="card" aria-labelledby="arules-title">
        <div class="card-head">
          <div>
            <h2 id="arules-title" safe>
              {t('assignment.rules')}
            </h2>
            <p class="subtle" safe>
              {t('assignment.rules_hint')}
            </p>
          </div>
        </div>
        {p.rules.length ? (
          <ol class="rules-list" data-testid="assignment-rules">
            {p.rules.map((r, i) => {
              const editing = p.edit?.id === r.id
              return (
                <li class={`rule-row${r.active ? '' : ' inactive'}`} data-rule-id={r.id}>
                  <div class="rule-main">
                    <span class="pts order" aria-hidden="true" safe>
                      {String(i + 1)}
                    </span>
                    <div class="rule-text">
                      <strong safe>{r.name}</strong>
                      <span class="subtle" safe>
                        {`${conditionText(ui, r.parsed, p.fields)} → ${t(`assignment.strategy.${r.strategy}`)}`}
                      </span>
                      <span class="team-chips">
                        {r.members.map((id) => {
                          const m = nameOf.get(id)
                          return (
                            <span class={`chip${m?.available === false ? ' away' : ''}`}>
                              <span class="avatar avatar-xs" aria-hidden="true" safe>
                                {initials(m?.name ?? '?')}
                              </span>
                              <span safe>{m?.name ?? '?'}</span>
                            </span>
                          )
                        })}
                      </span>
                    </div>
                    <RuleActions
                      ui={ui}
                      base={`/settings/assignment/rules/${r.id}`}
                      name={r.name}
                      active={r.active}
                      first={i === 0}
                      last={i === p.rules.length - 1}
                    />
                  </div>
                  <details class="rule-edit" open={editing}>
                    <summary class="btn btn-sm btn-ghost" safe>
                      {t('rules.edit')}
                    </summary>
                    <AssignmentForm
                      ui={ui}
                      form={
                        editing
                          ? p.edit!.form
                          : {
                              values: {
                                name: r.name,
                                strategy: r.strategy,
                                ...(conditionFormValues(r.parsed) as unknown as Record<string, string>),
                              },
                              errors: null,
                            }
                      }
                      chosen={editing ? p.edit!.members : r.members}
                      members={p.members}
                      fields={p.fields}
                      action={`/settings/assignment/rules/${r.id}`}
                      prefix={`a${i}`}
                      submit={t('action.save')}
                    />
                  </details>
                </li>
              )
            })}
          </ol>
        ) : (
          <div class="card-body">
            <p class="subtle" safe>
              {t('assignment.empty')}
            </p>
          </div>
        )}
      </section>

      <section class="card" aria-labelledby="new-arule-title">
        <div class="card-head">
          <h2 id="new-arule-title" safe>
            {t('assignment.new_rule')}
          </h2>
        </div>
        <div class="card-body">
          <AssignmentForm
            ui={ui}
            form={p.form}
            chosen={p.formMembers}
            members={p.members}
            fields={p.fields}
            action="/settings/assignment/rules"
            prefix="new"
            submit={t('assignment.add_rule')}
          />
        </div>
      </section>

      <section class="card" aria-labelledby="avail-title">
        <div class="card-head">
          <div>
            <h2 id="avail-title" safe>
              {t('assignment.availability')}
            </h2>
            <p class="subtle" safe>
              {t('assignment.availability_hint')}
            </p>
          </div>
        </div>
        <div class="table-wrap">
          <table class="table table-stack" data-testid="availability-table">
            <thead>
              <tr>
                <th scope="col" safe>
                  {t('assignment.member')}
                </th>
                <th scope="col" safe>
                  {t('assignment.open_leads')}
                </th>
                <th scope="col" safe>
                  {t('assignment.available')}
                </th>
              </tr>
            </thead>
            <tbody>
              {p.members.map((m) => (
                <tr data-member-id={m.id}>
                  <td>
                    <span class="person">
                      <span class="avatar" aria-hidden="true" safe>
                        {initials(m.name)}
                      </span>
                      <span class="who">
                        <strong safe>{m.name}</strong>
                        <span class="subtle" safe>
                          {m.email}
                        </span>
                      </span>
                    </span>
                  </td>
                  <td data-label={t('assignment.open_leads')} safe>
                    {String(m.openLeads)}
                  </td>
                  <td data-label={t('assignment.available')}>
                    <form method="post" action={`/settings/assignment/members/${m.id}/availability`}>
                      <input type="hidden" name="available" value={m.available ? 'false' : 'true'} />
                      <button
                        type="submit"
                        class={`switch${m.available ? ' on' : ''}`}
                        role="switch"
                        aria-checked={m.available ? 'true' : 'false'}
                        aria-label={t('assignment.available_label', { name: m.name })}
                      >
                        <span class="knob" aria-hidden="true"></span>
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </SettingsLayout>
  )
}
