/**
 * The composer's template picker, server side: the template a rep chose (an approved, sendable one
 * of the conversation's channel, synced by whatsapp.templates.ts) and the values typed for its
 * parameters -> what `sendMessage` stores and the send job hands the provider: the template's name,
 * language and components (Graph API shape), and the filled-in text the chat bubble shows.
 */
import { and, eq } from 'drizzle-orm'
import type { OrgTx } from '../../platform/db/tenancy'
import { Check } from '../../platform/http/errors'
import { isUuid } from '../../shared/ids'
import { whatsappTemplates } from '../whatsapp/whatsapp.table'
import { fillTemplate, paramField, type TemplateOption } from '../whatsapp/whatsapp.templates'
import { INBOX_ERRORS } from './inbox.errors'
import { findConversation, type TemplateInput } from './inbox.usecases'

/** The values typed for one template's parameters (form fields `tp.<templateId>.<param>`). */
export function templateValues(body: unknown, templateId: string): Record<string, string> {
  const out: Record<string, string> = {}
  if (!body || typeof body !== 'object') return out
  const prefix = paramField(templateId, '')
  for (const [k, v] of Object.entries(body as Record<string, unknown>))
    if (k.startsWith(prefix)) out[k.slice(prefix.length)] = String(Array.isArray(v) ? v[0] : (v ?? ''))
  return out
}

/** Field errors (422) when the template is not one the channel can send now. */
export async function templateToSend(
  tx: OrgTx,
  channelId: string,
  templateId: string,
  values: Record<string, string>,
): Promise<{ template: TemplateInput; text: string }> {
  const [tpl] = isUuid(templateId)
    ? await tx
        .select()
        .from(whatsappTemplates)
        .where(
          and(
            eq(whatsappTemplates.id, templateId),
            eq(whatsappTemplates.channelId, channelId),
            eq(whatsappTemplates.status, 'APPROVED'),
            eq(whatsappTemplates.sendable, true),
          ),
        )
    : []
  if (!tpl) new Check().add('templateId', 'inbox.templates.error.unknown').throwIfAny()
  const option: TemplateOption = { ...tpl!, params: tpl!.params ?? [] }
  const { components, text } = fillTemplate(option, values)
  return {
    template: { name: tpl!.name, language: tpl!.language, ...(components.length ? { components } : {}) },
    text,
  }
}

/** The picker's choice for a conversation (its channel's template), from the posted form. */
export async function pickTemplate(tx: OrgTx, conversationId: string, templateId: string, body: unknown) {
  const conv = await findConversation(tx, conversationId)
  if (!conv) throw INBOX_ERRORS.notFound()
  return templateToSend(tx, conv.channelId, templateId, templateValues(body, templateId))
}
