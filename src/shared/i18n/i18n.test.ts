import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestApp, signUpClient, type TestApp } from '../../../test/harness'
import { catalogs, fromAcceptLanguage, resolveLocale, translator } from './index'

const { en, 'pt-BR': ptBR } = catalogs

describe('catalogs', () => {
  test('pt-BR and en have the same keys and the same placeholders', () => {
    expect(Object.keys(ptBR).sort()).toEqual(Object.keys(en).sort())
    const holes = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
    const differ = Object.keys(en).filter(
      (k) => holes(en[k as keyof typeof en]).join() !== holes(ptBR[k as keyof typeof en]).join(),
    )
    expect(differ).toEqual([])
  })

  test('fills parameters and leaves unknown ones visible', () => {
    expect(translator('pt-BR')('dashboard.hello', { name: 'Ana' })).toBe('Olá, Ana')
    expect(translator('en')('dashboard.hello')).toBe('Hello, {name}')
  })
})

describe('locale choice', () => {
  test('reads Accept-Language by quality', () => {
    expect(fromAcceptLanguage('en-US,en;q=0.9,pt-BR;q=0.8')).toBe('en')
    expect(fromAcceptLanguage('fr-FR,pt;q=0.7,en;q=0.5')).toBe('pt-BR')
    expect(fromAcceptLanguage('de, fr')).toBeUndefined()
    expect(fromAcceptLanguage('en;q=0, pt')).toBe('pt-BR')
  })

  test('prefers the user, then the organization, then the browser, then pt-BR', () => {
    expect(resolveLocale('en', 'pt-BR', 'pt-BR')).toBe('en')
    expect(resolveLocale(null, 'en', 'pt-BR')).toBe('en')
    expect(resolveLocale(null, 'xx', 'en-GB')).toBe('en')
    expect(resolveLocale(undefined, undefined, undefined)).toBe('pt-BR')
  })

  describe('through the pages', () => {
    let t: TestApp
    beforeAll(async () => {
      t = await createTestApp()
    })
    afterAll(() => t.close())

    test('anonymous pages follow Accept-Language', async () => {
      const en = await (await t.client().get('/login', { 'accept-language': 'en-US,en;q=0.9' })).text()
      const pt = await (await t.client().get('/login', { 'accept-language': 'pt-BR' })).text()
      expect(en).toContain('<html lang="en">')
      expect(en).toContain('Log in')
      expect(pt).toContain('<html lang="pt-BR">')
      expect(pt).toContain('Entrar')
    })

    test("the user's own setting beats the organization's", async () => {
      const { client } = await signUpClient(t)
      expect(await client.page('/dashboard')).toContain('lang="pt-BR"')
      expect((await client.post('/settings/profile', { name: 'Ana', locale: 'en' })).status).toBe(303)
      const html = await client.page('/dashboard')
      expect(html).toContain('lang="en"')
      expect(html).toContain('Getting started')
    })
  })
})
