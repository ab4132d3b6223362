// Loved CRM pipeline board: drag-and-drop (SortableJS), keyboard moves, won/lost prompts, the lead
// drawer's history, and live updates from the WebSocket hub. The server renders everything; this file
// only adds behaviour, so every link and form also works without it.
//
// Moves are optimistic: the card moves at once, the server confirms with its new version and
// position, and a refused move (409: someone else moved or edited the card first) reloads the board.
// Loaded from the page body (a boosted navigation swaps only <body>), so it guards against running twice.
;(() => {
  if (window.LovedPipeline) {
    window.LovedPipeline.boot(document)
    return
  }
  const script = document.currentScript
  const sortableSrc = script?.dataset.sortable || ''
  let sortableLoading = null
  function withSortable() {
    if (window.Sortable) return Promise.resolve(window.Sortable)
    if (!sortableLoading)
      sortableLoading = new Promise((resolve, reject) => {
        const s = document.createElement('script')
        s.src = sortableSrc
        s.onload = () => resolve(window.Sortable)
        s.onerror = reject
        document.head.appendChild(s)
      })
    return sortableLoading
  }

  const $ = (sel, root = document) => root.querySelector(sel)
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel))
  const page = () => $('[data-board-page]')
  const boardEl = () => $('[data-board]')
  const strings = () => {
    try {
      return JSON.parse(page()?.dataset.strings || '{}')
    } catch {
      return {}
    }
  }
  const fill = (tpl, params) =>
    String(tpl || '').replace(/\{(\w+)\}/g, (m, k) => (k in params ? params[k] : m))

  // Live region ----------------------------------------------------------------------------------
  let announceTimer = 0
  function announce(text) {
    const live = $('#board-live')
    if (!live) return
    live.textContent = ''
    clearTimeout(announceTimer)
    announceTimer = setTimeout(() => {
      live.textContent = text
    }, 60)
  }

  // Columns, cards, counts -----------------------------------------------------------------------
  const cardsOf = (list) => $$(':scope > .lead-card', list)
  const listOf = (stageId) => $(`[data-cards][data-stage-id="${stageId}"]`)
  const columnOf = (el) => el?.closest('.col')
  const cardById = (id) => document.getElementById(`card-${id}`)
  /** A card's lead id, from its element id (`card-<id>`). */
  const idOf = (card) => card.id.slice(5)
  const linkOf = (card) => $('[data-card-link]', card)
  const prevCard = (card) => {
    let el = card.previousElementSibling
    while (el && !el.matches('.lead-card')) el = el.previousElementSibling
    return el
  }

  const moneyFormats = new Map()
  function moneyShort(cents) {
    const p = page()
    const locale = p?.dataset.locale || 'pt-BR'
    const currency = p?.dataset.currency || 'BRL'
    const compact = cents >= 100000000
    const key = `${locale}|${currency}|${compact}`
    let f = moneyFormats.get(key)
    if (!f) {
      f = new Intl.NumberFormat(locale, {
        style: 'currency',
        currency,
        maximumFractionDigits: compact ? 1 : 0,
        minimumFractionDigits: 0,
        ...(compact ? { notation: 'compact' } : {}),
      })
      moneyFormats.set(key, f)
    }
    return f.format(cents / 100)
  }

  function adjustColumn(stageId, dCount, dValue) {
    const col = $(`.col[data-stage-id="${stageId}"]`)
    if (!col || (!dCount && !dValue)) return
    const count = Math.max(0, Number(col.dataset.count || 0) + dCount)
    const total = Math.max(0, Number(col.dataset.total || 0) + dValue)
    col.dataset.count = String(count)
    col.dataset.total = String(total)
    const c = $('[data-col-count]', col)
    if (c) c.textContent = String(count)
    const t = $('[data-col-total]', col)
    if (t) t.textContent = moneyShort(total)
  }

  /** Places `card` in `list` by (position, id); false when it falls beyond the cards loaded so far. */
  function placeByPosition(list, card, position) {
    const id = idOf(card)
    for (const other of cardsOf(list)) {
      if (other === card) continue
      const p = Number(other.dataset.position)
      if (p > position || (p === position && idOf(other) > id)) {
        list.insertBefore(card, other)
        return true
      }
    }
    if ($(':scope > [data-more]', list)) {
      card.remove()
      return false
    }
    const tail = $(':scope > [data-more], :scope > .col-empty', list)
    list.insertBefore(card, tail)
    return true
  }

  // Board refresh (conflicts, stage changes, missed events) ----------------------------------------
  let refreshing = null
  const queued = []
  function refreshBoard() {
    const board = boardEl()
    const region = $('#board-region')
    if (!board || !region || !window.htmx) return Promise.resolve()
    if (refreshing) return refreshing
    const scrollLeft = board.scrollLeft
    const scrolls = new Map($$('[data-cards]', board).map((l) => [l.dataset.stageId, l.scrollTop]))
    const focusedId = (() => {
      const c = document.activeElement?.closest?.('.lead-card')
      return c ? idOf(c) : undefined
    })()
    refreshing = window.htmx
      .ajax(
        'GET',
        location.pathname.startsWith('/pipeline/leads/') ? boardHref() : location.pathname + location.search,
        {
          target: '#board-region',
          swap: 'innerHTML',
          headers: { 'HX-Target': 'board-region' },
        },
      )
      .then(() => {
        const nb = boardEl()
        if (nb) {
          nb.scrollLeft = scrollLeft
          for (const l of $$('[data-cards]', nb))
            if (scrolls.has(l.dataset.stageId)) l.scrollTop = scrolls.get(l.dataset.stageId)
          if (focusedId) linkOf(cardById(focusedId) || document.createElement('div'))?.focus()
        }
      })
      .finally(() => {
        refreshing = null
        const v = Number(boardEl()?.dataset.version || 0)
        lastVersion = Math.max(lastVersion, v)
        for (const m of queued.splice(0)) if (m.v > v) onEvent(m)
      })
    return refreshing
  }
  const boardHref = () => {
    const d = $('[data-drawer]')
    return d?.dataset.back || `/pipeline/${page()?.dataset.pipelineId || ''}`
  }

  // Moves ----------------------------------------------------------------------------------------
  const pending = new Set()

  // Moves of one card go to the server one after another: a quick second move waits for the first
  // answer (and its new version) instead of failing the compare-and-set.
  const chains = new Map()
  function sendMove(card, toStageId, extra) {
    const id = idOf(card)
    pending.add(id)
    const run = (chains.get(id) || Promise.resolve()).then(() => postMove(card, toStageId, extra))
    const tail = run
      .catch(() => false)
      .finally(() => {
        if (chains.get(id) !== tail) return
        chains.delete(id)
        pending.delete(id)
      })
    chains.set(id, tail)
    return run
  }

  async function postMove(card, toStageId, extra) {
    if (!card.isConnected) return false // the board was refreshed meanwhile
    const id = idOf(card)
    const after = prevCard(card)
    const body = new URLSearchParams({
      stageId: toStageId,
      afterId: after ? idOf(after) : '',
      version: card.dataset.version,
      ...extra,
    })
    card.classList.add('is-saving')
    try {
      const res = await fetch(`/pipeline/leads/${id}/move`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body,
        credentials: 'same-origin',
      })
      const data = await res.json().catch(() => ({}))
      if (res.ok && data.ok) {
        card.dataset.version = String(data.version)
        card.dataset.position = String(data.position)
        const oldValue = Number(card.dataset.value || 0)
        if (data.valueCents !== oldValue) {
          card.dataset.value = String(data.valueCents)
          adjustColumn(toStageId, 0, data.valueCents - oldValue)
        }
        if (data.toKind !== 'open' || card.matches('.is-won, .is-lost')) refreshCard(id)
        if (data.rebalanced) refreshBoard()
        return true
      }
      const s = strings()
      announce(fill(res.status === 409 ? s.conflict : s.failed, { name: card.dataset.name }))
      await refreshBoard()
      return false
    } catch {
      announce(fill(strings().failed, { name: card.dataset.name }))
      await refreshBoard()
      return false
    } finally {
      card.classList.remove('is-saving')
    }
  }

  /**
   * The card already sits in its new place (dragged, or moved by keyboard/menu); `revert` puts it back.
   * Won and lost stages ask for the closing value or the loss reason first.
   */
  async function commitMove(card, fromStageId, revert) {
    const list = card.parentElement
    const col = columnOf(list)
    const toStageId = list.dataset.stageId
    const kind = col.dataset.kind
    const value = Number(card.dataset.value || 0)
    let extra = {}
    if (toStageId !== fromStageId && (kind === 'won' || kind === 'lost')) {
      const answer = await ask(kind, card)
      if (!answer) {
        revert()
        announce(strings().cancelled)
        linkOf(card)?.focus()
        return
      }
      extra = answer
    }
    if (toStageId !== fromStageId) {
      adjustColumn(fromStageId, -1, -value)
      adjustColumn(toStageId, 1, value)
    }
    const cards = cardsOf(list)
    announce(
      fill(strings().moved, {
        name: card.dataset.name,
        stage: col.dataset.name,
        position: cards.indexOf(card) + 1,
        count: Math.max(cards.length, Number(col.dataset.count || 0)),
      }),
    )
    updateSummary()
    await sendMove(card, toStageId, extra)
    updateSummary()
  }

  function updateSummary() {
    const el = $('[data-testid="board-summary"] strong')
    const tpl = page()?.dataset.summary
    if (!el || !tpl) return
    let n = 0
    let v = 0
    for (const c of $$('.col[data-kind="open"]')) {
      n += Number(c.dataset.count || 0)
      v += Number(c.dataset.total || 0)
    }
    el.textContent = fill(tpl, { count: n, value: moneyShort(v) })
  }

  // Won / lost prompts ---------------------------------------------------------------------------
  function ask(kind, card) {
    const dialog = $(kind === 'won' ? '#won-dialog' : '#lost-dialog')
    if (!dialog?.showModal) return Promise.resolve(kind === 'won' ? {} : null)
    const form = $('form', dialog)
    const s = strings()
    $('[data-title]', dialog).textContent = fill(kind === 'won' ? s.wonTitle : s.lostTitle, {
      name: card.dataset.name,
    })
    form.reset()
    const err = $('[data-error]', dialog)
    if (err) err.hidden = true
    if (kind === 'won') {
      const cents = Number(card.dataset.value || 0)
      const locale = page()?.dataset.locale || 'pt-BR'
      $('[name=value]', form).value = cents
        ? new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(
            cents / 100,
          )
        : ''
    }
    return new Promise((resolve) => {
      const onSubmit = (e) => {
        if (e.submitter?.value !== 'ok' || kind !== 'lost') return
        const reason = reasonOf(form)
        if (!reason) {
          e.preventDefault()
          if (err) err.hidden = false
        }
      }
      form.addEventListener('submit', onSubmit)
      dialog.addEventListener(
        'close',
        () => {
          form.removeEventListener('submit', onSubmit)
          if (dialog.returnValue !== 'ok') return resolve(null)
          if (kind === 'won') return resolve({ value: $('[name=value]', form).value })
          resolve({ reason: reasonOf(form) })
        },
        { once: true },
      )
      dialog.returnValue = ''
      dialog.showModal()
    })
  }
  function reasonOf(form) {
    const picked = $('[name=reason]:checked', form)?.value || ''
    const detail = $('[name=detail]', form)?.value.trim() || ''
    return [picked, detail].filter(Boolean).join(' — ')
  }

  // "Move to…" menu (keyboard, screen readers, phones) --------------------------------------------
  function openMoveMenu(card) {
    const dialog = $('#move-dialog')
    if (!dialog?.showModal) return
    const from = card.parentElement.dataset.stageId
    $('[data-title]', dialog).textContent = fill(strings().moveTitle, { name: card.dataset.name })
    for (const b of $$('[data-stage-id]', dialog)) {
      const current = b.dataset.stageId === from
      b.toggleAttribute('aria-current', current)
      b.classList.toggle('is-current', current)
    }
    dialog.addEventListener(
      'close',
      () => {
        const to = dialog.returnValue
        if (!to || to === 'cancel' || to === from) return linkOf(card)?.focus()
        moveToStage(card, to)
      },
      { once: true },
    )
    dialog.returnValue = ''
    dialog.showModal()
    ;($('.is-current', dialog)?.nextElementSibling || $('[data-stage-id]', dialog))?.focus()
  }

  /** Moves a card to the top of another stage (keyboard and menu). */
  function moveToStage(card, toStageId) {
    const to = listOf(toStageId)
    if (!to) return
    const from = card.parentElement
    const next = card.nextElementSibling
    to.insertBefore(card, to.firstElementChild)
    linkOf(card)?.focus()
    commitMove(card, from.dataset.stageId, () => from.insertBefore(card, next))
  }

  // Keyboard -------------------------------------------------------------------------------------
  function columnsOrder() {
    return $$('[data-cards]', boardEl() || document)
  }
  function focusCard(card) {
    const link = card && linkOf(card)
    if (!link) return
    setRoving(link)
    link.focus()
    card.scrollIntoView({ block: 'nearest', inline: 'nearest' })
  }
  function setRoving(link) {
    for (const l of $$('[data-card-link][tabindex="0"]')) if (l !== link) l.setAttribute('tabindex', '-1')
    link.setAttribute('tabindex', '0')
  }
  function initRoving(root) {
    const links = $$('[data-card-link]', root)
    if (!links.length) return
    const hasCurrent = $$('[data-card-link]').some(
      (l) => l.getAttribute('tabindex') === '0' && !links.includes(l),
    )
    links.forEach((l, i) => {
      l.setAttribute('tabindex', i === 0 && !hasCurrent ? '0' : '-1')
    })
  }

  function onKeydown(e) {
    const link = e.target.closest?.('[data-card-link]')
    if (!link) return
    const card = link.closest('.lead-card')
    const list = card.parentElement
    const cards = cardsOf(list)
    const i = cards.indexOf(card)
    const lists = columnsOrder()
    const li = lists.indexOf(list)
    const key = e.key
    if (key === 'm' || key === 'M' || key === 'ContextMenu' || (key === 'F10' && e.shiftKey)) {
      e.preventDefault()
      return openMoveMenu(card)
    }
    if (!['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(key)) return
    e.preventDefault()
    if (!e.shiftKey) {
      if (key === 'ArrowUp') return focusCard(cards[i - 1])
      if (key === 'ArrowDown') return focusCard(cards[i + 1])
      if (key === 'Home') return focusCard(cards[0])
      if (key === 'End') return focusCard(cards[cards.length - 1])
      const dir = key === 'ArrowLeft' ? -1 : 1
      for (let j = li + dir; j >= 0 && j < lists.length; j += dir) {
        const other = cardsOf(lists[j])
        if (other.length) return focusCard(other[Math.min(i, other.length - 1)])
      }
      return
    }
    // Shift + arrows move the card.
    if (key === 'ArrowUp' || key === 'ArrowDown') {
      const next = card.nextElementSibling
      const target = key === 'ArrowUp' ? cards[i - 1] : cards[i + 1]
      if (!target) return
      if (key === 'ArrowUp') list.insertBefore(card, target)
      else list.insertBefore(card, target.nextElementSibling)
      link.focus()
      return commitMove(card, list.dataset.stageId, () => list.insertBefore(card, next))
    }
    if (key === 'ArrowLeft' || key === 'ArrowRight') {
      const to = lists[li + (key === 'ArrowLeft' ? -1 : 1)]
      if (to) moveToStage(card, to.dataset.stageId)
    }
  }

  // Drag and drop --------------------------------------------------------------------------------
  function initSortable(board) {
    withSortable().then((Sortable) => {
      for (const list of $$('[data-cards]', board)) {
        if (list.sortable) continue
        let origin = null
        list.sortable = Sortable.create(list, {
          group: 'cards',
          draggable: '.lead-card',
          filter: '.card-menu',
          preventOnFilter: false,
          // The fallback (mouse/touch events instead of native HTML5 drag) gives the same behaviour in
          // every browser and is deterministic under automation (STACK-NOTES: native drag was flaky).
          forceFallback: true,
          fallbackOnBody: true,
          fallbackTolerance: 4,
          // On touch screens a short press scrolls the board; a long press picks the card up.
          delay: 200,
          delayOnTouchOnly: true,
          animation: 150,
          easing: 'cubic-bezier(0.2, 0, 0, 1)',
          ghostClass: 'card-ghost',
          chosenClass: 'card-chosen',
          dragClass: 'card-drag',
          scroll: true,
          bubbleScroll: true,
          scrollSensitivity: 90,
          scrollSpeed: 14,
          onStart(evt) {
            origin = { parent: evt.from, next: evt.item.nextElementSibling }
            board.classList.add('is-dragging')
          },
          onEnd(evt) {
            board.classList.remove('is-dragging')
            const card = evt.item
            const o = origin
            origin = null
            if (!o || (evt.from === evt.to && card.nextElementSibling === o.next)) return
            commitMove(card, evt.from.dataset.stageId, () => o.parent.insertBefore(card, o.next))
          },
        })
      }
    })
  }

  // Cards from the server (live updates, drawer actions) -------------------------------------------
  function cardUrl(id) {
    const q = boardEl()?.dataset.query
    return `/pipeline/leads/${id}/card${q ? `?${q}` : ''}`
  }

  async function refreshCard(id) {
    const board = boardEl()
    if (!board) return
    const res = await fetch(cardUrl(id), { headers: { 'HX-Request': 'true' }, credentials: 'same-origin' })
    const old = cardById(id)
    if (res.status === 204 || res.status === 404) {
      if (old) {
        adjustColumn(old.parentElement.dataset.stageId, -1, -Number(old.dataset.value || 0))
        old.remove()
        updateSummary()
      }
      return
    }
    if (!res.ok) return
    const pipelineId = res.headers.get('x-pipeline-id')
    const stageId = res.headers.get('x-stage-id')
    const tpl = document.createElement('template')
    tpl.innerHTML = (await res.text()).trim()
    const fresh = tpl.content.firstElementChild
    if (!fresh) return
    if (old && Number(old.dataset.version) > Number(fresh.dataset.version)) return
    const current = cardById(id)
    const hadFocus = current?.contains(document.activeElement)
    const oldStage = current?.parentElement?.dataset.stageId
    const oldValue = Number(current?.dataset.value || 0)
    const value = Number(fresh.dataset.value || 0)
    const list = pipelineId === page()?.dataset.pipelineId ? listOf(stageId) : null
    if (current) current.remove()
    if (oldStage) adjustColumn(oldStage, -1, -oldValue)
    if (list) {
      adjustColumn(stageId, 1, value)
      if (placeByPosition(list, fresh, Number(fresh.dataset.position))) {
        window.htmx?.process(fresh)
        fresh.classList.add('is-fresh')
        if (hadFocus) focusCard(fresh)
        else linkOf(fresh)?.setAttribute('tabindex', '-1')
      }
    }
    updateSummary()
  }

  // Live updates ---------------------------------------------------------------------------------
  let ws = null
  let lastVersion = 0
  let retry = 0
  let retryTimer = 0

  function setLive(on) {
    const b = $('[data-live-badge]')
    if (!b) return
    b.dataset.state = on ? 'on' : 'off'
    b.title = on ? strings().live : strings().offline
  }

  // When the app-wide client (public/realtime.js) runs, share its socket: one per tab.
  let sharedHooked = false
  function useShared() {
    const rt = window.lovedRealtime
    if (!rt) return false
    if (!sharedHooked) {
      sharedHooked = true
      document.body.addEventListener('rt:event', (e) => {
        const d = e.detail || {}
        if (!boardEl()) return
        const m = { t: 'event', v: d.version, type: d.type, data: d.data, actor: d.actor }
        if (refreshing) queued.push(m)
        else onEvent(m)
      })
      document.body.addEventListener('rt:ready', () => setLive(true))
    }
    setLive(!!rt.connected)
    return true
  }

  function connect() {
    if (ws || !boardEl() || useShared()) return
    clearTimeout(retryTimer)
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?v=${lastVersion}`
    let socket
    try {
      socket = new WebSocket(url)
    } catch {
      return scheduleReconnect()
    }
    ws = socket
    socket.onmessage = (e) => {
      let m
      try {
        m = JSON.parse(e.data)
      } catch {
        return
      }
      if (m.t === 'ready') {
        retry = 0
        setLive(true)
      } else if (m.t === 'event') {
        if (refreshing) queued.push(m)
        else onEvent(m)
      } else if (m.t === 'reload') {
        refreshBoard()
      }
    }
    socket.onclose = (e) => {
      if (ws === socket) ws = null
      setLive(false)
      if (!boardEl()) return
      if (e.code === 4002) refreshBoard().then(connect)
      else scheduleReconnect()
    }
  }
  function scheduleReconnect() {
    clearTimeout(retryTimer)
    const delay = Math.min(30000, 1000 * 2 ** Math.min(retry++, 5))
    retryTimer = setTimeout(connect, delay)
  }

  function onEvent(m) {
    if (typeof m.v === 'number') lastVersion = Math.max(lastVersion, m.v)
    const d = m.data || {}
    const pipelineId = page()?.dataset.pipelineId
    const me = page()?.dataset.userId
    if (m.type === 'pipeline.updated') {
      if (d.pipelineId === pipelineId) refreshBoard()
      return
    }
    if (!d.leadId) return
    if (m.actor === me && pending.has(d.leadId)) return
    const drawer = $('[data-drawer]')
    if (drawer?.dataset.leadId === d.leadId && m.actor !== me) refreshDrawer(drawer)
    if (m.type === 'lead.moved') {
      if (d.pipelineId !== pipelineId && d.fromPipelineId !== pipelineId) return
      const card = cardById(d.leadId)
      if (card && Number(card.dataset.version) >= d.version) return
      if (!card || d.pipelineId !== pipelineId) return refreshCard(d.leadId)
      applyMove(card, d, m.actor)
      return
    }
    if (m.type === 'lead.created' || m.type === 'lead.updated') {
      if (d.pipelineId !== pipelineId) return
      const card = cardById(d.leadId)
      if (card && d.version && Number(card.dataset.version) >= d.version) return
      refreshCard(d.leadId)
    }
  }

  function applyMove(card, d, actor) {
    const fromList = card.parentElement
    const to = listOf(d.toStageId)
    const oldValue = Number(card.dataset.value || 0)
    const hadFocus = card.contains(document.activeElement)
    adjustColumn(fromList.dataset.stageId, -1, -oldValue)
    if (to) adjustColumn(d.toStageId, 1, d.valueCents)
    card.dataset.version = String(d.version)
    card.dataset.position = String(d.position)
    card.dataset.value = String(d.valueCents)
    let placed = false
    if (to) placed = placeByPosition(to, card, d.position)
    else card.remove()
    if (placed) {
      card.classList.remove('is-fresh')
      void card.offsetWidth
      card.classList.add('is-fresh')
      if (hadFocus) focusCard(card)
      if (d.valueCents !== oldValue || columnOf(to)?.dataset.kind !== 'open') refreshCard(d.leadId)
    }
    if (d.rebalanced) refreshBoard()
    updateSummary()
    const members = memberNames()
    announceRemote(
      fill(strings().movedRemote, {
        who: members[actor] || strings().someone,
        name: card.dataset.name,
        stage: columnOf(to)?.dataset.name || '',
      }),
    )
  }
  let remoteTimer = 0
  function announceRemote(text) {
    // Polite: remote moves should not interrupt; batch bursts into the last one.
    clearTimeout(remoteTimer)
    remoteTimer = setTimeout(() => {
      const live = $('#board-live-polite')
      if (live) live.textContent = text
    }, 400)
  }
  function memberNames() {
    try {
      return JSON.parse(page()?.dataset.members || '{}')
    } catch {
      return {}
    }
  }

  function refreshDrawer(drawer) {
    if (drawer.contains(document.activeElement) && document.activeElement.matches('input, textarea, select'))
      return
    window.htmx?.ajax('GET', `/pipeline/leads/${drawer.dataset.leadId}`, {
      target: '#drawer-root',
      swap: 'innerHTML',
      headers: { 'HX-Target': 'drawer-root' },
    })
  }

  // Drawer ---------------------------------------------------------------------------------------
  let opener = null
  function closeDrawer(href) {
    const root = $('#drawer-root')
    if (!root?.firstElementChild) return
    root.innerHTML = ''
    if (href && location.pathname + location.search !== href) history.pushState({}, '', href)
    const back = opener && document.contains(opener) ? opener : null
    opener = null
    back?.focus()
  }

  document.addEventListener(
    'click',
    (e) => {
      const t = e.target instanceof Element ? e.target : null
      if (!t) return
      const close = t.closest('[data-drawer-close]')
      if (close && page()) {
        e.preventDefault()
        closeDrawer(close.getAttribute('href'))
        return
      }
      const menu = t.closest('[data-move-menu]')
      if (menu) {
        e.preventDefault()
        e.stopPropagation()
        openMoveMenu(menu.closest('.lead-card'))
        return
      }
      const link = t.closest('[data-card-link], [data-testid="new-lead"], .col-add')
      if (link) opener = link
      const copy = t.closest('[data-copy-absolute]')
      if (copy)
        copy.setAttribute('data-copy', new URL(copy.getAttribute('data-copy') || '', location.href).href)
    },
    true,
  )

  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !e.defaultPrevented && $('[data-drawer]') && !$('dialog[open]')) {
      const close = $('[data-drawer-close]')
      if (close) {
        e.preventDefault()
        closeDrawer(close.getAttribute('href'))
      }
    }
  })
  document.addEventListener('keydown', (e) => {
    if (e.target.closest?.('[data-board]')) onKeydown(e)
  })

  document.addEventListener('htmx:afterSwap', (e) => {
    const target = e.detail?.target
    if (target?.id === 'drawer-root') {
      const d = $('[data-drawer]', target)
      if (
        d &&
        !d.contains(document.activeElement) &&
        e.detail.requestConfig?.elt?.closest?.('[data-drawer]') == null
      )
        d.focus()
    }
  })
  // A drawer action changed a lead: bring its card up to date.
  document.body.addEventListener('pipeline:changed', (e) => {
    if (e.detail?.id) refreshCard(e.detail.id)
  })

  // Settings: stage order --------------------------------------------------------------------------
  function initStageList(list) {
    if (list.sortable) return
    withSortable().then((Sortable) => {
      if (list.sortable) return
      list.sortable = Sortable.create(list, {
        handle: '.drag-handle',
        draggable: '.stage-row',
        forceFallback: true,
        fallbackTolerance: 4,
        animation: 150,
        ghostClass: 'stage-ghost',
        chosenClass: 'stage-chosen',
        onEnd(evt) {
          if (evt.oldIndex === evt.newIndex) return
          const ids = $$(':scope > .stage-row', list).map((r) => r.dataset.stageId)
          const body = new URLSearchParams()
          for (const id of ids) body.append('ids', id)
          fetch(list.dataset.orderUrl, {
            method: 'POST',
            headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
            body,
            credentials: 'same-origin',
          })
            .then((res) => {
              if (!res.ok) throw new Error(String(res.status))
              syncOrderForms(list, ids)
            })
            .catch(() => location.reload())
        },
      })
    })
  }
  function syncOrderForms(list, ids) {
    $$(':scope > .stage-row', list).forEach((row, i) => {
      const forms = $$('.stage-actions form', row)
      ;[i - 1, i + 1].forEach((j, k) => {
        const f = forms[k]
        if (!f) return
        const o = [...ids]
        if (j >= 0 && j < o.length) [o[i], o[j]] = [o[j], o[i]]
        for (const inp of $$('input[name=ids]', f)) inp.remove()
        for (const id of o) {
          const inp = document.createElement('input')
          inp.type = 'hidden'
          inp.name = 'ids'
          inp.value = id
          f.prepend(inp)
        }
        $('button', f).disabled = j < 0 || j >= o.length
      })
    })
  }

  // Boot -----------------------------------------------------------------------------------------
  function initBoard(board) {
    if (board.dataset.ready) return
    board.dataset.ready = '1'
    // A new page (maybe another organization) starts from its own version; a refreshed board keeps
    // the live stream's position when that is ahead.
    const v = Number(board.dataset.version || 0)
    lastVersion = ws ? Math.max(lastVersion, v) : v
    initRoving(board)
    initSortable(board)
    connect()
    updateSummary()
  }

  function boot(root) {
    const scope = root instanceof Element || root instanceof Document ? root : document
    const board = scope.matches?.('[data-board]') ? scope : $('[data-board]', scope)
    if (board) initBoard(board)
    else if (scope.closest?.('[data-board]')) {
      initRoving(scope)
      initSortable(scope.closest('[data-board]'))
    }
    for (const list of $$('[data-stage-list]', scope)) initStageList(list)
    if (!boardEl() && ws) {
      const s = ws
      ws = null
      s.close()
    }
  }

  window.LovedPipeline = { boot, refreshBoard, refreshCard }
  document.addEventListener('htmx:load', (e) => boot(e.target))
  // Keep the save-view form on the filters the board shows now (they change without a reload).
  document.addEventListener(
    'submit',
    (e) => {
      const f = e.target
      if (f instanceof HTMLFormElement && f.matches('[data-save-view]')) {
        const q = boardEl()?.dataset.query ?? ''
        if (f.elements.query) f.elements.query.value = q
      }
    },
    true,
  )
  boot(document)
})()
