import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { RESOLVED_CACHE_OPTIONS } from '../cache.constants';
import { RateLimitedLog } from '../logging/rate-limited-log';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import { ImCacheService } from '../two-level/im-cache.service';
import { CACHE_OPERATIONS, CACHED_METHODS, type CacheOperation } from './cache-operation';
import { CACHE_BINDING, originalOf, wrapCachedMethod, type CacheBinding } from './cached-method';

/**
 * Applies `@Cacheable`, `@CachePut` and `@CacheEvict` to every provider and controller of
 * the application, so the decorators need no wiring beyond importing `CacheModule`.
 *
 * - When it is created (while Nest instantiates providers, before `app.init()` registers
 *   routes and before any `onModuleInit`), it replaces each decorated method on its class
 *   prototype by a wrapper carrying the method's metadata, and binds the class to this
 *   module's cache. Controllers' routes, guards and interceptors therefore see the wrapper.
 * - At `onModuleInit` it binds each singleton instance to this module's cache (so two
 *   applications in one process keep their own caches), and wraps classes it could only
 *   find through their instance (factory and value providers).
 * - At shutdown it removes its bindings; a wrapped method without a binding runs as is.
 *
 * Request-scoped and transient instances, created later, use the class binding.
 */
@Injectable()
export class CacheDecoratorsExplorer implements OnModuleInit, OnApplicationShutdown {
  readonly #binding: CacheBinding;
  readonly #bound = new Set<object>();

  constructor(
    private readonly discovery: DiscoveryService,
    cache: ImCacheService,
    @Inject(RESOLVED_CACHE_OPTIONS) options: ResolvedCacheOptions,
  ) {
    this.#binding = { cache, log: new RateLimitedLog(options.logger, 10_000, options.now) };
    for (const wrapper of this.#wrappers()) {
      const type = wrapper.metatype;
      if (typeof type === 'function' && !wrapper.inject && type.prototype) {
        this.#prepare(type.prototype);
      }
    }
  }

  onModuleInit(): void {
    for (const wrapper of this.#wrappers()) {
      const instance: unknown = wrapper.isDependencyTreeStatic() ? wrapper.instance : undefined;
      if (typeof instance !== 'object' || instance === null) continue;
      if (!this.#prepare(Object.getPrototypeOf(instance))) continue;
      if (!wrapper.isTransient) this.#bind(instance);
    }
  }

  onApplicationShutdown(): void {
    for (const target of this.#bound) {
      const own = Object.getOwnPropertyDescriptor(target, CACHE_BINDING);
      if (own?.value === this.#binding) delete (target as any)[CACHE_BINDING];
    }
    this.#bound.clear();
  }

  #wrappers(): InstanceWrapper[] {
    return [...this.discovery.getProviders(), ...this.discovery.getControllers()];
  }

  /** Wraps the decorated methods a prototype has (or inherits) and binds it; false if none. */
  #prepare(prototype: object | null): boolean {
    if (prototype === null || prototype === Object.prototype) return false;
    const names: (string | symbol)[] | undefined = Reflect.getMetadata(CACHED_METHODS, prototype);
    if (names === undefined) return false;

    for (const name of names) wrapOnOwner(prototype, name);
    this.#bind(prototype);
    return true;
  }

  #bind(target: object): void {
    try {
      Object.defineProperty(target, CACHE_BINDING, {
        value: this.#binding,
        configurable: true,
        writable: true,
        enumerable: false,
      });
      this.#bound.add(target);
    } catch {
      // A frozen instance: it uses its class's binding instead.
    }
  }
}

/** Wraps `name` on the prototype that defines it, once, if that definition is decorated. */
function wrapOnOwner(prototype: object, name: string | symbol): void {
  let owner: object | null = prototype;
  while (owner !== null && !Object.prototype.hasOwnProperty.call(owner, name)) {
    owner = Object.getPrototypeOf(owner);
  }
  if (owner === null) return;

  const descriptor = Object.getOwnPropertyDescriptor(owner, name) as PropertyDescriptor;
  if (typeof descriptor.value !== 'function' || originalOf(descriptor.value) !== undefined) return;
  // An override without cache decorators of a decorated parent method stays as it is.
  const operations: CacheOperation[] | undefined = Reflect.getOwnMetadata(
    CACHE_OPERATIONS,
    owner,
    name,
  );
  if (operations === undefined) return;

  Object.defineProperty(owner, name, {
    ...descriptor,
    value: wrapCachedMethod(descriptor.value, operations),
  });
}
