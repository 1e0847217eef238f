export { CacheModule } from './cache.module';
export type { CacheModuleAsyncOptions } from './cache-module.definition';
export { LOCAL_CACHE, DISTRIBUTED_CACHE } from './cache.constants';
export type {
  CacheModuleOptions,
  LocalCacheOptions,
  DistributedCacheOptions,
  RedisClusterOptions,
  RedisSentinelOptions,
  LocalDriverName,
  DistributedDriverName,
  LockOptions,
  FailSafeOptions,
  LoaderTimeoutOptions,
  BreakerOptions,
  ExistenceFilter,
} from './options/cache-options.interface';
export type { Duration } from './options/duration';
export type {
  LocalCache,
  LocalCacheClass,
  LocalCacheSettings,
} from './local/local-cache.interface';
export type {
  DistributedCache,
  DistributedCacheClass,
} from './distributed/distributed-cache.interface';
export {
  ImCacheService,
  type SetOptions,
  type GetOrLoadOptions,
  type Loader,
} from './two-level/im-cache.service';
export type { CacheStats } from './two-level/cache-stats';
export type { BreakerState, BreakerStats } from './protection/circuit-breaker';
export { Cacheable, type CacheableOptions } from './decorators/cacheable.decorator';
export { CachePut, type CachePutOptions } from './decorators/cache-put.decorator';
export { CacheEvict, type CacheEvictOptions } from './decorators/cache-evict.decorator';
export type { CacheKey } from './decorators/cache-key';
export type {
  CoherenceOptions,
  CoherenceDisconnectMode,
} from './coherence/coherence-options';
export type { CoherenceStats } from './coherence/invalidation-bus';
export {
  ImCacheError,
  InvalidOptionError,
  InvalidKeyError,
  InvalidValueError,
  DistributedCacheError,
  UnsupportedDriverError,
  CorruptEntryError,
  LoaderTimeoutError,
  LockTimeoutError,
  CircuitOpenError,
  DecoratorKeyError,
} from './errors';
