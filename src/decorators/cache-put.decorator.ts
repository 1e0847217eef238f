import type { SetOptions } from '../two-level/load-policy';
import type { CacheKey } from './cache-key';
import {
  checkDurations,
  checkSite,
  compileSiteKey,
  recordOperation,
  type DecoratorSite,
} from './cache-operation';

/** Options of {@link CachePut}. */
export interface CachePutOptions<A extends any[] = any[]> extends SetOptions {
  /** The key to store the result under: a template (see {@link CacheKey}) or a function. */
  key: CacheKey<A>;
}

/**
 * Runs the method, then stores its result under the key (`ImCacheService.set`), so the
 * next read finds the new value. A `null` or `undefined` result deletes the key instead.
 * Nothing is stored when the method throws. The key is resolved before the method runs,
 * so a bad key fails the call without side effects.
 *
 * A failure of the cache write is logged, not thrown: the method's own work succeeded, and
 * the stale entry expires with its TTL.
 *
 * @example
 * \@CachePut({ key: 'profile:{profile.userId}' })
 * async saveProfile(profile: Profile): Promise<Profile> { ... }
 */
export function CachePut<A extends any[] = any[]>(options: CachePutOptions<A>): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const site: DecoratorSite = { decorator: '@CachePut', target, propertyKey, descriptor };
    const method = checkSite(site, options);
    const { key, ...setOptions } = options;
    checkDurations(setOptions, ['ttl'], `@CachePut on ${method}`);

    recordOperation(site, {
      kind: 'put',
      decorator: site.decorator,
      method,
      keys: compileSiteKey(key, site, method),
      options: Object.freeze(setOptions),
      beforeInvocation: false,
    });
  };
}
