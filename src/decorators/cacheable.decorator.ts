import { fraction } from '../options/resolve-options';
import type { GetOrLoadOptions } from '../two-level/load-policy';
import type { CacheKey } from './cache-key';
import {
  checkDurations,
  checkSite,
  compileSiteKey,
  recordOperation,
  type DecoratorSite,
} from './cache-operation';

/** Options of {@link Cacheable}: the key, plus any option of `getOrLoad` for this method. */
export interface CacheableOptions<A extends any[] = any[]> extends GetOrLoadOptions {
  /** The cache key of a call: a template (`'user:{id}'`, see {@link CacheKey}) or a function. */
  key: CacheKey<A>;
}

/**
 * Cache-aside for a method: a call returns the cached value of its key, or runs the method
 * and caches what it returns, through `ImCacheService.getOrLoad` and every protection it
 * has (single flight per key, cross-instance lock, negative entries for `null` and
 * `undefined` results, fail-safe, timeouts). A thrown error is never cached. The method's
 * other decorators keep working; `this` is the instance. Applied by `CacheModule`: nothing
 * else to wire.
 *
 * The decorated method returns a Promise; its cached value is deeply frozen JSON data, and a
 * `null` result comes back as `undefined`.
 *
 * @example
 * \@Cacheable({ key: 'profile:{userId}', ttl: '10m' })
 * async findProfile(userId: string): Promise<Profile | undefined> { ... }
 *
 * @throws InvalidOptionError when the class is defined, for bad options
 */
export function Cacheable<A extends any[] = any[]>(options: CacheableOptions<A>): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const site: DecoratorSite = { decorator: '@Cacheable', target, propertyKey, descriptor };
    const method = checkSite(site, options);
    const { key, ...loadOptions } = options;
    const where = `@Cacheable on ${method}`;
    checkDurations(loadOptions, ['ttl', 'negativeTtl', 'grace'], where);
    checkDurations({ ...loadOptions.loaderTimeout }, ['soft', 'hard'], `loaderTimeout of ${where}`);
    if (loadOptions.refreshAhead !== undefined) {
      fraction(loadOptions.refreshAhead, `refreshAhead of ${where}`);
    }

    recordOperation(site, {
      kind: 'cacheable',
      decorator: site.decorator,
      method,
      keys: compileSiteKey(key, site, method),
      options: Object.freeze(loadOptions),
      beforeInvocation: false,
    });
  };
}
