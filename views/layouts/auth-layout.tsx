import type { PropsWithChildren } from '@kitajs/html'
import { FlashToast } from '../components/flash'
import type { Ui } from '../ui'
import { Document } from './document'

/** `bare`: the page brings its own heading (error pages); the title still names the document. */
export function AuthLayout(
  props: PropsWithChildren<{ ui: Ui; title: string; subtitle?: string; bare?: boolean }>,
) {
  const { ui } = props
  return (
    <Document ui={ui} title={props.title}>
      <main class="auth">
        <div class="auth-card">
          <div class="auth-brand">
            <span class="logo-mark" aria-hidden="true">
              ♥
            </span>
            <span safe>{ui.instanceName}</span>
          </div>
          {props.bare ? (
            ''
          ) : (
            <div class="auth-head">
              <h1 safe>{props.title}</h1>
              {props.subtitle ? (
                <p class="muted" safe>
                  {props.subtitle}
                </p>
              ) : (
                ''
              )}
            </div>
          )}
          {props.children}
        </div>
      </main>
      <FlashToast flash={ui.flash} t={ui.t} />
    </Document>
  )
}
