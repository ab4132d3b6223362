/**
 * The one place where environment variables and CLI flags become typed configuration.
 * Every knob here is documented in docs/configuration.md; a test keeps the two in step.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface SmtpConfig {
  host: string
  port: number
  secure: boolean
  user?: string
  password?: string
  from: string
}

export interface Config {
  port: number
  host: string
  baseUrl: URL
  dataDir: string
  databaseUrl?: string
  secretKey: string
  logLevel: LogLevel
  instanceName: string
  signupEnabled: boolean
  trustProxy: boolean
  appRole: string
  smtp?: SmtpConfig
  /** Facebook Graph API base (Lead Ads): a local fake in tests. */
  facebookGraphUrl: string
  /** Submissions per minute one capture token accepts before 429. */
  captureRateLimit: number
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  }
}

type Source = Record<string, string | undefined>

/** Flags win over the environment: `--port 8080` is the same as `PORT=8080`. */
export function flagsToEnv(argv: string[]): Source {
  const out: Source = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) continue
    const [rawKey, inline] = arg.slice(2).split('=', 2) as [string, string | undefined]
    const key = rawKey.toUpperCase().replaceAll('-', '_')
    const value = inline ?? argv[i + 1]
    if (inline === undefined) i++
    out[key] = value
  }
  return out
}

const bool = (v: string | undefined, fallback: boolean) =>
  v === undefined || v === '' ? fallback : ['1', 'true', 'yes', 'on'].includes(v.toLowerCase())

export function loadConfig(env: Source = process.env, opts: { ensureSecret?: boolean } = {}): Config {
  const problems: string[] = []
  const str = (k: string) => {
    const v = env[k]
    return v === undefined || v.trim() === '' ? undefined : v.trim()
  }

  const port = Number(str('PORT') ?? '3000')
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    problems.push(`PORT must be 0-65535, got "${env.PORT}"`)

  const host = str('HOST') ?? '0.0.0.0'

  let baseUrl: URL
  try {
    baseUrl = new URL(str('BASE_URL') ?? `http://localhost:${port}`)
    if (!['http:', 'https:'].includes(baseUrl.protocol))
      problems.push('BASE_URL must start with http:// or https://')
  } catch {
    problems.push(`BASE_URL is not a URL: "${env.BASE_URL}"`)
    baseUrl = new URL('http://localhost')
  }

  const dataDir = resolve(str('DATA_DIR') ?? './data')

  const databaseUrl = str('DATABASE_URL')
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl))
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL')

  const logLevel = (str('LOG_LEVEL') ?? 'info').toLowerCase() as LogLevel
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel))
    problems.push(`LOG_LEVEL must be debug, info, warn or error, got "${env.LOG_LEVEL}"`)

  const appRole = str('APP_ROLE') ?? 'loved_app'
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(appRole)) problems.push('APP_ROLE must be a lowercase SQL identifier')

  let secretKey = str('SECRET_KEY')
  if (secretKey && secretKey.length < 32) problems.push('SECRET_KEY must be at least 32 characters')

  let smtp: SmtpConfig | undefined
  const smtpHost = str('SMTP_HOST')
  if (smtpHost) {
    const smtpPort = Number(str('SMTP_PORT') ?? '587')
    if (!Number.isInteger(smtpPort) || smtpPort <= 0) problems.push('SMTP_PORT must be a port number')
    const from = str('SMTP_FROM')
    if (!from)
      problems.push('SMTP_FROM is required when SMTP_HOST is set (e.g. "Loved CRM <crm@example.com>")')
    smtp = {
      host: smtpHost,
      port: smtpPort,
      secure: bool(env.SMTP_SECURE, smtpPort === 465),
      user: str('SMTP_USER'),
      password: str('SMTP_PASSWORD'),
      from: from ?? '',
    }
  }

  const facebookGraphUrl = (str('FACEBOOK_GRAPH_URL') ?? 'https://graph.facebook.com').replace(/\/+$/, '')
  if (!/^https?:\/\/[^/]+/.test(facebookGraphUrl)) problems.push('FACEBOOK_GRAPH_URL must be an http(s) URL')
  const captureRateLimit = Number(str('CAPTURE_RATE_LIMIT') ?? '60')
  if (!Number.isInteger(captureRateLimit) || captureRateLimit < 1)
    problems.push('CAPTURE_RATE_LIMIT must be a positive whole number (submissions per minute per token)')

  if (problems.length) throw new ConfigError(problems)

  if (!secretKey) secretKey = opts.ensureSecret === false ? 'x'.repeat(32) : readOrCreateSecret(dataDir)

  return {
    port,
    host,
    baseUrl,
    dataDir,
    databaseUrl,
    secretKey,
    logLevel,
    instanceName: str('INSTANCE_NAME') ?? 'Loved CRM',
    signupEnabled: bool(env.SIGNUP_ENABLED, true),
    trustProxy: bool(env.TRUST_PROXY, false),
    appRole,
    smtp,
    facebookGraphUrl,
    captureRateLimit,
  }
}

/** SECRET_KEY absent: generate one on first start and keep it in DATA_DIR, so restarts keep sessions valid. */
function readOrCreateSecret(dataDir: string): string {
  const file = join(dataDir, 'secret.key')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(dataDir, { recursive: true })
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  const key = Buffer.from(bytes).toString('base64url')
  writeFileSync(file, `${key}\n`, { mode: 0o600 })
  return key
}
