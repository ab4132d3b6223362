import { describe, expect, test } from 'bun:test'
import { createSecretBox, SecretError, secretBox } from './secrets'

const KEY = 'k'.repeat(40)

describe('secrets at rest', () => {
  test('a sealed value opens with the same key and context, and is not the plain text', () => {
    const box = createSecretBox(KEY)
    const sealed = box.seal('EAAG-page-token-ção', 'facebook.page_token')
    expect(sealed).toStartWith('v1.')
    expect(sealed).not.toContain('EAAG')
    expect(box.open(sealed, 'facebook.page_token')).toBe('EAAG-page-token-ção')
  })

  test('sealing twice gives different ciphertexts (random IV)', () => {
    const box = secretBox(KEY)
    expect(box.seal('x', 'c')).not.toBe(box.seal('x', 'c'))
    expect(secretBox(KEY)).toBe(box)
  })

  test('another context, another key or a flipped byte does not open', () => {
    const box = createSecretBox(KEY)
    const sealed = box.seal('segredo', 'facebook.app_secret')
    expect(() => box.open(sealed, 'facebook.page_token')).toThrow(SecretError)
    expect(() => createSecretBox('z'.repeat(40)).open(sealed, 'facebook.app_secret')).toThrow(SecretError)
    const raw = Buffer.from(sealed.slice(3), 'base64url')
    raw[14] = raw[14]! ^ 1
    expect(() => box.open(`v1.${raw.toString('base64url')}`, 'facebook.app_secret')).toThrow(SecretError)
    expect(() => box.open('plain text', 'facebook.app_secret')).toThrow(SecretError)
  })

  test('a short SECRET_KEY is refused', () => {
    expect(() => createSecretBox('short')).toThrow(SecretError)
  })
})
