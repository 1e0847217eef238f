import type { ResolvedCacheOptions } from '../options/resolve-options';
import type { DistributedCache, DistributedCacheClass } from './distributed-cache.interface';
import { KeyvDistributedCache } from './keyv.distributed-cache';
import { MemoryDistributedCache } from './memory.distributed-cache';
import { NoneDistributedCache } from './none.distributed-cache';
import { RedisDistributedCache } from './redis/redis.distributed-cache';

/** An L2 driver and whether the module created it (and so connects and closes it). */
export interface DistributedCacheHandle {
  cache: DistributedCache;
  owned: boolean;
}

/** Builds the L2 named or given by `distributed.driver`. */
export function createDistributedCache(options: ResolvedCacheOptions): DistributedCacheHandle {
  const { distributed } = options;
  const driver = distributed.driver;

  switch (driver) {
    case 'redis':
      return { cache: new RedisDistributedCache(distributed, options.logger), owned: true };
    case 'memory':
      return { cache: new MemoryDistributedCache(distributed, options.now), owned: true };
    case 'keyv':
      return { cache: new KeyvDistributedCache(distributed), owned: true };
    case 'none':
      return { cache: new NoneDistributedCache(), owned: true };
  }
  if (typeof driver === 'function') {
    return { cache: new (driver as DistributedCacheClass)(distributed), owned: true };
  }
  return { cache: driver, owned: false };
}
