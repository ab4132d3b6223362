// Preloaded by `bun test` (bunfig.toml): hooks here span the whole run, not one file.
import { afterAll, setDefaultTimeout } from 'bun:test'
import { dropCreatedDatabases } from './db'

// Note: in Bun 1.4.5 this default only reaches the first test file; scripts/test.sh passes --timeout.
// Database and browser suites on 2 cores: 5 s is too tight when the machine is busy.
setDefaultTimeout(60_000)

afterAll(async () => {
  await dropCreatedDatabases()
})
