import type { PropsWithChildren } from '@kitajs/html'

interface DropdownProps {
  /** Accessible name of the toggle button. */
  label: string
  buttonClass: string
  /** What the toggle shows: JSX rendered by the caller, which escapes its own text. */
  safeButton: JSX.Element
  align?: 'left' | 'right'
  /** Extra class for the menu panel. */
  menuClass?: string
  testId?: string
}

/**
 * A menu button (Alpine): Enter/Space opens it, Escape closes it and returns focus to the button,
 * a click outside closes it; the menu items are ordinary links and form buttons, reachable by Tab.
 */
export function Dropdown(props: PropsWithChildren<DropdownProps>) {
  const right = props.align === 'right'
  const { safeButton } = props
  return (
    <div
      class="dropdown"
      x-data="{ open: false }"
      {...{ 'x-on:keydown.escape': 'open = false; $refs.btn.focus()' }}
    >
      <button
        type="button"
        class={props.buttonClass}
        x-ref="btn"
        x-on:click="open = !open"
        x-bind:aria-expanded="open.toString()"
        aria-haspopup="true"
        aria-label={props.label}
        data-testid={props.testId}
      >
        {safeButton}
      </button>
      <div
        class={['dropdown-menu', right ? 'right' : '', props.menuClass ?? ''].filter(Boolean).join(' ')}
        x-show="open"
        x-cloak
        {...{
          'x-on:click.outside': 'open = false',
          [right ? 'x-transition.origin.top.right' : 'x-transition.origin.top.left']: '',
        }}
      >
        {props.children}
      </div>
    </div>
  )
}
