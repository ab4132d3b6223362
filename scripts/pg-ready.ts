// Exits 0 when the Postgres at the given URL answers `select 1` within 3 s, 1 otherwise (with the reason).
import postgres from 'postgres'

const url = process.argv[2] ?? process.env.TEST_DATABASE_URL
if (!url) {
  console.error('usage: bun scripts/pg-ready.ts postgres://...')
  process.exit(2)
}
const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} })
try {
  await sql`select 1`
  console.log(`Postgres ready at ${new URL(url).host}`)
  process.exit(0)
} catch (err) {
  console.error(`Postgres not reachable at ${new URL(url).host}: ${(err as Error).message}`)
  process.exit(1)
} finally {
  await sql.end({ timeout: 1 }).catch(() => {})
}
