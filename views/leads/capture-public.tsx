/**
 * What a visitor sees after posting a website form to /capture/TOKEN without a redirect URL: a small
 * thank-you page, or the reasons the form was refused (with a way back). Localized by the browser.
 */
import { AuthLayout } from '../layouts/auth-layout'
import type { Ui } from '../ui'

export function CaptureThanksPage({ ui, back }: { ui: Ui; back: string | null }) {
  const { t } = ui
  return (
    <AuthLayout ui={ui} title={t('capture.public.thanks')} subtitle={t('capture.public.thanks_text')}>
      {back ? (
        <a class="btn btn-block" href={back} safe>
          {t('capture.public.back')}
        </a>
      ) : (
        ''
      )}
    </AuthLayout>
  )
}

export function CaptureRefusedPage({
  ui,
  reasons,
  back,
}: {
  ui: Ui
  reasons: string[]
  back: string | null
}) {
  const { t } = ui
  return (
    <AuthLayout ui={ui} title={t('capture.public.refused')} subtitle={t('capture.public.refused_text')}>
      <ul class="alert alert-error" role="alert" style="display:grid;gap:4px;padding-left:28px">
        {reasons.map((r) => (
          <li safe>{r}</li>
        ))}
      </ul>
      {back ? (
        <a class="btn btn-block" href={back} safe>
          {t('capture.public.back')}
        </a>
      ) : (
        ''
      )}
    </AuthLayout>
  )
}
