import { describe, expect, test } from 'bun:test'
import {
  captureNote,
  facebookFields,
  isSpam,
  MAX_CAPTURE_BYTES,
  mapCaptureFields,
  parseBody,
  readLimited,
} from './leads.capture-fields'

const enc = (s: string) => new TextEncoder().encode(s)

describe('reading a capture body', () => {
  test('JSON objects, urlencoded and multipart forms are read; repeated keys become lists', async () => {
    expect(await parseBody(enc('{"nome":"Ana"}'), 'application/json; charset=utf-8')).toEqual({
      ok: true,
      kind: 'json',
      fields: { nome: 'Ana' },
    })
    expect(
      await parseBody(enc('nome=Jos%C3%A9&tags=a&tags=b&i[]=x'), 'application/x-www-form-urlencoded'),
    ).toEqual({
      ok: true,
      kind: 'form',
      fields: { nome: 'José', tags: ['a', 'b'], i: ['x'] },
    })
    const fd = new FormData()
    fd.set('name', 'Bia')
    fd.set('cv', new File(['x'], 'cv.pdf'))
    const req = new Request('http://x/', { method: 'POST', body: fd })
    const bytes = await readLimited(req, MAX_CAPTURE_BYTES)
    const parsed = await parseBody(bytes, req.headers.get('content-type'))
    expect(parsed).toEqual({ ok: true, kind: 'form', fields: { name: 'Bia', cv: '[file cv.pdf]' } })
  })

  test('a JSON array, broken JSON, a foreign content type and an oversize body are refused with a reason', async () => {
    expect((await parseBody(enc('[1]'), 'application/json')).ok).toBe(false)
    expect(await parseBody(enc('{nome'), 'application/json')).toMatchObject({ ok: false, reason: 'bad_json' })
    expect(await parseBody(enc('<x/>'), 'text/xml')).toMatchObject({ ok: false, reason: 'content_type' })
    const big = new Request('http://x/', { method: 'POST', body: 'a'.repeat(MAX_CAPTURE_BYTES + 1) })
    expect(await readLimited(big, MAX_CAPTURE_BYTES)).toBeNull()
    expect(await parseBody(null, 'application/json')).toMatchObject({ ok: false, reason: 'too_large' })
    // A body that lies about its length is still cut at the limit while streaming.
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 70; i++) c.enqueue(enc('x'.repeat(1024)))
        c.close()
      },
    })
    expect(
      await readLimited(new Request('http://x/', { method: 'POST', body: stream }), MAX_CAPTURE_BYTES),
    ).toBeNull()
  })
})

describe('mapping field names', () => {
  test('pt-BR and English names, any case and accents, map to the lead; the rest is kept for the note', () => {
    const m = mapCaptureFields(
      {
        Nome: 'Maria da Silva',
        'E-mail': 'maria@example.com',
        WhatsApp: '(11) 98765-4321',
        Empresa: 'Acme',
        Cargo: 'CEO',
        Mensagem: 'Quero orçamento',
        Orçamento: '1.500,00',
        tags: 'Site, Promo',
        cnpj: '12.345.678/0001-90',
        utm_source: 'google',
        _redirect: 'https://x.com',
        _hp: '',
      },
      new Set(['cnpj']),
    )
    expect(m).toEqual({
      fullName: 'Maria da Silva',
      email: 'maria@example.com',
      phone: '(11) 98765-4321',
      company: 'Acme',
      jobTitle: 'CEO',
      value: '1.500,00',
      message: 'Quero orçamento',
      tags: ['Site', 'Promo'],
      custom: { cnpj: '12.345.678/0001-90' },
      extra: { utm_source: 'google' },
    })
    expect(captureNote(m, 'Outros campos:')).toBe('Quero orçamento\n\nOutros campos:\nutm_source: google')
  })

  test('first and last name are joined; a custom object only takes defined keys', () => {
    const m = mapCaptureFields(
      { first_name: 'João', sobrenome: 'Souza', custom: { segmento: 'varejo', outro: 'x' } },
      new Set(['segmento']),
    )
    expect(m.fullName).toBe('João Souza')
    expect(m.custom).toEqual({ segmento: 'varejo' })
    expect(m.extra).toEqual({ outro: 'x' })
  })

  test('the honeypot: website or _hp filled means a bot', () => {
    expect(isSpam({ nome: 'x', website: 'http://spam' })).toBe(true)
    expect(isSpam({ nome: 'x', _hp: 'y' })).toBe(true)
    expect(isSpam({ nome: 'x', _hp: '', website: '' })).toBe(false)
  })

  test('Facebook field_data becomes capture fields', () => {
    const f = facebookFields([
      { name: 'full_name', values: ['Joe Example'] },
      { name: 'email', values: ['joe@example.com'] },
      { name: 'phone_number', values: ['+5511987654321'] },
      { name: 'interesse', values: ['a', 'b'] },
    ])
    const m = mapCaptureFields(f, new Set())
    expect([m.fullName, m.email, m.phone]).toEqual(['Joe Example', 'joe@example.com', '+5511987654321'])
    expect(m.extra).toEqual({ interesse: 'a, b' })
  })
})
