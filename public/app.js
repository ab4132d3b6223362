// Loved CRM client glue: htmx settings and a few behaviours shared by every page.
// Server-rendered pages work without it; this only makes them faster and nicer.
;(() => {
  if (window.htmx) {
    // Swap 4xx/5xx too: forms re-render with inline errors (422), error pages render in place.
    window.htmx.config.responseHandling = [
      { code: '204', swap: false },
      { code: '...', swap: true },
    ]
    window.htmx.config.historyCacheSize = 0
    window.htmx.config.refreshOnHistoryMiss = true
  }
  // A boosted navigation swaps only <body>: carry the new page's language over to <html lang>
  // (it changes when the user picks another language or switches organization).
  document.addEventListener('htmx:beforeSwap', (e) => {
    const d = e.detail
    if (!d?.boosted || typeof d.serverResponse !== 'string') return
    const m = /<html[^>]*\slang="([^"]+)"/i.exec(d.serverResponse)
    if (m) document.documentElement.lang = m[1]
  })
  document.addEventListener('click', (e) => {
    const btn = e.target instanceof Element ? e.target.closest('[data-copy]') : null
    if (!btn) return
    e.preventDefault()
    const text = btn.getAttribute('data-copy') || ''
    const done = () => {
      const label = btn.getAttribute('data-copied') || 'Copied'
      const old = btn.textContent
      btn.textContent = label
      setTimeout(() => {
        btn.textContent = old
      }, 1500)
    }
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, done)
    else done()
  })
  // Confirm dialogs for destructive forms: <form data-confirm="...">
  document.addEventListener(
    'submit',
    (e) => {
      const form = e.target
      if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
        e.preventDefault()
        e.stopImmediatePropagation()
      }
    },
    true,
  )
})()

// Live notifications (src/modules/notifications): the hub delivers a personal event; show a toast.
// The text was rendered by the server in the recipient's language; it is inserted as text, never HTML.
document.body?.addEventListener('rt:notification.created', (e) => {
  const data = e.detail?.data
  const region = document.getElementById('toasts')
  if (!data || !region) return
  const toast = document.createElement('div')
  toast.className = 'alert alert-info toast'
  toast.setAttribute('role', 'status')
  toast.setAttribute('data-testid', 'live-toast')
  const text = document.createElement(data.link ? 'a' : 'span')
  text.textContent = data.text
  if (data.link) text.setAttribute('href', data.link)
  toast.appendChild(text)
  region.appendChild(toast)
  setTimeout(() => toast.remove(), 8000)
})
