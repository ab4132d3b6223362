/**
 * Retry delay after the `attempt`-th failure (1-based): exponential, capped, with "equal jitter" —
 * half of the delay is fixed, half random — so a burst of failures does not retry in lockstep while
 * every retry still waits at least half the nominal delay.
 */
export interface BackoffOptions {
  baseMs: number
  maxMs: number
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 2_000, maxMs: 60 * 60_000 }

export function backoffDelay(
  attempt: number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random = Math.random,
): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(exp / 2 + random() * (exp / 2))
}
