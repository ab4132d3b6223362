import { describe, expect, test } from 'bun:test'
import { emailMatchKey, normalizeEmail } from './email'
import { formatPhone, phoneRegion, toE164 } from './phone'
import { fold, nameKey, nameTokens } from './text'

describe('phone numbers', () => {
  test('every common way of writing a Brazilian mobile gives the same E.164', () => {
    for (const raw of [
      '(11) 98765-4321',
      '11987654321',
      '+55 11 9 8765 4321',
      '5511987654321',
      '011 98765 4321',
      '0xx11 98765-4321',
      '(0xx11) 98765 4321',
      '0055 11 98765 4321',
      // Before the ninth digit: spreadsheets still carry it.
      '11 8765-4321',
      '(11) 8765 4321',
      '+55 11 8765-4321',
    ])
      expect(`${raw} ${toE164(raw)}`).toBe(`${raw} +5511987654321`)
  })

  test('an old eight-digit mobile the metadata still calls valid gets its ninth digit too', () => {
    expect(String(toE164('+55 92 7111-2143'))).toBe('+5592971112143')
    expect(String(toE164('(92) 7111-2143'))).toBe('+5592971112143')
  })

  test('a landline keeps its eight digits and no ninth digit is invented', () => {
    expect(String(toE164('(21) 3456-7890'))).toBe('+552134567890')
    expect(String(toE164('21 2345 6789'))).toBe('+552123456789')
  })

  test('other countries parse with their code or with the organization default country', () => {
    expect(String(toE164('+1 415 555 2671'))).toBe('+14155552671')
    expect(String(toE164('(415) 555-2671', 'US'))).toBe('+14155552671')
    expect(String(toE164('+351 912 345 678'))).toBe('+351912345678')
  })

  test('text that is not a phone number gives null, not a guess', () => {
    for (const raw of ['', 'abc', '123', '98765-4321', '(11) 1234', 'ligar depois'])
      expect(toE164(raw)).toBeNull()
  })

  test('the region comes from the area code', () => {
    expect(phoneRegion('+5511987654321')).toBe('BR-SP')
    expect(phoneRegion('+5551987654321')).toBe('BR-RS')
    expect(phoneRegion('+5585987654321')).toBe('BR-CE')
    expect(phoneRegion('+14155552671')).toBe('US')
    expect(phoneRegion(null)).toBeNull()
  })

  test('display is national for the home country and international otherwise', () => {
    expect(formatPhone('+5511987654321')).toBe('(11) 98765-4321')
    expect(formatPhone('+14155552671')).toBe('+1 415 555 2671')
  })
})

describe('email addresses', () => {
  test('the stored form is trimmed and lower case', () => {
    expect(normalizeEmail('  Maria.Silva@Gmail.COM ')).toBe('maria.silva@gmail.com')
    expect(normalizeEmail('mailto:ana@x.com.br')).toBe('ana@x.com.br')
  })

  test('the matching key applies provider rules only where the provider has them', () => {
    expect(emailMatchKey('Maria.Silva+leads@gmail.com')).toBe('mariasilva@gmail.com')
    expect(emailMatchKey('maria.silva@googlemail.com')).toBe('mariasilva@gmail.com')
    expect(emailMatchKey('joao+news@hotmail.com')).toBe('joao@hotmail.com')
    expect(emailMatchKey('ana-promo@yahoo.com.br')).toBe('ana@yahoo.com.br')
    // A company domain keeps its dots and plus signs: they may be different mailboxes.
    expect(emailMatchKey('maria.silva+x@empresa.com.br')).toBe('maria.silva+x@empresa.com.br')
    expect(emailMatchKey('not an email')).toBeNull()
    expect(emailMatchKey('')).toBeNull()
  })
})

describe('text folding', () => {
  test('accents, case and punctuation fold away', () => {
    expect(fold('  João   CONCEIÇÃO-Araújo ')).toBe('joao conceicao araujo')
    expect(fold(null)).toBe('')
  })

  test('name tokens drop Portuguese particles', () => {
    expect(nameTokens('Maria da Silva')).toEqual(['maria', 'silva'])
    expect(nameKey('José dos Santos e Souza')).toBe('jose santos souza')
  })
})
