/**
 * Cloud API provider: the real request shapes against a local fake Graph API, the documented error
 * shape mapped to permanent/transient, and the documented webhook payloads posted to the real route
 * with correct, wrong and missing signatures (stored + job enqueued only for the good one).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash, createHmac } from 'node:crypto'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { secretBox } from '../../platform/crypto/secrets'
import { createWorker } from '../../platform/jobs/jobs.worker'
import { createLogger } from '../../platform/log/logger'
import { channelSecrets, secretsContext } from './whatsapp.channels'
import { graphError, parseCloudWebhook } from './whatsapp.cloud-api'
import { cloudChannelForm, cloudDelivery } from './whatsapp.fixtures'
import { processInboundJob } from './whatsapp.inbound'
import { createProvider, SendError, sendRequest } from './whatsapp.provider'

// A fake Graph API -------------------------------------------------------------------------------

interface Seen {
  method: string
  path: string
  search: string
  headers: Record<string, string>
  json?: any
  form?: Record<string, string | { name: string; type: string; size: number }>
}
const seen: Seen[] = []
/** Media the fake Graph API holds for download (`declared`: a file_size it lies about; `cut`: a short body). */
const MEDIA = new Map<
  string,
  { id: string; data: Uint8Array; mime: string; declared?: string; cut?: number }
>()
let nextError: { status: number; body: unknown; headers?: Record<string, string> } | null = null

const graph = Bun.serve({
  port: 0,
  async fetch(req) {
    const url = new URL(req.url)
    const s: Seen = {
      method: req.method,
      path: url.pathname,
      search: url.search,
      headers: Object.fromEntries(req.headers as unknown as Iterable<[string, string]>),
    }
    const type = req.headers.get('content-type') ?? ''
    if (type.includes('application/json')) s.json = await req.json()
    if (type.includes('multipart/form-data')) {
      const f = await req.formData()
      s.form = {}
      for (const [k, v] of f.entries())
        s.form[k] =
          typeof v === 'string'
            ? v
            : { name: (v as File).name, type: (v as File).type, size: (v as File).size }
    }
    seen.push(s)
    if (nextError) {
      const e = nextError
      nextError = null
      return Response.json(e.body, { status: e.status, headers: e.headers })
    }
    if (url.pathname.endsWith('/media')) return Response.json({ id: 'media-123' })
    if (url.pathname.endsWith('/messages'))
      return Response.json({
        messaging_product: 'whatsapp',
        contacts: [{ input: s.json?.to, wa_id: s.json?.to }],
        messages: [{ id: `wamid.OUT${seen.length}` }],
      })
    if (url.pathname.endsWith('/message_templates')) {
      if (!url.searchParams.get('after'))
        return Response.json({
          data: [
            {
              name: 'boas_vindas',
              language: 'pt_BR',
              status: 'APPROVED',
              category: 'MARKETING',
              components: [{ type: 'BODY', text: 'Olá {{1}}' }],
              id: '1',
            },
          ],
          paging: { cursors: { after: 'X' }, next: `${url.origin}${url.pathname}?after=X` },
        })
      return Response.json({
        data: [
          {
            name: 'lembrete',
            language: 'pt_BR',
            status: 'PENDING',
            category: 'UTILITY',
            components: [],
            id: '2',
          },
        ],
        paging: { cursors: { before: 'X' } },
      })
    }
    // Inbound media: GET /{media-id} (the documented answer), then the URL it names, bearer required.
    const media = MEDIA.get(/^\/v21\.0\/([\w-]+)$/.exec(url.pathname)?.[1] ?? '')
    if (media)
      return Response.json({
        messaging_product: 'whatsapp',
        url: `${url.origin}/whatsapp_business/attachments/?mid=${media.id}&ext=1724000000&hash=ATu`,
        mime_type: media.mime,
        sha256: createHash('sha256').update(media.data).digest('hex'),
        file_size: media.declared ?? String(media.data.byteLength),
        id: media.id,
      })
    if (url.pathname === '/whatsapp_business/attachments/') {
      const f = MEDIA.get(url.searchParams.get('mid') ?? '')
      if (!f) return new Response('', { status: 404 })
      return new Response(f.data.subarray(0, f.cut ?? f.data.byteLength) as Uint8Array<ArrayBuffer>, {
        headers: { 'content-type': f.mime },
      })
    }
    return new Response('not found', { status: 404 })
  },
})
const graphUrl = `http://127.0.0.1:${graph.port}`

const provider = () =>
  createProvider('cloud-api', {
    channel: {
      id: 'c1',
      orgId: 'o1',
      phoneNumber: '+5511999990000',
      config: { phoneNumberId: '106540352242922', wabaId: '102290129340398' },
    },
    secrets: { accessToken: 'EAAG-test-token', appSecret: 'app-secret-123', verifyToken: 'verify-me-please' },
    fetch,
    graphUrl,
    deliver: async () => {},
  })

afterAll(() => graph.stop(true))

describe('sending through the Graph API', () => {
  test('a text reply is one POST to /v21.0/{phone-number-id}/messages with the bearer token and the documented body', async () => {
    seen.length = 0
    const res = await provider().sendText({
      kind: 'text',
      to: '+5511987654321',
      text: 'Olá, Ana!',
      replyToProviderId: 'wamid.IN1',
    })
    expect(res.providerMessageId).toBe('wamid.OUT1')
    expect(seen).toHaveLength(1)
    expect(seen[0]!.method).toBe('POST')
    expect(seen[0]!.path).toBe('/v21.0/106540352242922/messages')
    expect(seen[0]!.headers.authorization).toBe('Bearer EAAG-test-token')
    expect(seen[0]!.headers['content-type']).toContain('application/json')
    expect(seen[0]!.json).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '5511987654321',
      type: 'text',
      text: { preview_url: false, body: 'Olá, Ana!' },
      context: { message_id: 'wamid.IN1' },
    })
  })

  test('media is uploaded (multipart) and then sent by id, with caption and filename for documents', async () => {
    seen.length = 0
    const res = await sendRequest(provider(), {
      kind: 'media',
      to: '+5511987654321',
      mediaType: 'document',
      data: new TextEncoder().encode('%PDF-1.4 proposta'),
      mime: 'application/pdf',
      filename: 'proposta.pdf',
      caption: 'Segue a proposta',
    })
    expect(res.providerMessageId).toBe('wamid.OUT2')
    expect(seen[0]!.path).toBe('/v21.0/106540352242922/media')
    expect(seen[0]!.headers.authorization).toBe('Bearer EAAG-test-token')
    expect(seen[0]!.form).toEqual({
      messaging_product: 'whatsapp',
      type: 'application/pdf',
      file: { name: 'proposta.pdf', type: 'application/pdf', size: 17 },
    })
    expect(seen[1]!.json).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '5511987654321',
      type: 'document',
      document: { id: 'media-123', caption: 'Segue a proposta', filename: 'proposta.pdf' },
    })
  })

  test('a template goes with name, language code and components', async () => {
    seen.length = 0
    await sendRequest(provider(), {
      kind: 'template',
      to: '+5511987654321',
      template: {
        name: 'boas_vindas',
        language: 'pt_BR',
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] }],
      },
    })
    expect(seen[0]!.json).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '5511987654321',
      type: 'template',
      template: {
        name: 'boas_vindas',
        language: { code: 'pt_BR' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] }],
      },
    })
  })

  test('templates are listed from /{waba-id}/message_templates, following the paging cursor', async () => {
    seen.length = 0
    const list = await provider().listTemplates!()
    expect(list.map((t) => [t.name, t.status])).toEqual([
      ['boas_vindas', 'APPROVED'],
      ['lembrete', 'PENDING'],
    ])
    expect(seen[0]!.path).toBe('/v21.0/102290129340398/message_templates')
    expect(seen[0]!.headers.authorization).toBe('Bearer EAAG-test-token')
    expect(seen).toHaveLength(2)
  })

  test('131047 (outside the 24-hour window) is a permanent error with Meta’s details', async () => {
    nextError = {
      status: 400,
      body: {
        error: {
          message: '(#131047) Re-engagement message',
          type: 'OAuthException',
          code: 131047,
          error_data: {
            messaging_product: 'whatsapp',
            details:
              'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
          },
          fbtrace_id: 'AbCdEf',
        },
      },
    }
    const err = await provider()
      .sendText({ kind: 'text', to: '+5511987654321', text: 'oi' })
      .catch((e) => e)
    expect(err).toBeInstanceOf(SendError)
    expect(err.permanent).toBe(true)
    expect(err.code).toBe('131047')
    expect(err.detail).toContain('24 hours')
  })

  test('130429 (throughput), 5xx and an unreachable Graph API are transient', async () => {
    nextError = {
      status: 400,
      body: {
        error: {
          message: '(#130429) Rate limit hit',
          type: 'OAuthException',
          code: 130429,
          error_subcode: 2494055,
          fbtrace_id: 'x',
        },
      },
    }
    const rate = await provider()
      .sendText({ kind: 'text', to: '+5511987654321', text: 'oi' })
      .catch((e) => e)
    expect([rate.permanent, rate.code, rate.retryAfterMs]).toEqual([false, '130429', 60_000])
    nextError = { status: 503, body: { error: { message: 'Service unavailable', code: 2 } } }
    const down = await provider()
      .sendText({ kind: 'text', to: '+5511987654321', text: 'oi' })
      .catch((e) => e)
    expect(down.permanent).toBe(false)
    const gone = await createProvider('cloud-api', {
      channel: { id: 'c', orgId: 'o', phoneNumber: null, config: { phoneNumberId: '1' } },
      secrets: { accessToken: 't' },
      fetch,
      graphUrl: 'http://127.0.0.1:1',
      deliver: async () => {},
    })
      .sendText({ kind: 'text', to: '+5511987654321', text: 'oi' })
      .catch((e) => e)
    expect([gone.permanent, gone.code]).toEqual([false, 'network'])
  })

  test('an invalid parameter (100) or an expired token (190) is permanent; a missing token never calls Meta', async () => {
    expect(graphError(400, { error: { code: 100, message: 'Invalid parameter' } }).permanent).toBe(true)
    expect(graphError(401, { error: { code: 190, message: 'Access token has expired' } }).permanent).toBe(
      true,
    )
    seen.length = 0
    const err = await createProvider('cloud-api', {
      channel: { id: 'c', orgId: 'o', phoneNumber: null, config: { phoneNumberId: '1' } },
      secrets: {},
      fetch,
      graphUrl,
      deliver: async () => {},
    })
      .sendText({ kind: 'text', to: '+5511987654321', text: 'oi' })
      .catch((e) => e)
    expect([err.permanent, err.code]).toEqual([true, 'config'])
    expect(seen).toHaveLength(0)
  })

  test('an unknown provider name is a coded error, never a null provider', () => {
    expect(() =>
      createProvider('telegram', {
        channel: { id: 'c', orgId: 'o', phoneNumber: null, config: {} },
        secrets: {},
        fetch,
        graphUrl,
        deliver: async () => {},
      }),
    ).toThrow('whatsapp.unknown_provider')
  })
})

// Documented webhook payloads (shapes from https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components)

export const TEXT_MESSAGE = cloudDelivery({
  contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '5511987654321' }],
  messages: [
    {
      from: '5511987654321',
      id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=',
      timestamp: '1750090702',
      text: { body: 'Quero saber o preço do plano anual' },
      type: 'text',
    },
  ],
})

const STATUSES = cloudDelivery({
  statuses: [
    {
      id: 'wamid.OUT1',
      status: 'delivered',
      timestamp: '1750263773',
      recipient_id: '5511987654321',
      conversation: { id: 'CONVERSATION_ID', origin: { type: 'service' } },
      pricing: { billable: true, pricing_model: 'PMP', category: 'service' },
    },
    {
      id: 'wamid.OUT2',
      status: 'failed',
      timestamp: '1750263774',
      recipient_id: '5511987654321',
      errors: [
        {
          code: 131047,
          title: 'Re-engagement message',
          message: 'Re-engagement message',
          error_data: {
            details:
              'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
          },
          href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
        },
      ],
    },
  ],
})

describe('parsing the documented webhook payloads', () => {
  test('a text message: E.164 sender, profile name, seconds to milliseconds, our number', () => {
    const { messages, statuses } = parseCloudWebhook(JSON.stringify(TEXT_MESSAGE))
    expect(statuses).toEqual([])
    expect(messages).toEqual([
      {
        providerMessageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=',
        from: '+5511987654321',
        to: '+15550783881',
        timestamp: 1750090702000,
        type: 'text',
        text: 'Quero saber o preço do plano anual',
        contactName: 'Sheena Nelson',
      },
    ])
  })

  test('a Brazilian wa_id without the ninth digit becomes the E.164 number the lead has', () => {
    const body = cloudDelivery({
      contacts: [{ profile: { name: 'Zé' }, wa_id: '551187654321' }],
      messages: [
        { from: '551187654321', id: 'wamid.A', timestamp: '1750090702', type: 'text', text: { body: 'oi' } },
      ],
    })
    expect(parseCloudWebhook(JSON.stringify(body)).messages[0]!.from).toBe('+5511987654321')
    expect(parseCloudWebhook(JSON.stringify(body)).messages[0]!.contactName).toBe('Zé')
  })

  test('image, audio (voice), document, location, interactive, button and reply context', () => {
    const body = cloudDelivery({
      messages: [
        {
          from: '5511987654321',
          id: 'wamid.IMG',
          timestamp: '1',
          type: 'image',
          image: { caption: 'Foto do produto', mime_type: 'image/jpeg', sha256: 'h', id: '1003383421387256' },
        },
        {
          from: '5511987654321',
          id: 'wamid.AUD',
          timestamp: '1',
          type: 'audio',
          audio: { mime_type: 'audio/ogg; codecs=opus', sha256: 'h', id: '2', voice: true },
        },
        {
          from: '5511987654321',
          id: 'wamid.DOC',
          timestamp: '1',
          type: 'document',
          document: {
            caption: 'Contrato',
            filename: 'contrato.pdf',
            mime_type: 'application/pdf',
            sha256: 'h',
            id: '3',
          },
        },
        {
          from: '5511987654321',
          id: 'wamid.LOC',
          timestamp: '1',
          type: 'location',
          location: { latitude: -23.5613, longitude: -46.6565, name: 'MASP', address: 'Av. Paulista, 1578' },
        },
        {
          from: '5511987654321',
          id: 'wamid.INT',
          timestamp: '1',
          type: 'interactive',
          interactive: { type: 'button_reply', button_reply: { id: 'yes', title: 'Sim, quero' } },
        },
        {
          context: { from: '15550783881', id: 'wamid.TPL' },
          from: '5511987654321',
          id: 'wamid.BTN',
          timestamp: '1',
          type: 'button',
          button: { text: 'Parar promoções', payload: 'STOP' },
        },
        {
          context: { from: '15550783881', id: 'wamid.OUT9' },
          from: '5511987654321',
          id: 'wamid.RPL',
          timestamp: '1',
          type: 'text',
          text: { body: 'respondendo' },
        },
        {
          from: '5511987654321',
          id: 'wamid.UNK',
          timestamp: '1',
          type: 'unknown',
          errors: [
            {
              code: 131051,
              details: 'Message type is not currently supported',
              title: 'Unsupported message type',
            },
          ],
        },
      ],
    })
    const m = parseCloudWebhook(JSON.stringify(body)).messages
    expect(m.map((x) => [x.providerMessageId, x.type])).toEqual([
      ['wamid.IMG', 'image'],
      ['wamid.AUD', 'audio'],
      ['wamid.DOC', 'document'],
      ['wamid.LOC', 'location'],
      ['wamid.INT', 'text'],
      ['wamid.BTN', 'text'],
      ['wamid.RPL', 'text'],
      ['wamid.UNK', 'unknown'],
    ])
    expect(m[0]!.media).toEqual({
      providerMediaId: '1003383421387256',
      mime: 'image/jpeg',
      caption: 'Foto do produto',
    })
    expect(m[1]!.media).toEqual({ providerMediaId: '2', mime: 'audio/ogg; codecs=opus', voice: true })
    expect(m[2]!.media).toEqual({
      providerMediaId: '3',
      mime: 'application/pdf',
      filename: 'contrato.pdf',
      caption: 'Contrato',
    })
    expect(m[3]!.location).toEqual({
      latitude: -23.5613,
      longitude: -46.6565,
      name: 'MASP',
      address: 'Av. Paulista, 1578',
    })
    expect(m[4]!.text).toBe('Sim, quero')
    expect([m[5]!.text, m[5]!.replyToProviderId]).toEqual(['Parar promoções', 'wamid.TPL'])
    expect(m[6]!.replyToProviderId).toBe('wamid.OUT9')
    expect(m[7]!.text).toBe('Unsupported message type')
  })

  test('statuses, including a failed one with its error code, title and details', () => {
    const { statuses } = parseCloudWebhook(JSON.stringify(STATUSES))
    expect(statuses).toEqual([
      {
        providerMessageId: 'wamid.OUT1',
        status: 'delivered',
        timestamp: 1750263773000,
        recipient: '+5511987654321',
      },
      {
        providerMessageId: 'wamid.OUT2',
        status: 'failed',
        timestamp: 1750263774000,
        recipient: '+5511987654321',
        error: {
          code: '131047',
          title: 'Re-engagement message',
          detail:
            'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
        },
      },
    ])
  })

  test('garbage and other fields give nothing rather than throwing', () => {
    expect(parseCloudWebhook('not json')).toEqual({ messages: [], statuses: [] })
    expect(
      parseCloudWebhook(JSON.stringify({ entry: [{ changes: [{ field: 'account_update', value: {} }] }] })),
    ).toEqual({ messages: [], statuses: [] })
  })
})

// The webhook route ------------------------------------------------------------------------------

describe('the webhook route /webhooks/whatsapp/:channelId', () => {
  let t: TestApp
  let a: Awaited<ReturnType<typeof signUpClient>>
  let channelId: string
  /** What the app logged (JSON lines, parsed). */
  const logged: Array<Record<string, any>> = []
  const sign = (raw: string, secret = 'app-secret-123') =>
    `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`
  const post = (raw: string, headers: Record<string, string>) =>
    t.handle(
      new Request(`http://localhost:3000/webhooks/whatsapp/${channelId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'facebookexternalua', ...headers },
        body: raw,
      }),
    )
  const inbox = () =>
    t.db.raw.query<{ id: string; status: string; body: string; headers: any }>(
      'select id, status, body, headers from webhook_inbox where channel_id = $1 order by received_at',
      [channelId],
    )
  const jobs = () =>
    t.db.raw.query<{ payload: any; state: string }>(
      `select payload, state from jobs where name = 'whatsapp.process_inbound' order by created_at`,
    )

  beforeAll(async () => {
    t = await createTestApp(
      { FACEBOOK_GRAPH_URL: graphUrl },
      { log: createLogger('info', {}, (line) => logged.push(JSON.parse(line))) },
    )
    a = await signUpClient(t, { orgName: 'Cloud Org' })
    const res = await a.client.post(
      '/settings/channels',
      cloudChannelForm({ verifyToken: 'verify-me-please' }),
    )
    expect(res.status).toBe(303)
    channelId = res.headers.get('location')!.split('/').pop()!
  })
  afterAll(() => t.close())

  test('the GET handshake echoes hub.challenge only with the right verify token', async () => {
    const get = (q: string) =>
      t.handle(new Request(`http://localhost:3000/webhooks/whatsapp/${channelId}?${q}`))
    const ok = await get('hub.mode=subscribe&hub.verify_token=verify-me-please&hub.challenge=1158201444')
    expect([ok.status, await ok.text()]).toEqual([200, '1158201444'])
    expect((await get('hub.mode=subscribe&hub.verify_token=wrong-token&hub.challenge=1')).status).toBe(403)
    expect((await get('hub.mode=unsubscribe&hub.verify_token=verify-me-please&hub.challenge=1')).status).toBe(
      403,
    )
    expect(
      (
        await t.handle(
          new Request(`http://localhost:3000/webhooks/whatsapp/${crypto.randomUUID()}?hub.mode=subscribe`),
        )
      ).status,
    ).toBe(404)
  })

  test('a wrong or missing signature gets 401, is logged, and stores nothing; no CSRF check applies', async () => {
    const raw = JSON.stringify(TEXT_MESSAGE)
    logged.length = 0
    expect((await post(raw, { 'x-hub-signature-256': sign(raw, 'another-secret') })).status).toBe(401)
    expect((await post(raw, {})).status).toBe(401)
    expect((await post(raw, { 'x-hub-signature-256': sign(`${raw} `) })).status).toBe(401)
    expect((await post(raw, { 'x-hub-signature-256': 'sha256=zz' })).status).toBe(401)
    expect(await inbox()).toEqual([])
    expect(await jobs()).toEqual([])
    // One warning per refusal, naming the channel and whether the signature was wrong or missing.
    const refusals = logged.filter((l) => l.msg === 'whatsapp.webhook.bad_signature')
    expect(refusals.map((l) => [l.level, l.channelId, l.signature])).toEqual([
      ['warn', channelId, 'wrong'],
      ['warn', channelId, 'missing'],
      ['warn', channelId, 'wrong'],
      ['warn', channelId, 'wrong'],
    ])
    // Nothing was stored, so nothing says it was.
    expect(logged.some((l) => l.msg === 'whatsapp.webhook.stored')).toBe(false)
    // The raw body (customer text) never reaches the log.
    expect(JSON.stringify(logged)).not.toContain('Quero saber o preço do plano anual')
  })

  test('the channel’s secrets are sealed at rest: the token and app secret are not in the stored bytes, and the key opens them', async () => {
    const [row] = await t.db.raw.query<{ secrets_enc: string; config: any }>(
      'select secrets_enc, config from whatsapp_channels where id = $1',
      [channelId],
    )
    const stored = row!.secrets_enc
    const form = cloudChannelForm()
    for (const secret of [form.accessToken, form.appSecret, 'verify-me-please']) {
      expect(stored).not.toContain(secret)
      expect(stored).not.toContain(Buffer.from(secret).toString('base64'))
      expect(stored).not.toContain(Buffer.from(secret).toString('hex'))
      expect(JSON.stringify(row!.config)).not.toContain(secret)
    }
    const opened = JSON.parse(secretBox(t.config.secretKey).open(stored, secretsContext(channelId)))
    expect(opened).toEqual({
      accessToken: form.accessToken,
      appSecret: form.appSecret,
      verifyToken: 'verify-me-please',
    })
    expect(channelSecrets({ id: channelId, secretsEnc: stored }, t.config.secretKey)).toEqual(opened)
    // Another key, or the same bytes presented as another channel's, do not open.
    expect(() =>
      secretBox('another-secret-key-another-secret-key').open(stored, secretsContext(channelId)),
    ).toThrow()
    expect(() => secretBox(t.config.secretKey).open(stored, secretsContext(crypto.randomUUID()))).toThrow()
  })

  test('a signed delivery is stored raw before the 200, with its job; a redelivery is stored once', async () => {
    const raw = JSON.stringify(TEXT_MESSAGE)
    const res = await post(raw, { 'x-hub-signature-256': sign(raw) })
    expect([res.status, await res.text()]).toEqual([200, 'EVENT_RECEIVED'])
    const rows = await inbox()
    expect(rows).toHaveLength(1)
    expect(rows[0]!.body).toBe(raw)
    expect(rows[0]!.status).toBe('pending')
    expect(rows[0]!.headers).toMatchObject({
      'content-type': 'application/json',
      'x-hub-signature-256': 'present',
    })
    expect((await jobs()).map((j) => j.payload)).toEqual([{ inboxId: rows[0]!.id }])
    // Meta retries the same body until it sees a 200.
    expect((await post(raw, { 'x-hub-signature-256': sign(raw) })).status).toBe(200)
    expect(await inbox()).toHaveLength(1)
    expect(await jobs()).toHaveLength(1)
  })

  test('the job parses the stored row into normalized messages and receipts and records whatsapp.inbound, once', async () => {
    const raw = JSON.stringify(STATUSES)
    expect((await post(raw, { 'x-hub-signature-256': sign(raw) })).status).toBe(200)
    const worker = createWorker({ db: t.db, jobs: [processInboundJob] })
    expect(await worker.runDue()).toBe(2)
    const rows = await inbox()
    expect(rows.map((r) => r.status)).toEqual(['processed', 'processed'])
    const events = await t.db.raw.query<{ payload: any }>(
      `select payload from outbox_events where type = 'whatsapp.inbound' and organization_id = $1 order by version`,
      [a.orgId],
    )
    expect(events).toHaveLength(2)
    // One event per row (jobs may run in any order).
    const byRow = new Map(events.map((e) => [e.payload.inboxId, e.payload]))
    expect(byRow.get(rows[0]!.id).messages[0]).toMatchObject({
      from: '+5511987654321',
      text: 'Quero saber o preço do plano anual',
      contactName: 'Sheena Nelson',
    })
    expect(byRow.get(rows[1]!.id).statuses.map((s: any) => s.status)).toEqual(['delivered', 'failed'])
    // Processing the same row again (a job re-run after a lost lease) records nothing more.
    const { withOrg } = await import('../../platform/db/tenancy')
    const { processInboxRow } = await import('./whatsapp.inbound')
    expect(await withOrg(t.db, a.orgId, (tx) => processInboxRow(tx, rows[0]!.id))).toBeNull()
    expect(
      await t.db.raw.query(
        `select 1 from outbox_events where type = 'whatsapp.inbound' and organization_id = $1`,
        [a.orgId],
      ),
    ).toHaveLength(2)
  })

  test('the channel page shows the webhook URL and the verify token to paste into Meta', async () => {
    const page = await a.client.page(`/settings/channels/${channelId}`)
    expect(page).toContain(`http://localhost:3000/webhooks/whatsapp/${channelId}`)
    expect(page).toContain('verify-me-please')
    // The access token and app secret are never shown back.
    expect(page).not.toContain('EAAG-test-token-1234')
    expect(page).not.toContain('app-secret-123')
    const stored = await t.db.raw.query<{ secrets_enc: string }>(
      'select secrets_enc from whatsapp_channels where id = $1',
      [channelId],
    )
    expect(stored[0]!.secrets_enc).toStartWith('v1.')
    expect(stored[0]!.secrets_enc).not.toContain('app-secret')
  })
})

describe('media through the Graph API', () => {
  const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8])

  test('an image and an audio are uploaded, then sent by id: caption on the image, none on the audio', async () => {
    seen.length = 0
    await sendRequest(provider(), {
      kind: 'media',
      to: '+5511987654321',
      mediaType: 'image',
      data: JPEG,
      mime: 'image/jpeg',
      filename: 'vitrine.jpg',
      caption: 'Nova coleção',
    })
    await sendRequest(provider(), {
      kind: 'media',
      to: '+5511987654321',
      mediaType: 'audio',
      data: new Uint8Array([0x4f, 0x67, 0x67, 0x53, 0, 2]),
      mime: 'audio/ogg',
      filename: 'nota.ogg',
      caption: 'ignorada',
    })
    expect(seen.map((s) => s.path)).toEqual([
      '/v21.0/106540352242922/media',
      '/v21.0/106540352242922/messages',
      '/v21.0/106540352242922/media',
      '/v21.0/106540352242922/messages',
    ])
    expect(seen[0]!.form).toEqual({
      messaging_product: 'whatsapp',
      type: 'image/jpeg',
      file: { name: 'vitrine.jpg', type: 'image/jpeg', size: JPEG.length },
    })
    expect(seen[1]!.json).toMatchObject({
      type: 'image',
      image: { id: 'media-123', caption: 'Nova coleção' },
    })
    expect(seen[3]!.json).toMatchObject({ type: 'audio', audio: { id: 'media-123' } })
    expect(seen[3]!.json.audio.caption).toBeUndefined()
  })

  test('a type or size Meta refuses is a permanent error before anything is uploaded', async () => {
    seen.length = 0
    await expect(
      sendRequest(provider(), {
        kind: 'media',
        to: '+5511987654321',
        mediaType: 'document',
        data: new Uint8Array([0x50, 0x4b, 3, 4]),
        mime: 'application/zip',
        filename: 'fotos.zip',
      }),
    ).rejects.toMatchObject({ permanent: true, code: 'media_unsupported' })
    await expect(
      sendRequest(provider(), {
        kind: 'media',
        to: '+5511987654321',
        mediaType: 'image',
        data: new Uint8Array(5 * 1024 * 1024 + 1),
        mime: 'image/png',
      }),
    ).rejects.toMatchObject({ permanent: true, code: 'media_too_large' })
    expect(seen).toHaveLength(0)
  })

  test('a received media id is resolved with GET /{media-id}, then its URL is fetched with the same bearer token', async () => {
    MEDIA.set('1037543291543636', { id: '1037543291543636', data: JPEG, mime: 'image/jpeg' })
    seen.length = 0
    const got = await provider().downloadMedia!(
      { providerMediaId: '1037543291543636', mime: 'image/jpeg' },
      { maxBytes: 1024 },
    )
    expect(Buffer.from(got.data).equals(Buffer.from(JPEG))).toBe(true)
    expect(got.mime).toBe('image/jpeg')
    expect(got.sha256).toBe(createHash('sha256').update(JPEG).digest('hex'))
    expect(seen.map((s) => [s.method, s.path, s.headers.authorization])).toEqual([
      ['GET', '/v21.0/1037543291543636', 'Bearer EAAG-test-token'],
      ['GET', '/whatsapp_business/attachments/', 'Bearer EAAG-test-token'],
    ])
  })

  test('download failures: a 5xx is transient, a body cut short is transient, too big is permanent without fetching it', async () => {
    MEDIA.set('2001', { id: '2001', data: JPEG, mime: 'image/jpeg' })
    nextError = { status: 500, body: { error: { message: 'An unknown error occurred', code: 1 } } }
    await expect(
      provider().downloadMedia!({ providerMediaId: '2001', mime: 'image/jpeg' }, { maxBytes: 1024 }),
    ).rejects.toMatchObject({ permanent: false, code: '1' })
    MEDIA.set('2002', { id: '2002', data: JPEG, mime: 'image/jpeg', cut: 5 })
    await expect(
      provider().downloadMedia!({ providerMediaId: '2002', mime: 'image/jpeg' }, { maxBytes: 1024 }),
    ).rejects.toMatchObject({ permanent: false, code: 'truncated' })
    MEDIA.set('2003', { id: '2003', data: JPEG, mime: 'video/mp4', declared: String(40 * 1024 * 1024) })
    seen.length = 0
    await expect(
      provider().downloadMedia!(
        { providerMediaId: '2003', mime: 'video/mp4' },
        { maxBytes: 16 * 1024 * 1024 },
      ),
    ).rejects.toMatchObject({ permanent: true, code: 'media_too_large' })
    expect(seen.map((s) => s.path)).toEqual(['/v21.0/2003'])
    // A URL that answers 404 (the media expired): permanent.
    await expect(
      provider().downloadMedia!({ providerMediaId: 'missing', mime: 'image/jpeg' }, { maxBytes: 1024 }),
    ).rejects.toMatchObject({ permanent: true })
  })
})
