import type { PropsWithChildren } from '@kitajs/html'
import type { MessageKey } from '../../src/shared/i18n'
import { Dropdown } from '../components/dropdown'
import { FlashToast } from '../components/flash'
import { Icon, type IconName } from '../components/icon'
import { initials, orgLabel, type Ui } from '../ui'
import { Document } from './document'

interface NavItem {
  href?: string
  icon: IconName
  label: MessageKey
  /** A count loaded after the page (hx-get) and refreshed by these live events. */
  badge?: { url: string; events: string[] }
}

// Modules not built yet are shown as "soon", never as links to empty pages.
const NAV: NavItem[] = [
  { href: '/dashboard', icon: 'house', label: 'nav.dashboard' },
  { href: '/pipeline', icon: 'kanban', label: 'nav.pipeline' },
  { href: '/leads', icon: 'contact', label: 'nav.leads' },
  {
    href: '/leads/duplicates',
    icon: 'copy',
    label: 'nav.duplicates',
    badge: { url: '/leads/duplicates/badge', events: ['lead.duplicates_changed', 'lead.merged'] },
  },
  { href: '/inbox', icon: 'inbox', label: 'nav.inbox' },
  { icon: 'calendar', label: 'nav.calendar' },
  { icon: 'chart', label: 'nav.reports' },
]

export function AppShell(props: PropsWithChildren<{ ui: Ui; title: string; scripts?: string[] }>) {
  const { ui } = props
  const { t } = ui
  const org = ui.org
  const active = (href: string) => ui.path === href || ui.path.startsWith(`${href}/`)
  // The most specific entry is the current one (/leads/duplicates, not also /leads).
  const current = NAV.filter((i) => i.href && active(i.href)).sort(
    (a, b) => b.href!.length - a.href!.length,
  )[0]?.href
  const settingsHref = org && org.role !== 'member' ? '/settings/organization' : '/settings/members'
  return (
    <Document ui={ui} title={props.title} scripts={props.scripts}>
      <a class="skip-link" href="#main" safe>
        {t('nav.skip')}
      </a>
      <div
        class="shell"
        x-data="{ nav: false }"
        {...{ 'x-on:keydown.escape.window': 'if (nav) { nav = false; $refs.navToggle.focus() }' }}
      >
        <aside class="sidebar" x-bind:class="nav && 'open'" id="sidebar" aria-label={t('nav.menu')}>
          <div class="sidebar-brand">
            <span class="logo-mark" aria-hidden="true">
              {org?.logoUrl ? (
                <img src={org.logoUrl} alt="" />
              ) : (
                <span safe>{initials(org ? orgLabel(org) : ui.instanceName)}</span>
              )}
            </span>
            <span safe>{org ? orgLabel(org) : ui.instanceName}</span>
            <button
              type="button"
              class="btn btn-ghost btn-sm sidebar-close"
              x-ref="navClose"
              x-on:click="nav = false; $refs.navToggle.focus()"
              aria-label={t('nav.close_menu')}
            >
              <Icon name="x" />
            </button>
          </div>
          <nav class="nav">
            {NAV.map((item) =>
              item.href ? (
                <a href={item.href} aria-current={item.href === current ? 'page' : undefined}>
                  <Icon name={item.icon} />
                  <span safe>{t(item.label)}</span>
                  {item.badge && org ? (
                    <span
                      class="nav-count"
                      style="flex:none"
                      hx-get={item.badge.url}
                      hx-trigger={['load', ...item.badge.events.map((e) => `rt:${e} from:body`)].join(', ')}
                      hx-swap="innerHTML"
                      hx-boost="false"
                    ></span>
                  ) : (
                    ''
                  )}
                </a>
              ) : (
                <span class="nav-item disabled" aria-disabled="true">
                  <Icon name={item.icon} />
                  <span safe>{t(item.label)}</span>
                  <span class="badge" safe>
                    {t('nav.soon')}
                  </span>
                </span>
              ),
            )}
          </nav>
          <div class="sidebar-foot nav">
            <a href={settingsHref} aria-current={active('/settings') ? 'page' : undefined}>
              <Icon name="settings" />
              <span safe>{t('nav.settings')}</span>
            </a>
          </div>
        </aside>
        <div class="backdrop" x-bind:class="nav && 'open'" x-on:click="nav = false"></div>
        <div class="main">
          <header class="topbar">
            <button
              type="button"
              class="btn btn-ghost btn-sm menu-toggle"
              x-ref="navToggle"
              x-on:click="nav = !nav; if (nav) $nextTick(() => $refs.navClose.focus())"
              aria-controls="sidebar"
              x-bind:aria-expanded="nav.toString()"
              aria-label={t('nav.menu')}
            >
              <Icon name="menu" />
            </button>
            {org ? <OrgSwitcher ui={ui} /> : ''}
            <div class="spacer"></div>
            {org ? <Bell ui={ui} /> : ''}
            <UserMenu ui={ui} />
          </header>
          <div class="rt-banner" role="status" aria-live="polite" safe>
            {t('rt.reconnecting')}
          </div>
          <main class="content" id="main" tabindex="-1">
            {props.children}
          </main>
        </div>
      </div>
      <FlashToast flash={ui.flash} t={ui.t} />
    </Document>
  )
}

function OrgSwitcher({ ui }: { ui: Ui }) {
  const { t } = ui
  const org = ui.org!
  const button = (
    <>
      <span class="avatar" aria-hidden="true" safe>
        {initials(orgLabel(org))}
      </span>
      <span class="name" safe>
        {orgLabel(org)}
      </span>
      <Icon name="chevrons" />
    </>
  )
  return (
    <Dropdown label={t('org.switch')} buttonClass="dropdown-btn" safeButton={button} testId="org-switcher">
      <div class="menu-label" safe>
        {t('org.switch')}
      </div>
      {(ui.memberships ?? []).map((m) => (
        <form method="post" action="/session/org" hx-boost="false">
          <input type="hidden" name="orgId" value={m.orgId} />
          <button type="submit" aria-current={m.orgId === org.orgId ? 'true' : undefined}>
            <span class="avatar" aria-hidden="true" safe>
              {initials(orgLabel(m))}
            </span>
            <span safe>{orgLabel(m)}</span>
            {m.orgId === org.orgId ? (
              <span class="check-mark">
                <Icon name="check" />
              </span>
            ) : (
              ''
            )}
          </button>
        </form>
      ))}
      <hr />
      <a href="/orgs/new">
        <Icon name="plus" />
        <span safe>{t('org.new')}</span>
      </a>
    </Dropdown>
  )
}

/** Notifications: badge refreshed live when the hub delivers a personal notification event. */
function Bell({ ui }: { ui: Ui }) {
  const { t } = ui
  const n = ui.unread ?? 0
  return (
    <a
      class="btn btn-ghost btn-sm bell"
      href="/notifications"
      aria-label={
        n ? `${t('notifications.title')}: ${t('notifications.unread', { n })}` : t('notifications.title')
      }
      data-testid="bell"
    >
      <Icon name="bell" />
      <span
        class="bell-badge"
        hx-get="/notifications/badge"
        hx-trigger="rt:notification.created from:body"
        hx-swap="innerHTML"
        hx-boost="false"
      >
        {n > 0 ? <span class="bell-count">{n > 99 ? '99+' : n}</span> : ''}
      </span>
    </a>
  )
}

function UserMenu({ ui }: { ui: Ui }) {
  const { t } = ui
  const user = ui.user!
  const button = (
    <>
      <span class="avatar" aria-hidden="true" safe>
        {initials(user.name)}
      </span>
      <span class="hide-sm" safe>
        {user.name}
      </span>
    </>
  )
  return (
    <Dropdown
      label={t('user.menu')}
      buttonClass="btn btn-ghost btn-sm"
      safeButton={button}
      align="right"
      testId="user-menu"
    >
      <div class="menu-label" safe>
        {user.email}
      </div>
      <a href="/settings/profile">
        <Icon name="user" />
        <span safe>{t('user.profile')}</span>
      </a>
      {ui.devOutbox ? (
        <a href="/dev/outbox">
          <Icon name="mail" />
          <span safe>{t('user.dev_outbox')}</span>
        </a>
      ) : (
        ''
      )}
      <hr />
      <form method="post" action="/logout" hx-boost="false">
        <button type="submit">
          <Icon name="logOut" />
          <span safe>{t('user.logout')}</span>
        </button>
      </form>
    </Dropdown>
  )
}
