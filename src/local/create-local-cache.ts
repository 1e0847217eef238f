import type { ResolvedCacheOptions } from '../options/resolve-options';
import type { LocalCache, LocalCacheClass } from './local-cache.interface';
import { LruLocalCache } from './lru.local-cache';
import { NoneLocalCache } from './none.local-cache';

/** Builds the L1 named or given by `local.driver`. */
export function createLocalCache(options: ResolvedCacheOptions): LocalCache {
  const { driver, maxEntries, maxBytes } = options.local;
  const settings = { maxEntries, maxBytes, now: options.now };

  if (driver === 'lru') return new LruLocalCache(settings);
  if (driver === 'none') return new NoneLocalCache();
  if (typeof driver === 'function') return new (driver as LocalCacheClass)(settings);
  return driver;
}
