/** Injection token of the `InvalidationBus`, or `null` when coherence is off. */
export const INVALIDATION_BUS = 'nest-im-cache:INVALIDATION_BUS';

/** The bus scope of the generic cache (`ImCacheService` keys). */
export const GENERIC_SCOPE = 'c';
