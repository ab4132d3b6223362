import move from 'lucide-static/dist/esm/icons/arrow-right-left.mjs'
import bookmark from 'lucide-static/dist/esm/icons/bookmark.mjs'
import check from 'lucide-static/dist/esm/icons/check.mjs'
import chevronDown from 'lucide-static/dist/esm/icons/chevron-down.mjs'
import circleX from 'lucide-static/dist/esm/icons/circle-x.mjs'
import clock from 'lucide-static/dist/esm/icons/clock.mjs'
import ellipsis from 'lucide-static/dist/esm/icons/ellipsis.mjs'
import flame from 'lucide-static/dist/esm/icons/flame.mjs'
import grip from 'lucide-static/dist/esm/icons/grip-vertical.mjs'
import link from 'lucide-static/dist/esm/icons/link.mjs'
import mail from 'lucide-static/dist/esm/icons/mail.mjs'
import pencil from 'lucide-static/dist/esm/icons/pencil.mjs'
import phone from 'lucide-static/dist/esm/icons/phone.mjs'
import plus from 'lucide-static/dist/esm/icons/plus.mjs'
import rotate from 'lucide-static/dist/esm/icons/rotate-ccw.mjs'
import search from 'lucide-static/dist/esm/icons/search.mjs'
import settings from 'lucide-static/dist/esm/icons/settings-2.mjs'
import sliders from 'lucide-static/dist/esm/icons/sliders-horizontal.mjs'
import note from 'lucide-static/dist/esm/icons/sticky-note.mjs'
import tag from 'lucide-static/dist/esm/icons/tag.mjs'
import trash from 'lucide-static/dist/esm/icons/trash.mjs'
import trophy from 'lucide-static/dist/esm/icons/trophy.mjs'
import userPlus from 'lucide-static/dist/esm/icons/user-plus.mjs'
import x from 'lucide-static/dist/esm/icons/x.mjs'
import { iconSet } from '../components/icon'

// Lucide's static SVGs (ISC): trusted build-time strings, sized by CSS, hidden from screen readers.
const icons = {
  bookmark,
  check,
  chevronDown,
  circleX,
  clock,
  ellipsis,
  flame,
  grip,
  link,
  mail,
  move,
  pencil,
  phone,
  plus,
  rotate,
  search,
  settings,
  sliders,
  note,
  tag,
  trash,
  trophy,
  userPlus,
  x,
}
export type PIconName = keyof typeof icons

export const PIcon = iconSet(icons)

/**
 * Icons repeated on every card are CSS masks: the page carries one rule per icon (`CardIconStyles`, a
 * data: URL of the same Lucide SVG) and a card carries `<i class="ic i-phone"></i>` (26 bytes instead
 * of an 86-byte `<svg><use>`, and no SVG element per icon for the browser to build). They are
 * decorative: the element has no content, and the meaning is on the parent (`title`, `aria-label`).
 * `background: currentColor` keeps them in the text color; in forced-colors mode they use CanvasText.
 */
export const CARD_ICONS = ['ellipsis', 'userPlus', 'phone', 'mail', 'flame', 'clock'] as const
export type CardIconName = (typeof CARD_ICONS)[number]

let cardIconCss = ''
export function CardIconStyles(): JSX.Element {
  if (!cardIconCss) {
    const rules = CARD_ICONS.map((name) => {
      const svg = icons[name]
        .replace(/\s*\n\s*/g, ' ')
        .replace(/<!--[\s\S]*?-->/g, '')
        .replace(/class="[^"]*"/, '')
        .replace(/"/g, "'")
        .replace(/#/g, '%23')
        .replace(/</g, '%3C')
        .replace(/>/g, '%3E')
        .trim()
      return `.i-${name}{--i:url("data:image/svg+xml,${svg}")}`
    }).join('')
    cardIconCss = `<style>.ic{display:inline-block;flex:none;width:1em;height:1em;background:currentColor;-webkit-mask:var(--i) center/contain no-repeat;mask:var(--i) center/contain no-repeat}@media (forced-colors:active){.ic{forced-color-adjust:none;background:CanvasText}}${rules}</style>`
  }
  return cardIconCss
}

/** A card icon (requires `CardIconStyles` on the page). */
export function CardIcon({ name }: { name: CardIconName }): JSX.Element {
  return `<i class="ic i-${name}"></i>`
}
