import type { Flash } from '../../src/platform/http/context'
import type { T } from '../../src/shared/i18n'
import { Icon } from './icon'

/** A one-shot message after a redirect: announced politely, dismissable, gone after a few seconds. */
export function FlashToast({ flash, t }: { flash: Flash | null; t: T }) {
  return (
    <div class="toast-region" id="toasts" aria-live="polite">
      {flash ? (
        <div
          class={`alert alert-${flash.kind} toast`}
          role={flash.kind === 'error' ? 'alert' : 'status'}
          x-data="{ show: true }"
          x-init="setTimeout(() => show = false, 6000)"
          x-show="show"
          x-transition
        >
          <span class="toast-text" safe>
            {flash.text}
          </span>
          <button
            type="button"
            class="toast-close"
            x-on:click="show = false"
            aria-label={t('action.dismiss')}
          >
            <Icon name="x" />
          </button>
        </div>
      ) : (
        ''
      )}
    </div>
  )
}
