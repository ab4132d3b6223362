/**
 * Attachments in the inbox: a message's media inside its bubble (image thumbnail opening the full
 * size, native audio/video players, a document download with name and size, "receiving…" while the
 * download job runs, the reason when it could not be fetched) and the composer's attach control.
 * Files are served by GET /inbox/media/:id (src/modules/inbox/inbox.routes.tsx), under RLS.
 */
import alert from 'lucide-static/dist/esm/icons/circle-alert.mjs'
import download from 'lucide-static/dist/esm/icons/download.mjs'
import file from 'lucide-static/dist/esm/icons/file-text.mjs'
import loader from 'lucide-static/dist/esm/icons/loader-circle.mjs'
import paperclip from 'lucide-static/dist/esm/icons/paperclip.mjs'
import x from 'lucide-static/dist/esm/icons/x.mjs'
import { inlineSafe, MEDIA_MAX_BYTES, mediaKindOf } from '../../src/modules/inbox/inbox.media'
import type { MessageView } from '../../src/modules/inbox/inbox.usecases'
import { iconSet } from '../components/icon'
import type { Ui } from '../ui'

// Lucide's static SVGs (ISC): trusted build-time strings.
export const MIcon = iconSet({ alert, download, file, loader, paperclip, x })

/** "840 kB", "3,2 MB" in the user's locale. */
export function formatBytes(n: number, locale: string): string {
  const [unit, value] =
    n >= 1024 * 1024
      ? (['megabyte', n / (1024 * 1024)] as const)
      : (['kilobyte', Math.max(1, n / 1024)] as const)
  return new Intl.NumberFormat(locale, {
    style: 'unit',
    unit,
    unitDisplay: 'short',
    maximumFractionDigits: unit === 'megabyte' ? 1 : 0,
  }).format(value)
}

const extOf = (name: string | null | undefined) =>
  /\.([a-z0-9]{1,5})$/i.exec(name ?? '')?.[1]?.toUpperCase() ?? ''

export function MessageMedia({ ui, m }: { ui: Ui; m: MessageView }) {
  const { t } = ui
  const media = m.media
  if (!media) return ''
  const mime = media.mime ?? 'application/octet-stream'
  const stored = !!media.fileId
  const kind = stored ? (inlineSafe(mime) ? mime.split('/')[0] : 'document') : mediaKindOf(mime)
  const label = media.voice
    ? t('inbox.media.voice')
    : t(
        kind === 'image'
          ? 'inbox.media.image'
          : kind === 'audio'
            ? 'inbox.media.audio'
            : kind === 'video'
              ? 'inbox.media.video'
              : 'inbox.media.document',
      )
  const name = media.filename || label
  if (media.error)
    return (
      <div class="media-ref media-error" role="note" data-testid="media-error">
        <MIcon name="alert" />
        <span safe>{t('inbox.media.unavailable', { reason: media.error.message || media.error.code })}</span>
      </div>
    )
  if (!stored) {
    const coming = m.direction === 'in' && !!(media.providerMediaId || media.url || media.providerData)
    return coming ? (
      <div class="media-ref media-pending" role="status" data-testid="media-pending">
        <MIcon name="loader" />
        <span safe>{t('inbox.media.receiving')}</span>
      </div>
    ) : (
      <div class="media-ref">
        <MIcon name="file" />
        <span safe>{media.filename || t('inbox.media.reference')}</span>
      </div>
    )
  }
  const src = `/inbox/media/${media.fileId}`
  if (kind === 'image')
    return (
      <a
        class="media-img"
        href={src}
        target="_blank"
        rel="noopener"
        title={t('inbox.media.open_full')}
        data-testid="media-image"
      >
        <img src={src} alt={media.filename || label} loading="lazy" decoding="async" />
      </a>
    )
  if (kind === 'audio')
    return (
      <div class="media-audio" data-testid="media-audio">
        {/* biome-ignore lint/a11y/useMediaCaption: customers' voice notes come without captions */}
        <audio controls="" preload="metadata" src={src} aria-label={name}></audio>
      </div>
    )
  if (kind === 'video')
    return (
      // biome-ignore lint/a11y/useMediaCaption: customers' videos come without captions
      <video class="media-video" controls src={src} aria-label={name} data-testid="media-video"></video>
    )
  const meta = [media.size ? formatBytes(media.size, ui.locale) : '', extOf(media.filename)]
    .filter(Boolean)
    .join(' · ')
  return (
    <a
      class="media-doc"
      href={`${src}?download=1`}
      download={name}
      aria-label={t('inbox.media.download', { name })}
      data-testid="media-document"
    >
      <span class="media-doc-icon">
        <MIcon name="file" />
      </span>
      <span class="media-doc-text">
        <span class="media-doc-name" safe>
          {name}
        </span>
        <span class="media-doc-meta" safe>
          {meta}
        </span>
      </span>
      <MIcon name="download" />
    </a>
  )
}

/**
 * The composer's attach control: a real file input (keyboard: Tab reaches it, Enter/Space opens the
 * picker; it works without JavaScript) styled as a paperclip button, and the chosen file's chip with
 * a remove button (public/inbox.js fills and clears it).
 */
export function AttachControl({ ui, disabled }: { ui: Ui; disabled: boolean }) {
  const { t } = ui
  const max = MEDIA_MAX_BYTES >> 20
  return (
    <label class="icon-btn attach-btn" title={t('inbox.media.attach_hint', { max })} data-testid="attach">
      <input
        type="file"
        name="file"
        id="composer-file"
        class="attach-input"
        aria-label={t('inbox.media.attach')}
        aria-describedby="composer-error"
        data-max-bytes={String(MEDIA_MAX_BYTES)}
        data-too-large={t('inbox.media.error.too_large', { max })}
        disabled={disabled ? true : undefined}
      />
      <MIcon name="paperclip" />
    </label>
  )
}

export function AttachChip({ ui }: { ui: Ui }) {
  const { t } = ui
  return (
    <div class="attach-chip" id="attach-chip" hidden data-testid="attach-chip">
      <MIcon name="file" />
      <span class="attach-name" id="attach-name"></span>
      <span class="attach-size"></span>
      <button
        type="button"
        class="icon-btn attach-remove"
        data-attach-remove
        aria-label={t('inbox.media.remove')}
        title={t('inbox.media.remove')}
      >
        <MIcon name="x" />
      </button>
    </div>
  )
}
