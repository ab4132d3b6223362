#!/usr/bin/env bun
/**
 * `loved` — the one CLI: serve (default), migrate, create-admin, version.
 * Configuration comes from environment variables, overridden by flags (--port 8080 = PORT=8080).
 */
import { ConfigError, flagsToEnv, loadConfig } from './config/config'
import { signUp } from './modules/auth/auth.usecases'
import { prepareExport, prepareImport } from './modules/leads/leads.import.cli'
import { DataDirLockedError } from './platform/db/data-dir-lock'
import { migrate } from './platform/db/migrate'
import { assertAppRoleIsolated, TenancyError } from './platform/db/tenancy'
import { FormError } from './platform/http/errors'
import { createLogger } from './platform/log/logger'
import { openDatabase, startServer, VERSION } from './server'
import { translator } from './shared/i18n'

const HELP = `loved ${VERSION} — Loved CRM

Usage: loved [command] [--flag value ...]

Commands:
  serve          Start the web server (default)
  migrate        Apply pending database migrations and exit
  create-admin   Create an owner and organization non-interactively:
                   --email EMAIL --password PASSWORD --name NAME --org ORG_NAME
                 (or LOVED_ADMIN_EMAIL, LOVED_ADMIN_PASSWORD, LOVED_ADMIN_NAME, LOVED_ADMIN_ORG)
  import         Import leads from a CSV file (same pipeline as the UI: dedup, scoring, report):
                   FILE.csv --org SLUG [--dedup auto|review|off] [--pipeline ID [--stage ID]]
                   [--source TEXT] [--tags a,b] [--encoding auto|utf-8|latin1]
                   [--delimiter auto|";"|,|tab]  (detected unless given)
                   An "Owner"/"Responsável" column sets the owner (member email or name).
  export         Write the organization's leads as CSV (UTF-8 with BOM, ";" for Excel pt-BR):
                   --org SLUG [--out FILE] [--separator ";"|,|tab] [--owner ID|none] [--tag T]
                   [--source S] [--q TEXT] [--score-min N] [--score-max N] [--from DATE] [--to DATE]
                   [--pipeline ID] [--stage ID] [--locale pt-BR|en]
  version        Print the version
  help           Show this help

Flags override environment variables of the same name:
  --port, --host, --base-url, --data-dir, --database-url, --log-level, --instance-name
See docs/configuration.md for every setting.
`

async function main(argv: string[]) {
  const command = argv[0] && !argv[0].startsWith('--') ? argv[0] : 'serve'
  const rest = command === argv[0] ? argv.slice(1) : argv
  if (command === 'help' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(HELP)
    return 0
  }
  if (command === 'version' || rest.includes('--version')) {
    process.stdout.write(`${VERSION}\n`)
    return 0
  }
  if (!['serve', 'migrate', 'create-admin', 'import', 'export'].includes(command)) {
    process.stderr.write(`Unknown command "${command}".\n\n${HELP}`)
    return 2
  }
  const flags = flagsToEnv(rest)
  const env = { ...process.env, ...flags }
  const config = loadConfig(env)
  const log = createLogger(config.logLevel)

  if (command === 'import' || command === 'export') {
    // Validate the arguments before opening the database; logs go to stderr (stdout may be the CSV).
    const cmd = command === 'import' ? prepareImport(rest) : prepareExport(rest)
    if ('error' in cmd) {
      process.stderr.write(`${cmd.error}\n`)
      return 2
    }
    const quiet = createLogger(env.LOG_LEVEL ? config.logLevel : 'warn', {}, (l) =>
      process.stderr.write(`${l}\n`),
    )
    const db = await openDatabase(config, quiet)
    try {
      await migrate(db)
      await assertAppRoleIsolated(db)
      return await cmd.run(db, { stdout: process.stdout, stderr: process.stderr })
    } finally {
      await db.close()
    }
  }

  switch (command) {
    case 'serve':
      await startServer(config, { log })
      return null // keep running
    case 'migrate': {
      const db = await openDatabase(config, log)
      try {
        const res = await migrate(db)
        await assertAppRoleIsolated(db)
        process.stdout.write(`Migrations: ${res.applied.length} applied, ${res.total} known.\n`)
      } finally {
        await db.close()
      }
      return 0
    }
    case 'create-admin': {
      const email = env.EMAIL ?? env.LOVED_ADMIN_EMAIL
      const password = env.PASSWORD ?? env.LOVED_ADMIN_PASSWORD
      const name = env.NAME ?? env.LOVED_ADMIN_NAME ?? 'Admin'
      const orgName = env.ORG ?? env.LOVED_ADMIN_ORG
      if (!email || !password || !orgName) {
        process.stderr.write('create-admin needs --email, --password and --org (see loved --help)\n')
        return 2
      }
      const db = await openDatabase(config, log)
      try {
        await migrate(db)
        const { user, org } = await signUp(
          db,
          { email, password, name, orgName, locale: 'pt-BR' },
          { instanceAdmin: true },
        )
        process.stdout.write(`Created owner ${user.email} of organization "${org.name}" (${org.slug}).\n`)
      } catch (err) {
        if (err instanceof FormError) {
          const t = translator('en')
          for (const [f, key] of Object.entries(err.fields))
            process.stderr.write(`${f}: ${t(key, err.params[f])}\n`)
          return 2
        }
        throw err
      } finally {
        await db.close()
      }
      return 0
    }
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${HELP}`)
      return 2
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== null) process.exit(code)
  },
  (err) => {
    if (err instanceof ConfigError || err instanceof TenancyError || err instanceof DataDirLockedError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(78) // EX_CONFIG
    }
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exit(1)
  },
)
