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
export { ImCacheService, type Loader } from './two-level/im-cache.service';
export type { SetOptions, GetOrLoadOptions } from './two-level/load-policy';
export type { CacheStats } from './two-level/cache-stats';
export type { BreakerState, BreakerStats } from './protection/circuit-breaker';
export { Cacheable, type CacheableOptions } from './decorators/cacheable.decorator';
export { CachePut, type CachePutOptions } from './decorators/cache-put.decorator';
export { CacheEvict, type CacheEvictOptions } from './decorators/cache-evict.decorator';
export type { CacheKey } from './decorators/cache-key';
export type { CoherenceOptions, CoherenceDisconnectMode } from './coherence/coherence-options';
export type { CoherenceStats } from './coherence/invalidation-bus';
export type { ImRepositoryOptions } from './im/im-options';
export { RouteRepository } from './im/routes/route.repository';
export { OnlineStatusRepository } from './im/presence/online-status.repository';
export { ReadCursorRepository } from './im/read-cursors/read-cursor.repository';
export { VideoSessionRepository } from './im/video/video-session.repository';
export type {
  Route,
  RouteRef,
  ServerGroups,
  UserStatus,
  OnlineStatus,
  PresenceChange,
  PresenceReadOptions,
} from './im/routes/route.types';
export type { PresenceListener, PresenceSubscription } from './im/presence/presence-feed';
export type {
  ChatType,
  ReadCursorTarget,
  ReadCursorKey,
  MarkReadInput,
} from './im/read-cursors/read-cursor.repository';
export type { MessageId } from './im/read-cursors/message-id';
export type {
  CallMedia,
  ParticipantState,
  SessionParticipant,
  VideoSession,
  StartSessionInput,
} from './im/video/video-session.types';
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
  InvalidArgumentError,
  InvalidMessageIdError,
  UsersBusyError,
  type BusyUser,
  SessionNotFoundError,
  SessionExistsError,
  NotInSessionError,
  RepositoriesDisabledError,
} from './errors';
