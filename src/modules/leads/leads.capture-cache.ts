/**
 * A per-batch memo of the organization settings `captureLead` reads for every lead (dedup settings,
 * default phone country, custom field definitions, pipelines and stages, scoring rules and model,
 * assignment rules). A bulk caller (the CSV import) creates ONE inside a batch's transaction, passes
 * it as `CaptureOptions.cache` to each captureLead of that batch and drops it with the transaction:
 * it is never shared between transactions, batches or organizations (nothing here is global), so a
 * setting changed meanwhile applies from the next batch on. Without a cache every read happens as
 * before.
 *
 * Only reads of rows captureLead does not write are memoized; what it writes (a lead, a rule's
 * round-robin turn, read again under its row lock) is still read from the database.
 */
export type CaptureCacheKey =
  | 'dedupSettings'
  | 'defaultCountry'
  | 'customFields'
  | 'placement'
  | 'scoringRules'
  | 'scoringModel'
  | 'assignmentRules'

export class CaptureCache {
  readonly #values = new Map<CaptureCacheKey, Promise<unknown>>()

  /** The memoized value of `key`, loaded once by `load` (a failed load is not kept). */
  get<T>(key: CaptureCacheKey, load: () => Promise<T>): Promise<T> {
    const have = this.#values.get(key)
    if (have) return have as Promise<T>
    const p = load()
    this.#values.set(key, p)
    p.catch(() => {
      if (this.#values.get(key) === p) this.#values.delete(key)
    })
    return p
  }

  /** Forgets `key` (the next `get` reads it again). */
  forget(key: CaptureCacheKey): void {
    this.#values.delete(key)
  }
}

/** `load()` through the cache when there is one, else straight (the uncached behaviour). */
export function cachedRead<T>(
  cache: CaptureCache | undefined,
  key: CaptureCacheKey,
  load: () => Promise<T>,
): Promise<T> {
  return cache ? cache.get(key, load) : load()
}
