import type { LoggerService } from '@nestjs/common';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { CoherenceOptions } from '../coherence/coherence-options';
import type { ImRepositoryOptions } from '../im/im-options';
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
   * Most entries L1 holds; the least recently used go first. The `'lru'` driver's arrays grow
   * with the entries held, up to this many, so an L1 sized for a peak costs little when idle.
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
  /**
   * TLS settings of a `rediss://` connection, as Node's `tls.connect()` takes them: `ca` to
   * trust a private certificate authority, `cert` and `key` for a client certificate,
   * `servername`. Without it, `rediss://` trusts the authorities Node trusts. Only `rediss://`
   * connections use it: next to a `url` that is not `rediss://` it is rejected as a mistake.
   * @default undefined
   */
  tls?: TlsConnectionOptions;
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
  /**
   * Most keys `getMany` asks L2 for in one request, and most users per `MGET` of the IM
   * repositories' batch reads (`onlineStatus.getMany`, `routes.getMany`, `groupByServer`)
   * outside Cluster. A larger batch goes out as several requests, each sent on its own and
   * decoded as soon as its reply is in, so this process decodes one reply while Redis serves
   * the next (and no single MGET holds Redis up long).
   * @default 200
   */
  batchSize?: number;
  /**
   * Send the single-key L2 reads (`get`, and `getOrLoad` past L1) started in one turn of the
   * event loop together, as one batch (an MGET on Redis) of up to `batchSize` keys. Many
   * reads in flight then cost Redis and the client one command instead of one each.
   * On Cluster it is off unless asked for: a batch spans masters, and one failing master
   * fails every read of the batch, including those of keys held elsewhere.
   * @default true for driver 'redis' on a standalone server or Sentinel, else false
   */
  coalesceReads?: boolean;
  /** For `driver: 'keyv'`: a Keyv instance or any Keyv store adapter. */
  store?: unknown;
  /**
   * For `driver: 'memory'`: most entries held; the oldest write goes first.
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
   * One load per key across instances (breakdown protection): on a miss, the instance that
   * takes the key's lock in L2 runs the loader; the others wait for its value. `false` turns
   * it off (each instance then loads once per key). Costs two extra L2 round trips per miss
   * (take and release the lock) and one per wait poll. Drivers without lock support (`keyv`,
   * `none`, custom drivers lacking `acquireLock`) skip this step.
   * @default { lease: '10s', wait: '5s', onTimeout: 'load' }
   */
  lock?: LockOptions | false;
  /** Stale copies served when a loader or L2 fails (avalanche and outage protection). */
  failSafe?: FailSafeOptions;
  /** Time limits of `getOrLoad` loaders (and of the decorators built on it). */
  loaderTimeout?: LoaderTimeoutOptions;
  /**
   * Skips L2 for a while after repeated failures, so an outage costs one fast failure per
   * call instead of a command timeout each. `false` turns it off.
   * @default { failures: 5, openFor: '1s' }
   */
  breaker?: BreakerOptions | false;
  /**
   * Reload a key in the background when a `getOrLoad` read finds less than this fraction
   * of its TTL left, so hot keys never expire under load: 0.2 reloads a 60 s entry once
   * after 48 s. The caller is never blocked; one reload per key at a time. Costs one extra
   * loader call per key and TTL period for keys read near their expiry. 0 turns it off.
   * @default 0
   */
  refreshAhead?: number;
  /**
   * Asked before a `getOrLoad` loader runs (penetration protection), e.g. a Bloom filter of
   * known IDs. Resolving `false` stores a negative entry without calling the loader;
   * anything else, or a throw (logged), lets the loader run. Not asked on cache hits.
   * @default undefined (no filter)
   */
  existenceFilter?: ExistenceFilter;
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
  /**
   * The invalidation bus that keeps L1 copies coherent across instances (Redis pub/sub):
   * `false` turns it off, `true` or an options object turns it on. On by default when L2 is
   * Redis; the `memory` and `none` drivers share nothing between processes and need none.
   * See docs/coherence.md.
   * @default on with Redis, off otherwise
   */
  coherence?: boolean | CoherenceOptions;
  /**
   * The IM repositories (routes, online status, read cursors, video sessions): `false`
   * turns them off, an options object (or `true`) requires them, so a driver that cannot
   * serve them fails the start with `UnsupportedDriverError`. Omitted, they are on when the
   * L2 driver can serve them (`redis`, `memory`). See docs/repositories.md.
   * @default on with the redis and memory drivers
   */
  im?: boolean | ImRepositoryOptions;
}

/**
 * Decides whether `key` can exist at all before a loader looks for it: `false` means
 * certainly not (a negative entry is stored, the loader is not called).
 */
export type ExistenceFilter = (key: string) => boolean | Promise<boolean>;

/** Options of the cross-instance load lock (`lock`). */
export interface LockOptions {
  /**
   * Lifetime of a lock in L2 between renewals. An owner that crashes delays the others by at
   * most this long. A live owner renews it every `lease / 3` while its load runs (until
   * `loaderTimeout.hard`), so a load may outlast it; an owner whose event loop stalls for
   * more than two thirds of it loses the lock. Drivers without `renewLock` do not renew:
   * there, a load that outlasts the lease may run once more elsewhere, so keep it above the
   * slowest load.
   * @default '10s'
   */
  lease?: Duration;
  /**
   * Longest time a caller waits for another instance's load (polling L2 with a short
   * backoff, at most every 50 ms) before `onTimeout` applies.
   * @default '5s'
   */
  wait?: Duration;
  /**
   * What happens past `wait`, after a stale copy within grace has been tried: `'load'`
   * runs the loader without the lock (one more load, no failed call); `'error'` rejects
   * with a `LockTimeoutError`.
   * @default 'load'
   */
  onTimeout?: 'load' | 'error';
}

/** Options of fail-safe (`failSafe`). */
export interface FailSafeOptions {
  /**
   * How long an entry outlives its TTL as a stale copy, served only when its loader fails
   * or times out or L2 is unreachable (each one counted in `stats().staleServed`). L2 keeps
   * every entry for `ttl + grace`, so this costs L2 memory; L1 keeps expired entries until
   * they are evicted anyway. 0 turns fail-safe off.
   * @default 0
   */
  grace?: Duration;
  /**
   * After a stale copy was served because the loader failed, how long further misses of
   * that key keep getting the stale copy without calling the loader again, so a failing
   * database is not hammered.
   * @default '5s'
   */
  backoff?: Duration;
}

/** Options of loader time limits (`loaderTimeout`). */
export interface LoaderTimeoutOptions {
  /**
   * With a stale copy at hand (see `failSafe.grace`), how long a caller waits for the
   * loader before getting the stale copy; the load finishes in the background and updates
   * the cache. Ignored when there is no stale copy. 0 turns it off.
   * @default 0
   */
  soft?: Duration;
  /**
   * Longest wait for a load (waiting for another instance's lock included); past it the
   * call fails with a `LoaderTimeoutError`, or gets a stale copy when there is one. The
   * loader itself cannot be cancelled: it keeps running and its value is stored. 0 turns
   * it off.
   * @default 0
   */
  hard?: Duration;
}

/** Options of the L2 circuit breaker (`breaker`). */
export interface BreakerOptions {
  /**
   * Consecutive L2 failures that open the breaker.
   * @default 5
   */
  failures?: number;
  /**
   * How long the breaker stays open. Then one call probes L2: success closes the breaker,
   * failure opens it again. A successful write closes it at once.
   * @default '1s'
   */
  openFor?: Duration;
}
