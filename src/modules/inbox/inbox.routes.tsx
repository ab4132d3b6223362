/**
 * Inbox routes. Pages are full documents; htmx requests get fragments (the conversation list, the
 * message list, the lead drawer's section). Writes answer a redirect without JavaScript and, for
 * htmx (public/inbox.js posts the composer with fetch), the fresh message list or 204.
 * Another organization's conversation id is a 404 everywhere (RLS hides the row).
 */

import { sql } from 'drizzle-orm'
import { Elysia } from 'elysia'
import inboxCss from '../../../public/inbox.css' with { type: 'file' }
import inboxJs from '../../../public/inbox.js' with { type: 'file' }
import { emptyForm } from '../../../views/components/form'
import {
  ConversationList,
  InboxPage,
  type InboxPageProps,
  LeadConversations,
  MessageList,
} from '../../../views/inbox/inbox-page'
import { QuickRepliesPage } from '../../../views/inbox/quick-replies-page'
import { withOrg } from '../../platform/db/tenancy'
import { query } from '../../platform/events/events.pg'
import { registerAsset } from '../../platform/http/assets'
import { type AppDeps, type OrgCtx, requireOrg, setFlash } from '../../platform/http/context'
import { AppError, FormError } from '../../platform/http/errors'
import { field, html, redirect, uiOf, withForm } from '../../platform/http/respond'
import type { MessageKey } from '../../shared/i18n'
import { isUuid } from '../../shared/ids'
import { simulateInbound } from '../whatsapp/whatsapp.inbound'
import { setChannelSender, whatsappSender } from './inbox.channel'
import { INBOX_ERRORS } from './inbox.errors'
import {
  assignConversation,
  conversationsOfLead,
  createQuickReply,
  deleteQuickReply,
  findConversation,
  listConversations,
  listMembers,
  listMessages,
  listQueryString,
  listQuickReplies,
  markRead,
  parseListQuery,
  retryMessage,
  sendMessage,
  setConversationStatus,
  windowOpen,
} from './inbox.usecases'

// Global: the lead drawer (on the board) shows a lead's conversations with the same styles.
registerAsset('inbox.css', inboxCss, 'text/css; charset=utf-8', { global: true })
registerAsset('inbox.js', inboxJs, 'text/javascript; charset=utf-8')

export function inboxRoutes(deps: AppDeps) {
  const { db } = deps
  // Send jobs reach the channel's active provider through the WhatsApp runtime of this database.
  setChannelSender(db, whatsappSender)
  const scope = (r: OrgCtx) => ({ orgId: r.org.orgId, userId: r.auth.user.id })
  const isFragment = (r: OrgCtx) => r.isHtmx && r.request.headers.get('hx-boosted') !== 'true'

  async function page(
    r: OrgCtx,
    activeId: string | null,
    composer?: InboxPageProps['composer'],
    status = 200,
  ) {
    const q = parseListQuery(r.url.searchParams)
    const props = await withOrg(db, scope(r), async (tx) => {
      const active = activeId ? await findConversation(tx, activeId) : null
      if (activeId && !active) throw INBOX_ERRORS.notFound()
      if (active) await markRead(tx, active.id)
      const channels = await query<{ id: string; name: string; provider: string }>(
        tx,
        sql`select id::text as id, name, provider from whatsapp_channels order by created_at`,
      )
      return {
        list: await listConversations(tx, r.actor, q),
        active: active ? { ...active, unreadCount: 0 } : null,
        messages: active ? await listMessages(tx, active.id) : [],
        members: await listMembers(tx),
        quickReplies: await listQuickReplies(tx),
        hasChannel: channels.length > 0,
        sandboxChannels: channels
          .filter((c) => c.provider === 'sandbox')
          .map((c) => ({ id: c.id, name: c.name })),
      }
    })
    return html(
      r,
      <InboxPage
        ui={uiOf(r)}
        query={q}
        {...props}
        windowOpen={props.active ? windowOpen(props.active) : true}
        composer={composer}
      />,
      status,
    )
  }

  async function messagesFragment(r: OrgCtx, id: string, status = 200) {
    const messages = await withOrg(db, scope(r), async (tx) => {
      const c = await findConversation(tx, id)
      if (!c) throw INBOX_ERRORS.notFound()
      await markRead(tx, id)
      return listMessages(tx, id)
    })
    return html(r, <MessageList ui={uiOf(r)} conversationId={id} messages={messages} />, status)
  }

  const back = (r: OrgCtx, id: string) => {
    const q = parseListQuery(new URL(r.request.headers.get('referer') ?? r.url.href, r.url).searchParams)
    return `/inbox/c/${id}${listQueryString(q)}`
  }

  return (
    new Elysia()
      .get('/inbox', async ({ request }) => page(await requireOrg(deps, request), null))
      .get('/inbox/c/:id', async ({ request, params }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.id)) throw INBOX_ERRORS.notFound()
        return page(r, params.id)
      })
      .get('/inbox/list', async ({ request }) => {
        const r = await requireOrg(deps, request)
        const q = parseListQuery(r.url.searchParams)
        const active = r.url.searchParams.get('active')
        const data = await withOrg(db, scope(r), async (tx) => ({
          list: await listConversations(tx, r.actor, q),
          hasChannel: true,
        }))
        return html(
          r,
          <ConversationList
            ui={uiOf(r)}
            list={data.list}
            query={q}
            activeId={isUuid(active) ? active : null}
            hasChannel
          />,
        )
      })
      .get('/inbox/c/:id/messages', async ({ request, params }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.id)) throw INBOX_ERRORS.notFound()
        return messagesFragment(r, params.id)
      })
      .post('/inbox/c/:id/send', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.id)) throw INBOX_ERRORS.notFound()
        const f = {
          body: field(body, 'body'),
          note: field(body, 'note'),
          templateName: field(body, 'templateName'),
          templateLanguage: field(body, 'templateLanguage'),
          replyToId: field(body, 'replyToId'),
        }
        const note = f.note === '1' || f.note === 'on'
        const template = f.templateName
          ? { name: f.templateName.trim(), language: f.templateLanguage.trim() || 'pt_BR' }
          : null
        let error: MessageKey | null = null
        try {
          await withOrg(db, scope(r), (tx) =>
            sendMessage(tx, r.actor, params.id, {
              body: f.body,
              note,
              template,
              replyToId: f.replyToId || null,
            }),
          )
        } catch (err) {
          if (err instanceof FormError) error = Object.values(err.fields)[0] ?? 'inbox.error.body_required'
          else if (err instanceof AppError && err.code === 'inbox.window_closed')
            error = 'inbox.error.window_closed'
          else throw err
        }
        if (error) {
          if (isFragment(r)) {
            const res = new Response(r.t(error), {
              status: 422,
              headers: {
                'content-type': 'text/plain; charset=utf-8',
                'hx-retarget': '#composer-error',
                'hx-reswap': 'innerHTML',
              },
            })
            return res
          }
          return page(r, params.id, { body: f.body, error, note }, 422)
        }
        if (isFragment(r)) return messagesFragment(r, params.id)
        return redirect(r, back(r, params.id))
      })
      .post('/inbox/c/:id/assign', async ({ request, params, body }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.id)) throw INBOX_ERRORS.notFound()
        const assigneeId = field(body, 'assigneeId') || null
        const res = await withForm(
          () => withOrg(db, scope(r), (tx) => assignConversation(tx, r.actor, params.id, assigneeId)),
          async (err) => {
            setFlash(r, 'error', r.t(Object.values(err.fields)[0]!))
            return redirect(r, back(r, params.id))
          },
        )
        if (!res.ok) return res.response
        return redirect(r, back(r, params.id))
      })
      .post('/inbox/c/:id/close', async ({ request, params }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.id)) throw INBOX_ERRORS.notFound()
        await withOrg(db, scope(r), (tx) => setConversationStatus(tx, r.actor, params.id, 'closed'))
        return redirect(r, back(r, params.id))
      })
      .post('/inbox/c/:id/reopen', async ({ request, params }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.id)) throw INBOX_ERRORS.notFound()
        await withOrg(db, scope(r), (tx) => setConversationStatus(tx, r.actor, params.id, 'open'))
        return redirect(r, back(r, params.id))
      })
      .post('/inbox/c/:id/m/:mid/retry', async ({ request, params }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.id) || !isUuid(params.mid)) throw INBOX_ERRORS.notFound()
        await withOrg(db, scope(r), (tx) => retryMessage(tx, params.id, params.mid))
        if (isFragment(r)) return messagesFragment(r, params.id)
        return redirect(r, back(r, params.id))
      })
      // The sandbox's "write as a customer": stored and processed exactly like a received message.
      .post('/inbox/sandbox/inbound', async ({ request, body }) => {
        const r = await requireOrg(deps, request)
        const channelId = field(body, 'channelId')
        if (!isUuid(channelId)) throw INBOX_ERRORS.notFound()
        await withOrg(db, scope(r), (tx) =>
          simulateInbound(tx, channelId, {
            from: field(body, 'from'),
            text: field(body, 'text'),
            contactName: field(body, 'contactName'),
          }),
        )
        setFlash(r, 'info', r.t('inbox.sandbox.sent'))
        return redirect(r, '/inbox')
      })
      // The lead drawer's section (loaded lazily by the drawer, refreshed by inbox events).
      .get('/inbox/lead/:leadId', async ({ request, params }) => {
        const r = await requireOrg(deps, request)
        const list = await withOrg(db, scope(r), async (tx) => {
          if (!isUuid(params.leadId)) throw INBOX_ERRORS.notFound()
          const lead = await query(tx, sql`select 1 from leads where id = ${params.leadId}::uuid`)
          if (!lead.length) throw INBOX_ERRORS.notFound()
          return conversationsOfLead(tx, params.leadId)
        })
        return html(r, <LeadConversations ui={uiOf(r)} leadId={params.leadId} list={list} />)
      })
      // Settings → Quick replies (owners and admins) ------------------------------------------------
      .get('/settings/quick-replies', async ({ request }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        const replies = await withOrg(db, scope(r), (tx) => listQuickReplies(tx))
        return html(r, <QuickRepliesPage ui={uiOf(r)} replies={replies} form={emptyForm()} />)
      })
      .post('/settings/quick-replies', async ({ request, body }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        const values = { shortcut: field(body, 'shortcut'), body: field(body, 'body') }
        const res = await withForm(
          () =>
            withOrg(db, scope(r), (tx) =>
              createQuickReply(tx, r.actor, { shortcut: values.shortcut, body: values.body }),
            ),
          async (errors) => {
            const replies = await withOrg(db, scope(r), (tx) => listQuickReplies(tx))
            return html(r, <QuickRepliesPage ui={uiOf(r)} replies={replies} form={{ values, errors }} />, 422)
          },
        )
        if (!res.ok) return res.response
        setFlash(r, 'success', r.t('inbox.qr.created'))
        return redirect(r, '/settings/quick-replies')
      })
      .post('/settings/quick-replies/:id/delete', async ({ request, params }) => {
        const r = await requireOrg(deps, request, ['owner', 'admin'])
        await withOrg(db, scope(r), (tx) => deleteQuickReply(tx, r.actor, params.id))
        setFlash(r, 'success', r.t('inbox.qr.deleted'))
        return redirect(r, '/settings/quick-replies')
      })
  )
}
