import type { Invitation } from '../../src/modules/orgs/orgs.usecases'
import { Field, FormAlert, type FormState } from '../components/form'
import { AuthLayout } from '../layouts/auth-layout'
import type { Ui } from '../ui'

type Mode = 'accept' | 'wrong-account' | 'signup' | 'login'

export function InvitePage({
  ui,
  inv,
  token,
  mode,
  form,
}: {
  ui: Ui
  inv: Invitation | null
  token: string
  mode: Mode
  form: FormState
}) {
  const { t } = ui
  if (!inv)
    return (
      <AuthLayout ui={ui} title={t('invite.invalid')}>
        <p class="auth-foot">
          <a href="/login" safe>
            {t('auth.forgot.back')}
          </a>
        </p>
      </AuthLayout>
    )
  const org = inv.orgDisplayName || inv.orgName
  return (
    <AuthLayout
      ui={ui}
      title={t('invite.title', { org })}
      subtitle={t('invite.subtitle', {
        inviter: inv.inviterName ?? '—',
        email: inv.email,
        org,
        role: t(`org.role.${inv.role}`),
      })}
    >
      {mode === 'accept' ? (
        <form method="post" action={`/invite/${token}`} class="form-grid" hx-boost="false">
          <p class="muted" safe>
            {t('invite.accept_as', { email: ui.user!.email })}
          </p>
          <button class="btn btn-primary btn-block" type="submit" safe>
            {t('invite.accept')}
          </button>
        </form>
      ) : mode === 'wrong-account' ? (
        <div class="alert alert-error" role="alert" safe>
          {t('invite.wrong_account', { email: inv.email })}
        </div>
      ) : mode === 'login' ? (
        <a
          class="btn btn-primary btn-block"
          href={`/login?next=${encodeURIComponent(`/invite/${token}`)}`}
          safe
        >
          {t('auth.login.submit')}
        </a>
      ) : (
        <form method="post" action={`/invite/${token}`} class="form-grid" novalidate hx-boost="false">
          <h2 safe>{t('invite.create_account')}</h2>
          <FormAlert form={form} t={t} />
          <div class="field">
            <label for="f-invite-email" safe>
              {t('auth.field.email')}
            </label>
            {/* Read-only, not submitted: the invitation decides the address. It lets password managers
                save the new credentials under the right username. */}
            <input
              class="input"
              id="f-invite-email"
              type="email"
              value={inv.email}
              autocomplete="username"
              readonly
            />
          </div>
          <Field
            name="name"
            label={t('auth.field.name')}
            form={form}
            t={t}
            autocomplete="name"
            required
            autofocus
            maxlength={120}
          />
          <Field
            name="password"
            type="password"
            label={t('auth.field.password')}
            hint={t('auth.field.password_hint')}
            form={form}
            t={t}
            autocomplete="new-password"
            required
          />
          <button class="btn btn-primary btn-block" type="submit" safe>
            {t('invite.accept')}
          </button>
        </form>
      )}
    </AuthLayout>
  )
}
