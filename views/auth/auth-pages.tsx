import { Field, FormAlert, type FormState } from '../components/form'
import { AuthLayout } from '../layouts/auth-layout'
import type { Ui } from '../ui'

export function LoginPage({
  ui,
  form,
  next,
  error,
}: {
  ui: Ui
  form: FormState
  next?: string
  error?: string
}) {
  const { t } = ui
  return (
    <AuthLayout ui={ui} title={t('auth.login.title')} subtitle={t('auth.login.subtitle')}>
      <form method="post" action="/login" class="form-grid" novalidate hx-boost="false">
        {error ? (
          <div class="alert alert-error" role="alert" safe>
            {error}
          </div>
        ) : (
          <FormAlert form={form} t={t} />
        )}
        {next ? <input type="hidden" name="next" value={next} /> : ''}
        <Field
          name="email"
          type="email"
          label={t('auth.field.email')}
          form={form}
          t={t}
          autocomplete="email"
          required
          autofocus
        />
        <Field
          name="password"
          type="password"
          label={t('auth.field.password')}
          form={form}
          t={t}
          autocomplete="current-password"
          required
        />
        <div style="display:flex;justify-content:space-between;align-items:center;gap:12px;flex-wrap:wrap">
          <label class="check">
            <input type="checkbox" name="remember" value="1" checked={form.values.remember === '1'} />
            <span safe>{t('auth.login.remember')}</span>
          </label>
          <a class="link" href="/forgot-password" style="font-size:13px" safe>
            {t('auth.login.forgot')}
          </a>
        </div>
        <button class="btn btn-primary btn-block" type="submit" safe>
          {t('auth.login.submit')}
        </button>
      </form>
      <p class="auth-foot">
        <span safe>{t('auth.login.no_account')}</span>{' '}
        <a href="/signup" safe>
          {t('auth.login.create_account')}
        </a>
      </p>
    </AuthLayout>
  )
}

export function SignupPage({ ui, form, enabled }: { ui: Ui; form: FormState; enabled: boolean }) {
  const { t } = ui
  return (
    <AuthLayout ui={ui} title={t('auth.signup.title')} subtitle={t('auth.signup.subtitle')}>
      {enabled ? (
        <form method="post" action="/signup" class="form-grid" novalidate hx-boost="false">
          <FormAlert form={form} t={t} />
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
            name="email"
            type="email"
            label={t('auth.field.email')}
            form={form}
            t={t}
            autocomplete="email"
            required
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
          <Field
            name="orgName"
            label={t('auth.field.org_name')}
            form={form}
            t={t}
            autocomplete="organization"
            required
            maxlength={120}
          />
          <button class="btn btn-primary btn-block" type="submit" safe>
            {t('auth.signup.submit')}
          </button>
        </form>
      ) : (
        <div class="alert alert-info" safe>
          {t('auth.signup.disabled')}
        </div>
      )}
      <p class="auth-foot">
        <span safe>{t('auth.signup.have_account')}</span>{' '}
        <a href="/login" safe>
          {t('auth.login.submit')}
        </a>
      </p>
    </AuthLayout>
  )
}

export function ForgotPasswordPage({ ui, form, sent }: { ui: Ui; form: FormState; sent: boolean }) {
  const { t } = ui
  return (
    <AuthLayout ui={ui} title={t('auth.forgot.title')} subtitle={t('auth.forgot.subtitle')}>
      {sent ? (
        <div class="alert alert-success" role="status" safe>
          {t('auth.forgot.sent')}
        </div>
      ) : (
        <form method="post" action="/forgot-password" class="form-grid" novalidate>
          <Field
            name="email"
            type="email"
            label={t('auth.field.email')}
            form={form}
            t={t}
            autocomplete="email"
            required
            autofocus
          />
          <button class="btn btn-primary btn-block" type="submit" safe>
            {t('auth.forgot.submit')}
          </button>
        </form>
      )}
      <p class="auth-foot">
        <a href="/login" safe>
          {t('auth.forgot.back')}
        </a>
      </p>
    </AuthLayout>
  )
}

export function ResetPasswordPage({
  ui,
  form,
  token,
  valid,
}: {
  ui: Ui
  form: FormState
  token: string
  valid: boolean
}) {
  const { t } = ui
  return (
    <AuthLayout ui={ui} title={t('auth.reset.title')}>
      {valid ? (
        <form method="post" action={`/reset-password/${token}`} class="form-grid" novalidate>
          <Field
            name="password"
            type="password"
            label={t('auth.field.new_password')}
            hint={t('auth.field.password_hint')}
            form={form}
            t={t}
            autocomplete="new-password"
            required
            autofocus
          />
          <button class="btn btn-primary btn-block" type="submit" safe>
            {t('auth.reset.submit')}
          </button>
        </form>
      ) : (
        <div class="alert alert-error" role="alert" safe>
          {t('auth.reset.invalid')}
        </div>
      )}
      <p class="auth-foot">
        <a href="/forgot-password" safe>
          {t('auth.forgot.title')}
        </a>
      </p>
    </AuthLayout>
  )
}
