/**
 * A local fake of the WhatsApp Cloud API (Graph API v21.0) for tests: the documented request and
 * answer shapes of the endpoints the provider switch and the template picker use.
 *
 *   GET  /v21.0/{phone-number-id}?fields=…        -> {verified_name, display_phone_number, id, quality_rating}
 *   GET  /v21.0/{waba-id}/message_templates        -> {data: [...], paging: {cursors}} (Meta's example shapes)
 *   POST /v21.0/{phone-number-id}/messages         -> {messaging_product, contacts: [{input, wa_id}], messages: [{id}]}
 *
 * Errors use Meta's shape `{error: {message, type, code, error_subcode?, fbtrace_id}}`
 * (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes). A token listed in
 * `badTokens` gets 401 / code 190; `failNext` queues one-off answers.
 */
export interface GraphCall {
  method: string
  path: string
  search: string
  token: string | null
  json?: any
}

export const META_TEMPLATES = [
  {
    name: 'boas_vindas',
    parameter_format: 'POSITIONAL',
    components: [
      { type: 'HEADER', format: 'TEXT', text: 'Bem-vindo!' },
      {
        type: 'BODY',
        text: 'Olá {{1}}, obrigado pelo contato com a {{2}}. Posso ajudar?',
        example: { body_text: [['Ana', 'Loja Aurora']] },
      },
      { type: 'FOOTER', text: 'Responda SAIR para não receber mais' },
    ],
    language: 'pt_BR',
    status: 'APPROVED',
    category: 'MARKETING',
    id: '1404517797175474',
  },
  {
    name: 'order_update',
    parameter_format: 'NAMED',
    components: [
      {
        type: 'BODY',
        text: 'Hi {{first_name}}, your order {{order_number}} has shipped.',
        example: {
          body_text_named_params: [
            { param_name: 'first_name', example: 'Jessica' },
            { param_name: 'order_number', example: 'SKBUP2-4CPIG9' },
          ],
        },
      },
    ],
    language: 'en_US',
    status: 'APPROVED',
    category: 'UTILITY',
    id: '1404517797175475',
  },
  {
    name: 'retomada',
    parameter_format: 'POSITIONAL',
    components: [{ type: 'BODY', text: 'Oi! Podemos retomar nossa conversa?' }],
    language: 'pt_BR',
    status: 'APPROVED',
    category: 'UTILITY',
    id: '1404517797175476',
  },
  {
    name: 'promo_imagem',
    parameter_format: 'POSITIONAL',
    components: [
      { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::aW1hZ2UvanBlZw==:ARY…'] } },
      { type: 'BODY', text: 'Confira a promoção de {{1}}!', example: { body_text: [['maio']] } },
    ],
    language: 'pt_BR',
    status: 'APPROVED',
    category: 'MARKETING',
    id: '1404517797175477',
  },
  {
    name: 'cupom_rejeitado',
    parameter_format: 'POSITIONAL',
    components: [{ type: 'BODY', text: 'Use o cupom {{1}} hoje', example: { body_text: [['X']] } }],
    language: 'pt_BR',
    status: 'REJECTED',
    category: 'MARKETING',
    id: '1404517797175478',
  },
  {
    name: 'rastreio',
    parameter_format: 'POSITIONAL',
    components: [
      { type: 'BODY', text: 'Seu pedido saiu para entrega.' },
      {
        type: 'BUTTONS',
        buttons: [{ type: 'URL', text: 'Rastrear', url: 'https://loja.example/rastreio/{{1}}' }],
      },
    ],
    language: 'pt_BR',
    status: 'APPROVED',
    category: 'UTILITY',
    id: '1404517797175479',
  },
]

export function startFakeGraph() {
  const calls: GraphCall[] = []
  const badTokens = new Set<string>()
  const failNext: Array<{ status: number; body: unknown }> = []
  let templates: unknown[] = META_TEMPLATES
  let seq = 0
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const url = new URL(req.url)
      const token = req.headers.get('authorization')?.replace(/^Bearer\s+/i, '') ?? null
      const call: GraphCall = { method: req.method, path: url.pathname, search: url.search, token }
      if ((req.headers.get('content-type') ?? '').includes('application/json')) call.json = await req.json()
      calls.push(call)
      const fbtrace_id = `A${Math.random().toString(36).slice(2, 12)}`
      if (token && badTokens.has(token))
        return Response.json(
          {
            error: {
              message: 'Invalid OAuth access token - Cannot parse access token',
              type: 'OAuthException',
              code: 190,
              fbtrace_id,
            },
          },
          { status: 401 },
        )
      const forced = failNext.shift()
      if (forced) return Response.json(forced.body, { status: forced.status })
      const parts = url.pathname.split('/').filter(Boolean) // ['v21.0', id, edge?]
      if (req.method === 'GET' && parts.length === 2)
        return Response.json({
          verified_name: 'Loja Aurora',
          display_phone_number: '+55 11 98765-0000',
          id: parts[1],
          quality_rating: 'GREEN',
        })
      if (req.method === 'GET' && parts[2] === 'message_templates')
        return Response.json({
          data: templates,
          paging: { cursors: { before: 'MAZDZD', after: 'MjQZD' } },
        })
      if (req.method === 'POST' && parts[2] === 'messages')
        return Response.json({
          messaging_product: 'whatsapp',
          contacts: [{ input: call.json?.to, wa_id: call.json?.to }],
          messages: [{ id: `wamid.HBgLNTUxMTk4NzY1${String(++seq).padStart(4, '0')}FQIAERgS` }],
        })
      return Response.json(
        {
          error: { message: 'Unsupported get request.', type: 'GraphMethodException', code: 100, fbtrace_id },
        },
        { status: 400 },
      )
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    calls,
    badTokens,
    failNext,
    setTemplates(list: unknown[]) {
      templates = list
    },
    /** The messages sent (POST …/messages bodies), oldest first. */
    sent: () => calls.filter((c) => c.method === 'POST' && c.path.endsWith('/messages')).map((c) => c.json),
    stop: () => server.stop(true),
  }
}
export type FakeGraph = ReturnType<typeof startFakeGraph>
