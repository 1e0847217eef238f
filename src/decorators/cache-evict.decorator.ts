import { DecoratorKeyError } from '../errors';
import type { CacheKey } from './cache-key';
import { checkSite, compileSiteKey, recordOperation, type DecoratorSite } from './cache-operation';

/** Options of {@link CacheEvict}. */
export interface CacheEvictOptions<A extends any[] = any[]> {
  /**
   * The key or keys to delete: a template (see {@link CacheKey}), an array of templates, or
   * a function returning one key or an array of keys.
   */
  key: CacheKey<A> | readonly string[] | ((...args: A) => string | readonly string[]);
  /**
   * Delete before the method runs (and whatever its outcome) instead of after it succeeded.
   * @default false
   */
  beforeInvocation?: boolean;
}

/**
 * Deletes keys from both levels once the method succeeded (or before it runs, with
 * `beforeInvocation`). Nothing is deleted when the method throws. Keys are resolved before
 * the method runs. A failure of the delete is logged, not thrown: the method's own work
 * succeeded, and the stale entry expires with its TTL.
 *
 * @example
 * \@CacheEvict({ key: ['profile:{userId}', 'contacts:{userId}'] })
 * async deleteAccount(userId: string): Promise<void> { ... }
 */
export function CacheEvict<A extends any[] = any[]>(
  options: CacheEvictOptions<A>,
): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const site: DecoratorSite = { decorator: '@CacheEvict', target, propertyKey, descriptor };
    const method = checkSite(site, options);

    recordOperation(site, {
      kind: 'evict',
      decorator: site.decorator,
      method,
      keys: compileEvictKeys(options.key, site, method),
      options: undefined,
      beforeInvocation: options.beforeInvocation === true,
    });
  };
}

function compileEvictKeys(
  key: CacheEvictOptions['key'],
  site: DecoratorSite,
  method: string,
): (args: unknown[]) => string[] {
  if (Array.isArray(key)) {
    const resolvers = key.map((one) => compileSiteKey(one, site, method));
    return (args) => resolvers.map((resolve) => resolve(args));
  }
  if (typeof key !== 'function') {
    const resolve = compileSiteKey(key, site, method);
    return (args) => [resolve(args)];
  }

  return (args) => {
    const keys = (key as (...args: unknown[]) => unknown)(...args);
    const list = Array.isArray(keys) ? keys : [keys];
    for (const one of list) {
      if (typeof one !== 'string' || one === '') {
        throw new DecoratorKeyError(
          method,
          site.decorator,
          one,
          'the key function must return a non-empty string or an array of them',
        );
      }
    }
    return list as string[];
  };
}
