import {
  Inject,
  Injectable,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { DISTRIBUTED_CACHE_HANDLE, LOCAL_CACHE, RESOLVED_CACHE_OPTIONS } from '../cache.constants';
import type { DistributedCacheHandle } from '../distributed/create-distributed-cache';
import { createRedisConnection, type RedisCommands } from '../distributed/redis/redis-connection';
import { RedisDistributedCache } from '../distributed/redis/redis.distributed-cache';
import { UnsupportedDriverError } from '../errors';
import { createLocalCache } from '../local/create-local-cache';
import type { LocalCache } from '../local/local-cache.interface';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import { RedisBusTransport } from './bus-transport';
import { CoherentLocalCache } from './coherent-local-cache';
import { GENERIC_SCOPE, INVALIDATION_BUS } from './coherence.constants';
import { InvalidationBus, newInstanceId } from './invalidation-bus';

/**
 * Builds and subscribes the bus when coherence is on and L2 is Redis. Module start waits for
 * the subscription at most `distributed.connectTimeout`.
 *
 * @throws UnsupportedDriverError when coherence is asked for explicitly and L2 is not Redis
 */
export async function createInvalidationBus(
  options: ResolvedCacheOptions,
  handle: DistributedCacheHandle,
): Promise<InvalidationBus | null> {
  const { coherence } = options;
  if (coherence.enabled === false) return null;

  const l2 = handle.cache;
  if (!(l2 instanceof RedisDistributedCache)) {
    if (coherence.enabled === 'auto') return null;
    throw new UnsupportedDriverError(
      l2.name,
      'cannot carry the invalidation bus, which needs Redis pub/sub: use the redis driver ' +
        '(or an instance of RedisDistributedCache), or set coherence: false',
    );
  }

  const instanceId = newInstanceId();
  const open = subscriberFactory(l2, options, `nest-im-cache:coherence:${instanceId}`);
  const transport = new RedisBusTransport(open, l2.client, l2.topology);
  const bus = new InvalidationBus(coherence, transport, options.logger, {}, instanceId);
  if (l2.topology === 'cluster' && coherence.heartbeat === 0) {
    options.logger.warn(
      'coherence: heartbeats are off on a Redis Cluster, where they are how a lost ' +
        'subscription is noticed; set coherence.heartbeat',
    );
  }
  // When L2 itself did not connect, do not hold the start-up a second time. (A cluster
  // client has no isReady, only isOpen.)
  const connected = l2.client.isReady ?? l2.client.isOpen;
  await bus.start(connected ? options.distributed.connectTimeout : 0);
  return bus;
}

/**
 * How to open the subscriber connection: a duplicate of L2's client (same server, options and
 * credentials, named after the instance so an operator can find it in `CLIENT LIST`); for
 * Sentinel, whose client cannot be duplicated, a new connection from the same options.
 */
function subscriberFactory(
  l2: RedisDistributedCache,
  options: ResolvedCacheOptions,
  name: string,
): () => RedisCommands {
  const client = l2.client;
  if (l2.topology === 'standalone') return () => client.duplicate({ name });
  if (l2.topology === 'cluster') {
    // The cluster client keeps its per-node options in `defaults`; add the name there.
    const defaults = (client as { _options?: { defaults?: object } })._options?.defaults;
    return () => client.duplicate({ defaults: { ...defaults, name } });
  }
  return () => createRedisConnection({ ...options.distributed, client: undefined }).client;
}

/** The configured L1, wrapped so the bus keeps it coherent when the bus is on. */
export function createCoherentLocalCache(
  options: ResolvedCacheOptions,
  bus: InvalidationBus | null,
): LocalCache {
  const local = createLocalCache(options);
  if (bus === null || local.name === 'none') return local;

  const coherent = new CoherentLocalCache(local, options.distributed.commandTimeout);
  bus.register(GENERIC_SCOPE, coherent);
  return coherent;
}

/**
 * Sends the invalidations still waiting before L2 closes, then closes the subscription, so
 * the last writes of an instance that shuts down still reach the others.
 */
@Injectable()
export class CoherenceLifecycle implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(@Optional() @Inject(INVALIDATION_BUS) private readonly bus: InvalidationBus | null) {}

  async beforeApplicationShutdown(): Promise<void> {
    await this.bus?.flush();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bus?.close();
  }
}

/** The providers `CacheModule` adds for coherence (the bus, the coherent L1, shutdown). */
export const coherenceProviders: Provider[] = [
  {
    provide: INVALIDATION_BUS,
    inject: [RESOLVED_CACHE_OPTIONS, DISTRIBUTED_CACHE_HANDLE],
    useFactory: createInvalidationBus,
  },
  {
    provide: LOCAL_CACHE,
    inject: [RESOLVED_CACHE_OPTIONS, INVALIDATION_BUS],
    useFactory: createCoherentLocalCache,
  },
  CoherenceLifecycle,
];
