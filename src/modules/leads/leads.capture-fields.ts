/**
 * From a capture request to lead fields: reading the body (JSON, urlencoded, multipart) within a size
 * limit, and mapping field names in pt-BR and English (`nome`/`name`, `telefone`/`whatsapp`/`phone`,
 * `mensagem`/`message`...) to the lead, plus the organization's custom field keys. Pure: no database.
 */
import { fold } from '../../shared/text'

/** Largest body accepted by POST /capture/TOKEN. */
export const MAX_CAPTURE_BYTES = 64 * 1024

export type CaptureFields = Record<string, unknown>

export type BodyRead =
  | { ok: true; kind: 'json' | 'form'; fields: CaptureFields }
  | { ok: false; reason: 'too_large' | 'content_type' | 'bad_json'; summary: CaptureFields }

/** Reads at most `limit` bytes of the body; `null` when it is larger (the rest is not read). */
export async function readLimited(request: Request, limit: number): Promise<Uint8Array | null> {
  const declared = Number(request.headers.get('content-length') ?? '')
  if (Number.isFinite(declared) && declared > limit) return null
  if (!request.body) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = request.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => {})
      return null
    }
    chunks.push(value)
  }
  const out = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.byteLength
  }
  return out
}

export const mediaType = (contentType: string | null) =>
  (contentType ?? '').split(';')[0]!.trim().toLowerCase()

/** Parses a body already read (see readLimited). Files in multipart bodies are noted, not kept. */
export async function parseBody(bytes: Uint8Array | null, contentType: string | null): Promise<BodyRead> {
  const type = mediaType(contentType)
  if (bytes === null) return { ok: false, reason: 'too_large', summary: { _bytes: `> ${MAX_CAPTURE_BYTES}` } }
  const text = () => new TextDecoder('utf-8', { fatal: false }).decode(bytes)
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      const v: unknown = JSON.parse(text())
      if (!v || typeof v !== 'object' || Array.isArray(v))
        return { ok: false, reason: 'bad_json', summary: { _body: text().slice(0, 2000) } }
      return { ok: true, kind: 'json', fields: v as CaptureFields }
    } catch {
      return { ok: false, reason: 'bad_json', summary: { _body: text().slice(0, 2000) } }
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    return { ok: true, kind: 'form', fields: collect(new URLSearchParams(text()).entries()) }
  }
  if (type === 'multipart/form-data') {
    try {
      const form = await new Response(bytes as Uint8Array<ArrayBuffer>, {
        headers: { 'content-type': contentType! },
      }).formData()
      const entries: [string, string][] = []
      for (const [k, v] of form.entries())
        entries.push([k, typeof v === 'string' ? v : `[file ${(v as File).name || 'unnamed'}]`])
      return { ok: true, kind: 'form', fields: collect(entries) }
    } catch {
      return { ok: false, reason: 'content_type', summary: { _body: text().slice(0, 2000) } }
    }
  }
  return {
    ok: false,
    reason: 'content_type',
    summary: { _contentType: type || null, _body: text().slice(0, 2000) },
  }
}

/** Repeated form keys (tags=a&tags=b, interesse[]=x) become arrays. */
function collect(entries: Iterable<[string, string]>): CaptureFields {
  const out: Record<string, string | string[]> = {}
  for (const [rawKey, value] of entries) {
    const key = rawKey.endsWith('[]') ? rawKey.slice(0, -2) : rawKey
    const prev = out[key]
    if (prev === undefined) out[key] = rawKey.endsWith('[]') ? [value] : value
    else out[key] = Array.isArray(prev) ? [...prev, value] : [prev, value]
  }
  return out
}

// Field names ------------------------------------------------------------------------------------

/** Accepted names per lead field, compared accent-free and case-insensitively ("E-mail", "Telefone"). */
const ALIASES = {
  fullName: ['name', 'nome', 'full_name', 'fullname', 'nome_completo', 'your-name', 'seu_nome'],
  firstName: ['first_name', 'firstname', 'primeiro_nome'],
  lastName: ['last_name', 'lastname', 'sobrenome'],
  email: ['email', 'e-mail', 'e_mail', 'mail', 'your-email', 'seu_email'],
  phone: ['phone', 'telefone', 'whatsapp', 'celular', 'phone_number', 'tel', 'fone', 'mobile', 'your-phone'],
  company: ['company', 'empresa', 'company_name', 'organizacao', 'organization'],
  jobTitle: ['job_title', 'jobtitle', 'cargo', 'position', 'title', 'funcao'],
  message: [
    'message',
    'mensagem',
    'msg',
    'comments',
    'comentario',
    'comentarios',
    'observacao',
    'your-message',
  ],
  value: ['value', 'valor', 'orcamento', 'budget'],
  tags: ['tags', 'etiquetas'],
} as const
type Known = keyof typeof ALIASES

/** Honeypot fields: invisible to people, filled by bots. */
export const HONEYPOTS = ['_hp', 'website'] as const
/** Control fields, never lead data. */
const CONTROL = new Set(['_redirect', '_hp', 'website', '_source', '_utf8'])

const norm = (k: string) => fold(k).trim().replace(/\s+/g, '_')
const LOOKUP = new Map<string, Known>()
for (const [field, names] of Object.entries(ALIASES) as [Known, readonly string[]][])
  for (const n of names) LOOKUP.set(norm(n), field)

const asText = (v: unknown): string => {
  if (v === undefined || v === null) return ''
  if (Array.isArray(v)) return v.map(asText).filter(Boolean).join(', ')
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v).trim()
}

export interface MappedCapture {
  fullName: string
  email: string
  phone: string
  company: string
  jobTitle: string
  value: string
  message: string
  tags: string[]
  custom: Record<string, unknown>
  /** Fields that matched nothing (kept in the stored payload; listed in the lead's note). */
  extra: Record<string, string>
}

/** `customKeys`: the organization's custom field keys (lead.custom). */
export function mapCaptureFields(fields: CaptureFields, customKeys: ReadonlySet<string>): MappedCapture {
  const found: Partial<Record<Known, string>> = {}
  const custom: Record<string, unknown> = {}
  const extra: Record<string, string> = {}
  let tags: string[] = []
  for (const [rawKey, value] of Object.entries(fields)) {
    if (CONTROL.has(rawKey)) continue
    if (rawKey === 'custom' && value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>))
        if (customKeys.has(k)) custom[k] = v
        else extra[k] = asText(v)
      continue
    }
    const key = norm(rawKey)
    const field = LOOKUP.get(key)
    if (field === 'tags') {
      tags = (Array.isArray(value) ? value.map(asText) : asText(value).split(','))
        .map((s) => s.trim())
        .filter(Boolean)
      continue
    }
    if (field) {
      if (!found[field]) found[field] = asText(value)
      continue
    }
    if (customKeys.has(rawKey)) custom[rawKey] = value
    else if (customKeys.has(key)) custom[key] = value
    else if (!rawKey.startsWith('_')) extra[rawKey] = asText(value)
  }
  const fullName = found.fullName || [found.firstName, found.lastName].filter(Boolean).join(' ').trim() || ''
  return {
    fullName: fullName.slice(0, 200),
    email: found.email ?? '',
    phone: found.phone ?? '',
    company: found.company ?? '',
    jobTitle: found.jobTitle ?? '',
    value: found.value ?? '',
    message: found.message ?? '',
    tags,
    custom,
    extra,
  }
}

export const isSpam = (fields: CaptureFields) => HONEYPOTS.some((h) => asText(fields[h]) !== '')

/** The note written on the lead: the visitor's message, then the fields nothing else took. */
export function captureNote(m: Pick<MappedCapture, 'message' | 'extra'>, extraTitle: string): string | null {
  const lines = Object.entries(m.extra)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}: ${v}`)
  const parts = [m.message, lines.length ? `${extraTitle}\n${lines.join('\n')}` : ''].filter(Boolean)
  return parts.length ? parts.join('\n\n').slice(0, 5000) : null
}

/** Facebook Lead Ads field_data ([{name, values}]) as capture fields. */
export function facebookFields(fieldData: unknown): CaptureFields {
  const out: CaptureFields = {}
  if (!Array.isArray(fieldData)) return out
  for (const f of fieldData) {
    if (!f || typeof f !== 'object') continue
    const { name, values } = f as { name?: unknown; values?: unknown }
    if (typeof name !== 'string') continue
    out[name] = Array.isArray(values) ? (values.length === 1 ? values[0] : values) : values
  }
  return out
}
