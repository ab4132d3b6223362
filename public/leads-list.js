// Loved CRM lead list: row selection and the bulk bar, keyboard navigation (J/K or arrows, X to
// select, Enter to open, / to search), the lead drawer over the list, and keeping the forms' hidden
// query in step with the address bar. The server renders everything; without this file every link
// and form still works (the drawer opens as the board's page, bulk actions post the checked rows).
// Loaded from the page body (a boosted navigation swaps only <body>): it guards against running twice.
;(() => {
  if (window.LovedLeadList) {
    window.LovedLeadList.boot()
    return
  }
  const $ = (sel, root = document) => root.querySelector(sel)
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel))
  const page = () => $('[data-leads-page]')
  const strings = () => {
    try {
      return JSON.parse(page()?.dataset.strings || '{}')
    } catch {
      return {}
    }
  }
  const fill = (tpl, params) =>
    String(tpl || '').replace(/\{(\w+)\}/g, (_, k) => (k in params ? params[k] : ''))
  const rows = () => $$('[data-row]')
  const nf = () => new Intl.NumberFormat(document.documentElement.lang || undefined)

  // Selection and the bulk bar ---------------------------------------------------------------------
  function update() {
    const form = $('#bulk-form')
    if (!form) return
    const s = strings()
    const checks = $$('[data-row-check]', form)
    const n = checks.filter((c) => c.checked).length
    const allInput = $('[data-bulk-all]', form)
    const all = allInput?.value === '1'
    const total = Number(form.dataset.total || 0)
    const bar = $('[data-bulk-bar]', form)
    if (bar) bar.hidden = n === 0 && !all
    const count = $('[data-bulk-count]', form)
    if (count)
      count.textContent = all ? fill(s.allMatching, { n: nf().format(total) }) : fill(s.selected, { n })
    const more = $('[data-select-all-matching]', form)
    if (more) more.hidden = all || !(n > 0 && n === checks.length && total > n)
    const pageBox = $('[data-select-page]', form)
    if (pageBox) {
      pageBox.checked = n > 0 && n === checks.length
      pageBox.indeterminate = n > 0 && n < checks.length
    }
    for (const c of checks) c.closest('[data-row]')?.classList.toggle('is-selected', c.checked)
  }
  function clearAll() {
    const a = $('[data-bulk-all]')
    if (a) a.value = ''
  }

  document.addEventListener('change', (e) => {
    const t = e.target
    if (!(t instanceof HTMLInputElement) || !page()) return
    if (t.matches('[data-select-page]')) {
      for (const c of $$('[data-row-check]')) c.checked = t.checked
      clearAll()
      update()
    } else if (t.matches('[data-row-check]')) {
      clearAll()
      update()
    }
  })
  document.addEventListener(
    'click',
    (e) => {
      const t = e.target instanceof Element ? e.target : null
      if (!t || !page()) return
      if (t.closest('[data-select-all-matching]')) {
        e.preventDefault()
        const a = $('[data-bulk-all]')
        if (a) a.value = '1'
        for (const c of $$('[data-row-check]')) c.checked = true
        update()
        return
      }
      const close = t.closest('[data-drawer-close]')
      if (close && $('#drawer-root')?.contains(close)) {
        e.preventDefault()
        e.stopImmediatePropagation()
        closeDrawer()
        return
      }
      const link = t.closest('[data-row-link]')
      if (link) {
        opener = link.closest('[data-row]')
        listHref = location.pathname + location.search
      }
      // A click on a row (not on a control) focuses it, like the keyboard does.
      const row = t.closest('[data-row]')
      if (row && !t.closest('a, input, button, label')) focusRow(row)
    },
    true,
  )

  // Forms that carry the list's current query read it from the address bar when they are sent.
  document.addEventListener(
    'submit',
    (e) => {
      const form = e.target
      if (!(form instanceof HTMLFormElement) || !page()) return
      for (const q of $$('[data-current-query]', form))
        if (location.pathname === '/leads')
          q.value = location.search.replace(/^\?/, '').replace(/(^|&)after=[^&]*/, '')
    },
    true,
  )

  // Keyboard -----------------------------------------------------------------------------------------
  function focusRow(row) {
    if (!row) return
    for (const r of rows()) r.tabIndex = r === row ? 0 : -1
    row.focus({ preventScroll: false })
    row.scrollIntoView({ block: 'nearest' })
  }
  function openRow(row) {
    row?.querySelector('[data-row-link]')?.click()
  }

  window.addEventListener(
    'keydown',
    (e) => {
      if (!page() || e.metaKey || e.ctrlKey || e.altKey) return
      const t = e.target instanceof Element ? e.target : null
      const drawer = $('#drawer-root [data-drawer]')
      if (e.key === 'Escape' && drawer && !$('dialog[open]')) {
        // Ours, before the board script's handler (which would go back to the board).
        e.preventDefault()
        e.stopImmediatePropagation()
        closeDrawer()
        return
      }
      if (drawer?.contains(t)) return
      const typing = t?.matches('input:not([type=checkbox]), textarea, select, [contenteditable]')
      if (e.key === '/' && !typing) {
        e.preventDefault()
        $('[data-testid="list-search"]')?.focus()
        return
      }
      if (typing || t?.closest('.dropdown-menu, .bulk-bar, .filter-panel')) return
      const list = rows()
      if (!list.length) return
      const cur = t?.closest('[data-row]')
      const i = cur ? list.indexOf(cur) : -1
      if (e.key === 'j' || e.key === 'ArrowDown') {
        e.preventDefault()
        if (i === list.length - 1) {
          const more = $('[data-load-more]')
          if (more) {
            more.click()
            return
          }
        }
        focusRow(list[Math.min(i + 1, list.length - 1)])
      } else if (e.key === 'k' || e.key === 'ArrowUp') {
        e.preventDefault()
        focusRow(list[Math.max(i - 1, 0)])
      } else if ((e.key === 'x' || e.key === ' ') && cur) {
        e.preventDefault()
        const c = cur.querySelector('[data-row-check]')
        if (c) {
          c.checked = !c.checked
          c.dispatchEvent(new Event('change', { bubbles: true }))
        }
      } else if (e.key === 'Enter' && cur && t === cur) {
        e.preventDefault()
        openRow(cur)
      } else if ((e.key === 'Home' || e.key === 'End') && cur) {
        e.preventDefault()
        focusRow(e.key === 'Home' ? list[0] : list[list.length - 1])
      }
    },
    true,
  )

  // The drawer over the list -------------------------------------------------------------------------
  let opener = null
  let listHref = null
  function closeDrawer() {
    const root = $('#drawer-root')
    if (!root?.firstElementChild) return
    root.innerHTML = ''
    const back = listHref || '/leads'
    if (location.pathname + location.search !== back) history.pushState({}, '', back)
    const row = opener && document.contains(opener) ? opener : null
    opener = null
    if (row) focusRow(row)
  }
  // A drawer action changed the lead: bring its row up to date.
  document.body.addEventListener('pipeline:changed', (e) => {
    const id = e.detail?.id
    const row = id && page() ? $(`[data-row][data-id="${CSS.escape(id)}"]`) : null
    if (!row || !window.htmx) return
    const checked = row.querySelector('[data-row-check]')?.checked
    window.htmx.ajax('GET', `/leads/rows/${id}`, { target: row, swap: 'outerHTML' }).then(() => {
      const fresh = $(`[data-row][data-id="${CSS.escape(id)}"]`)
      const c = fresh?.querySelector('[data-row-check]')
      if (c && checked) c.checked = true
      update()
    })
  })

  // After htmx swaps ---------------------------------------------------------------------------------
  document.addEventListener('htmx:afterSwap', (e) => {
    if (!page()) return
    const target = e.detail?.target
    boot()
    if (target?.id === 'drawer-root') {
      const d = $('[data-drawer]', target)
      if (d && !d.contains(document.activeElement)) d.focus()
    }
  })

  function boot() {
    if (!page()) return
    const list = rows()
    if (list.length && !list.some((r) => r.tabIndex === 0)) list[0].tabIndex = 0
    update()
  }
  window.LovedLeadList = { boot }
  boot()
})()
