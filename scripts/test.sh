#!/usr/bin/env bash
# The whole suite, from a machine with only Node.js/npm and apt-get:
#   installs Bun (npm), Chromium (apt-get) and the locked dependencies, makes sure Postgres answers,
#   runs the static checks, then every test twice: on the embedded PGlite and on the real Postgres.
# It fails (never skips) when Postgres is unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."

BUN_VERSION="1.4.5"
export TEST_PG_URL="${TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"

say() { printf '\n==> %s\n' "$*"; }

if ! command -v bun >/dev/null 2>&1 || [ "$(bun --version)" != "$BUN_VERSION" ]; then
  say "installing Bun $BUN_VERSION with npm"
  npm install -g "bun@$BUN_VERSION" >/dev/null
fi

if [ ! -x "$CHROMIUM_PATH" ]; then
  say "installing Chromium with apt-get"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

say "installing dependencies from the lockfile"
bun install --frozen-lockfile

say "checking Postgres at $TEST_PG_URL"
pg_up() { bun scripts/pg-ready.ts "$TEST_PG_URL" >/dev/null 2>&1; }
if ! pg_up && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if ! pg_up; then
  bun scripts/pg-ready.ts "$TEST_PG_URL" || true
  echo "FAIL: Postgres is unreachable at $TEST_PG_URL — the suite runs on both databases and will not skip it." >&2
  exit 1
fi

# Test databases left by an interrupted run (names only ever used by test/db.ts, which puts the
# creating process's pid in them): drop those whose process is gone.
bun -e '
  const sql = (await import("postgres")).default(process.env.TEST_PG_URL, { max: 1, onnotice: () => {} })
  const rows = await sql`select datname from pg_database where datname ~ ${"^loved_(t|tpl)_[0-9]+_"}`
  let dropped = 0
  for (const { datname } of rows) {
    const pid = Number(datname.split("_")[2])
    try { process.kill(pid, 0); continue } catch {}
    await sql.unsafe(`drop database if exists "${datname}" with (force)`)
    dropped++
  }
  if (dropped) console.log(`dropped ${dropped} stale test databases`)
  await sql.end()
'

say "lint and format (biome)"
bunx biome check .
say "types (tsc)"
bunx tsc --noEmit -p .
say "XSS scan of the views (@kitajs/ts-html-plugin)"
bunx xss-scan

summary=()
run_suite() {
  local label="$1"; shift
  say "tests on $label"
  local log
  log="$(mktemp)"
  set +e
  "$@" 2>&1 | tee "$log"
  local code=${PIPESTATUS[0]}
  set -e
  local pass fail
  pass=$(grep -Eo '^ *[0-9]+ pass' "$log" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)
  fail=$(grep -Eo '^ *[0-9]+ fail' "$log" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)
  summary+=("$label: $pass passed, $fail failed")
  rm -f "$log"
  return "$code"
}

status=0
run_suite "PGlite" env -u TEST_DATABASE_URL bun test --timeout 120000 || status=1
run_suite "Postgres" env TEST_DATABASE_URL="$TEST_PG_URL" bun test --timeout 120000 || status=1

say "summary"
printf '%s\n' "${summary[@]}"
total_pass=0; total_fail=0
for line in "${summary[@]}"; do
  p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line"); f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
done
echo "$total_pass passed, $total_fail failed"
exit "$status"
