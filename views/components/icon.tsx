import arrowRight from 'lucide-static/dist/esm/icons/arrow-right.mjs'
import bell from 'lucide-static/dist/esm/icons/bell.mjs'
import building from 'lucide-static/dist/esm/icons/building.mjs'
import calendar from 'lucide-static/dist/esm/icons/calendar.mjs'
import chart from 'lucide-static/dist/esm/icons/chart-column.mjs'
import check from 'lucide-static/dist/esm/icons/check.mjs'
import chevrons from 'lucide-static/dist/esm/icons/chevrons-up-down.mjs'
import contact from 'lucide-static/dist/esm/icons/contact.mjs'
import copy from 'lucide-static/dist/esm/icons/copy.mjs'
import house from 'lucide-static/dist/esm/icons/house.mjs'
import inbox from 'lucide-static/dist/esm/icons/inbox.mjs'
import kanban from 'lucide-static/dist/esm/icons/kanban.mjs'
import logOut from 'lucide-static/dist/esm/icons/log-out.mjs'
import mail from 'lucide-static/dist/esm/icons/mail.mjs'
import menu from 'lucide-static/dist/esm/icons/menu.mjs'
import plus from 'lucide-static/dist/esm/icons/plus.mjs'
import settings from 'lucide-static/dist/esm/icons/settings.mjs'
import shield from 'lucide-static/dist/esm/icons/shield-check.mjs'
import sparkles from 'lucide-static/dist/esm/icons/sparkles.mjs'
import user from 'lucide-static/dist/esm/icons/user.mjs'
import users from 'lucide-static/dist/esm/icons/users.mjs'
import x from 'lucide-static/dist/esm/icons/x.mjs'

const icons = {
  arrowRight,
  bell,
  building,
  calendar,
  chart,
  check,
  chevrons,
  contact,
  copy,
  house,
  inbox,
  kanban,
  logOut,
  mail,
  menu,
  plus,
  settings,
  shield,
  sparkles,
  user,
  users,
  x,
}
export type IconName = keyof typeof icons

/**
 * An icon component over a set of Lucide static SVG strings (ISC; trusted build-time strings): each
 * prepared once, sized by CSS (`svg.icon`) and hidden from screen readers.
 */
export function iconSet<N extends string>(set: Record<N, string>) {
  const prepared = new Map<N, string>()
  return function SetIcon({ name }: { name: N }): JSX.Element {
    let safeSvg = prepared.get(name)
    if (!safeSvg) {
      safeSvg = set[name]
        .replace(/\s*\n\s*/g, ' ')
        .replace('<svg', '<svg aria-hidden="true" focusable="false"')
        .replace(/class="[^"]*"/, 'class="icon"')
        .trim()
      prepared.set(name, safeSvg)
    }
    return safeSvg
  }
}

export const Icon = iconSet(icons)
