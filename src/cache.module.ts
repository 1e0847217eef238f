import { Module, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CacheLifecycle } from './cache-lifecycle';
import { CACHE_MODULE_OPTIONS, ConfigurableModuleClass } from './cache-module.definition';
import { coherenceProviders } from './coherence/coherence.providers';
import {
  DISTRIBUTED_CACHE,
  DISTRIBUTED_CACHE_HANDLE,
  LOCAL_CACHE,
  RESOLVED_CACHE_OPTIONS,
} from './cache.constants';
import {
  createDistributedCache,
  type DistributedCacheHandle,
} from './distributed/create-distributed-cache';
import { CacheDecoratorsExplorer } from './decorators/cache-decorators.explorer';
import { IM_REPOSITORIES, imProviders } from './im/im.providers';
import type { CacheModuleOptions } from './options/cache-options.interface';
import { resolveOptions, type ResolvedCacheOptions } from './options/resolve-options';
import { ImCacheService } from './two-level/im-cache.service';

const providers: Provider[] = [
  {
    provide: RESOLVED_CACHE_OPTIONS,
    inject: [CACHE_MODULE_OPTIONS],
    useFactory: (raw: CacheModuleOptions) => resolveOptions(raw),
  },
  {
    provide: DISTRIBUTED_CACHE_HANDLE,
    inject: [RESOLVED_CACHE_OPTIONS],
    useFactory: async (options: ResolvedCacheOptions) => {
      const handle = createDistributedCache(options);
      if (handle.owned) await handle.cache.connect?.();
      return handle;
    },
  },
  {
    provide: DISTRIBUTED_CACHE,
    inject: [DISTRIBUTED_CACHE_HANDLE],
    useFactory: (handle: DistributedCacheHandle) => handle.cache,
  },
  // The invalidation bus (or null) and LOCAL_CACHE: the configured L1, kept coherent by it.
  ...coherenceProviders,
  // The IM repositories and their storage on the L2 driver.
  ...imProviders,
  ImCacheService,
  CacheLifecycle,
  // Applies @Cacheable, @CachePut and @CacheEvict across the application.
  CacheDecoratorsExplorer,
];

/**
 * The two-level cache module.
 *
 * @example
 * CacheModule.forRoot({ isGlobal: true, distributed: { url: process.env.REDIS_URL } })
 */
@Module({
  imports: [DiscoveryModule],
  providers,
  exports: [
    ImCacheService,
    ...IM_REPOSITORIES,
    LOCAL_CACHE,
    DISTRIBUTED_CACHE,
    RESOLVED_CACHE_OPTIONS,
  ],
})
export class CacheModule extends ConfigurableModuleClass {}
