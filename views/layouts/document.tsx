import type { PropsWithChildren } from '@kitajs/html'
import { assetUrl, globalScripts, globalStyles } from '../../src/platform/http/assets'
import type { Ui } from '../ui'

/** The HTML document: assets from /assets (never a CDN), brand color from the organization. */
export function Document(
  props: PropsWithChildren<{ ui: Ui; title: string; bodyClass?: string; scripts?: string[] }>,
) {
  const color = props.ui.org?.primaryColor
  const brandStyle = color && /^#[0-9a-fA-F]{6}$/.test(color) ? `:root{--brand:${color}}` : ''
  return (
    <>
      {'<!doctype html>'}
      <html lang={props.ui.locale}>
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title safe>{`${props.title} · ${props.ui.org?.displayName || props.ui.instanceName}`}</title>
          <meta name="htmx-config" content='{"includeIndicatorStyles":false}' />
          <link rel="stylesheet" href={assetUrl('app.css')} />
          {globalStyles.map((s) => (
            <link rel="stylesheet" href={assetUrl(s)} />
          ))}
          <script src={assetUrl('htmx.min.js')} defer></script>
          <script src={assetUrl('app.js')} defer></script>
          {/* Deferred scripts run in order, before Alpine starts. Page-only scripts are not allowed:
              see globalScripts in src/platform/http/assets.ts. */}
          {[...globalScripts, ...(props.scripts ?? []).filter((s) => !globalScripts.includes(s))].map((s) => (
            <script src={assetUrl(s)} defer></script>
          ))}
          <script src={assetUrl('alpine.min.js')} defer></script>
        </head>
        {/* Forms that change who or where you are (log in, sign up, join, switch organization) opt out
            of hx-boost: the next page must load whole, so the live-update client starts with it. */}
        <body
          class={props.bodyClass}
          hx-boost="true"
          data-rt-org={props.ui.org?.orgId}
          data-rt-version={props.ui.org ? String(props.ui.rtVersion ?? 0) : undefined}
        >
          {/* In <body>, not <head>: a boosted navigation swaps only the body, and the color must follow
              an organization switch or a settings change. */}
          {brandStyle ? <style safe>{brandStyle}</style> : ''}
          {props.children}
        </body>
      </html>
    </>
  )
}
