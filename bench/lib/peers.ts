import KeyvRedis, { Keyv } from '@keyv/redis';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache, type Cache } from 'cache-manager';
import { CacheableMemory } from 'cacheable';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

/**
 * The peers the module is measured against, each configured the way its documentation
 * shows for a bounded in-memory tier in front of Redis. Every factory takes a key prefix so
 * a run can delete what it wrote, and returns the library's own object (call it directly in
 * timing loops: no wrapper in between) with a `close` that releases its connections.
 */

/** Settings shared by the two-tier peers. */
export interface TwoTierSettings {
  /** Redis URL of the second tier. */
  url: string;
  /** Prefix of every Redis key the peer writes (for cleanup). */
  prefix: string;
  /** Entry bound of the in-memory tier. */
  maxEntries: number;
}

/** A `cache-manager` v7 cache over two Keyv stores. */
export interface CacheManagerPeer {
  cache: Cache;
  close(): Promise<void>;
}

/**
 * `cache-manager` v7 as its README shows two tiers: Keyv over `CacheableMemory` (LRU-bounded
 * by `lruSize`) in front of Keyv over `@keyv/redis`.
 */
export function createCacheManagerTwoTier(settings: TwoTierSettings): CacheManagerPeer {
  const memory = new Keyv({ store: new CacheableMemory({ lruSize: settings.maxEntries }) });
  const redis = new Keyv({
    store: new KeyvRedis(settings.url, { throwOnErrors: false }),
    namespace: settings.prefix,
  });
  const cache = createCache({ stores: [memory, redis] });
  return { cache, close: () => cache.disconnect().then(() => undefined) };
}

/** A `bentocache` instance with one two-tier store. */
export interface BentoPeer {
  bento: BentoCache<{ tiered: ReturnType<typeof bentostore> }>;
  close(): Promise<void>;
}

/**
 * `bentocache` as its docs show a tiered store: the memory driver (an LRU bounded by
 * `maxItems`, entries serialized by default) in front of the Redis driver (ioredis).
 * No bus: coherence is not part of what these scenarios measure.
 */
export function createBentoTwoTier(settings: TwoTierSettings): BentoPeer {
  const connection = new Redis(settings.url, { lazyConnect: false });
  const store = bentostore()
    .useL1Layer(memoryDriver({ maxItems: settings.maxEntries }))
    .useL2Layer(redisDriver({ connection }));
  const bento = new BentoCache({
    default: 'tiered',
    prefix: settings.prefix,
    stores: { tiered: store },
  });
  return {
    bento,
    close: async () => {
      await bento.disconnectAll();
      connection.disconnect();
    },
  };
}

/** A plain `lru-cache` bounded by entry count, the floor of what an L1 read can cost. */
export function createRawLru<V extends object>(maxEntries: number): LRUCache<string, V> {
  return new LRUCache<string, V>({ max: maxEntries });
}

/** bentocache's memory driver alone (its default settings), for memory comparisons. */
export function createBentoMemoryOnly(maxEntries: number): BentoCache<{
  memory: ReturnType<typeof bentostore>;
}> {
  return new BentoCache({
    default: 'memory',
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: maxEntries })) },
  });
}
