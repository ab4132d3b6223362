// CSV import page (views/leads/import-pages.tsx): the progress bar follows the import live.
// The job records `lead.import.progress` after every batch; public/realtime.js dispatches it on <body>
// as `rt:lead.import.progress`. When the import finishes, the report replaces the progress in place.
;(() => {
  const fmt = (n) => new Intl.NumberFormat(document.documentElement.lang || 'pt-BR').format(n)
  document.addEventListener('rt:lead.import.progress', (e) => {
    const d = e.detail?.data
    if (!d) return
    const box = document.querySelector(`[data-import-live="${CSS.escape(String(d.importId))}"]`)
    if (!box) return
    const pct =
      d.status === 'completed' ? 100 : d.total ? Math.min(100, Math.floor((d.processed * 100) / d.total)) : 0
    const bar = box.querySelector('[role="progressbar"]')
    if (bar) {
      const now = Number(bar.getAttribute('aria-valuenow') || 0)
      if (pct >= now) {
        bar.setAttribute('aria-valuenow', String(pct))
        const fill = bar.querySelector('.progress-bar')
        if (fill) fill.style.width = `${pct}%`
      }
    }
    for (const k of ['processed', 'created', 'merged', 'flagged', 'rejected'])
      for (const el of box.querySelectorAll(`[data-count="${k}"]`)) el.textContent = fmt(d[k] ?? 0)
    for (const el of box.querySelectorAll('[data-count="percent"]')) el.textContent = String(pct)
    if ((d.status === 'completed' || d.status === 'failed') && window.htmx) {
      box.removeAttribute('data-import-live')
      window.htmx.ajax('GET', box.dataset.url, { target: '#import-main', swap: 'outerHTML' })
    }
  })
})()
