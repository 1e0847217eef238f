import { coarseClock } from './coarse-clock';
import { CompactLru } from './compact-lru';
import type { LocalCache, LocalCacheSettings } from './local-cache.interface';

/**
 * The default L1: a {@link CompactLru} bounded by entry count and by bytes, with a TTL per
 * entry (clamped to about 12.4 days, see `MAX_LRU_TTL`). Its arrays grow with the
 * entries held, up to `maxEntries`, so a mostly empty L1 costs little.
 *
 * Expired entries are not deleted when read, so `getStale` can serve them during an
 * outage; they still count towards the bounds and leave in least-recently-used order like
 * any other entry (an expired entry is not preferred for eviction), so memory stays bounded.
 * The clock (`settings.now`) is read once per call; the default `Date.now` is read through a
 * {@link coarseClock}, at most once per millisecond.
 *
 * It extends the structure rather than wrapping it, so an L1 hit is one call deep.
 */
export class LruLocalCache extends CompactLru<unknown> implements LocalCache {
  readonly name = 'lru';

  constructor(settings: LocalCacheSettings) {
    const now = settings.now === Date.now ? coarseClock() : settings.now;
    super({ ...settings, now });
  }
}
