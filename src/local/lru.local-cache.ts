import { LRUCache } from 'lru-cache';
import type { LocalCache, LocalCacheSettings } from './local-cache.interface';

/**
 * The default L1: `lru-cache` bounded by entry count and by bytes, with a TTL per entry.
 *
 * Expired entries are not deleted when read, so {@link getStale} can serve them during an
 * outage; they still count towards the bounds and leave in least-recently-used order like
 * any other entry (an expired entry is not preferred for eviction), so memory stays bounded.
 */
export class LruLocalCache implements LocalCache {
  readonly name = 'lru';
  readonly #cache: LRUCache<string, object>;
  readonly #now: () => number;
  readonly #sized: boolean;

  constructor(settings: LocalCacheSettings) {
    this.#now = settings.now;
    this.#sized = settings.maxBytes > 0;
    this.#cache = new LRUCache<string, object>({
      max: settings.maxEntries,
      ttl: 1,
      ttlAutopurge: false,
      noDeleteOnStaleGet: true,
      // A replaced clock (tests) must be read on every call, not cached for a millisecond.
      ...(settings.now === Date.now ? {} : { perf: { now: settings.now }, ttlResolution: 0 }),
      ...(settings.maxBytes > 0 ? { maxSize: settings.maxBytes } : {}),
    });
  }

  get size(): number {
    return this.#cache.size;
  }

  get(key: string): unknown {
    return this.#cache.get(key);
  }

  set(key: string, value: unknown, ttl: number, size: number): void {
    // lru-cache rejects a size when no byte bound is set (`maxBytes: 0`).
    const options = this.#sized ? { ttl, size: size > 0 ? size : 1 } : { ttl };
    this.#cache.set(key, value as object, options);
  }

  getStale(key: string, maxStaleness: number): unknown {
    const value = this.#cache.get(key, { allowStale: true });
    if (value === undefined) return undefined;
    const remaining = this.#cache.getRemainingTTL(key);
    return remaining > -maxStaleness ? value : undefined;
  }

  remainingTtl(key: string): number {
    return Math.max(0, this.#cache.getRemainingTTL(key));
  }

  delete(key: string): void {
    this.#cache.delete(key);
  }

  clear(): void {
    this.#cache.clear();
  }
}
