/**
 * LGPD: the typed confirmation before a lead's permanent deletion (owners and admins). The user types
 * the lead's name; the server checks it again.
 */
import { FieldError } from '../components/form'
import { AppShell } from '../layouts/app-shell'
import type { Ui } from '../ui'
import { LIcon } from './icons'

export function ErasePage({
  ui,
  lead,
  typed,
  error,
}: {
  ui: Ui
  lead: { id: string; fullName: string }
  typed?: string
  error?: boolean
}) {
  const { t } = ui
  return (
    <AppShell ui={ui} title={t('leads.lgpd.erase_title')}>
      <div class="narrow-page">
        <form
          method="post"
          action={`/leads/${lead.id}/erase`}
          class="card card-body form-grid danger-card"
          novalidate
          data-testid="erase-form"
        >
          <div class="danger-head">
            <LIcon name="shieldAlert" />
            <h1 safe>{t('leads.lgpd.erase_title')}</h1>
          </div>
          <p safe>{t('leads.lgpd.erase_text', { name: lead.fullName })}</p>
          <ul class="muted erase-list">
            <li safe>{t('leads.lgpd.erase_item_record')}</li>
            <li safe>{t('leads.lgpd.erase_item_copies')}</li>
            <li safe>{t('leads.lgpd.erase_item_audit')}</li>
          </ul>
          <p>
            <a class="link" href={`/leads/${lead.id}/personal-data.json`} download="" hx-boost="false" safe>
              {t('leads.lgpd.export_first')}
            </a>
          </p>
          <div class="field">
            <label for="f-confirmName" safe>
              {t('leads.lgpd.type_name', { name: lead.fullName })}
            </label>
            <input
              class="input"
              id="f-confirmName"
              name="confirmName"
              value={typed ?? ''}
              autocomplete="off"
              autofocus
              aria-invalid={error ? 'true' : undefined}
              aria-describedby={error ? 'f-confirmName-err' : undefined}
            />
            {error ? <FieldError id="f-confirmName-err" text={t('leads.lgpd.type_name_error')} /> : ''}
          </div>
          <div class="form-actions">
            <a class="btn" href={`/pipeline/leads/${lead.id}`} safe>
              {t('action.cancel')}
            </a>
            <button type="submit" class="btn btn-danger" data-testid="erase-submit" safe>
              {t('leads.lgpd.erase_submit')}
            </button>
          </div>
        </form>
      </div>
    </AppShell>
  )
}
