/**
 * Deduplication precision and recall on the labeled set (bench/dedup-data.ts), through the real
 * `captureLead` (channel 'import', the organization's default settings: auto-merge >= 90 with a
 * shared phone or email, review >= 60), one record at a time, on a fresh PGlite and/or Postgres.
 *
 * Pairwise decisions: two records are "declared the same" when they ended in the same lead (merged)
 * or their leads form an open pair in the review queue (flagged). Against the ground truth (same
 * person id) that gives, per seed, TP / FP / FN, precision and recall, overall and for automatic
 * merges alone, and the recall once a reviewer has merged the queued pairs (chains of pairs).
 * Then the missed pairs and false positives by category (bench/dedup-explain.ts: shared contact ×
 * how the names differ × why), in full with --misses.
 *
 * Honesty: the matcher's weights were tuned on seeds 1, 4-10 and 21-40 (TUNED below); every other seed is
 * held out. Misses are listed for the tuning seeds only; --misses-held-out also lists the held-out
 * seeds' (do not tune on them).
 *
 *   bun bench/dedup.bench.ts [--db pglite|postgres|both] [--people 300] [--seeds 1,2,3,11,12,13]
 *     [--misses] [--misses-held-out] [--pg-url postgres://postgres@127.0.0.1:5432/postgres]
 */
import { createApp } from '../src/app'
import { loadConfig } from '../src/config/config'
import { captureLead } from '../src/modules/leads/leads.capture'
import { matchScore } from '../src/modules/leads/leads.match'
import type { Db } from '../src/platform/db/client'
import { migrate } from '../src/platform/db/migrate'
import { withOrg } from '../src/platform/db/tenancy'
import { silentLogger } from '../src/platform/log/logger'
import { createMailer } from '../src/platform/mail/mailer'
import { type DedupRecord, generateDedupSet } from './dedup-data'
import { Components, companyPattern, contactPattern, matchRecord, namePattern } from './dedup-explain'
import { openBenchDb, parseArgs, table } from './lib'

const opts = parseArgs({
  db: 'both',
  people: 300,
  seeds: '1,2,3,11,12,13',
  misses: false,
  missesHeldOut: false,
  pgUrl: process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
})
const BASE = 'http://localhost:3000'
// Seeds the weights and thresholds were tuned on (1 and 4-10, widened with 21-40 for issue #5);
// every other seed (2, 3, 11-20, 41+) is held out.
const TUNED = new Set([1, 4, 5, 6, 7, 8, 9, 10, ...Array.from({ length: 20 }, (_, i) => 21 + i)])

async function newOrg(db: Db, app: ReturnType<typeof createApp>, label: string) {
  const email = `bench.${label}.${Date.now()}@example.com`
  const res = await app.handle(
    new Request(`${BASE}/signup`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: BASE, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'Bench', email, password: 'correct horse battery', orgName: label }),
    }),
  )
  if (res.status !== 303) throw new Error(`sign-up: ${res.status}`)
  const [row] = await db.raw.query<{ user_id: string; organization_id: string }>(
    'select m.user_id, m.organization_id from organization_members m join users u on u.id = m.user_id where u.email = $1',
    [email],
  )
  return { orgId: row!.organization_id, userId: row!.user_id }
}

interface Score {
  truePairs: number
  tp: number
  fp: number
  fn: number
  merged: number
  mergedCorrect: number
  /** True pairs whose leads are linked by a chain of review pairs (a reviewer merging them would join them). */
  chained: number
  msPerRecord: number
  misses: Miss[]
  falsePositives: Miss[]
}

interface Miss {
  category: string
  detail: string
}

function describePair(a: DedupRecord, b: DedupRecord, why: string): Miss {
  const ra = matchRecord(a)
  const rb = matchRecord(b)
  const m = matchScore(ra, rb)
  const company = companyPattern(ra, rb)
  const category = `${contactPattern(ra, rb)} · ${namePattern(ra.nameKey, rb.nameKey)}${company ? ` · ${company}` : ''} · ${why}`
  const show = (r: DedupRecord) =>
    `${r.fullName} | ${r.phone ?? '-'} | ${r.email ?? '-'} | ${r.company ?? '-'}`
  return {
    category,
    detail: `  score ${m.score} (${m.reasons.map((x) => `${x.code} ${x.points}`).join(', ')})\n    ${show(a)}\n    ${show(b)}`,
  }
}

async function run(db: Db, org: { orgId: string; userId: string }, records: DedupRecord[]): Promise<Score> {
  const leadOf: string[] = []
  const t0 = performance.now()
  for (const r of records) {
    const res = await withOrg(db, org, (tx) =>
      captureLead(
        tx,
        {
          fullName: r.fullName,
          email: r.email,
          phone: r.phone,
          company: r.company,
          jobTitle: r.jobTitle,
          source: r.source,
        },
        { actorId: null, channel: 'import' },
      ),
    )
    leadOf.push(res.leadId)
  }
  const ms = performance.now() - t0
  // A merge of two existing leads never happens here (only captures): lead ids stay valid.
  const pairs = await db.raw.query<{ lead_a: string; lead_b: string }>(
    "select lead_a, lead_b from lead_duplicates where organization_id = $1 and status = 'open'",
    [org.orgId],
  )
  const flagged = new Set(pairs.map((p) => `${p.lead_a}|${p.lead_b}`))
  const components = new Components()
  for (const p of pairs) components.union(p.lead_a, p.lead_b)
  const isFlagged = (x: string, y: string) => flagged.has(`${x}|${y}`) || flagged.has(`${y}|${x}`)
  const s: Score = {
    truePairs: 0,
    tp: 0,
    fp: 0,
    fn: 0,
    merged: 0,
    mergedCorrect: 0,
    chained: 0,
    msPerRecord: ms / records.length,
    misses: [],
    falsePositives: [],
  }
  for (let i = 0; i < records.length; i++)
    for (let j = i + 1; j < records.length; j++) {
      const a = records[i]!
      const b = records[j]!
      const same = a.personId === b.personId
      const merged = leadOf[i] === leadOf[j]
      const declared = merged || isFlagged(leadOf[i]!, leadOf[j]!)
      if (same) s.truePairs++
      if (declared && same) s.tp++
      if (declared && !same) {
        s.fp++
        s.falsePositives.push(describePair(a, b, merged ? 'merged' : 'flagged'))
      }
      if (same && !declared) {
        s.fn++
        const chained = components.find(leadOf[i]!) === components.find(leadOf[j]!)
        if (chained) s.chained++
        const direct = matchScore(matchRecord(a), matchRecord(b)).score
        s.misses.push(
          describePair(
            a,
            b,
            chained ? 'chained via review' : direct >= 60 ? 'scored >= 60 alone' : 'low score',
          ),
        )
      }
      if (merged) s.merged++
      if (merged && same) s.mergedCorrect++
    }
  return s
}

const pct = (n: number, d: number) => (d ? `${((100 * n) / d).toFixed(1)}%` : '—')

function byCategory(misses: Miss[]) {
  const counts = new Map<string, Miss[]>()
  for (const m of misses) counts.set(m.category, [...(counts.get(m.category) ?? []), m])
  return [...counts.entries()].sort((x, y) => y[1].length - x[1].length)
}

async function main() {
  const kinds = opts.db === 'both' ? (['pglite', 'postgres'] as const) : [opts.db as 'pglite' | 'postgres']
  const seeds = String(opts.seeds)
    .split(',')
    .map((s) => Number(s.trim()))
    .filter(Number.isInteger)
  const rows: Array<Record<string, string | number>> = []
  const tuningMisses: Miss[] = []
  const tuningFalse: Miss[] = []
  const heldOutMisses: Miss[] = []
  for (const kind of kinds) {
    const { db, drop } = await openBenchDb(kind, 'dedup', opts.pgUrl)
    try {
      await migrate(db)
      const config = loadConfig(
        { BASE_URL: BASE, SECRET_KEY: 'bench-secret-key-bench-secret-key-01' },
        { ensureSecret: false },
      )
      const app = createApp({
        config,
        db,
        log: silentLogger,
        mailer: createMailer(db, config.smtp, silentLogger),
      })
      for (const seed of seeds) {
        const records = generateDedupSet({ seed, people: Number(opts.people) })
        const org = await newOrg(db, app, `dedup-${seed}`)
        const s = await run(db, org, records)
        const tuning = TUNED.has(seed)
        if (kind === kinds[0]) {
          if (tuning) {
            tuningMisses.push(...s.misses)
            tuningFalse.push(...s.falsePositives)
          } else heldOutMisses.push(...s.misses)
        }
        const row = {
          db: kind,
          seed: `${seed}${tuning ? ' (tuning)' : ' (held out)'}`,
          records: String(records.length),
          pairs: String(s.truePairs),
          TP: String(s.tp),
          FP: String(s.fp),
          FN: String(s.fn),
          precision: pct(s.tp, s.tp + s.fp),
          recall: pct(s.tp, s.truePairs),
          'auto-merge precision': pct(s.mergedCorrect, s.merged),
          'auto-merge recall': pct(s.mergedCorrect, s.truePairs),
          'recall after review': pct(s.tp + s.chained, s.truePairs),
          'ms/record': Math.round(s.msPerRecord * 10) / 10,
        }
        rows.push(row)
        console.log(JSON.stringify(row))
      }
    } finally {
      await drop()
    }
  }
  console.log(
    `\nDedup on the labeled set (${opts.people} people per seed; a pair counts as declared when both records ended in one lead or their leads form an open review pair)\n`,
  )
  console.log(table(rows))
  console.log(
    '\n"recall after review" also counts true pairs linked through a chain of review pairs (A~B, B~C: a reviewer merging both joins A and C).',
  )
  // Misses by category: listed in full for the tuning seeds only (held-out seeds: counts, unless --misses-held-out).
  const show = (title: string, list: Miss[], detail: boolean) => {
    if (!list.length) return
    console.log(`\n${title} (${list.length}, ${kinds[0]})`)
    for (const [cat, ms] of byCategory(list)) {
      console.log(`${String(ms.length).padStart(4)}  ${cat}`)
      if (detail) for (const m of ms) console.log(m.detail)
    }
  }
  show('Missed pairs by category, tuning seeds', tuningMisses, Boolean(opts.misses))
  show('False positives by category, tuning seeds', tuningFalse, Boolean(opts.misses))
  if (opts.missesHeldOut) show('Missed pairs by category, held-out seeds', heldOutMisses, true)
}

await main()
process.exit(0)
