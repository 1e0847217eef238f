import type { LoggerService } from '@nestjs/common';
import type {
  DistributedCache,
  DistributedCacheClass,
} from '../distributed/distributed-cache.interface';
import type { LocalCache, LocalCacheClass } from '../local/local-cache.interface';
import type { Duration } from './duration';

/** Built-in local (L1) drivers. */
export type LocalDriverName = 'lru' | 'none';

/** Built-in distributed (L2) drivers. */
export type DistributedDriverName = 'redis' | 'memory' | 'keyv' | 'none';

/** Options of the in-process cache (L1). */
export interface LocalCacheOptions {
  /**
   * `'lru'` (bounded LRU, the default), `'none'` (no L1), or a custom {@link LocalCache}
   * class or instance.
   * @default 'lru'
   */
  driver?: LocalDriverName | LocalCacheClass | LocalCache;
  /**
   * Most entries L1 holds; the least recently used go first. Memory is reserved for this many
   * entries up front, so size it to the hot set, not to the whole data set.
   * @default 100_000
   */
  maxEntries?: number;
  /**
   * Most bytes of serialized values L1 holds (the JSON length of each value). 0 disables the
   * byte bound.
   * @default 67_108_864 (64 MiB)
   */
  maxBytes?: number;
  /**
   * Longest time an entry stays in L1. An entry filled from L2 lives for what remains of its
   * L2 lifetime, never longer than this.
   * @default '1m'
   */
  ttl?: Duration;
}

/** Options of a Redis Cluster connection. */
export interface RedisClusterOptions {
  /** Seed nodes as `redis://host:port` URLs; the rest are discovered. */
  nodes: string[];
}

/** Options of a Redis Sentinel connection. */
export interface RedisSentinelOptions {
  /** Name of the monitored master. */
  name: string;
  /** Sentinels as `redis://host:port` URLs. */
  nodes: string[];
}

/** Options of the shared cache (L2). */
export interface DistributedCacheOptions {
  /**
   * `'redis'`, `'memory'` (embedded, one process), `'keyv'` (any Keyv store), `'none'`, or a
   * custom {@link DistributedCache} class (constructed with these options) or instance.
   * @default 'redis' when `url`, `cluster` or `sentinel` is set, else 'memory'
   */
  driver?: DistributedDriverName | DistributedCacheClass | DistributedCache;
  /**
   * Redis URL: `redis[s]://[[user][:password]@]host[:port][/database]`. `rediss://` uses TLS.
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string;
  /** Connect to a Redis Cluster instead of a single server. */
  cluster?: RedisClusterOptions;
  /** Connect through Redis Sentinel. */
  sentinel?: RedisSentinelOptions;
  /**
   * An existing, already configured node-redis client (standalone, cluster or sentinel) to use
   * instead of opening one. The module neither connects nor closes it.
   */
  client?: unknown;
  /**
   * Longest wait for one Redis command; past it the command fails with a
   * `DistributedCacheError`. Keeps every call bounded while Redis is slow or down.
   * @default '1s'
   */
  commandTimeout?: Duration;
  /**
   * Longest wait for a connection at start-up. The module starts anyway when it passes (calls
   * then fail fast until Redis is back) and logs the failure once.
   * @default '5s'
   */
  connectTimeout?: Duration;
  /**
   * Queue commands while disconnected (until `commandTimeout`) instead of failing them at
   * once.
   * @default false
   */
  offlineQueue?: boolean;
  /** For `driver: 'keyv'`: a Keyv instance or any Keyv store adapter. */
  store?: unknown;
  /**
   * For `driver: 'memory'`: most entries held; the least recently used go first.
   * @default 1_000_000
   */
  maxEntries?: number;
  /** Options for a custom driver class. */
  [custom: string]: unknown;
}

/** Options of `CacheModule.forRoot()`; every field is optional. */
export interface CacheModuleOptions {
  /**
   * Prefix of every L2 key (`<namespace>:<key>`); callers cannot reach keys outside it.
   * @default 'im'
   */
  namespace?: string;
  /**
   * Default lifetime of a cached value when a call gives none.
   * @default '5m'
   */
  ttl?: Duration;
  /**
   * Lifetime of a negative ("not found") entry written by `getOrLoad`.
   * @default '30s'
   */
  negativeTtl?: Duration;
  /**
   * Random spread applied to every TTL, as a fraction: 0.1 makes a 60 s TTL land anywhere in
   * 54 to 66 s, so keys written together do not expire together. 0 disables it.
   * @default 0.1
   */
  jitter?: number;
  /** The in-process cache (L1). */
  local?: LocalCacheOptions;
  /** The shared cache (L2). */
  distributed?: DistributedCacheOptions;
  /**
   * Logger for failures the module swallows (one line each); a Nest `Logger` with context
   * `ImCache` by default.
   */
  logger?: LoggerService;
  /**
   * Clock in milliseconds; replace it in tests to exercise TTLs without sleeping.
   * @default Date.now
   */
  now?: () => number;
}
