/**
 * The unified inbox (/inbox, /inbox/c/:id): the conversation list (filters, search) and the chat
 * pane (bubbles with delivery ticks, the composer). Every URL works without JavaScript; with it,
 * public/inbox.js refreshes the list and the open thread from the hub's `inbox.*` events (the
 * composer is never re-rendered by those refreshes, so a half-typed message is kept), sends on Enter,
 * and offers quick replies (`/`) and emoji. At phone width the list and the chat are two screens.
 */
import reply from 'lucide-static/dist/esm/icons/reply.mjs'
import { previewOf } from '../../src/modules/inbox/inbox.inbound'
import type {
  ConversationSummary,
  ListQuery,
  MessageView,
  QuickReply,
} from '../../src/modules/inbox/inbox.usecases'
import { listQueryString } from '../../src/modules/inbox/inbox.usecases'
import type { TemplateOption } from '../../src/modules/whatsapp/whatsapp.templates'
import { assetUrl } from '../../src/platform/http/assets'
import type { MessageKey } from '../../src/shared/i18n'
import { formatPhone } from '../../src/shared/phone'
import { Icon, iconSet } from '../components/icon'
import { AppShell } from '../layouts/app-shell'
import { ago, avatarColor } from '../pipeline/format'
import { PIcon } from '../pipeline/icons'
import { formatDate, initials, type Ui } from '../ui'
import { IIcon } from './icons'
import { AttachChip, AttachControl, MessageMedia } from './media'
import {
  BulkWarning,
  type BulkWarningProps,
  ChannelNote,
  TemplateArea,
  type TemplateChoice,
} from './templates'

const RIcon = iconSet({ reply })

export interface InboxPageProps {
  ui: Ui
  list: ConversationSummary[]
  query: ListQuery
  active: ConversationSummary | null
  messages: MessageView[]
  members: { id: string; name: string }[]
  quickReplies: QuickReply[]
  windowOpen: boolean
  /** The composer after a refused send (422): the text is kept and the reason shown. */
  composer?: {
    body: string
    error?: MessageKey
    errorParams?: Record<string, string | number>
    note?: boolean
    /** A refused template send: the chosen template and the values typed. */
    template?: TemplateChoice
    /** A WhatsApp Web bulk-send warning waiting for "Send anyway" (inbox.bulk.ts). */
    warning?: BulkWarningProps
  }
  /** The approved templates of the open conversation's channel (Cloud API), for the picker. */
  templates?: TemplateOption[]
  hasChannel: boolean
  /** A refused header action (an assignee who is not a member): shown under the header (422). */
  headError?: MessageKey
  /** Sandbox channels: the page offers "write as a customer" to try the inbox without credentials. */
  sandboxChannels?: { id: string; name: string }[]
}

export const conversationUrl = (id: string, q?: ListQuery) => `/inbox/c/${id}${q ? listQueryString(q) : ''}`

const EMOJI = [
  '😀',
  '😂',
  '😊',
  '😍',
  '🙏',
  '👍',
  '👏',
  '🎉',
  '🔥',
  '✅',
  '❤️',
  '🤝',
  '📅',
  '💰',
  '📞',
  '📄',
  '👀',
  '🤔',
  '😉',
  '🙌',
  '🚀',
  '⏰',
  '📍',
  '😢',
]

export function InboxPage(p: InboxPageProps) {
  const { ui } = p
  const { t } = ui
  const title = p.active ? displayName(p.active) : t('inbox.title')
  return (
    <AppShell ui={ui} title={title}>
      <div
        class={p.active ? 'inbox has-active' : 'inbox'}
        data-inbox
        data-active={p.active?.id ?? ''}
        data-testid="inbox"
      >
        <section class="inbox-list" aria-label={t('inbox.conversations')}>
          <ListHeader ui={ui} query={p.query} />
          <ConversationList
            ui={ui}
            list={p.list}
            query={p.query}
            activeId={p.active?.id ?? null}
            hasChannel={p.hasChannel}
          />
          {p.sandboxChannels?.length ? <SandboxForm ui={ui} channels={p.sandboxChannels} /> : ''}
        </section>
        <section
          class="inbox-chat"
          id="chat"
          aria-label={
            p.active ? t('inbox.conversation_with', { name: displayName(p.active) }) : t('inbox.messages')
          }
        >
          {p.active ? <ChatPane {...p} active={p.active} /> : <EmptyChat ui={ui} />}
        </section>
      </div>
      <script src={assetUrl('inbox.js')} defer></script>
    </AppShell>
  )
}

/** A lead captured from WhatsApp without a profile name is named by its E.164: shown formatted too. */
const readable = (name: string) => (/^\+[1-9]\d{6,14}$/.test(name) ? formatPhone(name) : name)
const displayName = (c: ConversationSummary) => readable(c.leadName || c.contactName || c.contactPhone)

function ListHeader({ ui, query }: { ui: Ui; query: ListQuery }) {
  const { t } = ui
  const filters: { id: ListQuery['filter']; label: MessageKey }[] = [
    { id: 'all', label: 'inbox.filter.all' },
    { id: 'mine', label: 'inbox.filter.mine' },
    { id: 'unassigned', label: 'inbox.filter.unassigned' },
    { id: 'unread', label: 'inbox.filter.unread' },
  ]
  return (
    <header class="inbox-list-head">
      <div class="inbox-title-row">
        <h1 safe>{t('inbox.title')}</h1>
        <form method="get" action="/inbox" class="inbox-status-form">
          {query.filter !== 'all' ? <input type="hidden" name="filter" value={query.filter} /> : ''}
          {query.q ? <input type="hidden" name="q" value={query.q} /> : ''}
          <label class="sr-only" for="inbox-status" safe>
            {t('inbox.status_label')}
          </label>
          <select class="input input-sm" id="inbox-status" name="status" onchange="this.form.requestSubmit()">
            {(['open', 'pending', 'closed', 'all'] as const).map((s) => (
              <option value={s} selected={query.status === s} safe>
                {t(`inbox.status.${s}`)}
              </option>
            ))}
          </select>
          <noscript>
            <button type="submit" class="btn btn-sm">
              OK
            </button>
          </noscript>
        </form>
      </div>
      {/* biome-ignore lint/a11y/useSemanticElements: <search> is not in the JSX types yet */}
      <form method="get" action="/inbox" class="inbox-search" role="search">
        {query.filter !== 'all' ? <input type="hidden" name="filter" value={query.filter} /> : ''}
        {query.status !== 'open' ? <input type="hidden" name="status" value={query.status} /> : ''}
        <label class="sr-only" for="inbox-q" safe>
          {t('inbox.search')}
        </label>
        <PIcon name="search" />
        <input
          class="input"
          id="inbox-q"
          type="search"
          name="q"
          value={query.q}
          placeholder={t('inbox.search_placeholder')}
          autocomplete="off"
        />
      </form>
      <nav class="inbox-filters" aria-label={t('inbox.conversations')}>
        {filters.map((f) => (
          <a
            href={`/inbox${listQueryString({ ...query, filter: f.id })}`}
            aria-current={query.filter === f.id ? 'page' : undefined}
            data-testid={`filter-${f.id}`}
            safe
          >
            {t(f.label)}
          </a>
        ))}
      </nav>
    </header>
  )
}

export function ConversationList(p: {
  ui: Ui
  list: ConversationSummary[]
  query: ListQuery
  activeId: string | null
  hasChannel: boolean
}) {
  const { ui } = p
  const { t } = ui
  return (
    <div
      class="conv-list"
      id="conv-list"
      data-src={`/inbox/list${listQueryString(p.query)}${p.activeId ? `${listQueryString(p.query) ? '&' : '?'}active=${p.activeId}` : ''}`}
    >
      {p.list.length ? (
        <ul>
          {p.list.map((c) => (
            <li>
              <a
                class={`conv${c.id === p.activeId ? ' active' : ''}${c.unreadCount ? ' unread' : ''}`}
                href={conversationUrl(c.id, p.query)}
                aria-current={c.id === p.activeId ? 'page' : undefined}
                data-testid="conv"
                data-id={c.id}
              >
                <span class="avatar" style={`--av:${avatarColor(c.leadId)}`} aria-hidden="true" safe>
                  {initials(displayName(c))}
                </span>
                <span class="conv-main">
                  <span class="conv-top">
                    <span class="conv-name" safe>
                      {displayName(c)}
                    </span>
                    <span class="conv-time subtle">
                      {c.lastMessageAt ? ago(c.lastMessageAt, ui.locale) : ''}
                    </span>
                  </span>
                  <span class="conv-bottom">
                    <span class="conv-preview" safe>
                      {c.lastMessagePreview ?? ''}
                    </span>
                    {c.unreadCount ? (
                      <span
                        class="conv-unread"
                        role="img"
                        aria-label={t('inbox.unread_count', { count: c.unreadCount })}
                        safe
                      >
                        {String(c.unreadCount)}
                      </span>
                    ) : (
                      ''
                    )}
                  </span>
                  <span class="conv-meta subtle">
                    <StatusPill ui={ui} status={c.status} />
                    <span safe>{c.assigneeName ?? t('inbox.unassigned')}</span>
                  </span>
                </span>
              </a>
            </li>
          ))}
        </ul>
      ) : (
        <div class="empty inbox-empty">
          <Icon name="inbox" />
          <p>
            <strong safe>{t('inbox.empty')}</strong>
          </p>
          <p class="muted" safe>
            {p.hasChannel ? t('inbox.empty_hint') : t('inbox.no_channel')}
          </p>
        </div>
      )}
    </div>
  )
}

function SandboxForm({ ui, channels }: { ui: Ui; channels: { id: string; name: string }[] }) {
  const { t } = ui
  return (
    <details class="sandbox-try" data-testid="sandbox-try">
      <summary>
        <span class="pill pill-sandbox" safe>
          {t('inbox.sandbox_badge')}
        </span>
        <span safe>{t('inbox.sandbox.title')}</span>
      </summary>
      <form method="post" action="/inbox/sandbox/inbound" class="sandbox-form" enctype="multipart/form-data">
        <p class="subtle" safe>
          {t('inbox.sandbox.hint')}
        </p>
        {channels.length > 1 ? (
          <label>
            <span safe>{t('inbox.sandbox.channel')}</span>
            <select class="input input-sm" name="channelId">
              {channels.map((c) => (
                <option value={c.id} safe>
                  {c.name}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <input type="hidden" name="channelId" value={channels[0]!.id} />
        )}
        <label>
          <span safe>{t('inbox.sandbox.phone')}</span>
          <input
            class="input input-sm"
            name="from"
            type="tel"
            required
            value="+55 11 98765-4321"
            id="sandbox-from"
          />
        </label>
        <label>
          <span safe>{t('inbox.sandbox.name')}</span>
          <input class="input input-sm" name="contactName" maxlength={100} id="sandbox-name" />
        </label>
        <label>
          <span safe>{t('inbox.sandbox.text')}</span>
          <input class="input input-sm" name="text" maxlength={4096} id="sandbox-text" />
        </label>
        <label>
          <span safe>{t('inbox.media.sandbox_file')}</span>
          <input
            class="input input-sm"
            name="file"
            type="file"
            id="sandbox-file"
            data-testid="sandbox-file"
          />
        </label>
        <button type="submit" class="btn btn-sm" data-testid="sandbox-send" safe>
          {t('inbox.sandbox.send')}
        </button>
      </form>
    </details>
  )
}

function EmptyChat({ ui }: { ui: Ui }) {
  const { t } = ui
  return (
    <div class="empty chat-empty">
      <Icon name="inbox" />
      <p>
        <strong safe>{t('inbox.pick')}</strong>
      </p>
      <p class="muted" safe>
        {t('inbox.pick_hint')}
      </p>
    </div>
  )
}

function ChatPane(p: InboxPageProps & { active: ConversationSummary }) {
  const { ui, active: c } = p
  return (
    <>
      <ChatHeader ui={ui} conversation={c} members={p.members} query={p.query} error={p.headError} />
      <MessageList ui={ui} conversationId={c.id} messages={p.messages} />
      <Composer {...p} />
    </>
  )
}

/** "Pending" or "Closed" next to a conversation (nothing while it is open). */
function StatusPill({ ui, status }: { ui: Ui; status: ConversationSummary['status'] }) {
  if (status === 'open') return ''
  return (
    <span class={`pill pill-${status}`} data-testid="status-pill" safe>
      {ui.t(status === 'pending' ? 'inbox.pending_badge' : 'inbox.closed_badge')}
    </span>
  )
}

/**
 * The chat header: who, the assignee and the status actions. A fragment of its own
 * (`/inbox/c/:id/head`) that public/inbox.js refreshes on the conversation's events and after a
 * send, so an auto-assign or a colleague's change shows at once.
 */
export function ChatHeader(p: {
  ui: Ui
  conversation: ConversationSummary
  members: { id: string; name: string }[]
  query: ListQuery
  error?: MessageKey
}) {
  const { ui, conversation: c } = p
  const { t } = ui
  const base = `/inbox/c/${c.id}`
  const statusButton = (to: 'open' | 'pending' | 'closed') => (
    <form
      method="post"
      action={`${base}/${to === 'open' ? 'reopen' : to === 'pending' ? 'pending' : 'close'}`}
    >
      <button
        type="submit"
        class="btn btn-sm"
        data-testid={to === 'pending' ? 'pending' : 'close-toggle'}
        title={to === 'pending' ? t('inbox.pending_hint') : undefined}
      >
        <PIcon name={to === 'open' ? 'rotate' : to === 'pending' ? 'clock' : 'check'} />
        <span safe>
          {t(to === 'open' ? 'inbox.reopen' : to === 'pending' ? 'inbox.pending' : 'inbox.close')}
        </span>
      </button>
    </form>
  )
  return (
    <header
      class="chat-head"
      id="chat-head"
      data-src={`${base}/head${listQueryString(p.query)}`}
      data-status={c.status}
      data-testid="chat-head"
    >
      <a
        class="icon-btn chat-back"
        href={`/inbox${listQueryString(p.query)}`}
        aria-label={t('inbox.back')}
        title={t('inbox.back')}
      >
        <IIcon name="back" />
      </a>
      <span class="avatar" style={`--av:${avatarColor(c.leadId)}`} aria-hidden="true" safe>
        {initials(displayName(c))}
      </span>
      <div class="chat-who">
        <h2>
          <span safe>{displayName(c)}</span>
          <StatusPill ui={ui} status={c.status} />
        </h2>
        <p class="subtle">
          <span safe>{formatPhone(c.contactPhone)}</span>
          {c.channelName ? <span safe>{` · ${c.channelName}`}</span> : ''}
          {c.provider === 'sandbox' ? (
            <span class="pill pill-sandbox" safe>
              {t('inbox.sandbox_badge')}
            </span>
          ) : (
            ''
          )}
        </p>
      </div>
      <div class="chat-actions">
        <a class="btn btn-sm btn-ghost" href={`/pipeline/leads/${c.leadId}`} data-testid="open-lead">
          <PIcon name="link" />
          <span safe>{t('inbox.open_lead')}</span>
        </a>
        <form method="post" action={`${base}/assign`} class="assign-form">
          <label class="sr-only" for="chat-assignee" safe>
            {t('inbox.assign')}
          </label>
          <select
            class="input input-sm"
            id="chat-assignee"
            name="assigneeId"
            onchange="this.form.requestSubmit()"
            data-testid="assignee"
            aria-describedby={p.error ? 'chat-head-error' : undefined}
          >
            <option value="" safe>
              {t('inbox.unassigned')}
            </option>
            {p.members.map((m) => (
              <option value={m.id} selected={m.id === c.assigneeId} safe>
                {m.name}
              </option>
            ))}
          </select>
          <noscript>
            <button type="submit" class="btn btn-sm" safe>
              {t('inbox.assign_save')}
            </button>
          </noscript>
        </form>
        {c.status === 'open' ? statusButton('pending') : statusButton('open')}
        {c.status === 'closed' ? '' : statusButton('closed')}
      </div>
      {p.error ? (
        <p class="field-error chat-head-error" id="chat-head-error" role="alert" safe>
          {t(p.error)}
        </p>
      ) : (
        ''
      )}
    </header>
  )
}

/**
 * The 24-hour-window part of the composer (the notice and the template picker): a fragment of its
 * own (`/inbox/c/:id/window`) that public/inbox.js re-reads when the contact writes, and swaps in
 * only when the window opened or closed (a template being filled in is not reset otherwise). The
 * textarea is never replaced: the script enables or disables it from `data-window-open`.
 */
export function WindowArea(p: {
  ui: Ui
  conversationId: string
  windowOpen: boolean
  templates: TemplateOption[]
  chosen?: TemplateChoice
}) {
  return (
    <div
      class="window-area"
      id="window-area"
      data-src={`/inbox/c/${p.conversationId}/window`}
      data-window-open={String(p.windowOpen)}
    >
      <TemplateArea
        ui={p.ui}
        action={`/inbox/c/${p.conversationId}/send`}
        windowOpen={p.windowOpen}
        templates={p.templates}
        chosen={p.chosen}
      />
    </div>
  )
}

export function MessageList(p: { ui: Ui; conversationId: string; messages: MessageView[] }) {
  const { ui } = p
  const { t } = ui
  const tz = ui.org?.timezone
  let lastDay = ''
  return (
    <div
      class="msgs"
      id="msgs"
      data-src={`/inbox/c/${p.conversationId}/messages`}
      role="log"
      aria-live="polite"
      aria-label={t('inbox.messages')}
      tabindex="0"
    >
      {p.messages.length ? (
        ''
      ) : (
        <p class="subtle msgs-empty" safe>
          {t('inbox.no_messages')}
        </p>
      )}
      {p.messages.map((m) => {
        const day = formatDate(m.createdAt, ui.locale, tz, false)
        const sep = day !== lastDay
        lastDay = day
        return (
          <>
            {sep ? (
              <div class="day-sep" safe>
                {day}
              </div>
            ) : (
              ''
            )}
            <Bubble ui={ui} m={m} conversationId={p.conversationId} />
          </>
        )
      })}
    </div>
  )
}

function timeOf(d: Date, ui: Ui) {
  return new Intl.DateTimeFormat(ui.locale, {
    timeStyle: 'short',
    timeZone: ui.org?.timezone || undefined,
  }).format(d)
}

function Bubble({ ui, m, conversationId }: { ui: Ui; m: MessageView; conversationId: string }) {
  const { t } = ui
  const cls = m.type === 'note' ? 'bubble note' : m.direction === 'in' ? 'bubble in' : 'bubble out'
  return (
    <div
      class={`${cls}${m.status === 'failed' ? ' failed' : ''}`}
      id={`m-${m.id}`}
      data-testid="bubble"
      data-status={m.status}
      data-direction={m.direction}
    >
      {m.type === 'note' ? (
        <div class="note-label" safe>
          {`${t('inbox.note')} · ${m.authorName ?? ''}`}
        </div>
      ) : (
        ''
      )}
      {m.replyToBody ? (
        <div class="reply-quote">
          <span class="sr-only" safe>
            {t('inbox.reply_to')}
          </span>
          <span safe>{m.replyToBody.slice(0, 140)}</span>
        </div>
      ) : (
        ''
      )}
      <MessageMedia ui={ui} m={m} />
      {m.type === 'location' ? (
        <div class="media-ref" safe>
          {`📍 ${t('inbox.location')}`}
        </div>
      ) : (
        ''
      )}
      {m.body ? (
        <div class="bubble-text" safe>
          {m.body}
        </div>
      ) : (
        ''
      )}
      <div class="bubble-meta">
        {m.type === 'template' ? (
          <span class="pill" safe>
            {t('inbox.template')}
          </span>
        ) : (
          ''
        )}
        <time datetime={m.createdAt.toISOString()} safe>
          {timeOf(m.createdAt, ui)}
        </time>
        {m.direction === 'out' && m.type !== 'note' ? <Tick ui={ui} status={m.status} /> : ''}
      </div>
      {m.type !== 'note' && m.status !== 'failed' ? (
        <button
          type="button"
          class="bubble-reply"
          data-reply={m.id}
          data-quote={previewOf(m).slice(0, 140)}
          aria-label={t('inbox.reply')}
          title={t('inbox.reply')}
          data-testid="reply"
        >
          <RIcon name="reply" />
        </button>
      ) : (
        ''
      )}
      {m.status === 'failed' && m.direction === 'out' ? (
        <div class="bubble-error" role="note">
          <span safe>{t('inbox.failed_reason', { reason: m.error?.message || m.error?.code || '—' })}</span>
          <form method="post" action={`/inbox/c/${conversationId}/m/${m.id}/retry`}>
            <button type="submit" class="btn btn-sm btn-ghost" safe>
              {t('inbox.retry')}
            </button>
          </form>
        </div>
      ) : (
        ''
      )}
    </div>
  )
}

function Tick({ ui, status }: { ui: Ui; status: MessageView['status'] }) {
  const label = ui.t(`inbox.tick.${status}`)
  const glyph = status === 'pending' ? '🕓' : status === 'sent' ? '✓' : status === 'failed' ? '!' : '✓✓'
  return (
    <span class={`tick tick-${status}`} role="img" aria-label={label} title={label} data-testid="tick">
      {glyph}
    </span>
  )
}

function Composer(p: InboxPageProps & { active: ConversationSummary }) {
  const { ui, active: c } = p
  const { t } = ui
  const action = `/inbox/c/${c.id}/send`
  const note = !!p.composer?.note
  return (
    <div class="composer-wrap" id="composer-wrap">
      <ChannelNote ui={ui} conversation={c} />
      <WindowArea
        ui={ui}
        conversationId={c.id}
        windowOpen={p.windowOpen}
        templates={p.templates ?? []}
        chosen={p.composer?.template}
      />
      <form
        method="post"
        action={action}
        enctype="multipart/form-data"
        class={`composer${note ? ' is-note' : ''}`}
        id="composer"
        data-composer
        data-window-closed={p.windowOpen ? 'false' : 'true'}
        data-quick-replies={JSON.stringify(p.quickReplies.map((q) => ({ s: q.shortcut, b: q.body })))}
      >
        <div
          class="qr-pop"
          id="qr-pop"
          role="listbox"
          aria-label={t('inbox.quick_replies')}
          hidden
          data-empty={t('inbox.no_quick_replies')}
        ></div>
        <div class="emoji-pop" id="emoji-pop" hidden>
          {EMOJI.map((e) => (
            <button type="button" class="emoji" data-emoji={e} aria-label={e} safe>
              {e}
            </button>
          ))}
        </div>
        {p.composer?.error ? (
          <p class="field-error" id="composer-error" role="alert" safe>
            {t(p.composer.error, p.composer.errorParams)}
          </p>
        ) : (
          <p class="field-error" id="composer-error" role="alert" hidden></p>
        )}
        <BulkWarning ui={ui} warning={p.composer?.warning} />
        <div class="reply-chip" id="reply-chip" data-testid="reply-chip" hidden>
          <input type="hidden" name="replyToId" value="" id="reply-to-id" />
          <div class="reply-chip-text">
            <span class="reply-chip-label" safe>
              {t('inbox.replying_to')}
            </span>
            <span class="reply-chip-body" id="reply-chip-body"></span>
          </div>
          <button
            type="button"
            class="icon-btn"
            data-reply-cancel
            aria-label={t('inbox.reply_cancel')}
            title={t('inbox.reply_cancel')}
          >
            <PIcon name="x" />
          </button>
        </div>
        <label class="sr-only" for="composer-body" safe>
          {t('inbox.composer')}
        </label>
        <textarea
          class="input composer-input"
          id="composer-body"
          name="body"
          rows="1"
          maxlength={4096}
          placeholder={note ? t('inbox.note_placeholder') : t('inbox.composer_placeholder')}
          data-placeholder={t('inbox.composer_placeholder')}
          data-note-placeholder={t('inbox.note_placeholder')}
          data-caption-placeholder={t('inbox.media.caption_placeholder')}
          aria-describedby="composer-error"
          disabled={!p.windowOpen && !note ? true : undefined}
          safe
        >
          {p.composer?.body ?? ''}
        </textarea>
        <AttachChip ui={ui} />
        <div class="composer-bar">
          <AttachControl ui={ui} disabled={!p.windowOpen && !note} />
          <label class="note-toggle">
            <input type="checkbox" name="note" value="1" checked={note} data-note-toggle />
            <span safe>{t('inbox.note_toggle')}</span>
          </label>
          <button
            type="button"
            class="icon-btn"
            data-emoji-toggle
            aria-expanded="false"
            aria-controls="emoji-pop"
            aria-label={t('inbox.emoji')}
            title={t('inbox.emoji')}
          >
            <IIcon name="smile" />
          </button>
          <span class="spacer"></span>
          <button type="submit" class="btn btn-primary btn-sm" data-testid="send">
            <IIcon name="send" />
            <span safe>{t('inbox.send')}</span>
          </button>
        </div>
      </form>
    </div>
  )
}

/** The conversations of a lead, on its drawer (loaded lazily, refreshed live). */
export function LeadConversations(p: { ui: Ui; leadId: string; list: ConversationSummary[] }) {
  const { ui } = p
  const { t } = ui
  return (
    <section
      class="drawer-section lead-convs"
      id="lead-convs"
      hx-get={`/inbox/lead/${p.leadId}`}
      hx-trigger="rt:inbox.message from:body, rt:inbox.conversation from:body"
      hx-swap="outerHTML"
      data-testid="lead-conversations"
    >
      <div class="section-head">
        <h3 safe>{t('inbox.lead_section')}</h3>
      </div>
      {p.list.length ? (
        <ul class="lead-conv-list">
          {p.list.map((c) => (
            <li>
              <a href={conversationUrl(c.id)} hx-boost="false" class="lead-conv" data-testid="lead-conv">
                <span class="lead-conv-top">
                  <strong safe>{c.channelName ?? 'WhatsApp'}</strong>
                  <span class="subtle">{c.lastMessageAt ? ago(c.lastMessageAt, ui.locale) : ''}</span>
                </span>
                <span class="conv-preview" safe>
                  {c.lastMessagePreview ?? ''}
                </span>
                <span class="link" safe>
                  {t('inbox.lead_open')}
                </span>
              </a>
            </li>
          ))}
        </ul>
      ) : (
        <p class="subtle" safe>
          {t('inbox.lead_none')}
        </p>
      )}
    </section>
  )
}
