import type { LoggerService } from '@nestjs/common';
import type { DistributedCache } from '../../distributed/distributed-cache.interface';
import { MemoryDistributedCache } from '../../distributed/memory.distributed-cache';
import { RedisDistributedCache } from '../../distributed/redis/redis.distributed-cache';
import { ImKeys } from '../im-keys';
import type { ResolvedImOptions } from '../im-options';
import { MemoryPresenceFeed } from '../presence/memory-presence.feed';
import type { PresenceFeed } from '../presence/presence-feed';
import { RedisPresenceFeed } from '../presence/redis-presence.feed';
import { MemoryReadCursorStore } from '../read-cursors/memory-read-cursor.store';
import type { ReadCursorStore } from '../read-cursors/read-cursor.store';
import { RedisReadCursorStore } from '../read-cursors/redis-read-cursor.store';
import { MemoryRouteStore } from '../routes/memory-route.store';
import type { RouteStore } from '../routes/route.store';
import { RedisRouteStore } from '../routes/redis-route.store';
import { MemoryVideoSessionStore } from '../video/memory-video-session.store';
import { RedisVideoSessionStore } from '../video/redis-video-session.store';
import type { VideoSessionStore } from '../video/video-session.store';
import { RedisScriptRunner } from './redis-script-runner';

/**
 * Everything the IM repositories store, behind one object per backend: Redis (through the
 * `redis` L2 driver's node-redis client) or the process's memory (the `memory` driver).
 */
export interface ImStorage {
  /** `'redis'` or `'memory'`, for logs and errors. */
  readonly backend: string;
  readonly routes: RouteStore;
  readonly presence: PresenceFeed;
  readonly cursors: ReadCursorStore;
  readonly sessions: VideoSessionStore;
  /** Closes what the storage opened itself (the presence subscription). */
  close(): Promise<void>;
}

/** What building an {@link ImStorage} needs. */
export interface ImStorageContext {
  namespace: string;
  options: ResolvedImOptions;
  /** Most keys per `MGET` of a batch read (`distributed.batchSize`). */
  batchSize: number;
  logger: LoggerService;
  now: () => number;
}

/**
 * The storage the L2 driver can serve, or `undefined` when it cannot: only the built-in
 * `redis` and `memory` drivers (or subclasses of them) can. Other drivers store opaque
 * strings with no atomic multi-step operations, which the repositories depend on.
 */
export function createImStorage(
  l2: DistributedCache,
  context: ImStorageContext,
): ImStorage | undefined {
  if (l2 instanceof RedisDistributedCache) return redisStorage(l2, context);
  if (l2 instanceof MemoryDistributedCache) return memoryStorage(context);
  return undefined;
}

function redisStorage(l2: RedisDistributedCache, context: ImStorageContext): ImStorage {
  const { options } = context;
  const keys = new ImKeys(context.namespace);
  const redis = new RedisScriptRunner(
    l2.client,
    l2.topology,
    (reply) => l2.bound(reply),
    context.batchSize,
  );
  const presence = new RedisPresenceFeed(
    l2.client,
    l2.topology,
    keys.presenceChannel,
    context.logger,
  );

  return {
    backend: 'redis',
    routes: new RedisRouteStore(redis, keys, options),
    presence,
    cursors: new RedisReadCursorStore(redis, keys, options.cursorTtl),
    sessions: new RedisVideoSessionStore(redis, keys, options.sessionTtl),
    close: () => presence.close(),
  };
}

function memoryStorage(context: ImStorageContext): ImStorage {
  const { options, now } = context;
  const presence = new MemoryPresenceFeed(context.logger);

  return {
    backend: 'memory',
    routes: new MemoryRouteStore(options, presence, now),
    presence,
    cursors: new MemoryReadCursorStore(options.cursorTtl, now),
    sessions: new MemoryVideoSessionStore(options.sessionTtl, now),
    close: () => presence.close(),
  };
}
