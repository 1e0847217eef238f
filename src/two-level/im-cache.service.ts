import { Inject, Injectable } from '@nestjs/common';
import { DISTRIBUTED_CACHE, LOCAL_CACHE, RESOLVED_CACHE_OPTIONS } from '../cache.constants';
import type { DistributedCache } from '../distributed/distributed-cache.interface';
import {
  DistributedCacheError,
  ImCacheError,
  InvalidKeyError,
  InvalidOptionError,
  InvalidValueError,
} from '../errors';
import type { LocalCache } from '../local/local-cache.interface';
import { RateLimitedLog } from '../logging/rate-limited-log';
import { toMilliseconds, type Duration } from '../options/duration';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import { applyJitter } from '../protection/jitter';
import { SingleFlight } from '../protection/single-flight';
import { type CacheStats, StatsCounters } from './cache-stats';
import {
  decodeValue,
  encodeNegative,
  encodeValue,
  expiryOf,
  NEGATIVE,
  separatorOf,
} from './entry-codec';
import { deepFreeze } from './freeze';

/** Options of a single `set`. */
export interface SetOptions {
  /** Lifetime of the value; the module's `ttl` by default. Jitter is applied. */
  ttl?: Duration;
}

/** Options of a single `getOrLoad`. */
export interface GetOrLoadOptions extends SetOptions {
  /** Lifetime of the negative entry written when the loader finds nothing. */
  negativeTtl?: Duration;
}

/** Produces the value of a key on a cache miss; `undefined` or `null` means "not found". */
export type Loader<T> = () => T | null | undefined | Promise<T | null | undefined>;

const MISS = undefined;

/**
 * The two-level cache: a bounded in-process L1 in front of a shared L2.
 *
 * - Reads go to L1, then L2; an L2 hit fills L1 for what remains of its L2 lifetime, never
 *   longer than `local.ttl`.
 * - Writes and deletes go to both levels.
 * - Values are JSON data. What a read returns is deeply frozen and shared by every reader of
 *   the same L1 entry: copy it (`structuredClone`) before changing it.
 *
 * @example
 * const profile = await cache.getOrLoad(`profile:${id}`, () => users.findProfile(id));
 */
@Injectable()
export class ImCacheService {
  readonly #l1: LocalCache;
  readonly #l2: DistributedCache;
  readonly #hasL1: boolean;
  readonly #prefix: string;
  readonly #options: ResolvedCacheOptions;
  readonly #now: () => number;
  readonly #stats = new StatsCounters();
  readonly #flights = new SingleFlight();
  readonly #log: RateLimitedLog;

  constructor(
    @Inject(RESOLVED_CACHE_OPTIONS) options: ResolvedCacheOptions,
    @Inject(LOCAL_CACHE) local: LocalCache,
    @Inject(DISTRIBUTED_CACHE) distributed: DistributedCache,
  ) {
    this.#options = options;
    this.#l1 = local;
    this.#l2 = distributed;
    this.#hasL1 = local.name !== 'none';
    this.#prefix = `${options.keyPrefix}c:`;
    this.#now = options.now;
    this.#log = new RateLimitedLog(options.logger, 10_000, options.now);
  }

  /**
   * The value of `key`, or `undefined` when neither level has it (or a negative entry says
   * it does not exist).
   *
   * @throws InvalidKeyError when `key` is not a non-empty string
   * @throws DistributedCacheError when L1 misses and L2 fails
   */
  get<T = unknown>(key: string): Promise<T | undefined> {
    if (typeof key !== 'string' || key === '') return Promise.reject(invalidKey(key));

    const cached = this.#l1.get(key);
    if (cached !== undefined) return Promise.resolve(this.#l1Hit(cached) as T | undefined);
    this.#stats.l1Misses++;
    return this.#readL2(key) as Promise<T | undefined>;
  }

  /**
   * The values of `keys`, in order (`undefined` where absent). L1 answers what it holds; the
   * rest is one L2 batch.
   */
  async getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    checkKeys(keys);
    if (!this.#hasL1) {
      // Counted like get() does, so stats read the same whichever method served the keys.
      this.#stats.l1Misses += keys.length;
      return this.#readManyL2(keys, keys) as Promise<(T | undefined)[]>;
    }

    const result = new Array<unknown>(keys.length);
    const missing: string[] = [];
    const positions: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const cached = this.#l1.get(keys[i]);
      if (cached === undefined) {
        missing.push(keys[i]);
        positions.push(i);
      } else {
        result[i] = this.#l1Hit(cached);
      }
    }
    this.#stats.l1Misses += missing.length;
    if (missing.length === 0) return result as (T | undefined)[];

    const fetched = await this.#readManyL2(missing, missing);
    for (let j = 0; j < positions.length; j++) result[positions[j]] = fetched[j];
    return result as (T | undefined)[];
  }

  /**
   * Stores `value` under `key` in both levels.
   *
   * @throws InvalidValueError when `value` is `undefined` or not JSON-serializable
   * @throws DistributedCacheError when L2 fails (L1 keeps the new value)
   */
  async set<T>(key: string, value: T, options?: SetOptions): Promise<void> {
    checkKey(key);
    if (value === undefined) {
      throw new InvalidValueError(key, 'undefined cannot be stored; use delete() or null');
    }
    const json = serialize(key, value);
    const ttl = this.#ttl(options?.ttl, this.#options.ttl, 'ttl');
    this.#fillL1(key, json, ttl);
    await this.#writeL2('set', key, encodeValue(this.#now() + ttl, json), ttl);
  }

  /** Removes one key or many from both levels. */
  async delete(keys: string | readonly string[]): Promise<void> {
    const list = typeof keys === 'string' ? [keys] : keys;
    checkKeys(list);
    for (const key of list) this.#l1.delete(key);
    if (list.length === 0) return;

    try {
      await this.#l2.delete(list.map((key) => this.#prefix + key));
    } catch (cause) {
      throw this.#l2Failure('delete', list.length === 1 ? list[0] : undefined, cause);
    }
  }

  /**
   * Cache-aside through both levels: the cached value of `key`, else the loader's, stored for
   * the next caller. Concurrent callers of one key in this process share a single loader call
   * and its outcome (result or error). A loader returning `undefined` or `null` stores a
   * negative entry for `negativeTtl`; until it expires, callers get `undefined` without a
   * loader call.
   *
   * If L2 cannot be read the loader runs; if it cannot be written the loaded value is still
   * returned and kept in L1. Both failures are counted and logged.
   *
   * @throws the loader's own error, unchanged (never cached)
   */
  getOrLoad<T>(key: string, loader: Loader<T>, options?: GetOrLoadOptions): Promise<T | undefined> {
    if (typeof key !== 'string' || key === '') return Promise.reject(invalidKey(key));
    if (typeof loader !== 'function') {
      return Promise.reject(new InvalidValueError(key, 'getOrLoad needs a loader function'));
    }

    const cached = this.#l1.get(key);
    if (cached !== undefined) return Promise.resolve(this.#l1Hit(cached) as T | undefined);
    this.#stats.l1Misses++;
    return this.#flights.run(key, () => this.#loadThrough(key, loader, options));
  }

  /** A snapshot of the counters: hits and misses per level, loads, negative hits, errors. */
  stats(): CacheStats {
    return this.#stats.snapshot(this.#l1.size);
  }

  #l1Hit(cached: unknown): unknown {
    this.#stats.l1Hits++;
    if (cached !== NEGATIVE) return cached;
    this.#stats.negativeHits++;
    return undefined;
  }

  async #readL2(key: string): Promise<unknown> {
    let raw: string | null | undefined;
    try {
      raw = await this.#l2.get(this.#prefix + key);
    } catch (cause) {
      throw this.#l2Failure('get', key, cause);
    }
    const value = this.#acceptL2(key, raw);
    return value === NEGATIVE ? undefined : value;
  }

  async #readManyL2(keys: readonly string[], l1Keys: readonly string[]): Promise<unknown[]> {
    const l2Keys = new Array<string>(keys.length);
    for (let i = 0; i < keys.length; i++) l2Keys[i] = this.#prefix + keys[i];

    let raws: (string | null | undefined)[];
    try {
      raws = await this.#l2.getMany(l2Keys);
    } catch (cause) {
      throw this.#l2Failure('getMany', undefined, cause);
    }
    const values = new Array<unknown>(raws.length);
    for (let i = 0; i < raws.length; i++) {
      const value = this.#acceptL2(l1Keys[i], raws[i]);
      values[i] = value === NEGATIVE ? undefined : value;
    }
    return values;
  }

  /**
   * Turns an L2 string into a value, {@link NEGATIVE} or {@link MISS}, counting the outcome
   * and filling L1 with what remains of the entry's lifetime.
   */
  #acceptL2(key: string, raw: string | null | undefined): unknown {
    if (raw === null || raw === undefined) {
      this.#stats.l2Misses++;
      return MISS;
    }
    const bar = separatorOf(raw);
    const remaining = bar < 0 ? 0 : expiryOf(raw, bar) - this.#now();
    if (remaining <= 0) {
      this.#stats.l2Misses++;
      return MISS;
    }

    this.#stats.l2Hits++;
    // Frozen even without L1, so a read behaves the same whichever local driver is chosen.
    const value = deepFreeze(decodeValue(raw, bar, key));
    if (value === NEGATIVE) this.#stats.negativeHits++;
    if (this.#hasL1) {
      const ttl = Math.min(remaining, this.#options.local.ttl);
      this.#l1.set(key, value, ttl, raw.length - bar);
    }
    return value;
  }

  async #loadThrough<T>(key: string, loader: Loader<T>, options?: GetOrLoadOptions) {
    try {
      const value = this.#acceptL2(key, await this.#l2.get(this.#prefix + key));
      if (value !== MISS) return value === NEGATIVE ? undefined : (value as T);
    } catch (cause) {
      // L2 unreadable (down, slow, or an entry this module did not write): load instead.
      this.#reportSwallowed('get', key, cause);
    }
    return this.#load(key, loader, options);
  }

  async #load<T>(key: string, loader: Loader<T>, options?: GetOrLoadOptions) {
    this.#stats.loads++;
    let loaded: T | null | undefined;
    try {
      loaded = await loader();
    } catch (error) {
      this.#stats.loadErrors++;
      throw error;
    }

    if (loaded === undefined || loaded === null) {
      return (await this.#storeNegative(key, options)) as T | undefined;
    }
    const json = serialize(key, loaded);
    const ttl = this.#ttl(options?.ttl, this.#options.ttl, 'ttl');
    const stored = this.#fillL1(key, json, ttl);
    await this.#writeL2('set', key, encodeValue(this.#now() + ttl, json), ttl).catch((cause) =>
      this.#reportSwallowed('set', key, cause),
    );
    return stored as T;
  }

  /**
   * Writes "not found" to both levels; in L2 only where no entry exists. When L2 already
   * holds a live value (written while the loader ran, here or on another instance), that
   * value wins: it replaces the negative entry in L1 and is returned.
   */
  async #storeNegative(key: string, options?: GetOrLoadOptions): Promise<unknown> {
    const ttl = this.#ttl(options?.negativeTtl, this.#options.negativeTtl, 'negativeTtl');
    if (this.#hasL1) this.#l1.set(key, NEGATIVE, Math.min(ttl, this.#options.local.ttl), 1);
    try {
      const l2Key = this.#prefix + key;
      if (await this.#l2.add(l2Key, encodeNegative(this.#now() + ttl), ttl)) return undefined;

      const current = this.#acceptL2(key, await this.#l2.get(l2Key));
      return current === NEGATIVE ? undefined : current;
    } catch (cause) {
      this.#reportSwallowed('add', key, cause);
      return undefined;
    }
  }

  /** Stores a frozen copy of the value in L1 and returns it. */
  #fillL1(key: string, json: string, ttl: number): unknown {
    const copy = deepFreeze(JSON.parse(json));
    if (this.#hasL1) {
      const cap = applyJitter(this.#options.local.ttl, this.#options.jitter);
      this.#l1.set(key, copy, Math.min(ttl, cap), json.length);
    }
    return copy;
  }

  async #writeL2(operation: string, key: string, entry: string, ttl: number): Promise<void> {
    try {
      await this.#l2.set(this.#prefix + key, entry, ttl);
    } catch (cause) {
      throw this.#l2Failure(operation, key, cause);
    }
  }

  #ttl(given: Duration | undefined, fallback: number, option: string): number {
    const ttl = given === undefined ? fallback : toMilliseconds(given, option);
    if (ttl <= 0) throw new InvalidOptionError(option, 'must be greater than 0');
    return applyJitter(ttl, this.#options.jitter);
  }

  #l2Failure(operation: string, key: string | undefined, cause: unknown): ImCacheError {
    if (cause instanceof ImCacheError) return cause;
    this.#stats.l2Errors++;
    return new DistributedCacheError(operation, key, { cause });
  }

  #reportSwallowed(operation: string, key: string, cause: unknown): void {
    const error = this.#l2Failure(operation, key, cause);
    this.#log.warn(`l2:${operation}`, `${error.message}; served without L2`);
  }
}

function invalidKey(key: unknown): InvalidKeyError {
  return new InvalidKeyError(key, 'a cache key must be a non-empty string');
}

function checkKey(key: unknown): void {
  if (typeof key !== 'string' || key === '') throw invalidKey(key);
}

function checkKeys(keys: readonly unknown[]): void {
  if (!Array.isArray(keys)) throw new InvalidKeyError(keys, 'expected an array of keys');
  for (const key of keys) checkKey(key);
}

function serialize(key: string, value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (cause) {
    throw new InvalidValueError(key, 'the value is not JSON-serializable', { cause });
  }
  if (json === undefined) {
    throw new InvalidValueError(key, `a ${typeof value} is not JSON data`);
  }
  return json;
}
