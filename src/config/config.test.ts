import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, flagsToEnv, loadConfig } from './config'

describe('configuration', () => {
  test('has working defaults: port 3000, ./data, embedded database', () => {
    const c = loadConfig({}, { ensureSecret: false })
    expect(c.port).toBe(3000)
    expect(c.dataDir.endsWith('/data')).toBe(true)
    expect(c.databaseUrl).toBeUndefined()
    expect(c.baseUrl.toString()).toBe('http://localhost:3000/')
    expect(c.appRole).toBe('loved_app')
  })

  test('reports every invalid setting at once, in plain words', () => {
    try {
      loadConfig(
        {
          PORT: 'abc',
          BASE_URL: 'ftp://x',
          LOG_LEVEL: 'loud',
          DATABASE_URL: 'mysql://x',
          SMTP_HOST: 'smtp.x',
        },
        { ensureSecret: false },
      )
      throw new Error('should have thrown')
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      const msg = (err as Error).message
      for (const word of ['PORT', 'BASE_URL', 'LOG_LEVEL', 'DATABASE_URL', 'SMTP_FROM'])
        expect(msg).toContain(word)
    }
  })

  test('flags override the environment', () => {
    const env = {
      PORT: '1000',
      ...flagsToEnv(['--port', '8080', '--data-dir=/tmp/x', '--log-level', 'debug']),
    }
    const c = loadConfig(env, { ensureSecret: false })
    expect(c.port).toBe(8080)
    expect(c.dataDir).toBe('/tmp/x')
    expect(c.logLevel).toBe('debug')
  })

  test('generates SECRET_KEY once, keeps it in DATA_DIR (mode 600), and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'loved-cfg-'))
    const a = loadConfig({ DATA_DIR: dir })
    const b = loadConfig({ DATA_DIR: dir })
    expect(a.secretKey.length).toBeGreaterThanOrEqual(32)
    expect(b.secretKey).toBe(a.secretKey)
    expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o600)
  })

  test('every environment variable the code reads is documented in docs/configuration.md', () => {
    const src = readFileSync(join(import.meta.dir, 'config.ts'), 'utf8')
    const names = new Set([...src.matchAll(/(?:str\(|env\.)'?([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!))
    const docs = readFileSync(join(import.meta.dir, '../../docs/configuration.md'), 'utf8')
    const missing = [...names].filter((n) => !docs.includes(`\`${n}\``))
    expect(names.size).toBeGreaterThan(10)
    expect(missing).toEqual([])
  })
})
