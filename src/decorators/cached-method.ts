import 'reflect-metadata';
import type { RateLimitedLog } from '../logging/rate-limited-log';
import type { ImCacheService } from '../two-level/im-cache.service';
import type { SetOptions } from '../two-level/load-policy';
import type { CacheOperation } from './cache-operation';

/**
 * Where a wrapped method finds its cache: a property under this symbol, set by the
 * explorer on the instance (or, for instances the explorer never sees, such as
 * request-scoped ones, on the class prototype). Without one the original method runs.
 */
export const CACHE_BINDING: unique symbol = Symbol('nest-im-cache:binding');

/** The original of a wrapped method, kept on the wrapper. */
export const ORIGINAL_METHOD: unique symbol = Symbol('nest-im-cache:original');

/** What a wrapped method needs at call time. */
export interface CacheBinding {
  cache: ImCacheService;
  log: RateLimitedLog;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Wraps a method in the behaviour of its cache operations. The wrapper carries every
 * reflect-metadata entry of the original (guards, interceptors, event handlers and route
 * metadata keep working), its `name` and `length`, and calls it with the same `this`.
 */
export function wrapCachedMethod(original: Method, operations: CacheOperation[]): Method {
  const wrapper =
    operations[0].kind === 'cacheable'
      ? cacheAside(original, operations[0])
      : writeThrough(original, operations);

  copyOwnProperties(original, wrapper);
  for (const key of Reflect.getOwnMetadataKeys(original)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, original), wrapper);
  }
  Object.defineProperty(wrapper, ORIGINAL_METHOD, { value: original });
  return wrapper;
}

/** The original of a wrapped method, or `undefined` for one that is not wrapped. */
export function originalOf(method: unknown): Method | undefined {
  return typeof method === 'function' ? (method as any)[ORIGINAL_METHOD] : undefined;
}

function cacheAside(original: Method, operation: CacheOperation): Method {
  const resolve = operation.keys as (args: unknown[]) => string;
  const options = operation.options;

  return function cacheable(this: any, ...args: unknown[]) {
    const binding: CacheBinding | undefined = this?.[CACHE_BINDING];
    if (binding === undefined) return original.apply(this, args);

    let key: string;
    try {
      key = resolve(args);
    } catch (error) {
      return Promise.reject(error);
    }
    return binding.cache.getOrLoad(key, () => original.apply(this, args) as never, options);
  };
}

function writeThrough(original: Method, operations: CacheOperation[]): Method {
  const before = operations.filter((op) => op.beforeInvocation);
  const after = operations.filter((op) => !op.beforeInvocation);

  return async function cacheWriting(this: any, ...args: unknown[]) {
    const binding: CacheBinding | undefined = this?.[CACHE_BINDING];
    if (binding === undefined) return original.apply(this, args);

    // Every key first: a bad one fails the call before the method has any effect.
    const keysBefore = before.map((op) => keysOf(op, args));
    const keysAfter = after.map((op) => keysOf(op, args));

    for (let i = 0; i < before.length; i++) await evict(binding, before[i], keysBefore[i]);
    const result = await original.apply(this, args);
    for (let i = 0; i < after.length; i++) {
      if (after[i].kind === 'put') await put(binding, after[i], keysAfter[i][0], result);
      else await evict(binding, after[i], keysAfter[i]);
    }
    return result;
  };
}

function keysOf(operation: CacheOperation, args: unknown[]): string[] {
  const keys = operation.keys(args);
  return typeof keys === 'string' ? [keys] : keys;
}

async function put(binding: CacheBinding, op: CacheOperation, key: string, result: unknown) {
  try {
    if (result === undefined || result === null) await binding.cache.delete(key);
    else await binding.cache.set(key, result, op.options as SetOptions | undefined);
  } catch (error) {
    report(binding, op, key, error);
  }
}

async function evict(binding: CacheBinding, op: CacheOperation, keys: string[]) {
  try {
    await binding.cache.delete(keys);
  } catch (error) {
    report(binding, op, keys.join('", "'), error);
  }
}

function report(binding: CacheBinding, op: CacheOperation, key: string, error: unknown): void {
  const why = error instanceof Error ? error.message : String(error);
  binding.log.warn(
    `${op.decorator}:${op.method}`,
    `${op.decorator} on ${op.method} could not update "${key}": ${why}; ` +
      'the method succeeded and the cached copy may be stale until it expires',
  );
}

/** Copies what else a function carries (properties set by other libraries), plus its name. */
function copyOwnProperties(from: Method, to: Method): void {
  for (const key of Reflect.ownKeys(from)) {
    if (key === 'prototype' || key === 'arguments' || key === 'caller') continue;
    const descriptor = Object.getOwnPropertyDescriptor(from, key);
    if (descriptor !== undefined) Object.defineProperty(to, key, descriptor);
  }
}
