/**
 * The learned win-probability model: L2-regularised logistic regression fitted by Newton's method
 * (IRLS) on standardised features, written here in TypeScript (a few dozen features, at most some
 * hundred thousand rows: a d×d solve per iteration is cheap, and no dependency is needed).
 *
 * Features come from the organization's own closed leads: the commonest sources, tags and regions
 * (one-hot), log value, whether email / phone / company are present, timeline activity counts
 * (notes, messages, calls — never moves or won/lost entries, which would leak the answer) and the
 * numeric custom fields. Quality is measured on a stratified 80/20 held-out split with a fixed seed
 * (accuracy, AUC, and the majority-class baseline beside them); the stored weights are then refitted
 * on every closed lead.
 */
import { fold } from '../../shared/text'

export const MIN_CLOSED = 40
export const MIN_PER_CLASS = 5

/** One lead as the model sees it. */
export interface ModelLead {
  source: string | null
  tags: string[]
  valueCents: number
  email: string | null
  phone: string | null
  company: string | null
  region: string | null
  custom: Record<string, unknown>
  /** Timeline entries that are interactions (notes, messages, calls...). */
  activityCount: number
  noteCount: number
}

export interface FeatureSpec {
  sources: string[]
  tags: string[]
  regions: string[]
  customKeys: string[]
}

export interface TrainedModel {
  spec: FeatureSpec
  names: string[]
  mean: number[]
  std: number[]
  weights: number[]
  bias: number
}

export interface TrainResult {
  model: TrainedModel
  accuracy: number
  auc: number | null
  baseline: number
  holdoutSize: number
  won: number
  lost: number
}

const top = (counts: Map<string, number>, n: number) =>
  [...counts]
    .filter(([, c]) => c >= 2)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n)
    .map(([k]) => k)

export function featureSpec(rows: ModelLead[], numericCustomKeys: string[]): FeatureSpec {
  const sources = new Map<string, number>()
  const tags = new Map<string, number>()
  const regions = new Map<string, number>()
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1)
  for (const r of rows) {
    if (r.source) inc(sources, fold(r.source))
    for (const t of new Set(r.tags.map(fold))) inc(tags, t)
    if (r.region) inc(regions, r.region)
  }
  return {
    sources: top(sources, 12),
    tags: top(tags, 16),
    regions: top(regions, 8),
    customKeys: numericCustomKeys.slice(0, 10),
  }
}

export function featureNames(spec: FeatureSpec): string[] {
  return [
    ...spec.sources.map((s) => `source=${s}`),
    ...spec.tags.map((t) => `tag=${t}`),
    ...spec.regions.map((r) => `region=${r}`),
    'log_value',
    'has_email',
    'has_phone',
    'has_company',
    'activities',
    'notes',
    ...spec.customKeys.map((k) => `custom.${k}`),
  ]
}

export function featuresOf(spec: FeatureSpec, r: ModelLead): number[] {
  const source = r.source ? fold(r.source) : ''
  const tags = new Set(r.tags.map(fold))
  const num = (v: unknown) => {
    const n = typeof v === 'number' ? v : Number(v)
    return Number.isFinite(n) ? n : 0
  }
  return [
    ...spec.sources.map((s) => (s === source ? 1 : 0)),
    ...spec.tags.map((t) => (tags.has(t) ? 1 : 0)),
    ...spec.regions.map((g) => (g === r.region ? 1 : 0)),
    Math.log1p(Math.max(0, r.valueCents) / 100),
    r.email ? 1 : 0,
    r.phone ? 1 : 0,
    r.company ? 1 : 0,
    Math.log1p(r.activityCount),
    Math.log1p(r.noteCount),
    ...spec.customKeys.map((k) => num(r.custom[k])),
  ]
}

/** Deterministic PRNG (mulberry32): the held-out split is the same on every run. */
export function seededRandom(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Indexes of the held-out part: `frac` of each class, shuffled with a fixed seed. */
export function stratifiedHoldout(y: number[], frac: number, seed = 42): Set<number> {
  const rand = seededRandom(seed)
  const out = new Set<number>()
  for (const cls of [0, 1]) {
    const idx = y.flatMap((v, i) => (v === cls ? [i] : []))
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      ;[idx[i], idx[j]] = [idx[j]!, idx[i]!]
    }
    const n = Math.max(1, Math.round(idx.length * frac))
    for (const i of idx.slice(0, n)) out.add(i)
  }
  return out
}

function standardizer(X: number[][]) {
  const d = X[0]?.length ?? 0
  const mean = new Array<number>(d).fill(0)
  const std = new Array<number>(d).fill(0)
  for (const x of X) for (let j = 0; j < d; j++) mean[j]! += x[j]!
  for (let j = 0; j < d; j++) mean[j]! /= Math.max(1, X.length)
  for (const x of X) for (let j = 0; j < d; j++) std[j]! += (x[j]! - mean[j]!) ** 2
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(std[j]! / Math.max(1, X.length))
    std[j] = s > 1e-9 ? s : 1 // a constant feature: weight goes to 0 under L2
  }
  return { mean, std }
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)))

/** Solves A x = b (A symmetric positive definite) by Gaussian elimination with partial pivoting. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length
  const M = A.map((row, i) => [...row, b[i]!])
  for (let c = 0; c < n; c++) {
    let p = c
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r
    ;[M[c], M[p]] = [M[p]!, M[c]!]
    const piv = M[c]![c]!
    if (Math.abs(piv) < 1e-12) continue
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / piv
      if (f === 0) continue
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!
    }
  }
  const x = new Array<number>(n).fill(0)
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * x[k]!
    x[r] = Math.abs(M[r]![r]!) < 1e-12 ? 0 : s / M[r]![r]!
  }
  return x
}

/**
 * Fits weights and intercept on already standardised rows: minimises the log loss plus
 * (lambda / 2)·|w|² (the intercept is not penalised), Newton steps until they are tiny.
 */
export function fitLogistic(
  Z: number[][],
  y: number[],
  opts: { lambda?: number; maxIter?: number } = {},
): { weights: number[]; bias: number } {
  const lambda = opts.lambda ?? 1
  const d = Z[0]?.length ?? 0
  const D = d + 1 // last coordinate: the intercept
  const beta = new Array<number>(D).fill(0)
  for (let iter = 0; iter < (opts.maxIter ?? 30); iter++) {
    const g = new Array<number>(D).fill(0)
    const H = Array.from({ length: D }, () => new Array<number>(D).fill(0))
    for (let i = 0; i < Z.length; i++) {
      const z = Z[i]!
      let s = beta[d]!
      for (let j = 0; j < d; j++) s += beta[j]! * z[j]!
      const p = sigmoid(s)
      const r = p - y[i]!
      const w = Math.max(p * (1 - p), 1e-10)
      for (let j = 0; j < D; j++) {
        const zj = j === d ? 1 : z[j]!
        if (zj === 0) continue
        g[j]! += r * zj
        const row = H[j]!
        for (let k = j; k < D; k++) {
          const zk = k === d ? 1 : z[k]!
          if (zk !== 0) row[k]! += w * zj * zk
        }
      }
    }
    for (let j = 0; j < D; j++) for (let k = 0; k < j; k++) H[j]![k] = H[k]![j]!
    for (let j = 0; j < d; j++) {
      g[j]! += lambda * beta[j]!
      H[j]![j]! += lambda
    }
    H[d]![d]! += 1e-8
    const step = solve(H, g)
    let norm = 0
    for (let j = 0; j < D; j++) {
      beta[j]! -= step[j]!
      norm = Math.max(norm, Math.abs(step[j]!))
    }
    if (norm < 1e-7) break
  }
  return { weights: beta.slice(0, d), bias: beta[d]! }
}

export function predictRow(m: TrainedModel, x: number[]): number {
  let s = m.bias
  for (let j = 0; j < m.weights.length; j++) s += (m.weights[j]! * (x[j]! - m.mean[j]!)) / m.std[j]!
  return sigmoid(s)
}

export const predict = (m: TrainedModel, lead: ModelLead) => predictRow(m, featuresOf(m.spec, lead))

/** Area under the ROC curve (Mann–Whitney U, ties counted half); null without both classes. */
export function auc(scores: number[], y: number[]): number | null {
  const idx = scores.map((s, i) => [s, y[i]!] as const).sort((a, b) => a[0] - b[0])
  let rankSumPos = 0
  let pos = 0
  let i = 0
  while (i < idx.length) {
    let j = i
    while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++
    const rank = (i + j) / 2 + 1
    for (let k = i; k <= j; k++) {
      if (idx[k]![1] !== 1) continue
      rankSumPos += rank
      pos++
    }
    i = j + 1
  }
  const neg = idx.length - pos
  if (!pos || !neg) return null
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg)
}

function fitOn(X: number[][], y: number[], spec: FeatureSpec, lambda: number): TrainedModel {
  const { mean, std } = standardizer(X)
  const Z = X.map((x) => x.map((v, j) => (v - mean[j]!) / std[j]!))
  const { weights, bias } = fitLogistic(Z, y, { lambda })
  return { spec, names: featureNames(spec), mean, std, weights, bias }
}

/** Trains on `rows` (label 1 = won), measuring on a stratified 20% held out with a fixed seed. */
export function trainModel(
  rows: (ModelLead & { won: boolean })[],
  numericCustomKeys: string[] = [],
  opts: { lambda?: number; seed?: number } = {},
): TrainResult | null {
  const y = rows.map((r) => (r.won ? 1 : 0))
  const won = y.filter((v) => v === 1).length
  const lost = y.length - won
  if (rows.length < MIN_CLOSED || won < MIN_PER_CLASS || lost < MIN_PER_CLASS) return null
  const lambda = opts.lambda ?? 1
  const holdout = stratifiedHoldout(y, 0.2, opts.seed ?? 42)
  const trainRows = rows.filter((_, i) => !holdout.has(i))
  const trainY = y.filter((_, i) => !holdout.has(i))
  const spec = featureSpec(trainRows, numericCustomKeys)
  const trainX = trainRows.map((r) => featuresOf(spec, r))
  const fitted = fitOn(trainX, trainY, spec, lambda)
  const testIdx = [...holdout]
  const scores = testIdx.map((i) => predict(fitted, rows[i]!))
  const testY = testIdx.map((i) => y[i]!)
  const correct = scores.filter((s, k) => (s >= 0.5 ? 1 : 0) === testY[k]).length
  const testWon = testY.filter((v) => v === 1).length
  // The final weights use every closed lead; the held-out figures describe how the method does.
  const fullSpec = featureSpec(rows, numericCustomKeys)
  const model = fitOn(
    rows.map((r) => featuresOf(fullSpec, r)),
    y,
    fullSpec,
    lambda,
  )
  return {
    model,
    accuracy: correct / testIdx.length,
    auc: auc(scores, testY),
    baseline: Math.max(testWon, testY.length - testWon) / testY.length,
    holdoutSize: testIdx.length,
    won,
    lost,
  }
}

/** A stored model, re-validated (null when it does not look like one). */
export function readModel(raw: unknown): TrainedModel | null {
  if (!raw || typeof raw !== 'object') return null
  const m = raw as TrainedModel
  const nums = (a: unknown) => Array.isArray(a) && a.every((x) => typeof x === 'number')
  if (!m.spec || !nums(m.weights) || !nums(m.mean) || !nums(m.std) || typeof m.bias !== 'number') return null
  if (featureNames(m.spec).length !== m.weights.length) return null
  return m
}
