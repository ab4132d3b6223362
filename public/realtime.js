// Loved CRM real-time client: one WebSocket per tab to /ws (src/platform/realtime/realtime.hub.ts).
//
// Topics: the organization (org:<id>) and the user's personal events within it.
// Opt in from the page: <body data-rt-org="<org id>" data-rt-version="<latest version rendered>">.
// Each event is dispatched on <body> twice, as `rt:event` and as `rt:<type>` (htmx.trigger when htmx
// is loaded, a bubbling CustomEvent otherwise; detail = { type, data, version, org, user, actor, at }),
// so a fragment refreshes itself with  hx-get="..." hx-trigger="rt:lead.moved from:body".
// The last version seen is sent on reconnect, and the server replays what was missed, in order,
// without duplicates. While disconnected for more than a moment, <body> has the class
// `rt-reconnecting` (style a discreet banner with it).
;(() => {
  const body = document.body
  if (!body?.dataset.rtOrg) return
  const org = body.dataset.rtOrg
  const url = body.dataset.rtUrl || '/ws'
  const initial = Number.parseInt(body.dataset.rtVersion || '', 10)
  let last = Number.isSafeInteger(initial) ? initial : null
  let ws = null
  let attempt = 0
  let retryTimer = null
  let stateTimer = null
  let stopped = false

  const setReconnecting = (on) => {
    clearTimeout(stateTimer)
    // Short blips (a deploy, a network hiccup) do not flash the banner.
    if (on) stateTimer = setTimeout(() => body.classList.add('rt-reconnecting'), 1500)
    else body.classList.remove('rt-reconnecting')
  }

  const emit = (name, detail) => {
    if (window.htmx) window.htmx.trigger(body, name, detail)
    else body.dispatchEvent(new CustomEvent(name, { detail, bubbles: true }))
  }

  const reload = () => {
    stopped = true
    location.reload()
  }

  const onMessage = (raw) => {
    let msg
    try {
      msg = JSON.parse(raw)
    } catch {
      return
    }
    if (msg.t === 'event') {
      if (msg.org === org) {
        if (last !== null && msg.v <= last) return // already applied
        last = msg.v
      }
      const detail = {
        type: msg.type,
        data: msg.data,
        version: msg.v,
        org: msg.org,
        user: msg.user,
        actor: msg.actor,
        at: msg.at,
      }
      emit('rt:event', detail)
      emit(`rt:${msg.type}`, detail)
    } else if (msg.t === 'ready') {
      // The session now belongs to another organization (switched in another tab): this page is stale.
      if (msg.org !== org) return reload()
      if (last === null || msg.v > last) last = msg.v
      attempt = 0
      setReconnecting(false)
      emit('rt:ready', { version: last })
    } else if (msg.t === 'reload') {
      reload()
    }
  }

  const connect = () => {
    if (stopped || ws) return
    const u = new URL(url, location.href)
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:'
    if (last !== null) u.searchParams.set('v', String(last))
    const socket = new WebSocket(u)
    ws = socket
    socket.onmessage = (m) => onMessage(m.data)
    socket.onclose = (e) => {
      if (ws === socket) ws = null
      if (stopped) return
      if (e.code === 4002) return reload() // too far behind: the server said so
      setReconnecting(true)
      // Exponential backoff with jitter, capped at 30 s; 4001 (session changed) retries at once.
      const delay = e.code === 4001 ? 0 : Math.min(30_000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2)
      attempt = Math.min(attempt + 1, 10)
      clearTimeout(retryTimer)
      retryTimer = setTimeout(connect, delay)
    }
  }

  window.addEventListener('online', () => {
    clearTimeout(retryTimer)
    attempt = 0
    connect()
  })
  window.addEventListener('pagehide', () => {
    stopped = true
    clearTimeout(retryTimer)
    ws?.close(1000)
  })
  window.addEventListener('pageshow', (e) => {
    if (!e.persisted) return // back/forward cache restore: resume from the last version
    stopped = false
    connect()
  })

  window.lovedRealtime = {
    get version() {
      return last
    },
    get connected() {
      return ws !== null && ws.readyState === WebSocket.OPEN
    },
  }
  connect()
})()
