import type { Flash } from '../../src/platform/http/context'

/** A one-shot message after a redirect: announced politely, dismissable, gone after a few seconds. */
export function FlashToast({ flash }: { flash: Flash | null }) {
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
          <span safe>{flash.text}</span>
        </div>
      ) : (
        ''
      )}
    </div>
  )
}
