/**
 * The in-process cache (L1). Synchronous on purpose: an L1 hit must cost no more than a map
 * lookup. Implement this interface to plug in another local backend and pass the class or an
 * instance as `local.driver`.
 *
 * Values are stored as given (the two-level service stores deeply frozen copies), so an
 * implementation must not clone or serialize them.
 */
export interface LocalCache {
  /** Name used in logs and errors, e.g. `'lru'`. */
  readonly name: string;

  /** Number of entries held, expired ones not yet evicted included. */
  readonly size: number;

  /** The value of a live entry, or `undefined` when absent or expired. */
  get(key: string): unknown;

  /**
   * Stores `value` for `ttl` milliseconds.
   *
   * @param size the entry's approximate size in bytes, for byte-bounded drivers
   */
  set(key: string, value: unknown, ttl: number, size: number): void;

  /**
   * The value of an entry that expired at most `maxStaleness` milliseconds ago, or of a live
   * one; `undefined` otherwise. Used to serve stale copies while L2 or a loader fails.
   */
  getStale(key: string, maxStaleness: number): unknown;

  /** Milliseconds left before the entry expires; 0 when absent or expired. */
  remainingTtl(key: string): number;

  /** Removes one entry. */
  delete(key: string): void;

  /** Removes every entry. */
  clear(): void;
}

/** A class implementing {@link LocalCache}, constructed with the resolved local options. */
export type LocalCacheClass = new (options: LocalCacheSettings) => LocalCache;

/** What a local driver is constructed with. */
export interface LocalCacheSettings {
  /** Most entries held at once. */
  maxEntries: number;
  /** Most bytes held at once (sum of the sizes given to `set`), or 0 for no byte bound. */
  maxBytes: number;
  /** Milliseconds now, replaceable in tests. */
  now: () => number;
}
