import { AppShell } from '../layouts/app-shell'
import { AuthLayout } from '../layouts/auth-layout'
import type { Ui } from '../ui'

/** 403/404/500: inside the app shell when logged in, a plain card otherwise. */
export function ErrorPage({
  ui,
  status,
  title,
  body,
}: {
  ui: Ui
  status: number
  title: string
  body: string
}) {
  const inApp = !!(ui.user && ui.org)
  const inner = (
    <div class="error-page">
      <div style="display:grid;gap:10px;justify-items:center">
        <div class="code-big">{status}</div>
        <h1 safe>{title}</h1>
        <p class="muted" style="max-width:420px" safe>
          {body}
        </p>
        {inApp ? (
          <a class="btn" href="/dashboard" safe>
            {ui.t('error.back_home')}
          </a>
        ) : (
          <a class="btn" href={ui.user ? '/orgs/new' : '/login'} safe>
            {ui.t(ui.user ? 'org.new' : 'auth.forgot.back')}
          </a>
        )}
      </div>
    </div>
  )
  if (inApp)
    return (
      <AppShell ui={ui} title={title}>
        {inner}
      </AppShell>
    )
  return (
    <AuthLayout ui={ui} title={title} bare>
      {inner}
    </AuthLayout>
  )
}
