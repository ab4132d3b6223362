/**
 * The browser client (public/realtime.js), embedded in the compiled binary like the other assets.
 * Register it with the asset server: `registerAsset(realtimeClient.name, realtimeClient.path, realtimeClient.type)`,
 * then load it with `<script src={assetUrl('realtime.js')} defer>` on signed-in pages whose <body>
 * carries `data-rt-org` and `data-rt-version` (`latestVersion(tx)` from events.outbox).
 */
import path from '../../../public/realtime.js' with { type: 'file' }

export const realtimeClient = { name: 'realtime.js', path, type: 'text/javascript; charset=utf-8' } as const
