import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SMTPServer } from 'smtp-server'
import { createTestApp, type TestApp } from '../../../test/harness'

/** A local SMTP server (nodemailer's own smtp-server) standing in for the real one. */
let smtp: SMTPServer
let port = 0
const received: { from: string; to: string[]; data: string }[] = []

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, done) {
      let data = ''
      stream.on('data', (c) => {
        data += c.toString()
      })
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
        })
        done()
      })
    },
  })
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()))
  port = (smtp.server.address() as { port: number }).port
})
afterAll(() => new Promise<void>((resolve) => smtp.close(() => resolve())))

describe('email delivery over SMTP', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp({
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(port),
      SMTP_SECURE: 'false',
      SMTP_FROM: 'Loved <crm@example.com>',
    })
  })
  afterAll(() => t.close())

  test('a password reset is sent through SMTP and marked sent in the outbox', async () => {
    const c = t.client()
    expect(
      (
        await c.post('/signup', {
          name: 'Mia',
          email: 'mia@example.com',
          password: 'mia password',
          orgName: 'Mia Co',
        })
      ).status,
    ).toBe(303)
    expect((await t.client().post('/forgot-password', { email: 'mia@example.com' })).status).toBe(200)
    const mail = received.find((m) => m.to.includes('mia@example.com'))
    expect(mail?.from).toBe('crm@example.com')
    expect(mail?.data).toMatch(/reset-password\//)
    const [row] = await t.db.raw.query<{ sent_at: Date | null; attempts: number }>(
      "select sent_at, attempts from mail_outbox where to_address = 'mia@example.com'",
    )
    expect(row?.sent_at).not.toBeNull()
    expect(row?.attempts).toBe(1)
  })

  test('the dev outbox is closed once SMTP is configured', async () => {
    const c = t.client()
    await c.post('/signup', {
      name: 'Admin',
      email: `adm${Date.now()}@example.com`,
      password: 'admin password',
      orgName: 'A',
    })
    expect((await c.get('/dev/outbox')).status).toBe(403)
  })

  test('a message that fails to send stays in the outbox with the error, for a later retry', async () => {
    const down = await createTestApp({
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: '1',
      SMTP_SECURE: 'false',
      SMTP_FROM: 'x@example.com',
    })
    try {
      await down
        .client()
        .post('/signup', { name: 'N', email: 'n@example.com', password: 'n password!', orgName: 'N' })
      await down.client().post('/forgot-password', { email: 'n@example.com' })
      const [row] = await down.db.raw.query<{ sent_at: Date | null; attempts: number; last_error: string }>(
        "select sent_at, attempts, last_error from mail_outbox where to_address = 'n@example.com'",
      )
      expect(row?.sent_at).toBeNull()
      expect(row?.attempts).toBe(1)
      expect(row?.last_error).toMatch(/ECONNREFUSED|connect/i)
    } finally {
      await down.close()
    }
  })
})
