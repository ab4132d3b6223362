/** Settings → Quick replies: the organization's canned answers (`/shortcut` in the inbox composer). */
import type { QuickReply } from '../../src/modules/inbox/inbox.usecases'
import { Field, FieldError, type FormState } from '../components/form'
import { SettingsLayout } from '../orgs/settings-pages'
import { PIcon } from '../pipeline/icons'
import type { Ui } from '../ui'

export function QuickRepliesPage(p: { ui: Ui; replies: QuickReply[]; form: FormState }) {
  const { ui } = p
  const { t } = ui
  const bodyErr = p.form.errors?.fields.body
  return (
    <SettingsLayout ui={ui} tab="quick_replies" title={t('inbox.qr.title')} subtitle={t('inbox.qr.subtitle')}>
      <div class="card">
        <div class="card-body">
          <form method="post" action="/settings/quick-replies" class="form-grid" data-testid="qr-form">
            <Field
              name="shortcut"
              label={t('inbox.qr.shortcut')}
              hint={t('inbox.qr.shortcut_hint')}
              form={p.form}
              t={t}
              required
              maxlength={31}
            />
            <div class="field">
              <label for="f-body" safe>
                {t('inbox.qr.body')}
              </label>
              <textarea
                class="input"
                id="f-body"
                name="body"
                rows="3"
                maxlength={2000}
                required
                aria-invalid={bodyErr ? 'true' : undefined}
                aria-describedby={bodyErr ? 'f-body-err' : undefined}
                safe
              >
                {p.form.values.body ?? ''}
              </textarea>
              {bodyErr ? <FieldError id="f-body-err" text={t(bodyErr, p.form.errors?.params.body)} /> : ''}
            </div>
            <div class="form-actions">
              <button type="submit" class="btn btn-primary">
                <PIcon name="plus" />
                <span safe>{t('inbox.qr.add')}</span>
              </button>
            </div>
          </form>
        </div>
      </div>
      <div class="card">
        {p.replies.length ? (
          <div class="table-wrap">
            <table class="table table-stack" data-testid="qr-table">
              <thead>
                <tr>
                  <th safe>{t('inbox.qr.shortcut')}</th>
                  <th safe>{t('inbox.qr.body')}</th>
                  <th>
                    <span class="sr-only" safe>
                      {t('inbox.qr.delete')}
                    </span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {p.replies.map((r) => (
                  <tr>
                    <td data-label={t('inbox.qr.shortcut')}>
                      <code class="code" safe>{`/${r.shortcut}`}</code>
                    </td>
                    <td data-label={t('inbox.qr.body')} class="qr-body" safe>
                      {r.body}
                    </td>
                    <td class="row-actions">
                      <form
                        method="post"
                        action={`/settings/quick-replies/${r.id}/delete`}
                        data-confirm={t('inbox.qr.delete_confirm')}
                      >
                        <button
                          type="submit"
                          class="btn btn-sm btn-ghost"
                          aria-label={`${t('inbox.qr.delete')} /${r.shortcut}`}
                        >
                          <PIcon name="trash" />
                        </button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <div class="card-body">
            <p class="muted" safe>
              {t('inbox.qr.empty')}
            </p>
          </div>
        )}
      </div>
    </SettingsLayout>
  )
}
