/**
 * Secrets at rest (provider tokens, app secrets): AES-256-GCM with a key derived from SECRET_KEY by
 * HKDF-SHA256. A ciphertext is `v1.<base64url(iv 12 bytes | ciphertext | tag 16 bytes)>`.
 *
 * Each value is sealed for a `context` (e.g. "facebook.app_secret"), bound as GCM associated data:
 * a ciphertext copied into another column (or another purpose) does not open there. Changing
 * SECRET_KEY makes every stored secret unreadable (`open` throws): keep it with the backups.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

const VERSION = 'v1'
const IV_BYTES = 12
const TAG_BYTES = 16

export interface SecretBox {
  seal(plain: string, context: string): string
  open(sealed: string, context: string): string
}

export class SecretError extends Error {
  override name = 'SecretError'
}

export function createSecretBox(secretKey: string): SecretBox {
  if (secretKey.length < 32) throw new SecretError('SECRET_KEY must be at least 32 characters')
  const key = Buffer.from(
    hkdfSync('sha256', secretKey, 'loved-crm/secrets', 'aes-256-gcm secrets at rest v1', 32),
  )
  return {
    seal(plain, context) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(Buffer.from(context, 'utf8'))
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`
    },
    open(sealed, context) {
      const [version, data] = sealed.split('.', 2)
      if (version !== VERSION || !data) throw new SecretError('not a sealed secret')
      const raw = Buffer.from(data, 'base64url')
      if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretError('sealed secret too short')
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES))
      decipher.setAAD(Buffer.from(context, 'utf8'))
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES))
      try {
        return Buffer.concat([
          decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8')
      } catch {
        throw new SecretError('secret does not open: wrong SECRET_KEY, context, or tampered value')
      }
    },
  }
}

const boxes = new Map<string, SecretBox>()
/** One box per SECRET_KEY (HKDF runs once). */
export function secretBox(secretKey: string): SecretBox {
  let box = boxes.get(secretKey)
  if (!box) {
    box = createSecretBox(secretKey)
    boxes.set(secretKey, box)
  }
  return box
}
