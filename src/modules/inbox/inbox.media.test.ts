/**
 * Message media (issue #6): the file store, attachments out (the composer's multipart post, stored
 * with the pending message, sent by the job), media in (the download job, retried; the sandbox form),
 * the authenticated file route (types, disposition, nosniff, ranges), the Cloud API path against a
 * local fake Graph API (GET /{media-id} + the URL, upload + message JSON, a 5xx retried), the Baileys
 * path through a fake transport, cross-tenant isolation and the LGPD erasure of a lead's files.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { WAMessage } from '@whiskeysockets/baileys'
import { sql } from 'drizzle-orm'
import { BASE, createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { rowsOf } from '../../platform/db/client'
import { withOrg } from '../../platform/db/tenancy'
import { createFakeClock } from '../../platform/jobs/jobs.clock'
import type { AnyJob } from '../../platform/jobs/jobs.define'
import { createWorker } from '../../platform/jobs/jobs.worker'
import { silentLogger } from '../../platform/log/logger'
import { eraseLeads } from '../leads/leads.erase'
import { actorOf, type Member } from '../pipeline/pipeline.fixtures'
import { createBaileysSupervisor } from '../whatsapp/whatsapp.baileys'
import { bareChannelForm, cloudChannelForm, FakeTransport, newChannel } from '../whatsapp/whatsapp.fixtures'
import { processInboundJob } from '../whatsapp/whatsapp.inbound'
import { configureWhatsApp, deliverTo, whatsappRuntime } from '../whatsapp/whatsapp.runtime'
import { type DownloadedMedia, type MediaRef, SendError, type SendRequest } from '../whatsapp/whatsapp.types'
import { channelSenderOf, type SenderResolver, setChannelSender } from './inbox.channel'
import { createChannel, inbound, receive } from './inbox.fixtures'
import { INBOX_JOBS } from './inbox.jobs'
import {
  cleanFilename,
  contentDisposition,
  inlineSafe,
  MEDIA_CHUNK_BYTES,
  MEDIA_MAX_BYTES,
  mediaKindOf,
  sha256Hex,
  sniffMime,
} from './inbox.media'
import { parseRange } from './inbox.routes'
import { sendMessage } from './inbox.usecases'

// Sample files ----------------------------------------------------------------------------------------

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'))
/** A real 1×1 PNG. */
const PNG = b64(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
)
const JPEG = new Uint8Array([
  0xff,
  0xd8,
  0xff,
  0xe0,
  0,
  16,
  ...new TextEncoder().encode('JFIF'),
  0,
  1,
  2,
  3,
  4,
])
const PDF = new TextEncoder().encode('%PDF-1.4\n% proposta comercial\n')
const SVG = new TextEncoder().encode(
  '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
)
const HTML = new TextEncoder().encode('<!doctype html><script>alert(document.cookie)</script>')
/** A document spanning three chunks, each byte telling its position. */
const BIG = (() => {
  const b = new Uint8Array(MEDIA_CHUNK_BYTES * 2 + 12345)
  for (let i = 0; i < b.length; i++) b[i] = (i * 7) & 0xff
  b.set(new TextEncoder().encode('%PDF-1.7'), 0)
  return b
})()

// A fake Graph API (Cloud API) ---------------------------------------------------------------------------

interface Seen {
  method: string
  path: string
  auth: string | null
  json?: any
  form?: Record<string, string | { name: string; type: string; size: number }>
}
const graphSeen: Seen[] = []
let graphFailures = 0
const graphFiles = new Map<string, { data: Uint8Array; mime: string }>()
const graph = Bun.serve({
  port: 0,
  async fetch(req) {
    const url = new URL(req.url)
    const s: Seen = { method: req.method, path: url.pathname, auth: req.headers.get('authorization') }
    const type = req.headers.get('content-type') ?? ''
    if (type.includes('application/json')) s.json = await req.json()
    if (type.includes('multipart/form-data')) {
      s.form = {}
      for (const [k, v] of (await req.formData()).entries())
        s.form[k] =
          typeof v === 'string'
            ? v
            : { name: (v as File).name, type: (v as File).type, size: (v as File).size }
    }
    graphSeen.push(s)
    // The download URL Meta hands out (lookaside.fbsbx.com in real life), bearer token required.
    const dl = /^\/lookaside\/(\w+)$/.exec(url.pathname)
    if (dl) {
      if (req.headers.get('authorization') !== 'Bearer EAAG-media-token')
        return Response.json({ error: { code: 190, message: 'bad token' } }, { status: 401 })
      if (graphFailures > 0) {
        graphFailures--
        return Response.json(
          { error: { code: 2, message: 'Service temporarily unavailable' } },
          { status: 503 },
        )
      }
      const f = graphFiles.get(dl[1]!)
      return f
        ? new Response(f.data as Uint8Array<ArrayBuffer>, { headers: { 'content-type': f.mime } })
        : new Response('gone', { status: 404 })
    }
    if (url.pathname.endsWith('/media')) return Response.json({ id: 'media-up-1' })
    if (url.pathname.endsWith('/messages'))
      return Response.json({
        messaging_product: 'whatsapp',
        contacts: [{ input: s.json?.to, wa_id: s.json?.to }],
        messages: [{ id: `wamid.CLOUD${graphSeen.length}` }],
      })
    // GET /v21.0/{media-id}: the documented retrieve-media answer.
    const meta = /^\/v21\.0\/(\w+)$/.exec(url.pathname)
    const f = meta && graphFiles.get(meta[1]!)
    if (f)
      return Response.json({
        messaging_product: 'whatsapp',
        url: `${url.origin}/lookaside/${meta![1]}`,
        mime_type: f.mime,
        sha256: sha256Hex(f.data),
        file_size: String(f.data.byteLength),
        id: meta![1],
      })
    return Response.json({ error: { code: 100, message: 'Unsupported get request' } }, { status: 400 })
  },
})

// Fake Baileys sockets (FakeTransport, whatsapp.fixtures) the supervisor made -------------------------

const transports: FakeTransport[] = []

// Harness ---------------------------------------------------------------------------------------------

let t: TestApp
/** The resolver the app's own wiring registered (the real-provider tests put it back). */
let appSender: SenderResolver | undefined
let a: Member
let b: Member
let channel: string
const sent: SendRequest[] = []
let sendBehave: (req: SendRequest) => Promise<{ providerMessageId: string }>
let downloadBehave: (m: MediaRef) => Promise<DownloadedMedia>

/** The inbox's provider door replaced by a recording double (send + download). */
function useFakeSender() {
  setChannelSender(t.db, async () => ({
    send: async (req) => {
      const r = await sendBehave(req)
      sent.push(req)
      return r
    },
    download: (m) => downloadBehave(m),
  }))
}

const q = <T>(text: string, params: unknown[] = []) => t.db.raw.query<T>(text, params)
const asA = <T>(fn: Parameters<typeof withOrg<T>>[2]) =>
  withOrg(t.db, { orgId: a.orgId, userId: a.userId }, fn)
const asB = <T>(fn: Parameters<typeof withOrg<T>>[2]) =>
  withOrg(t.db, { orgId: b.orgId, userId: b.userId }, fn)

/** Runs every due job (and what they enqueue) with a fresh worker whose clock is `ahead` ms later. */
async function drain(ahead = 0, jobs: AnyJob[] = INBOX_JOBS) {
  const clock = createFakeClock(Date.now() + ahead)
  const worker = createWorker({ db: t.db, jobs, clock, log: silentLogger })
  let n = 0
  for (let i = 0; i < 10; i++) {
    // Jobs enqueued meanwhile are due at the database's now(): the frozen clock catches up.
    clock.set(Date.now() + ahead)
    const ran = await worker.runDue()
    n += ran
    if (!ran) break
  }
  return n
}

async function post(
  m: Member,
  path: string,
  fields: Record<string, string>,
  file?: { data: Uint8Array; type: string; name: string },
  headers: Record<string, string> = {},
) {
  const form = new FormData()
  for (const [k, v] of Object.entries(fields)) form.append(k, v)
  if (file)
    form.append('file', new File([file.data as Uint8Array<ArrayBuffer>], file.name, { type: file.type }))
  return t.handle(
    new Request(new URL(path, BASE), {
      method: 'POST',
      body: form,
      headers: {
        cookie: [...m.client.jar].map(([k, v]) => `${k}=${v}`).join('; '),
        origin: new URL(BASE).origin,
        ...headers,
      },
      redirect: 'manual',
    }),
  )
}

let phoneSeq = 0
const newPhone = () => `+55119${String(76000000 + ++phoneSeq * 7919).padStart(8, '0')}`
async function thread(ch = channel, phone = newPhone()) {
  await receive(t.db, a.orgId, ch, [inbound(phone, 'olá')])
  const [c] = await q<{ id: string; lead_id: string }>(
    'select id, lead_id from conversations where channel_id = $1 and contact_phone = $2',
    [ch, phone],
  )
  return c!
}
const messageOf = async (id: string) =>
  (
    await q<{ type: string; body: string | null; media: any; status: string; error: any }>(
      'select type, body, media, status, error from messages where id = $1',
      [id],
    )
  )[0]!
const lastOut = async (conv: string) =>
  (
    await q<{ id: string }>(
      "select id from messages where conversation_id = $1 and direction = 'out' order by created_at desc, id desc limit 1",
      [conv],
    )
  )[0]?.id
const lastIn = async (conv: string) =>
  (
    await q<{ id: string }>(
      "select id from messages where conversation_id = $1 and direction = 'in' order by created_at desc, id desc limit 1",
      [conv],
    )
  )[0]!.id

beforeAll(async () => {
  t = await createTestApp({ FACEBOOK_GRAPH_URL: `http://127.0.0.1:${graph.port}` })
  a = await signUpClient(t, { orgName: 'Mídia A' })
  b = await signUpClient(t, { orgName: 'Mídia B' })
  channel = await createChannel(t, a.orgId)
  appSender = channelSenderOf(t.db)
  useFakeSender()
}, 300_000)
afterAll(async () => {
  await whatsappRuntime(t.db)
    .baileys.stopAll()
    .catch(() => {})
  await t.close()
  graph.stop(true)
})

// ---------------------------------------------------------------------------------------------------

describe('types, names and ranges', () => {
  test('the stored type is what the bytes prove: a renamed PNG is a PNG, HTML posing as an image is a download', () => {
    expect(sniffMime(PNG, 'image/jpeg', 'foto.jpg')).toBe('image/png')
    expect(sniffMime(HTML, 'image/png', 'foto.png')).toBe('application/octet-stream')
    expect(sniffMime(new TextEncoder().encode('oi'), 'image/png', 'x.png')).toBe('application/octet-stream')
    expect(sniffMime(SVG, 'image/svg+xml', 'logo.svg')).toBe('image/svg+xml')
    expect(sniffMime(PDF, '', 'proposta.pdf')).toBe('application/pdf')
    expect(sniffMime(new TextEncoder().encode('a;b\n1;2'), '', 'lista.xlsx')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    )
    const m4a = new Uint8Array([0, 0, 0, 32, ...new TextEncoder().encode('ftypM4A '), 0, 0, 0, 0])
    expect(sniffMime(m4a, 'audio/x-m4a', 'nota.m4a')).toBe('audio/mp4')
    expect(sniffMime(m4a, 'audio/mp4; codecs=mp4a', 'nota.m4a')).toBe('audio/mp4')
  })

  test('what goes as image, audio, video or document; what is ever shown inline', () => {
    expect(
      ['image/png', 'image/jpeg', 'image/webp', 'video/mp4', 'audio/ogg', 'audio/wav', 'image/svg+xml'].map(
        mediaKindOf,
      ),
    ).toEqual(['image', 'image', 'document', 'video', 'audio', 'document', 'document'])
    expect(
      ['image/png', 'audio/ogg', 'video/mp4', 'image/svg+xml', 'text/html', 'application/pdf'].map(
        inlineSafe,
      ),
    ).toEqual([true, true, true, false, false, false])
  })

  test('file names lose paths and control characters; Content-Disposition carries UTF-8 safely', () => {
    expect(cleanFilename('../../etc/passwd')).toBe('passwd')
    expect(cleanFilename('C:\\fotos\\a\u0000b"c.pdf')).toBe('a_b_c.pdf')
    expect(cleanFilename('..')).toBeNull()
    expect(contentDisposition('attachment', 'Orçamento "final".pdf')).toBe(
      `attachment; filename="Or_amento _final_.pdf"; filename*=UTF-8''Or%C3%A7amento%20%22final%22.pdf`,
    )
  })

  test('one byte range is honoured, several are ignored, an impossible one is unsatisfiable', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual([0, 99])
    expect(parseRange('bytes=900-', 1000)).toEqual([900, 999])
    expect(parseRange('bytes=-100', 1000)).toEqual([900, 999])
    expect(parseRange('bytes=500-5000', 1000)).toEqual([500, 999])
    expect(parseRange('bytes=0-1,5-9', 1000)).toBeNull()
    expect(parseRange(null, 1000)).toBeNull()
    expect(parseRange('bytes=1000-', 1000)).toBe('unsatisfiable')
  })
})

describe('sending an attachment', () => {
  test('the composer posts a photo with its caption: stored with the pending message, sent by the job as an image, shown in the chat', async () => {
    const c = await thread()
    sendBehave = async () => ({ providerMessageId: `wamid.img.${Bun.randomUUIDv7()}` })
    const res = await post(
      a,
      `/inbox/c/${c.id}/send`,
      { body: 'Segue a foto do produto' },
      {
        data: PNG,
        type: 'image/png',
        name: 'produto.png',
      },
    )
    expect(res.status).toBe(303)
    const id = (await lastOut(c.id))!
    const m = await messageOf(id)
    expect(m).toMatchObject({ type: 'image', body: 'Segue a foto do produto', status: 'pending' })
    expect(m.media).toMatchObject({ mime: 'image/png', filename: 'produto.png', size: PNG.length })
    const [file] = await q<{ message_id: string; sha256: string; size: string | number; chunks: number }>(
      `select f.message_id, f.sha256, f.size, (select count(*)::int from media_file_chunks k where k.file_id = f.id) as chunks
       from media_files f where f.id = $1`,
      [m.media.fileId],
    )
    expect(file).toEqual({ message_id: id, sha256: sha256Hex(PNG), size: expect.anything(), chunks: 1 })
    expect(Number(file!.size)).toBe(PNG.length)
    const before = sent.length
    await drain()
    expect((await messageOf(id)).status).toBe('sent')
    const req = sent.slice(before).at(-1)!
    expect(req.kind).toBe('media')
    if (req.kind !== 'media') throw new Error('not media')
    expect({ ...req, data: Buffer.from(req.data!).toString('base64') }).toMatchObject({
      mediaType: 'image',
      mime: 'image/png',
      filename: 'produto.png',
      caption: 'Segue a foto do produto',
      data: Buffer.from(PNG).toString('base64'),
    })
    const page = await a.client.page(`/inbox/c/${c.id}`)
    expect(page).toContain(`<img src="/inbox/media/${m.media.fileId}"`)
    expect(page).toContain('data-testid="media-image"')
    const [conv] = await q<{ last_message_preview: string }>(
      'select last_message_preview from conversations where id = $1',
      [c.id],
    )
    expect(conv!.last_message_preview).toBe('Segue a foto do produto')
  })

  test('a document without a caption goes as a document, its file spread over 1 MiB chunks', async () => {
    const c = await thread()
    const res = await post(
      a,
      `/inbox/c/${c.id}/send`,
      { body: '' },
      {
        data: BIG,
        type: 'application/pdf',
        name: 'Catálogo 2026.pdf',
      },
    )
    expect(res.status).toBe(303)
    const id = (await lastOut(c.id))!
    const m = await messageOf(id)
    expect(m.type).toBe('document')
    expect(m.body).toBeNull()
    const chunks = await q<{ n: number }>(
      'select count(*)::int as n from media_file_chunks where file_id = $1',
      [m.media.fileId],
    )
    expect(chunks[0]!.n).toBe(3)
    // Bytes across the chunk borders come back intact (whole, and as a range).
    const whole = await a.client.get(`/inbox/media/${m.media.fileId}`)
    expect(whole.status).toBe(200)
    expect(sha256Hex(new Uint8Array(await whole.arrayBuffer()))).toBe(sha256Hex(BIG))
    const from = MEDIA_CHUNK_BYTES - 10
    const part = await a.client.get(`/inbox/media/${m.media.fileId}`, { range: `bytes=${from}-${from + 20}` })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes ${from}-${from + 20}/${BIG.length}`)
    expect([...new Uint8Array(await part.arrayBuffer())]).toEqual([...BIG.subarray(from, from + 21)])
    await drain()
    const req = sent.at(-1)!
    expect(req).toMatchObject({ kind: 'media', mediaType: 'document', filename: 'Catálogo 2026.pdf' })
    expect('caption' in req).toBe(false)
    const page = await a.client.page(`/inbox/c/${c.id}`)
    expect(page).toContain('data-testid="media-document"')
    expect(page).toContain('Catálogo 2026.pdf')
    expect(page).toContain('2 MB')
  })

  test('a file over 16 MB gets 413 with the limit (form and htmx); an empty one 422; neither stores anything', async () => {
    const c = await thread()
    const tooBig = new Uint8Array(MEDIA_MAX_BYTES + 1)
    const res = await post(
      a,
      `/inbox/c/${c.id}/send`,
      { body: 'grande demais' },
      {
        data: tooBig,
        type: 'video/mp4',
        name: 'video.mp4',
      },
    )
    expect(res.status).toBe(413)
    const html = await res.text()
    expect(html).toContain('O arquivo é grande demais: no máximo 16 MB.')
    expect(html).toContain('grande demais') // the caption typed is kept
    const frag = await post(
      a,
      `/inbox/c/${c.id}/send`,
      { body: '' },
      { data: tooBig, type: 'video/mp4', name: 'v.mp4' },
      {
        'hx-request': 'true',
      },
    )
    expect(frag.status).toBe(413)
    expect(await frag.text()).toBe('O arquivo é grande demais: no máximo 16 MB.')
    const empty = await post(
      a,
      `/inbox/c/${c.id}/send`,
      { body: 'vazio' },
      {
        data: new Uint8Array(0),
        type: 'application/pdf',
        name: 'vazio.pdf',
      },
    )
    expect(empty.status).toBe(422)
    expect(await empty.text()).toContain('O arquivo está vazio.')
    const long = await post(
      a,
      `/inbox/c/${c.id}/send`,
      { body: 'x'.repeat(1025) },
      {
        data: PNG,
        type: 'image/png',
        name: 'p.png',
      },
    )
    expect(long.status).toBe(422)
    expect(await long.text()).toContain('Uma legenda tem no máximo 1024 caracteres.')
    expect(await lastOut(c.id)).toBeUndefined()
    expect(
      (await q('select 1 from media_files where message_id is null and organization_id = $1', [a.orgId]))
        .length,
    ).toBe(0)
  })

  test('kill-safety: a transaction that dies keeps neither message nor file; a committed one survives a dying worker', async () => {
    const c = await thread()
    const files = async () => (await q<{ n: number }>('select count(*)::int as n from media_files'))[0]!.n
    const n0 = await files()
    const crash = await asA(async (tx) => {
      await sendMessage(tx, actorOf(a), c.id, {
        body: 'legenda',
        file: { data: JPEG, mime: 'image/jpeg', filename: 'a.jpg' },
      })
      throw new Error('process killed before commit')
    }).catch((e) => e)
    expect(String(crash)).toContain('process killed')
    expect(await files()).toBe(n0)
    expect(await lastOut(c.id)).toBeUndefined()

    const { messageId } = await asA((tx) =>
      sendMessage(tx, actorOf(a), c.id, {
        body: 'sobrevive',
        file: { data: JPEG, mime: 'image/jpeg', filename: 'a.jpg' },
      }),
    )
    expect(await files()).toBe(n0 + 1)
    // A worker takes the job and "dies" inside the provider call; the next one sends the same bytes.
    let hang: (() => void) | null = null
    sendBehave = () =>
      new Promise((resolve) => {
        hang = () => resolve({ providerMessageId: 'wamid.never' })
      })
    const dying = createWorker({
      db: t.db,
      jobs: INBOX_JOBS,
      clock: createFakeClock(),
      log: silentLogger,
      leaseMs: 1_000,
    })
    void dying.runDue()
    for (let i = 0; i < 100 && !hang; i++) await Bun.sleep(20)
    expect(hang).not.toBeNull()
    sendBehave = async () => ({ providerMessageId: 'wamid.second.media' })
    const next = createWorker({
      db: t.db,
      jobs: INBOX_JOBS,
      clock: createFakeClock(Date.now() + 60_000),
      log: silentLogger,
    })
    await next.sweep()
    await next.runDue()
    const m = await messageOf(messageId)
    expect(m.status).toBe('sent')
    const req = sent.at(-1)!
    expect(req.kind === 'media' && Buffer.from(req.data!).equals(Buffer.from(JPEG))).toBe(true)
    ;(hang as unknown as () => void)()
  })

  test('a provider refusing the file (unsupported type, too big) fails the message with the reason shown', async () => {
    const c = await thread()
    sendBehave = async () => {
      throw new SendError(
        true,
        'media_unsupported',
        'WhatsApp Cloud API does not accept application/zip as document',
      )
    }
    const { messageId } = await asA((tx) =>
      sendMessage(tx, actorOf(a), c.id, {
        body: '',
        file: {
          data: new Uint8Array([0x50, 0x4b, 3, 4, 1, 2]),
          mime: 'application/zip',
          filename: 'fotos.zip',
        },
      }),
    )
    await drain()
    const m = await messageOf(messageId)
    expect(m.status).toBe('failed')
    expect(m.error).toMatchObject({ code: 'media_unsupported' })
    expect(await a.client.page(`/inbox/c/${c.id}`)).toContain('does not accept application/zip')
    sendBehave = async () => ({ providerMessageId: `wamid.ok.${Bun.randomUUIDv7()}` })
  })

  test('a template cannot carry a file (422)', async () => {
    const c = await thread()
    const err = await asA((tx) =>
      sendMessage(tx, actorOf(a), c.id, {
        body: '',
        template: { name: 'boas_vindas', language: 'pt_BR' },
        file: { data: PNG, mime: 'image/png', filename: 'p.png' },
      }),
    ).catch((e) => e)
    expect(err.fields).toMatchObject({ file: 'inbox.media.error.with_template' })
  })
})

describe('receiving media', () => {
  test('a received image is downloaded by a job into the store; inbox.media is recorded and the chat shows it', async () => {
    const phone = newPhone()
    downloadBehave = async (m) => {
      expect(m).toMatchObject({ providerMediaId: 'media-in-1', mime: 'image/jpeg' })
      return { data: JPEG, mime: 'image/jpeg' }
    }
    await receive(t.db, a.orgId, channel, [
      inbound(phone, '', {
        type: 'image',
        text: 'olha isso',
        media: { providerMediaId: 'media-in-1', mime: 'image/jpeg', caption: 'olha isso' },
      }),
    ])
    const [c] = await q<{ id: string }>('select id from conversations where contact_phone = $1', [phone])
    const id = await lastIn(c!.id)
    expect((await messageOf(id)).media.fileId).toBeNull()
    expect(await a.client.page(`/inbox/c/${c!.id}`)).toContain('Recebendo o anexo…')
    await drain()
    const m = await messageOf(id)
    expect(m.media).toMatchObject({ mime: 'image/jpeg', size: JPEG.length, sha256: sha256Hex(JPEG) })
    expect(m.media.fileId).toBeString()
    const [ev] = await q<{ payload: any }>(
      "select payload from outbox_events where organization_id = $1 and type = 'inbox.media' order by version desc limit 1",
      [a.orgId],
    )
    expect(ev!.payload).toEqual({ conversationId: c!.id, messageId: id })
    const page = await a.client.page(`/inbox/c/${c!.id}`)
    expect(page).toContain(`/inbox/media/${m.media.fileId}`)
    expect(page).not.toContain('Recebendo o anexo…')
    // Running the job again stores nothing more.
    await q(
      "update jobs set state = 'queued', run_at = now() where name = 'inbox.media_download' and payload->>'messageId' = $1",
      [id],
    )
    await drain()
    expect((await q('select 1 from media_files where message_id = $1', [id])).length).toBe(1)
  })

  test('a transient download failure is retried with backoff; a permanent one is shown instead of the attachment', async () => {
    const phone = newPhone()
    let calls = 0
    downloadBehave = async () => {
      calls++
      if (calls === 1) throw new SendError(false, 'http_503', 'Service unavailable')
      return { data: PDF, mime: 'application/pdf', filename: 'boleto.pdf' }
    }
    await receive(t.db, a.orgId, channel, [
      inbound(phone, '', {
        type: 'document',
        media: { providerMediaId: 'media-in-2', mime: 'application/pdf', filename: 'boleto.pdf' },
      }),
    ])
    const [c] = await q<{ id: string }>('select id from conversations where contact_phone = $1', [phone])
    const id = await lastIn(c!.id)
    await drain()
    expect(calls).toBe(1)
    expect((await messageOf(id)).media.fileId).toBeNull()
    const [job] = await q<{ state: string; attempts: number }>(
      "select state, attempts from jobs where name = 'inbox.media_download' and payload->>'messageId' = $1",
      [id],
    )
    expect(job!.state).toBe('failed')
    await drain(5 * 60_000)
    expect(calls).toBe(2)
    expect((await messageOf(id)).media.fileId).toBeString()

    const other = newPhone()
    downloadBehave = async () => {
      throw new SendError(true, 'media_too_large', 'The file has 40 MB; the limit is 16 MB')
    }
    await receive(t.db, a.orgId, channel, [
      inbound(other, '', { type: 'video', media: { providerMediaId: 'media-in-3', mime: 'video/mp4' } }),
    ])
    const [c2] = await q<{ id: string }>('select id from conversations where contact_phone = $1', [other])
    await drain()
    const m = await messageOf(await lastIn(c2!.id))
    expect(m.media.error).toEqual({
      code: 'media_too_large',
      message: 'The file has 40 MB; the limit is 16 MB',
    })
    expect(await a.client.page(`/inbox/c/${c2!.id}`)).toContain('Anexo indisponível: The file has 40 MB')
  })

  test('the sandbox "write as a customer" form carries a file: stored first, attached when the message is processed', async () => {
    const sandbox = await createChannel(t, a.orgId, 'sandbox', 'Sandbox Mídia')
    const res = await post(
      a,
      '/inbox/sandbox/inbound',
      {
        channelId: sandbox,
        from: '+55 11 97777-1234',
        contactName: 'Cliente Foto',
        text: 'minha foto',
      },
      { data: PNG, type: 'image/png', name: 'eu.png' },
    )
    expect(res.status).toBe(303)
    const [orphan] = await q<{ id: string; message_id: string | null }>(
      "select id, message_id from media_files where filename = 'eu.png'",
    )
    expect(orphan!.message_id).toBeNull()
    await drain(0, [processInboundJob, ...INBOX_JOBS])
    const [m] = await q<{ id: string; type: string; body: string; media: any }>(
      "select m.id, m.type, m.body, m.media from messages m join conversations c on c.id = m.conversation_id where c.contact_phone = '+5511977771234'",
    )
    expect(m).toMatchObject({
      type: 'image',
      body: 'minha foto',
      media: { fileId: orphan!.id, mime: 'image/png' },
    })
    expect(
      (await q<{ message_id: string }>('select message_id from media_files where id = $1', [orphan!.id]))[0]!
        .message_id,
    ).toBe(m!.id)
    // Nothing to download: no job was enqueued for it.
    expect(
      (
        await q("select 1 from jobs where name = 'inbox.media_download' and payload->>'messageId' = $1", [
          m!.id,
        ])
      ).length,
    ).toBe(0)
    // A file over the cap is refused (413) before anything is stored.
    const big = await post(
      a,
      '/inbox/sandbox/inbound',
      { channelId: sandbox, from: '+5511977771234', text: '' },
      {
        data: new Uint8Array(MEDIA_MAX_BYTES + 1),
        type: 'application/pdf',
        name: 'enorme.pdf',
      },
    )
    expect(big.status).toBe(413)
    expect((await q("select 1 from media_files where filename = 'enorme.pdf'")).length).toBe(0)
  })
})

describe('serving a file', () => {
  async function stored(data: Uint8Array, type: string, name: string) {
    const c = await thread()
    expect((await post(a, `/inbox/c/${c.id}/send`, { body: '' }, { data, type, name })).status).toBe(303)
    return (await messageOf((await lastOut(c.id))!)).media
  }

  test('an image is served inline with its type, nosniff, an ETag (304 when unchanged) and byte ranges', async () => {
    const media = await stored(PNG, 'image/png', 'Foto da Loja.png')
    const res = await a.client.get(`/inbox/media/${media.fileId}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/png')
    expect(res.headers.get('content-disposition')).toBe(
      `inline; filename="Foto da Loja.png"; filename*=UTF-8''Foto%20da%20Loja.png`,
    )
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('accept-ranges')).toBe('bytes')
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(PNG))).toBe(true)
    const again = await a.client.get(`/inbox/media/${media.fileId}`, {
      'if-none-match': res.headers.get('etag')!,
    })
    expect(again.status).toBe(304)
    const forced = await a.client.get(`/inbox/media/${media.fileId}?download=1`)
    expect(forced.headers.get('content-disposition')).toStartWith('attachment;')
    expect(forced.headers.get('content-type')).toBe('application/octet-stream')
    const bad = await a.client.get(`/inbox/media/${media.fileId}`, { range: `bytes=${PNG.length}-` })
    expect(bad.status).toBe(416)
  })

  test('SVG and HTML are never served inline: an octet-stream attachment under a sandbox CSP', async () => {
    for (const [data, type, name] of [
      [SVG, 'image/svg+xml', 'logo.svg'],
      [HTML, 'image/png', 'pegadinha.png'],
      [HTML, 'text/html', 'pagina.html'],
    ] as const) {
      const media = await stored(data, type, name)
      const res = await a.client.get(`/inbox/media/${media.fileId}`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('application/octet-stream')
      expect(res.headers.get('content-disposition')).toStartWith(`attachment; filename="${name}"`)
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('content-security-policy')).toContain('sandbox')
    }
    expect((await a.client.get('/inbox/media/not-a-uuid')).status).toBe(404)
    expect((await a.client.get(`/inbox/media/${Bun.randomUUIDv7()}`)).status).toBe(404)
    expect((await t.client().get(`/inbox/media/${Bun.randomUUIDv7()}`)).status).toBe(303) // to the login
  })
})

describe('Cloud API: the real provider against a fake Graph API', () => {
  let cloud: string
  beforeAll(async () => {
    setChannelSender(t.db, appSender!)
    const ch = await newChannel(
      t.db,
      actorOf(a),
      cloudChannelForm({
        name: 'Oficial',
        phoneNumber: '+5511955550001',
        accessToken: 'EAAG-media-token',
        appSecret: 'app-secret',
        verifyToken: 'verify-token-123',
      }),
      t.config.secretKey,
    )
    cloud = ch.id
  })
  afterAll(() => useFakeSender())

  test('inbound: GET /{media-id} then its URL, both with the bearer token; a 503 is retried, then stored', async () => {
    graphFiles.set('4490709327384033', { data: JPEG, mime: 'image/jpeg' })
    graphFailures = 1
    graphSeen.length = 0
    const phone = newPhone()
    await receive(t.db, a.orgId, cloud, [
      inbound(phone, '', {
        type: 'image',
        media: { providerMediaId: '4490709327384033', mime: 'image/jpeg' },
      }),
    ])
    const [c] = await q<{ id: string }>('select id from conversations where contact_phone = $1', [phone])
    const id = await lastIn(c!.id)
    await drain()
    expect((await messageOf(id)).media.fileId).toBeNull()
    expect(graphSeen.map((s) => [s.method, s.path, s.auth])).toEqual([
      ['GET', '/v21.0/4490709327384033', 'Bearer EAAG-media-token'],
      ['GET', '/lookaside/4490709327384033', 'Bearer EAAG-media-token'],
    ])
    await drain(5 * 60_000)
    const m = await messageOf(id)
    expect(m.media).toMatchObject({ size: JPEG.length, sha256: sha256Hex(JPEG), mime: 'image/jpeg' })
    expect(graphSeen).toHaveLength(4) // a fresh URL is asked for on the retry (it lasts 5 minutes)
    const res = await a.client.get(`/inbox/media/${m.media.fileId}`)
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(JPEG))).toBe(true)
  })

  test('inbound: a media id Meta no longer knows is a permanent, explained failure', async () => {
    graphSeen.length = 0
    graphFiles.set('777', { data: JPEG, mime: 'image/jpeg' })
    const phone = newPhone()
    await receive(t.db, a.orgId, cloud, [
      inbound(phone, '', { type: 'image', media: { providerMediaId: '777', mime: 'image/jpeg' } }),
    ])
    graphFiles.delete('777')
    const [c] = await q<{ id: string }>('select id from conversations where contact_phone = $1', [phone])
    await drain()
    expect((await messageOf(await lastIn(c!.id))).media.error).toMatchObject({ code: '100' })
  })

  test('outbound: the file is uploaded (multipart) to /{phone-number-id}/media, then sent by id with its caption', async () => {
    const c = await thread(cloud)
    graphSeen.length = 0
    expect(
      (
        await post(
          a,
          `/inbox/c/${c.id}/send`,
          { body: 'Nossa vitrine' },
          { data: PNG, type: 'image/png', name: 'vitrine.png' },
        )
      ).status,
    ).toBe(303)
    await drain()
    expect(graphSeen.map((s) => [s.method, s.path])).toEqual([
      ['POST', '/v21.0/106540352242922/media'],
      ['POST', '/v21.0/106540352242922/messages'],
    ])
    expect(graphSeen[0]!.form).toEqual({
      messaging_product: 'whatsapp',
      type: 'image/png',
      file: { name: 'vitrine.png', type: 'image/png', size: PNG.length },
    })
    expect(graphSeen[1]!.json).toMatchObject({
      messaging_product: 'whatsapp',
      to: expect.stringMatching(/^5511/),
      type: 'image',
      image: { id: 'media-up-1', caption: 'Nossa vitrine' },
    })
    const m = await messageOf((await lastOut(c.id))!)
    expect(m.status).toBe('sent')
  })

  test('outbound: a type Meta refuses fails permanently before any upload', async () => {
    const c = await thread(cloud)
    graphSeen.length = 0
    await post(
      a,
      `/inbox/c/${c.id}/send`,
      { body: '' },
      { data: new Uint8Array([0x50, 0x4b, 3, 4, 9]), type: 'application/zip', name: 'x.zip' },
    )
    await drain()
    expect(graphSeen).toHaveLength(0)
    const m = await messageOf((await lastOut(c.id))!)
    expect(m).toMatchObject({ status: 'failed', error: { code: 'media_unsupported' } })
  })
})

describe('Baileys: the real supervisor through a fake socket', () => {
  let ref: { orgId: string; channelId: string }
  let sock: FakeTransport
  beforeAll(async () => {
    setChannelSender(t.db, appSender!)
    const supervisor = createBaileysSupervisor({
      db: t.db,
      secretKey: t.config.secretKey,
      deliver: deliverTo(t.db),
      transport: async ({ auth }) => {
        const tr = new FakeTransport(auth, { user: '5511955550000:3@s.whatsapp.net' })
        transports.push(tr)
        return tr
      },
      sleep: async () => {},
    })
    configureWhatsApp(t.db, { config: t.config, supervisor })
    const ch = await newChannel(t.db, actorOf(a), bareChannelForm('Celular'), t.config.secretKey)
    ref = { orgId: a.orgId, channelId: ch.id }
    await supervisor.start(ref)
    sock = transports.at(-1)!
    sock.emit('connection.update', { connection: 'open' })
    await supervisor.settled()
  })
  afterAll(() => useFakeSender())

  test('a received photo keeps what the download needs; the job gets the bytes from the socket and stores them', async () => {
    const mediaKey = new Uint8Array(32).map((_, i) => i + 1)
    sock.media.set(Buffer.from(mediaKey).toString('hex'), JPEG)
    sock.emit('messages.upsert', {
      type: 'notify',
      messages: [
        {
          key: { remoteJid: '5511944443333@s.whatsapp.net', fromMe: false, id: '3A9F00PHOTO' },
          messageTimestamp: Math.floor(Date.now() / 1000),
          pushName: 'Dona Foto',
          message: {
            imageMessage: {
              url: 'https://mmg.whatsapp.net/o1/v/t62.7118-24/abc',
              directPath: '/o1/v/t62.7118-24/abc',
              mimetype: 'image/jpeg',
              caption: 'o orçamento',
              mediaKey,
              fileSha256: new Uint8Array(32).fill(7),
              fileEncSha256: new Uint8Array(32).fill(9),
              fileLength: JPEG.length,
            },
          },
        } as unknown as WAMessage,
      ],
    })
    await whatsappRuntime(t.db).baileys.settled()
    for (let i = 0; i < 100; i++) {
      if ((await q('select 1 from webhook_inbox where channel_id = $1', [ref.channelId])).length) break
      await Bun.sleep(20)
    }
    await drain(0, [processInboundJob, ...INBOX_JOBS])
    const [m] = await q<{ id: string; type: string; body: string; media: any }>(
      "select m.id, m.type, m.body, m.media from messages m join conversations c on c.id = m.conversation_id where c.contact_phone = '+5511944443333'",
    )
    expect(m).toMatchObject({
      type: 'image',
      body: 'o orçamento',
      media: { mime: 'image/jpeg', size: JPEG.length },
    })
    expect(m!.media.fileId).toBeString()
    expect(m!.media.providerData).toBeUndefined()
    const asked = sock.downloads.at(-1)!
    expect(asked.key).toMatchObject({ id: '3A9F00PHOTO', remoteJid: '5511944443333@s.whatsapp.net' })
    expect(Buffer.from(asked.message!.imageMessage!.mediaKey!).equals(Buffer.from(mediaKey))).toBe(true)
    expect(asked.message!.imageMessage!.directPath).toBe('/o1/v/t62.7118-24/abc')
    const [ev] = await q<{ payload: any }>(
      "select payload from outbox_events where organization_id = $1 and type = 'whatsapp.inbound' and payload::text like '%3A9F00PHOTO%'",
      [a.orgId],
    )
    expect(JSON.stringify(ev!.payload)).not.toContain('mediaKey')
    const res = await a.client.get(`/inbox/media/${m!.media.fileId}`)
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(JPEG))).toBe(true)
  })

  test('a document goes out through sendMessage with the buffer, mimetype, fileName and caption', async () => {
    const [c] = await q<{ id: string }>("select id from conversations where contact_phone = '+5511944443333'")
    await asA((tx) =>
      sendMessage(tx, actorOf(a), c!.id, {
        body: 'contrato para assinar',
        file: { data: PDF, mime: 'application/pdf', filename: 'contrato.pdf' },
      }),
    )
    await drain()
    const out = sock.sent.at(-1)!
    expect(out.jid).toBe('5511944443333@s.whatsapp.net')
    expect({ ...out.content, document: Buffer.from(out.content.document).toString() }).toEqual({
      document: Buffer.from(PDF).toString(),
      mimetype: 'application/pdf',
      fileName: 'contrato.pdf',
      caption: 'contrato para assinar',
    })
    const m = await messageOf((await lastOut(c!.id))!)
    expect(m.status).toBe('sent')
  })
})

describe('tenancy', () => {
  test('another organization gets 404 for the file and, as the app role, reads, attaches and adds to none of them', async () => {
    const [f] = await q<{ id: string }>('select id from media_files where organization_id = $1 limit 1', [
      a.orgId,
    ])
    expect((await b.client.get(`/inbox/media/${f!.id}`)).status).toBe(404)
    expect((await a.client.get(`/inbox/media/${f!.id}`)).status).toBe(200)
    const seen = await asB(async (tx) =>
      rowsOf(
        await tx.execute(
          sql`select id::text from media_files union all select file_id::text from media_file_chunks`,
        ),
      ),
    )
    expect(seen).toEqual([])
    const moved = await asB(async (tx) =>
      rowsOf(
        await tx.execute(
          sql`update media_files set message_id = null where id = ${f!.id}::uuid returning id`,
        ),
      ),
    )
    expect(moved).toEqual([])
    const err = await asB((tx) =>
      tx.execute(
        sql`insert into media_file_chunks (organization_id, file_id, seq, data) values (${a.orgId}::uuid, ${f!.id}::uuid, 99, '\\x00'::bytea)`,
      ),
    ).catch((e) => e)
    expect(String((err as { cause?: Error })?.cause?.message ?? err)).toMatch(/row-level security|violates/)
    const ownOrg = await asB((tx) =>
      tx.execute(
        sql`insert into media_file_chunks (organization_id, file_id, seq, data) values (${b.orgId}::uuid, ${f!.id}::uuid, 99, '\\x00'::bytea)`,
      ),
    ).catch((e) => e)
    expect(String((ownOrg as { cause?: Error })?.cause?.message ?? ownOrg)).toMatch(/foreign key/)
    // The app role never deletes files (they go with their message).
    const del = await asA((tx) => tx.execute(sql`delete from media_files where id = ${f!.id}::uuid`)).catch(
      (e) => e,
    )
    expect(String((del as { cause?: Error })?.cause?.message ?? del)).toMatch(/permission denied/)
  })

  test("B's sandbox cannot attach A's uploaded file to its own message", async () => {
    const aFile = await asA(async (tx) => {
      const { storeMediaFile } = await import('./inbox.media')
      return storeMediaFile(tx, { data: PNG, mime: 'image/png', filename: 'de-a.png' })
    })
    const bSandbox = await createChannel(t, b.orgId, 'sandbox', 'B Sandbox')
    const { simulateInbound } = await import('../whatsapp/whatsapp.inbound')
    await asB((tx) =>
      simulateInbound(tx, bSandbox, {
        from: '+5511933332222',
        text: 'roubando',
        media: { type: 'image', fileId: aFile.id, mime: 'image/png' },
      }),
    )
    await drain(0, [processInboundJob, ...INBOX_JOBS])
    const [m] = await q<{ media: any; organization_id: string }>(
      "select media, organization_id from messages where body = 'roubando'",
    )
    expect(m!.organization_id).toBe(b.orgId)
    expect(m!.media).toMatchObject({ fileId: null, error: { code: 'file_missing' } })
    expect(
      (
        await q<{ message_id: string | null }>('select message_id from media_files where id = $1', [aFile.id])
      )[0]!.message_id,
    ).toBeNull()
  })
})

describe('LGPD', () => {
  test("erasing a lead deletes the files of its conversations' messages, both directions; others stay", async () => {
    const phone = newPhone()
    downloadBehave = async () => ({ data: JPEG, mime: 'image/jpeg' })
    await receive(t.db, a.orgId, channel, [
      inbound(phone, '', {
        type: 'image',
        media: { providerMediaId: 'media-lgpd', mime: 'image/jpeg' },
        contactName: 'Zélia Titular',
      }),
    ])
    await drain()
    const [c] = await q<{ id: string; lead_id: string }>(
      'select id, lead_id from conversations where contact_phone = $1',
      [phone],
    )
    await asA((tx) =>
      sendMessage(tx, actorOf(a), c!.id, {
        body: '',
        file: { data: PDF, mime: 'application/pdf', filename: 'Contrato Zélia Titular.pdf' },
      }),
    )
    const theirs = await q<{ id: string }>(
      'select f.id from media_files f join messages m on m.id = f.message_id where m.conversation_id = $1',
      [c!.id],
    )
    expect(theirs).toHaveLength(2)
    const others = (
      await q<{ n: number }>('select count(*)::int as n from media_files where organization_id = $1', [
        a.orgId,
      ])
    )[0]!.n
    const r = await eraseLeads(t.db, { orgId: a.orgId, userId: a.userId }, [c!.lead_id], 'titular_request')
    expect(r.erased).toBe(1)
    const ids = theirs.map((x) => x.id)
    expect((await q('select 1 from media_files where id = any($1::uuid[])', [ids])).length).toBe(0)
    expect((await q('select 1 from media_file_chunks where file_id = any($1::uuid[])', [ids])).length).toBe(0)
    expect(
      (
        await q<{ n: number }>('select count(*)::int as n from media_files where organization_id = $1', [
          a.orgId,
        ])
      )[0]!.n,
    ).toBe(others - 2)
    expect((await q("select 1 from media_files where filename ilike '%Zélia%'")).length).toBe(0)
  })
})

describe('sandbox provider', () => {
  test('an attachment is accepted like text: receipts and the scripted reply follow; 0000 numbers fail for good', async () => {
    const { createProvider } = await import('../whatsapp/whatsapp.provider')
    const timers: Array<{ fn: () => void; ms: number }> = []
    const delivered: any[] = []
    const p = createProvider('sandbox', {
      channel: { id: 'sandbox-media', orgId: a.orgId, phoneNumber: '+5511900001111', config: {} },
      secrets: {},
      fetch,
      graphUrl: '',
      deliver: async (batch) => {
        delivered.push(batch)
      },
      sandboxClock: { setTimeout: (fn, ms) => timers.push({ fn, ms }) },
    })
    const r = await p.sendMedia!({
      kind: 'media',
      to: '+5511987650000'.replace(/0000$/, '1234'),
      mediaType: 'image',
      data: PNG,
      mime: 'image/png',
      caption: 'qual o preço?',
    })
    expect(r.providerMessageId).toStartWith('sandbox.out.')
    for (const x of timers.sort((m, n) => m.ms - n.ms)) x.fn()
    await Bun.sleep(10)
    expect(delivered.flatMap((d) => d.statuses.map((s: any) => s.status))).toEqual([
      'sent',
      'delivered',
      'read',
    ])
    expect(delivered.flatMap((d) => d.messages).length).toBe(1)
    await expect(
      p.sendMedia!({ kind: 'media', to: '+5511987650000', mediaType: 'image', data: PNG, mime: 'image/png' }),
    ).rejects.toMatchObject({ permanent: true, code: 'sandbox.unreachable' })
  })
})
