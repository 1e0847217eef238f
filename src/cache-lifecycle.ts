import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { DISTRIBUTED_CACHE_HANDLE } from './cache.constants';
import type { DistributedCacheHandle } from './distributed/create-distributed-cache';

/**
 * Closes what the module opened when the application shuts down (`app.close()`), so a
 * process that used the module exits on its own. Drivers given as instances belong to the
 * caller and are left open.
 */
@Injectable()
export class CacheLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DISTRIBUTED_CACHE_HANDLE) private readonly l2: DistributedCacheHandle) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.l2.owned) await this.l2.cache.close?.();
  }
}
