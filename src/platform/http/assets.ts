/**
 * Static assets, embedded in the compiled binary by importing them as files (no CDN, versions pinned
 * by the lockfile). URLs carry a content hash so browsers cache them for a year.
 */
import { readFileSync } from 'node:fs'
import interExt from '../../../node_modules/@fontsource-variable/inter/files/inter-latin-ext-wght-normal.woff2' with {
  type: 'file',
}
import inter from '../../../node_modules/@fontsource-variable/inter/files/inter-latin-wght-normal.woff2' with {
  type: 'file',
}
import alpine from '../../../node_modules/alpinejs/dist/cdn.min.js' with { type: 'file' }
import htmx from '../../../node_modules/htmx.org/dist/htmx.min.js' with { type: 'file' }
import sortable from '../../../node_modules/sortablejs/Sortable.min.js' with { type: 'file' }
import appCss from '../../../public/app.css' with { type: 'file' }
import appJs from '../../../public/app.js' with { type: 'file' }

const files: Record<string, { path: string; type: string }> = {
  'app.css': { path: appCss, type: 'text/css; charset=utf-8' },
  'app.js': { path: appJs, type: 'text/javascript; charset=utf-8' },
  'htmx.min.js': { path: htmx, type: 'text/javascript; charset=utf-8' },
  'alpine.min.js': { path: alpine, type: 'text/javascript; charset=utf-8' },
  'sortable.min.js': { path: sortable, type: 'text/javascript; charset=utf-8' },
  'inter-latin.woff2': { path: inter, type: 'font/woff2' },
  'inter-latin-ext.woff2': { path: interExt, type: 'font/woff2' },
}

/**
 * Scripts and styles loaded on every page, in order. A boosted (htmx) navigation swaps only <body>,
 * so a script added to <head> by one page would never load when the user navigates there: page
 * behaviour ships globally and attaches itself to its elements (`htmx.onLoad`).
 */
export const globalScripts: string[] = ['sortable.min.js']
export const globalStyles: string[] = []

/** Register a module's own asset; `global` puts a script/stylesheet on every page. */
export function registerAsset(name: string, path: string, type: string, opts: { global?: boolean } = {}) {
  files[name] = { path, type }
  hashes.delete(name)
  if (opts.global) {
    const list = type.startsWith('text/css') ? globalStyles : globalScripts
    if (!list.includes(name)) list.push(name)
  }
}

const hashes = new Map<string, string>()
/** `/assets/app.css?v=1a2b3c4d`: the hash changes when the file does. */
export function assetUrl(name: string): string {
  let h = hashes.get(name)
  if (!h) {
    const f = files[name]
    if (!f) throw new Error(`unknown asset ${name}`)
    h = Bun.hash(readFileSync(f.path)).toString(16).slice(0, 10)
    hashes.set(name, h)
  }
  return `/assets/${name}?v=${h}`
}

export function serveAsset(name: string, versioned: boolean): Response | null {
  const f = files[name]
  if (!f) return null
  return new Response(Bun.file(f.path), {
    headers: {
      'content-type': f.type,
      'cache-control': versioned ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
      'x-content-type-options': 'nosniff',
    },
  })
}
