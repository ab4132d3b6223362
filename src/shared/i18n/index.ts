import { en as coreEn } from './en'
import { inboxEn, inboxPtBR } from './inbox'
import { captureEn, capturePtBR } from './leads-capture'
import { dedupEn, dedupPtBR } from './leads-dedup'
import { leadsImportEn, leadsImportPtBR } from './leads-import'
import { leadsListEn, leadsListPtBR } from './leads-list'
import { scoringEn, scoringPtBR } from './leads-scoring'
import { pipelineEn, pipelinePtBR } from './pipeline'
import { ptBR as corePtBR } from './pt-BR'
import { whatsappEn, whatsappPtBR } from './whatsapp'

/**
 * Catalogs: the core one (en.ts / pt-BR.ts) plus one file per module (e.g. `pipeline.ts` exporting
 * `pipelineEn` and `pipelinePtBR: Record<keyof typeof pipelineEn, string>`), merged here. English is
 * the reference type: a pt-BR catalog missing a key does not compile.
 */
const en = {
  ...coreEn,
  ...pipelineEn,
  ...leadsImportEn,
  ...captureEn,
  ...dedupEn,
  ...scoringEn,
  ...leadsListEn,
  ...inboxEn,
  ...whatsappEn,
}
const ptBR: Record<keyof typeof en, string> = {
  ...corePtBR,
  ...pipelinePtBR,
  ...leadsImportPtBR,
  ...capturePtBR,
  ...dedupPtBR,
  ...scoringPtBR,
  ...leadsListPtBR,
  ...inboxPtBR,
  ...whatsappPtBR,
}

export type MessageKey = keyof typeof en
export const LOCALES = ['pt-BR', 'en'] as const
export type Locale = (typeof LOCALES)[number]
export const DEFAULT_LOCALE: Locale = 'pt-BR'

export const catalogs: Record<Locale, Record<MessageKey, string>> = { 'pt-BR': ptBR, en }

export const isLocale = (v: unknown): v is Locale => LOCALES.includes(v as Locale)

export type T = (key: MessageKey, params?: Record<string, string | number>) => string

/**
 * A message split once at its `{name}` placeholders: even indexes are literal text, odd ones are
 * parameter names. Pages call `t` with parameters hundreds of times (every board card), and a regular
 * expression replace per call was a measurable part of rendering a board.
 */
const compiled = new Map<string, string[]>()
function partsOf(text: string): string[] {
  let parts = compiled.get(text)
  if (!parts) {
    parts = text.split(/\{(\w+)\}/)
    compiled.set(text, parts)
  }
  return parts
}

export function translator(locale: Locale): T {
  const catalog = catalogs[locale]
  return (key, params) => {
    const text = catalog[key]
    if (!params) return text
    const parts = partsOf(text)
    if (parts.length === 1) return text
    let out = parts[0]!
    for (let i = 1; i < parts.length; i += 2) {
      const name = parts[i]!
      out += (name in params ? String(params[name]) : `{${name}}`) + parts[i + 1]!
    }
    return out
  }
}

/** Picks the best supported locale from an Accept-Language header ("pt-BR,pt;q=0.9,en;q=0.8"). */
export function fromAcceptLanguage(header: string | null | undefined): Locale | undefined {
  if (!header) return undefined
  const ranked = header
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';')
      const q = params.find((p) => p.trim().startsWith('q='))
      return { tag: tag.toLowerCase(), q: q ? Number(q.split('=')[1]) : 1 }
    })
    .filter((x) => x.tag && !Number.isNaN(x.q) && x.q > 0)
    .sort((a, b) => b.q - a.q)
  for (const { tag } of ranked) {
    if (tag.startsWith('pt')) return 'pt-BR'
    if (tag.startsWith('en')) return 'en'
  }
  return undefined
}

/** User setting, then organization setting, then the browser, then the instance default. */
export function resolveLocale(
  userLocale: string | null | undefined,
  orgLocale: string | null | undefined,
  acceptLanguage: string | null | undefined,
): Locale {
  if (isLocale(userLocale)) return userLocale
  if (isLocale(orgLocale)) return orgLocale
  return fromAcceptLanguage(acceptLanguage) ?? DEFAULT_LOCALE
}
