/**
 * Inbox attachments end to end, in headless Chromium against the real server (hub, worker, the real
 * sandbox provider): a customer sends a photo through the sandbox form, it shows as a thumbnail that
 * opens full size; the rep attaches an image (keyboard reachable, chip with name and remove) and a
 * PDF, they go out and show in the chat; another organization gets 404 for the file.
 * Screenshots: screenshots/inbox-media-*.png.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { deflateSync } from 'node:zlib'
import type { Page } from 'playwright-core'
import { type E2E, PHONE, settled, shot, signUpViaForm, startE2E, uniqueEmail } from './browser'

setDefaultTimeout(120_000)

const DESKTOP = { width: 1440, height: 900 }
let e2e: E2E
let base: string

// A small PNG encoder (RGB, no filter), so the pictures are real and look like something ----------------

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
const crc32 = (b: Uint8Array) => {
  let c = 0xffffffff
  for (const x of b) c = CRC[(c ^ x) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
function chunk(type: string, data: Uint8Array) {
  const out = new Uint8Array(12 + data.length)
  const v = new DataView(out.buffer)
  v.setUint32(0, data.length)
  out.set(new TextEncoder().encode(type), 4)
  out.set(data, 8)
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)))
  return out
}
function png(w: number, h: number, px: (x: number, y: number) => [number, number, number]): Buffer {
  const raw = new Uint8Array((w * 3 + 1) * h)
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(px(x, y), y * (w * 3 + 1) + 1 + x * 3)
  const ihdr = new Uint8Array(13)
  const v = new DataView(ihdr.buffer)
  v.setUint32(0, w)
  v.setUint32(4, h)
  ihdr.set([8, 2, 0, 0, 0], 8)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ])
}
/** A sunset over the sea, with a sun. */
const SUNSET = png(480, 360, (x, y) => {
  const sun = Math.hypot(x - 300, y - 170) < 48
  if (sun) return [255, 214, 102]
  if (y > 220) return [20 + (y - 220) / 4, 70 + (y - 220) / 6, 120 + (y - 220) / 3]
  const k = y / 220
  return [250 - 40 * k, 120 + 60 * k - x / 12, 90 + 90 * k]
})
/** A product shot: a teal mug on a warm background. */
const MUG = png(400, 300, (x, y) => {
  const body = x > 140 && x < 260 && y > 80 && y < 240
  const handle = Math.abs(Math.hypot(x - 268, y - 160) - 32) < 9 && x > 260
  if (body || handle) return [16, 150 - (x - 140) / 3, 140]
  return [247 - y / 10, 232 - y / 12, 214 - y / 14]
})
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n')

beforeAll(async () => {
  e2e = await startE2E({
    name: 'inbox-media',
    viewport: DESKTOP,
    actionTimeoutMs: 20_000,
    logPageErrors: true,
  })
  base = e2e.base
}, 180_000)
afterAll(() => e2e?.close(), 60_000)

async function createSandboxChannel(page: Page) {
  await page.goto(`${base}/settings/channels`)
  await settled(page)
  await page.locator('[data-testid="wa-new-form"] #f-name').fill('WhatsApp Sandbox')
  await page.locator('[data-testid="wa-new-form"] input[name="provider"][value="sandbox"]').check()
  await page.locator('[data-testid="wa-new-form"] button[type="submit"]').click()
  await page.waitForURL(/\/settings\/channels\/[0-9a-f-]{36}$/)
}

const loaded = (page: Page, selector: string) =>
  page.waitForFunction(
    (sel) =>
      Array.from(document.querySelectorAll<HTMLImageElement>(sel)).some(
        (i) => i.complete && i.naturalWidth > 0,
      ),
    selector,
  )

describe('inbox attachments', () => {
  let mediaUrl = ''

  test('a customer photo arrives as a thumbnail; the rep answers with an image and a PDF', async () => {
    const page = await e2e.newPage({ locale: 'pt-BR' })
    await signUpViaForm(base, page, { name: 'Bia Vendas', email: uniqueEmail('bia'), org: 'Loja Maré' })
    await createSandboxChannel(page)

    // The customer (sandbox form) sends a photo with a caption.
    await page.goto(`${base}/inbox`)
    await settled(page)
    await page.locator('[data-testid="sandbox-try"] summary').click()
    await page.locator('#sandbox-name').fill('Carla Nunes')
    await page.locator('#sandbox-text').fill('Vi esse pôr do sol na praia, vocês têm esse quadro?')
    await page
      .locator('#sandbox-file')
      .setInputFiles({ name: 'por-do-sol.png', mimeType: 'image/png', buffer: SUNSET })
    await page.locator('[data-testid="sandbox-send"]').click()
    await page.waitForURL(`${base}/inbox`)
    await settled(page)
    const conv = page.locator('[data-testid="conv"]', { hasText: 'Carla Nunes' })
    await conv.waitFor()
    await conv.click()
    await page.waitForURL(/\/inbox\/c\/[0-9a-f-]{36}/)
    await settled(page)
    const inImg = page.locator('.bubble.in [data-testid="media-image"] img')
    await inImg.waitFor()
    await loaded(page, '.bubble.in [data-testid="media-image"] img')
    mediaUrl = new URL(
      (await page.locator('.bubble.in [data-testid="media-image"]').getAttribute('href'))!,
      base,
    ).href
    // The thumbnail opens the full-size file (inline, the real bytes).
    const full = await page.request.get(mediaUrl)
    expect(full.status()).toBe(200)
    expect(full.headers()['content-type']).toBe('image/png')
    expect(Buffer.from(await full.body()).equals(SUNSET)).toBe(true)

    // The rep reaches the attach button with the keyboard (Tab from the composer).
    const composer = page.locator('#composer-body')
    await composer.focus()
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('composer-file')
    // Choose, see the chip, remove, choose again.
    await page
      .locator('#composer-file')
      .setInputFiles({ name: 'caneca-azul.png', mimeType: 'image/png', buffer: MUG })
    const chip = page.locator('[data-testid="attach-chip"]')
    await chip.waitFor()
    expect(await chip.textContent()).toContain('caneca-azul.png')
    await chip.locator('[data-attach-remove]').click()
    expect(await chip.isHidden()).toBe(true)
    expect(await page.locator('#composer-file').evaluate((i: HTMLInputElement) => i.files?.length ?? 0)).toBe(
      0,
    )
    await page
      .locator('#composer-file')
      .setInputFiles({ name: 'caneca-azul.png', mimeType: 'image/png', buffer: MUG })
    await composer.fill('Temos sim! E olha essa caneca que combina 😍')
    await shot(page, 'inbox-media-chip', false)
    await composer.press('Enter')
    const outImg = page.locator('.bubble.out [data-testid="media-image"] img')
    await outImg.waitFor()
    await loaded(page, '.bubble.out [data-testid="media-image"] img')
    expect(await chip.isHidden()).toBe(true)
    expect(await composer.inputValue()).toBe('')
    await page
      .locator('.bubble.out[data-status="read"]', { hasText: 'caneca que combina' })
      .waitFor({ timeout: 30_000 })

    // A PDF without caption: a download link with its name and size.
    await page
      .locator('#composer-file')
      .setInputFiles({ name: 'Catálogo Maré 2026.pdf', mimeType: 'application/pdf', buffer: PDF })
    await composer.press('Enter')
    const doc = page.locator('.bubble.out [data-testid="media-document"]')
    await doc.waitFor()
    expect(await doc.textContent()).toContain('Catálogo Maré 2026.pdf')
    expect(await doc.getAttribute('href')).toMatch(/^\/inbox\/media\/[0-9a-f-]{36}\?download=1$/)
    // The sandbox "customer" replies to the caption; wait for it so the screenshot has the full loop.
    await page.locator('.bubble.in').nth(1).waitFor({ timeout: 30_000 })
    await loaded(page, '.bubble.in [data-testid="media-image"] img')
    await shot(page, 'inbox-media-desktop', false)

    // Phone width: thumbnails fit the screen, the attach button is there.
    await page.setViewportSize(PHONE)
    await page.reload()
    await settled(page)
    await loaded(page, '.bubble.out [data-testid="media-image"] img')
    expect(await page.locator('[data-testid="attach"]').isVisible()).toBe(true)
    const box = await page.locator('.bubble.in [data-testid="media-image"] img').boundingBox()
    expect(box!.width).toBeLessThanOrEqual(PHONE.width)
    await page.locator('.bubble.out [data-testid="media-image"]').last().scrollIntoViewIfNeeded()
    await shot(page, 'inbox-media-phone', false)
  })

  test('another organization gets 404 for the file', async () => {
    expect(mediaUrl).not.toBe('')
    const page = await e2e.newPage()
    await signUpViaForm(base, page, { name: 'Outro', email: uniqueEmail('outro'), org: 'Outra Loja' })
    const res = await page.request.get(mediaUrl)
    expect(res.status()).toBe(404)
  })
})
