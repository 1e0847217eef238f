import 'reflect-metadata';
import { InvalidOptionError } from '../errors';
import { toMilliseconds } from '../options/duration';
import type { GetOrLoadOptions, SetOptions } from '../two-level/load-policy';
import { compileKey, type KeyResolver } from './cache-key';

/**
 * Metadata key of the cache operations of a method, stored on the class prototype under the
 * method's name (`Reflect.getMetadata(CACHE_OPERATIONS, prototype, 'findUser')`), so it
 * survives other decorators replacing the method.
 */
export const CACHE_OPERATIONS = 'nest-im-cache:operations';

/** Metadata key of the names of a class's methods that carry cache decorators. */
export const CACHED_METHODS = 'nest-im-cache:cached-methods';

/** One decorator's instruction, compiled when the class is defined. */
export interface CacheOperation {
  kind: 'cacheable' | 'put' | 'evict';
  /** `'@Cacheable'`, `'@CachePut'` or `'@CacheEvict'`. */
  decorator: string;
  /** `'Class.method'`, for messages. */
  method: string;
  /** The key (or, for `@CacheEvict`, the keys) of a call. */
  keys: KeyResolver | ((args: unknown[]) => string[]);
  /** Passed to `getOrLoad` or `set`. */
  options: GetOrLoadOptions | SetOptions | undefined;
  /** `@CacheEvict` only: delete before the method runs. */
  beforeInvocation: boolean;
}

/** What the three decorators share: where they sit and what they were given. */
export interface DecoratorSite {
  decorator: string;
  target: object;
  propertyKey: string | symbol;
  descriptor: PropertyDescriptor;
}

/** `'UserService.findUser'` for a decorator site. */
export function methodName(site: Pick<DecoratorSite, 'target' | 'propertyKey'>): string {
  const owner = typeof site.target === 'function' ? site.target : site.target.constructor;
  return `${owner?.name ?? 'anonymous'}.${String(site.propertyKey)}`;
}

/**
 * Checks where a decorator was put (an instance method, returning a promise when its type is
 * known) and returns the method's name for messages.
 *
 * @throws InvalidOptionError when the decorator cannot apply there
 */
export function checkSite(site: DecoratorSite, options: unknown): string {
  const method = methodName(site);
  const option = `${site.decorator} on ${method}`;
  if (typeof site.target === 'function') {
    throw new InvalidOptionError(option, 'applies to instance methods, not static ones');
  }
  if (typeof site.descriptor?.value !== 'function') {
    throw new InvalidOptionError(option, 'applies to methods, not to accessors or fields');
  }
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(option, "expected options with a key, e.g. { key: 'user:{0}' }");
  }

  // With emitDecoratorMetadata, a declared return type that is neither a promise nor unknown
  // reveals a synchronous method, which the decorator would turn into an asynchronous one.
  const returns = Reflect.getMetadata('design:returntype', site.target, site.propertyKey);
  if (typeof returns === 'function' && returns !== Promise && returns !== Object) {
    throw new InvalidOptionError(
      option,
      `the method returns ${returns.name}, but a cached method returns a Promise; ` +
        'make it async',
    );
  }
  return method;
}

/** Validates the durations a decorator was given, naming the option at fault. */
export function checkDurations(
  options: Record<string, unknown>,
  names: readonly string[],
  where: string,
): void {
  for (const name of names) {
    if (options[name] !== undefined) {
      toMilliseconds(options[name] as number | string, `${name} of ${where}`);
    }
  }
}

/** Compiles a key option against the decorated method. */
export function compileSiteKey(key: unknown, site: DecoratorSite, method: string): KeyResolver {
  return compileKey(key, { method, decorator: site.decorator, fn: site.descriptor.value });
}

/**
 * Records an operation on the method and the method's name on the class. `@Cacheable`
 * cannot share a method with another cache decorator.
 *
 * @throws InvalidOptionError for a combination that cannot work
 */
export function recordOperation(site: DecoratorSite, operation: CacheOperation): void {
  const { target, propertyKey } = site;
  const existing: CacheOperation[] =
    Reflect.getOwnMetadata(CACHE_OPERATIONS, target, propertyKey) ?? [];
  const all = [...existing, operation];
  if (all.length > 1 && all.some((op) => op.kind === 'cacheable')) {
    throw new InvalidOptionError(
      `${site.decorator} on ${operation.method}`,
      '@Cacheable cannot be combined with another cache decorator on the same method',
    );
  }
  Reflect.defineMetadata(CACHE_OPERATIONS, all, target, propertyKey);

  const names: (string | symbol)[] = Reflect.getMetadata(CACHED_METHODS, target) ?? [];
  if (!names.includes(propertyKey)) {
    Reflect.defineMetadata(CACHED_METHODS, [...names, propertyKey], target);
  }
}
