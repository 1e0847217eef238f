/** Injection token of the chosen {@link LocalCache} (L1) implementation. */
export const LOCAL_CACHE = 'nest-im-cache:LOCAL_CACHE';

/** Injection token of the chosen {@link DistributedCache} (L2) implementation. */
export const DISTRIBUTED_CACHE = 'nest-im-cache:DISTRIBUTED_CACHE';

/** Injection token of the validated options (`ResolvedCacheOptions`). */
export const RESOLVED_CACHE_OPTIONS = 'nest-im-cache:RESOLVED_OPTIONS';

/** Internal: the L2 driver together with whether the module owns it. */
export const DISTRIBUTED_CACHE_HANDLE = 'nest-im-cache:DISTRIBUTED_CACHE_HANDLE';
