import { CompactLru } from './compact-lru';
import type { LocalCache, LocalCacheSettings } from './local-cache.interface';

/**
 * The default L1: a {@link CompactLru} bounded by entry count and by bytes, with a TTL per
 * entry (clamped to about 12.4 days, see `MAX_LRU_TTL`). Its arrays grow with the
 * entries held, up to `maxEntries`, so a mostly empty L1 costs little.
 *
 * Expired entries are not deleted when read, so {@link getStale} can serve them during an
 * outage; they still count towards the bounds and leave in least-recently-used order like
 * any other entry (an expired entry is not preferred for eviction), so memory stays bounded.
 * The clock (`settings.now`) is read once per call.
 */
export class LruLocalCache implements LocalCache {
  readonly name = 'lru';
  readonly #lru: CompactLru<unknown>;

  constructor(settings: LocalCacheSettings) {
    this.#lru = new CompactLru<unknown>(settings);
  }

  get size(): number {
    return this.#lru.size;
  }

  get(key: string): unknown {
    return this.#lru.get(key);
  }

  set(key: string, value: unknown, ttl: number, size: number): void {
    this.#lru.set(key, value, ttl, size);
  }

  getStale(key: string, maxStaleness: number): unknown {
    return this.#lru.getStale(key, maxStaleness);
  }

  remainingTtl(key: string): number {
    return this.#lru.remainingTtl(key);
  }

  delete(key: string): void {
    this.#lru.delete(key);
  }

  clear(): void {
    this.#lru.clear();
  }
}
