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
  ChatHeader,
  ConversationList,
  InboxPage,
  type InboxPageProps,
  LeadConversations,
  MessageList,
  WindowArea,
} from '../../../views/inbox/inbox-page'
import { QuickRepliesPage } from '../../../views/inbox/quick-replies-page'
import { BulkWarning, ChannelNote } from '../../../views/inbox/templates'
import { withOrg } from '../../platform/db/tenancy'
import { query } from '../../platform/events/events.pg'
import { registerAsset } from '../../platform/http/assets'
import { type AppDeps, type OrgCtx, requireOrg, setFlash } from '../../platform/http/context'
import { AppError, Check, FormError } from '../../platform/http/errors'
import { field, html, redirect, uiOf, withForm } from '../../platform/http/respond'
import type { MessageKey } from '../../shared/i18n'
import { isUuid } from '../../shared/ids'
import { simulateInbound } from '../whatsapp/whatsapp.inbound'
import { sendableTemplates } from '../whatsapp/whatsapp.templates'
import { setChannelSender, whatsappSender } from './inbox.channel'
import { INBOX_ERRORS } from './inbox.errors'
import {
  contentDisposition,
  downloadName,
  findMediaFile,
  inlineSafe,
  MEDIA_MAX_BYTES,
  mediaKindOf,
  prepareAttachment,
  readMediaBytes,
  storeMediaFile,
} from './inbox.media'
import { pickTemplate, templateValues } from './inbox.templates'
import {
  assignConversation,
  type ConversationStatus,
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
    headError?: MessageKey,
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
        // The open conversation's approved templates (Cloud API), for the composer's picker.
        templates: active?.provider === 'cloud-api' ? await sendableTemplates(tx, active.channelId) : [],
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
        headError={headError}
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

  /** The chat header alone (assignee, status actions), as public/inbox.js refreshes it. */
  async function headFragment(r: OrgCtx, id: string) {
    const data = await withOrg(db, scope(r), async (tx) => {
      const c = await findConversation(tx, id)
      if (!c) throw INBOX_ERRORS.notFound()
      return { c, members: await listMembers(tx) }
    })
    if (!isFragment(r)) return redirect(r, `/inbox/c/${id}`)
    const q = parseListQuery(r.url.searchParams)
    return html(r, <ChatHeader ui={uiOf(r)} conversation={data.c} members={data.members} query={q} />)
  }

  /** A member of the organization asking about one conversation: a malformed id is a 404 at once. */
  async function conversationRequest(request: Request, id: string) {
    const r = await requireOrg(deps, request)
    if (!isUuid(id)) throw INBOX_ERRORS.notFound()
    return r
  }

  /** A status action (close, reopen, pending): audited, then a redirect back to the conversation. */
  const statusRoute =
    (status: ConversationStatus) =>
    async ({ request, params }: { request: Request; params: { id: string } }) => {
      const r = await conversationRequest(request, params.id)
      await withOrg(db, scope(r), (tx) => setConversationStatus(tx, r.actor, params.id, status))
      return redirect(r, back(r, params.id))
    }

  const back = (r: OrgCtx, id: string) => {
    const q = parseListQuery(new URL(r.request.headers.get('referer') ?? r.url.href, r.url).searchParams)
    return `/inbox/c/${id}${listQueryString(q)}`
  }

  return (
    new Elysia()
      .get('/inbox', async ({ request }) => page(await requireOrg(deps, request), null))
      .get('/inbox/c/:id', async ({ request, params }) => {
        const r = await conversationRequest(request, params.id)
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
        const r = await conversationRequest(request, params.id)
        return messagesFragment(r, params.id)
      })
      .get('/inbox/c/:id/head', async ({ request, params }) => {
        const r = await conversationRequest(request, params.id)
        return headFragment(r, params.id)
      })
      // The 24-hour window's notice and template picker (public/inbox.js swaps it when it changes).
      .get('/inbox/c/:id/window', async ({ request, params }) => {
        const r = await conversationRequest(request, params.id)
        const data = await withOrg(db, scope(r), async (tx) => {
          const c = await findConversation(tx, params.id)
          if (!c) throw INBOX_ERRORS.notFound()
          const templates = c.provider === 'cloud-api' ? await sendableTemplates(tx, c.channelId) : []
          return { c, templates }
        })
        if (!isFragment(r)) return redirect(r, `/inbox/c/${data.c.id}`)
        return html(
          r,
          <WindowArea
            ui={uiOf(r)}
            conversationId={data.c.id}
            windowOpen={windowOpen(data.c)}
            templates={data.templates}
          />,
        )
      })
      .post('/inbox/c/:id/send', async ({ request, params, body }) => {
        const r = await conversationRequest(request, params.id)
        const f = {
          body: field(body, 'body'),
          note: field(body, 'note'),
          templateName: field(body, 'templateName'),
          templateLanguage: field(body, 'templateLanguage'),
          replyToId: field(body, 'replyToId'),
          // The template picker's choice (its values are `tp.<id>.<param>` fields).
          templateId: field(body, 'templateId'),
          bulkConfirmed: field(body, 'bulkConfirmed') === '1',
        }
        // An attachment (multipart `file`); one over the cap is refused before it is even read.
        const upload = await readUpload(body)
        const note = f.note === '1' || f.note === 'on'
        const template = f.templateName
          ? { name: f.templateName.trim(), language: f.templateLanguage.trim() || 'pt_BR' }
          : null
        let error: MessageKey | null = null
        let errorParams: Record<string, string | number> | undefined
        try {
          if (upload === 'too_large')
            new Check()
              .add('file', 'inbox.media.error.too_large', { max: MEDIA_MAX_BYTES >> 20 })
              .throwIfAny()
          await withOrg(db, scope(r), async (tx) => {
            const picked = f.templateId ? await pickTemplate(tx, params.id, f.templateId, body) : null
            return sendMessage(tx, r.actor, params.id, {
              body: picked ? picked.text : f.body,
              note,
              template: picked ? picked.template : template,
              replyToId: f.replyToId || null,
              file: upload === 'too_large' ? null : upload,
              bulkConfirmed: f.bulkConfirmed,
            })
          })
        } catch (err) {
          // WhatsApp Web ban risk (inbox.bulk.ts): the composer asks "Send anyway" (409).
          if (err instanceof AppError && err.code === 'inbox.bulk_warning') {
            const warning = { key: err.messageKey!, params: err.params ?? {} }
            if (isFragment(r)) return html(r, <BulkWarning ui={uiOf(r)} warning={warning} />, 409)
            return page(r, params.id, { body: f.body, note, warning }, 409)
          }
          // A refused template: the picker keeps the choice and the values typed.
          if (f.templateId && err instanceof FormError) {
            const [name, key] = Object.entries(err.fields)[0]!
            return page(
              r,
              params.id,
              {
                body: '',
                template: {
                  id: f.templateId,
                  values: templateValues(body, f.templateId),
                  error: { key, params: err.params[name] },
                },
              },
              422,
            )
          }
          if (err instanceof FormError) {
            const [name, key] = Object.entries(err.fields)[0] ?? [
              'body',
              'inbox.error.body_required' as const,
            ]
            error = key
            errorParams = err.params[name]
          } else if (err instanceof AppError && err.code === 'inbox.window_closed')
            error = 'inbox.error.window_closed'
          else throw err
        }
        if (error) {
          // Too large: 413 (the file itself is refused); every other refusal: 422.
          const status = error === 'inbox.media.error.too_large' ? 413 : 422
          if (isFragment(r)) {
            const res = new Response(r.t(error, errorParams), {
              status,
              headers: {
                'content-type': 'text/plain; charset=utf-8',
                'hx-retarget': '#composer-error',
                'hx-reswap': 'innerHTML',
              },
            })
            return res
          }
          return page(r, params.id, { body: f.body, error, errorParams, note }, status)
        }
        if (isFragment(r)) return messagesFragment(r, params.id)
        return redirect(r, back(r, params.id))
      })
      // "Sending paused" above the composer, refreshed when the channel's switch or status moves.
      .get('/inbox/c/:id/channel-note', async ({ request, params }) => {
        const r = await conversationRequest(request, params.id)
        const c = await withOrg(db, scope(r), (tx) => findConversation(tx, params.id))
        if (!c) throw INBOX_ERRORS.notFound()
        if (!isFragment(r)) return redirect(r, `/inbox/c/${c.id}`)
        return html(r, <ChannelNote ui={uiOf(r)} conversation={c} />)
      })
      .post('/inbox/c/:id/assign', async ({ request, params, body }) => {
        const r = await conversationRequest(request, params.id)
        const assigneeId = field(body, 'assigneeId') || null
        // Not a member of this organization: 422 with the reason under the header, nothing changed.
        const res = await withForm(
          () => withOrg(db, scope(r), (tx) => assignConversation(tx, r.actor, params.id, assigneeId)),
          async (err) => {
            const key = Object.values(err.fields)[0]!
            if (isFragment(r))
              return new Response(r.t(key), {
                status: 422,
                headers: { 'content-type': 'text/plain; charset=utf-8' },
              })
            return page(r, params.id, undefined, 422, key)
          },
        )
        if (!res.ok) return res.response
        return redirect(r, back(r, params.id))
      })
      .post('/inbox/c/:id/close', statusRoute('closed'))
      .post('/inbox/c/:id/reopen', statusRoute('open'))
      // Waiting on the contact: their next message reopens it (inbox.inbound.ts).
      .post('/inbox/c/:id/pending', statusRoute('pending'))
      .post('/inbox/c/:id/m/:mid/retry', async ({ request, params }) => {
        const r = await requireOrg(deps, request)
        if (!isUuid(params.id) || !isUuid(params.mid)) throw INBOX_ERRORS.notFound()
        await withOrg(db, scope(r), (tx) => retryMessage(tx, params.id, params.mid))
        if (isFragment(r)) return messagesFragment(r, params.id)
        return redirect(r, back(r, params.id))
      })
      // The sandbox's "write as a customer": stored and processed exactly like a received message.
      // An attachment is stored first, in the same transaction, and the simulated message names it.
      .post('/inbox/sandbox/inbound', async ({ request, body }) => {
        const r = await requireOrg(deps, request)
        const channelId = field(body, 'channelId')
        if (!isUuid(channelId)) throw INBOX_ERRORS.notFound()
        const upload = await readUpload(body)
        if (upload === 'too_large')
          throw new AppError('inbox.media.too_large', 413, 'inbox.media.error.too_large', {
            max: MEDIA_MAX_BYTES >> 20,
          })
        if (upload && !upload.data.byteLength)
          throw new AppError('inbox.media.empty', 422, 'inbox.media.error.empty')
        await withOrg(db, scope(r), async (tx) => {
          const file = upload ? prepareAttachment(upload) : null
          const stored = file ? await storeMediaFile(tx, file) : null
          await simulateInbound(tx, channelId, {
            from: field(body, 'from'),
            text: field(body, 'text'),
            contactName: field(body, 'contactName'),
            ...(stored
              ? {
                  media: {
                    type: mediaKindOf(stored.mime),
                    fileId: stored.id,
                    mime: stored.mime,
                    ...(stored.filename ? { filename: stored.filename } : {}),
                  },
                }
              : {}),
          })
        })
        setFlash(r, 'info', r.t('inbox.sandbox.sent'))
        return redirect(r, '/inbox')
      })
      // An attachment's bytes, under RLS (another organization's file is a 404). Raster images, audio
      // and video inline (with Range for seeking); anything else only as an octet-stream download.
      .get('/inbox/media/:id', async ({ request, params }) => {
        const r = await conversationRequest(request, params.id)
        const found = await withOrg(db, scope(r), async (tx) => {
          const file = await findMediaFile(tx, params.id)
          if (!file) return null
          const etag = `"${file.sha256}"`
          if (request.headers.get('if-none-match') === etag) return { file, etag, notModified: true as const }
          const range = parseRange(request.headers.get('range'), file.size)
          if (range === 'unsatisfiable') return { file, etag, unsatisfiable: true as const }
          const [start, end] = range ?? [0, file.size - 1]
          return { file, etag, range, start, end, bytes: await readMediaBytes(tx, file, start, end) }
        })
        if (!found) throw INBOX_ERRORS.notFound()
        const { file, etag } = found
        const inline = inlineSafe(file.mime) && r.url.searchParams.get('download') !== '1'
        const headers: Record<string, string> = {
          'content-type': inline ? file.mime : 'application/octet-stream',
          'content-disposition': contentDisposition(inline ? 'inline' : 'attachment', downloadName(file)),
          'x-content-type-options': 'nosniff',
          'content-security-policy': "default-src 'none'; media-src 'self'; img-src 'self'; sandbox",
          'cache-control': 'private, max-age=86400',
          'accept-ranges': 'bytes',
          etag,
        }
        if ('notModified' in found) return new Response(null, { status: 304, headers })
        if ('unsatisfiable' in found)
          return new Response(null, {
            status: 416,
            headers: { ...headers, 'content-range': `bytes */${file.size}` },
          })
        if (found.range) headers['content-range'] = `bytes ${found.start}-${found.end}/${file.size}`
        return new Response(found.bytes, { status: found.range ? 206 : 200, headers })
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

/** The multipart file field: null when none was chosen, 'too_large' past the cap (never read). */
async function readUpload(body: unknown, name = 'file') {
  const v = (body as Record<string, unknown> | null)?.[name]
  const file = Array.isArray(v) ? v[0] : v
  if (!(file instanceof Blob)) return null
  const filename = (file as File).name ?? ''
  if (file.size === 0 && !filename) return null // an empty file input
  if (file.size > MEDIA_MAX_BYTES) return 'too_large' as const
  return { data: new Uint8Array(await file.arrayBuffer()), mime: file.type, filename }
}

/** One `Range: bytes=a-b` (or `a-`, `-n`) -> [start, end]; null for none or several; 'unsatisfiable'. */
export function parseRange(header: string | null, size: number): [number, number] | null | 'unsatisfiable' {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '')
  if (!m || (!m[1] && !m[2])) return null
  let start: number
  let end: number
  if (!m[1]) {
    start = Math.max(0, size - Number(m[2]))
    end = size - 1
  } else {
    start = Number(m[1])
    end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1
  }
  if (start >= size || end < start) return 'unsatisfiable'
  return [start, end]
}
