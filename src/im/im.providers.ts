import { Inject, Injectable, type BeforeApplicationShutdown, type Provider } from '@nestjs/common';
import { DISTRIBUTED_CACHE_HANDLE, RESOLVED_CACHE_OPTIONS } from '../cache.constants';
import { INVALIDATION_BUS } from '../coherence/coherence.constants';
import { withCoherentRoutes } from '../coherence/coherent-route-store';
import type { InvalidationBus } from '../coherence/invalidation-bus';
import type { DistributedCacheHandle } from '../distributed/create-distributed-cache';
import type { DistributedCache } from '../distributed/distributed-cache.interface';
import { RepositoriesDisabledError, UnsupportedDriverError } from '../errors';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import { OnlineStatusRepository } from './presence/online-status.repository';
import { ReadCursorRepository } from './read-cursors/read-cursor.repository';
import { RouteRepository } from './routes/route.repository';
import { createImStorage } from './store/im-storage';
import { IM_STORAGE, ImStorageHandle } from './store/im-storage.handle';
import { VideoSessionRepository } from './video/video-session.repository';

/**
 * Opens the repositories' storage on the L2 driver, when the application starts:
 *
 * - `im: false`: no storage; every repository call fails with `RepositoriesDisabledError`.
 * - `im` given (an object or `true`): the driver must serve them, else the module fails to
 *   start with `UnsupportedDriverError`.
 * - `im` omitted: on when the driver serves them (`redis`, `memory`); otherwise the module
 *   starts and repository calls fail with `UnsupportedDriverError`.
 */
export function openImStorage(
  options: ResolvedCacheOptions,
  l2: DistributedCache,
): ImStorageHandle {
  const { im } = options;
  if (im.enabled === false) {
    return new ImStorageHandle(
      undefined,
      (repository) => new RepositoriesDisabledError(repository),
    );
  }

  const storage = createImStorage(l2, {
    namespace: options.namespace,
    options: im,
    batchSize: options.distributed.batchSize,
    logger: options.logger,
    now: options.now,
  });
  if (storage !== undefined) return new ImStorageHandle(storage);
  if (im.enabled === true) throw unsupported(l2, 'the IM repositories');
  return new ImStorageHandle(undefined, (repository) => unsupported(l2, repository));
}

function unsupported(l2: DistributedCache, what: string): UnsupportedDriverError {
  return new UnsupportedDriverError(
    l2.name,
    `cannot serve ${what}: they need atomic scripts and pub/sub, which only the 'redis' and ` +
      "'memory' drivers provide. Use one of those as distributed.driver, or set im: false",
  );
}

/** Closes the repositories' storage (its pub/sub subscription) before L2 is closed. */
@Injectable()
export class ImStorageLifecycle implements BeforeApplicationShutdown {
  constructor(@Inject(IM_STORAGE) private readonly handle: ImStorageHandle) {}

  async beforeApplicationShutdown(): Promise<void> {
    await this.handle.storage?.close();
  }
}

/** The IM repositories. */
export const IM_REPOSITORIES = [
  RouteRepository,
  OnlineStatusRepository,
  ReadCursorRepository,
  VideoSessionRepository,
];

/** What `CacheModule` provides for the IM repositories. */
export const imProviders: Provider[] = [
  {
    provide: IM_STORAGE,
    inject: [RESOLVED_CACHE_OPTIONS, DISTRIBUTED_CACHE_HANDLE, INVALIDATION_BUS],
    // Routes and online status are read through a coherent L1 when the bus is on.
    useFactory: (
      options: ResolvedCacheOptions,
      l2: DistributedCacheHandle,
      bus: InvalidationBus | null,
    ) => withCoherentRoutes(openImStorage(options, l2.cache), bus, options),
  },
  ...IM_REPOSITORIES,
  ImStorageLifecycle,
];
