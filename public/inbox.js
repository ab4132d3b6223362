// Loved CRM inbox (views/inbox/inbox-page.tsx). Without this file every action is a plain form post.
// With it: the conversation list, the open thread, the chat header (assignee, status) and the
// 24-hour-window notice refresh from the hub's inbox.* events (the composer is never replaced, so a
// half-typed message survives), Enter sends (Shift+Enter: new line), "/" searches quick replies, an
// emoji picker, the internal-note toggle, reply-to (a bubble's Reply button, a quoted chip, Escape
// cancels), attachments (chip with name/size/remove, size checked at once, a pasted image attaches
// itself; sent as multipart).
;(() => {
  if (window.lovedInbox) return
  window.lovedInbox = true

  const $ = (sel) => document.querySelector(sel)
  const inbox = () => $('[data-inbox]')
  const fetchHtml = async (url, init = {}) => {
    const res = await fetch(url, { ...init, headers: { 'hx-request': 'true', ...(init.headers || {}) } })
    return { res, text: await res.text() }
  }
  const nearBottom = (el) => el.scrollHeight - el.scrollTop - el.clientHeight < 120
  const toBottom = () => {
    const m = $('#msgs')
    if (m) m.scrollTop = m.scrollHeight
  }
  const replace = (el, htmlText) => {
    const tpl = document.createElement('template')
    tpl.innerHTML = htmlText.trim()
    const next = tpl.content.firstElementChild
    if (next) el.replaceWith(next)
    return next
  }

  // Live refreshes -------------------------------------------------------------------------------
  let listTimer = null
  const refreshList = () => {
    clearTimeout(listTimer)
    listTimer = setTimeout(async () => {
      const list = $('#conv-list')
      if (!list?.dataset.src) return
      const { res, text } = await fetchHtml(list.dataset.src)
      if (res.ok && document.contains(list)) replace(list, text)
    }, 120)
  }
  let msgsBusy = null
  const refreshMessages = async () => {
    const box = $('#msgs')
    if (!box?.dataset.src) return
    if (msgsBusy) return msgsBusy.then(refreshMessages)
    const stick = nearBottom(box)
    msgsBusy = (async () => {
      const { res, text } = await fetchHtml(box.dataset.src)
      if (res.ok && document.contains(box)) {
        const top = box.scrollTop
        const next = replace(box, text)
        if (next) next.scrollTop = stick ? next.scrollHeight : top
      }
    })().finally(() => {
      msgsBusy = null
    })
    return msgsBusy
  }
  // The header: re-read and swapped, keeping the focus on the same control (assignee, a status button).
  let headTimer = null
  const refreshHead = () => {
    clearTimeout(headTimer)
    headTimer = setTimeout(async () => {
      const head = $('#chat-head')
      if (!head?.dataset.src) return
      const { res, text } = await fetchHtml(head.dataset.src)
      if (!res.ok || !document.contains(head)) return
      const focused = head.contains(document.activeElement) ? document.activeElement : null
      // A rep choosing in the assignee list is not interrupted: the next event refreshes it.
      if (focused?.id === 'chat-assignee') return
      const key = focused?.dataset.testid
      const next = replace(head, text)
      if (key) next?.querySelector(`[data-testid="${key}"]`)?.focus()
    }, 80)
  }
  // The 24-hour window: swapped only when it opened or closed (a template being filled is kept),
  // then the composer follows: outside the window only a note can be written.
  const syncWindow = () => {
    const area = $('#window-area')
    const form = $('[data-composer]')
    if (!area || !form) return
    const closed = area.dataset.windowOpen === 'false'
    form.dataset.windowClosed = String(closed)
    const note = !!form.querySelector('[data-note-toggle]')?.checked
    const ta = form.querySelector('textarea[name=body]')
    if (ta) ta.disabled = closed && !note
    const input = fileInput()
    if (input) input.disabled = closed && !note
  }
  const refreshWindow = async () => {
    const area = $('#window-area')
    if (!area?.dataset.src) return
    const { res, text } = await fetchHtml(area.dataset.src)
    if (!res.ok || !document.contains(area)) return
    const tpl = document.createElement('template')
    tpl.innerHTML = text.trim()
    const next = tpl.content.firstElementChild
    if (!next || next.dataset.windowOpen === area.dataset.windowOpen) return
    area.replaceWith(next)
    syncWindow()
  }
  const onEvent = (e) => {
    const root = inbox()
    if (!root) return
    refreshList()
    const id = e.detail?.data?.conversationId
    if (!id || id !== root.dataset.active) return
    refreshMessages()
    if (e.type === 'rt:inbox.conversation' || e.type === 'rt:inbox.message') refreshHead()
    if (e.type === 'rt:inbox.message') refreshWindow()
  }
  for (const type of ['rt:inbox.message', 'rt:inbox.status', 'rt:inbox.conversation', 'rt:inbox.media'])
    document.body.addEventListener(type, onEvent)

  // Composer -------------------------------------------------------------------------------------
  const grow = (ta) => {
    ta.style.height = 'auto'
    ta.style.height = `${Math.min(ta.scrollHeight, 180)}px`
  }
  const showError = (text) => {
    const el = $('#composer-error')
    if (!el) return
    el.textContent = text || ''
    el.hidden = !text
  }
  // Attachment: the chosen file's chip (name, size, remove), checked against the cap at once.
  const fileInput = () => $('#composer-file')
  const fmtSize = (n) =>
    n >= 1048576
      ? `${(n / 1048576).toFixed(1).replace(/\.0$/, '')} MB`
      : `${Math.max(1, Math.round(n / 1024))} kB`
  const showFile = () => {
    const input = fileInput()
    const chip = $('#attach-chip')
    const ta = $('#composer-body')
    if (!input || !chip) return
    const f = input.files?.[0]
    if (f && Number(input.dataset.maxBytes) && f.size > Number(input.dataset.maxBytes)) {
      input.value = ''
      showError(input.dataset.tooLarge || '')
      return showFile()
    }
    chip.hidden = !f
    chip.querySelector('.attach-name').textContent = f ? f.name : ''
    chip.querySelector('.attach-size').textContent = f ? fmtSize(f.size) : ''
    if (ta && !ta.closest('.is-note'))
      ta.placeholder = f ? ta.dataset.captionPlaceholder || ta.placeholder : ta.dataset.placeholder
    if (f) showError('')
  }
  const clearFile = () => {
    const input = fileInput()
    if (input) input.value = ''
    showFile()
  }

  // Reply-to: a bubble's Reply button fills the chip above the textarea (sent as replyToId).
  const setReply = (id, quote) => {
    const chip = $('#reply-chip')
    const input = $('#reply-to-id')
    if (!chip || !input) return
    input.value = id
    $('#reply-chip-body').textContent = quote || ''
    chip.hidden = false
    $('#composer-body')?.focus()
  }
  const clearReply = () => {
    const chip = $('#reply-chip')
    const input = $('#reply-to-id')
    if (!chip || !input || chip.hidden) return false
    input.value = ''
    chip.hidden = true
    return true
  }

  let sending = false
  // A WhatsApp Web bulk-send warning (409): shown in the composer; its "Send anyway" button submits
  // the composer again with bulkConfirmed=1 (the submitter's name/value travel in the FormData).
  const showWarning = (htmlText) => {
    const el = $('#composer-warning')
    if (el) replace(el, htmlText || '<div id="composer-warning" hidden></div>')
  }
  const send = async (form, submitter) => {
    if (sending) return
    const ta = form.querySelector('textarea[name=body]')
    const hasFile = !!form.querySelector('input[type=file]')?.files?.length
    if (!ta.value.trim() && !hasFile) return showError('')
    sending = true
    try {
      // multipart (the attachment travels with the text, which is then its caption)
      const body = new FormData(form, submitter || null)
      const { res, text } = await fetchHtml(form.action, { method: 'POST', body })
      if (res.ok) {
        ta.value = ''
        clearFile()
        clearReply()
        grow(ta)
        showError('')
        showWarning('')
        const box = $('#msgs')
        if (box) {
          const next = replace(box, text)
          if (next) next.scrollTop = next.scrollHeight
        }
        refreshList()
        // Answering may have assigned the conversation to the rep or reopened it.
        refreshHead()
      } else if (res.status === 422 || res.status === 413) {
        showError(text)
      } else if (res.status === 409) {
        showError('')
        showWarning(text)
      } else {
        form.submit()
      }
    } catch {
      showError(form.dataset.offline || '⚠')
    } finally {
      sending = false
      ta.focus()
    }
  }

  document.addEventListener(
    'submit',
    (e) => {
      const form = e.target
      if (!(form instanceof HTMLFormElement) || !form.matches('[data-composer]')) return
      e.preventDefault()
      e.stopImmediatePropagation()
      send(form, e.submitter)
    },
    true,
  )

  // Quick replies ("/shortcut") ------------------------------------------------------------------
  let qrIndex = 0
  const qrItems = () => [...document.querySelectorAll('#qr-pop .qr-item')]
  const closeQr = () => {
    const pop = $('#qr-pop')
    if (pop) pop.hidden = true
  }
  const renderQr = (form, ta) => {
    const pop = $('#qr-pop')
    if (!pop) return
    const m = /^\/(\S*)$/.exec(ta.value)
    if (!m) return closeQr()
    let replies = []
    try {
      replies = JSON.parse(form.dataset.quickReplies || '[]')
    } catch {}
    const q = m[1].toLowerCase()
    const hits = replies.filter((r) => r.s.includes(q) || r.b.toLowerCase().includes(q)).slice(0, 8)
    pop.replaceChildren()
    if (!hits.length) {
      const p = document.createElement('div')
      p.className = 'subtle'
      p.style.padding = '6px 8px'
      p.textContent = pop.dataset.empty || ''
      pop.append(p)
    }
    hits.forEach((r, i) => {
      const b = document.createElement('button')
      b.type = 'button'
      b.className = 'qr-item'
      b.setAttribute('role', 'option')
      b.setAttribute('aria-selected', String(i === 0))
      b.dataset.body = r.b
      const s = document.createElement('b')
      s.textContent = `/${r.s}`
      const t = document.createElement('span')
      t.textContent = r.b
      b.append(s, t)
      pop.append(b)
    })
    qrIndex = 0
    pop.hidden = false
  }
  const pickQr = (ta, body) => {
    ta.value = body
    closeQr()
    grow(ta)
    ta.focus()
    ta.setSelectionRange(ta.value.length, ta.value.length)
  }
  const selectQr = (i) => {
    const items = qrItems()
    if (!items.length) return
    qrIndex = (i + items.length) % items.length
    for (const [j, b] of items.entries()) b.setAttribute('aria-selected', String(j === qrIndex))
    items[qrIndex].scrollIntoView({ block: 'nearest' })
  }

  document.addEventListener('input', (e) => {
    const ta = e.target
    if (!(ta instanceof HTMLTextAreaElement) || ta.name !== 'body' || !ta.closest('[data-composer]')) return
    grow(ta)
    renderQr(ta.form, ta)
  })

  document.addEventListener('keydown', (e) => {
    const ta = e.target
    // Escape in the emoji picker closes it and gives the focus back to its button.
    if (e.key === 'Escape' && ta instanceof Element && ta.closest('#emoji-pop')) {
      $('#emoji-pop').hidden = true
      const toggle = $('[data-emoji-toggle]')
      toggle?.setAttribute('aria-expanded', 'false')
      toggle?.focus()
      return
    }
    if (e.key === 'Escape' && ta instanceof Element && ta.closest('#reply-chip')) {
      clearReply()
      return $('#composer-body')?.focus()
    }
    if (!(ta instanceof HTMLTextAreaElement) || !ta.closest('[data-composer]')) return
    const pop = $('#qr-pop')
    if (pop && !pop.hidden && qrItems().length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault()
        return selectQr(qrIndex + (e.key === 'ArrowDown' ? 1 : -1))
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault()
        return pickQr(ta, qrItems()[qrIndex].dataset.body)
      }
    }
    if (e.key === 'Escape') {
      // One thing at a time: an open popup first, then the reply being written.
      const qr = $('#qr-pop')
      const em = $('#emoji-pop')
      if ((qr && !qr.hidden) || (em && !em.hidden)) {
        closeQr()
        if (em) em.hidden = true
      } else clearReply()
      return
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault()
      ta.form.requestSubmit()
    }
  })

  document.addEventListener('click', (e) => {
    const t = e.target instanceof Element ? e.target : null
    if (!t) return
    const replyBtn = t.closest('[data-reply]')
    if (replyBtn) return setReply(replyBtn.dataset.reply, replyBtn.dataset.quote)
    if (t.closest('[data-reply-cancel]')) {
      clearReply()
      return $('#composer-body')?.focus()
    }
    if (t.closest('[data-attach-remove]')) {
      clearFile()
      fileInput()?.focus()
      return
    }
    const qr = t.closest('.qr-item')
    if (qr) {
      const ta = $('#composer-body')
      if (ta) pickQr(ta, qr.dataset.body)
      return
    }
    const toggle = t.closest('[data-emoji-toggle]')
    const em = $('#emoji-pop')
    if (toggle && em) {
      em.hidden = !em.hidden
      toggle.setAttribute('aria-expanded', String(!em.hidden))
      if (!em.hidden) em.querySelector('button')?.focus()
      return
    }
    const emoji = t.closest('[data-emoji]')
    if (emoji) {
      const ta = $('#composer-body')
      if (!ta) return
      const at = ta.selectionStart ?? ta.value.length
      const end = ta.selectionEnd ?? at
      ta.value = ta.value.slice(0, at) + emoji.dataset.emoji + ta.value.slice(end)
      ta.focus()
      ta.setSelectionRange(at + emoji.dataset.emoji.length, at + emoji.dataset.emoji.length)
      grow(ta)
      if (em) em.hidden = true
      return
    }
    if (em && !em.hidden && !t.closest('#emoji-pop')) em.hidden = true
  })

  document.addEventListener('change', (e) => {
    if (e.target instanceof HTMLInputElement && e.target.id === 'composer-file') return showFile()
    const box = e.target
    if (!(box instanceof HTMLInputElement) || !box.matches('[data-note-toggle]')) return
    const form = box.closest('[data-composer]')
    const ta = form?.querySelector('textarea[name=body]')
    form?.classList.toggle('is-note', box.checked)
    if (ta) {
      ta.placeholder = box.checked ? ta.dataset.notePlaceholder : ta.dataset.placeholder
      // Notes are allowed outside the 24-hour window: only messages to the contact are not.
      syncWindow()
      ta.focus()
    }
  })

  // A pasted image (screenshot) becomes the attachment.
  document.addEventListener('paste', (e) => {
    const ta = e.target
    const input = fileInput()
    if (!(ta instanceof HTMLTextAreaElement) || !ta.closest('[data-composer]') || !input || input.disabled)
      return
    const files = e.clipboardData?.files
    if (!files?.length) return
    e.preventDefault()
    const dt = new DataTransfer()
    dt.items.add(files[0])
    input.files = dt.files
    showFile()
  })

  const init = () => {
    const root = inbox()
    if (!root) return
    // Controls that only work with this script (a bubble's Reply) show from now on.
    root.classList.add('js-ready')
    toBottom()
    const ta = $('#composer-body')
    if (ta) grow(ta)
  }
  document.addEventListener('htmx:afterSettle', init)
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init)
  else init()
})()
