import { Inject, Injectable, type OnModuleDestroy, Optional } from '@nestjs/common';
import { DISTRIBUTED_CACHE, LOCAL_CACHE, RESOLVED_CACHE_OPTIONS } from '../cache.constants';
import { GENERIC_SCOPE, INVALIDATION_BUS } from '../coherence/coherence.constants';
import type { InvalidationBus } from '../coherence/invalidation-bus';
import { OnlineStatusRepository } from '../im/presence/online-status.repository';
import { ReadCursorRepository } from '../im/read-cursors/read-cursor.repository';
import { RouteRepository } from '../im/routes/route.repository';
import { VideoSessionRepository } from '../im/video/video-session.repository';
import type { DistributedCache } from '../distributed/distributed-cache.interface';
import { sendInTurns } from '../distributed/requests-in-turns';
import {
  DistributedCacheError,
  ImCacheError,
  InvalidValueError,
  LoaderTimeoutError,
  LockTimeoutError,
} from '../errors';
import type { LocalCache } from '../local/local-cache.interface';
import { RateLimitedLog } from '../logging/rate-limited-log';
import type { Duration } from '../options/duration';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import { CircuitBreaker } from '../protection/circuit-breaker';
import { mayExist } from '../protection/existence-filter';
import { FailureBackoff, StaleCopy, TIMED_OUT, within } from '../protection/fail-safe';
import { applyJitter } from '../protection/jitter';
import { type LeaseRenewal, LoadLock, NOT_YET, type WaitOutcome } from '../protection/load-lock';
import { SingleFlight } from '../protection/single-flight';
import { type CacheStats, StatsCounters } from './cache-stats';
import { ReadCoalescer } from './read-coalescer';
import {
  decodeJsonBatch,
  decodeValue,
  encodeNegative,
  encodeValue,
  expiryOf,
  isEntry,
  isNegative,
  jsonOf,
  liveMark,
  NEGATIVE,
} from './entry-codec';
import { deepFreeze } from './freeze';
import { checkKey, checkKeys, invalidKey, serialize } from './key-and-value';
import {
  type GetOrLoadOptions,
  LoadPolicies,
  type LoadPolicy,
  positiveMs,
  type SetOptions,
} from './load-policy';

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
export class ImCacheService implements OnModuleDestroy {
  /** Which server holds each device connection of a user (see {@link RouteRepository}). */
  @Inject(RouteRepository) readonly routes!: RouteRepository;
  /** Presence derived from the routes (see {@link OnlineStatusRepository}). */
  @Inject(OnlineStatusRepository) readonly onlineStatus!: OnlineStatusRepository;
  /** The largest message ID read per conversation (see {@link ReadCursorRepository}). */
  @Inject(ReadCursorRepository) readonly readCursors!: ReadCursorRepository;
  /** Call state and busy flags (see {@link VideoSessionRepository}). */
  @Inject(VideoSessionRepository) readonly videoSessions!: VideoSessionRepository;

  readonly #l1: LocalCache;
  readonly #l2: DistributedCache;
  /** Single-key L2 reads: the driver, or a {@link ReadCoalescer} in front of it. */
  readonly #l2Reads: Pick<DistributedCache, 'get'>;
  /** Tells the other instances which keys this one changed; null when coherence is off. */
  readonly #bus: InvalidationBus | null;
  readonly #hasL1: boolean;
  readonly #prefix: string;
  readonly #options: ResolvedCacheOptions;
  readonly #now: () => number;
  readonly #stats = new StatsCounters();
  readonly #flights = new SingleFlight();
  /** Loads under way; unlike a caller's flight, one may outlive its callers (timeouts). */
  readonly #loads = new SingleFlight();
  readonly #breaker: CircuitBreaker;
  readonly #lock: LoadLock | undefined;
  readonly #backoff: FailureBackoff;
  readonly #policies: LoadPolicies;
  /** The module's load policy (`#policies.defaults`). */
  readonly #defaults: LoadPolicy;
  readonly #log: RateLimitedLog;

  constructor(
    @Inject(RESOLVED_CACHE_OPTIONS) options: ResolvedCacheOptions,
    @Inject(LOCAL_CACHE) local: LocalCache,
    @Inject(DISTRIBUTED_CACHE) distributed: DistributedCache,
    @Optional() @Inject(INVALIDATION_BUS) bus?: InvalidationBus | null,
  ) {
    this.#options = options;
    this.#l1 = local;
    this.#l2 = distributed;
    this.#l2Reads = options.distributed.coalesceReads
      ? new ReadCoalescer(distributed, options.distributed.batchSize)
      : distributed;
    this.#bus = bus ?? null;
    this.#hasL1 = local.name !== 'none';
    this.#prefix = `${options.keyPrefix}c:`;
    this.#now = options.now;
    this.#log = new RateLimitedLog(options.logger, 10_000, options.now);
    this.#breaker = new CircuitBreaker(options.breaker, options.now, options.logger);
    this.#lock = LoadLock.over(distributed, options.lock, options.keyPrefix);
    this.#backoff = new FailureBackoff(options.failSafe.backoff, options.now);
    this.#policies = new LoadPolicies(options, this.#lock !== undefined);
    this.#defaults = this.#policies.defaults;
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
      return this.#readManyL2(keys) as Promise<(T | undefined)[]>;
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

    const fetched = await this.#readManyL2(missing);
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
    if (this.#hasL1) this.#fillL1(key, json, ttl);
    const entry = encodeValue(this.#now() + ttl, json);
    const writing = this.#writeL2('set', key, entry, ttl + this.#defaults.grace);
    // Announced even if the write fails: it may have landed, and a needless drop costs a read.
    this.#bus?.publishAfter(GENERIC_SCOPE, key, writing);
    await writing;
  }

  /** Removes one key or many from both levels. */
  async delete(keys: string | readonly string[]): Promise<void> {
    const list = typeof keys === 'string' ? [keys] : keys;
    checkKeys(list);
    for (const key of list) this.#l1.delete(key);
    if (list.length === 0) return;

    try {
      const deleting = this.#l2.delete(list.map((key) => this.#prefix + key));
      this.#bus?.publishAfter(GENERIC_SCOPE, list, deleting);
      await deleting;
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
   * The protections (module options, overridable per call): one load per key across
   * instances (`lock`), stale copies when the loader or L2 fails (`failSafe`), loader time
   * limits (`loaderTimeout`), background reload of keys near expiry (`refreshAhead`), an
   * `existenceFilter` asked before the loader, and the L2 circuit breaker (`breaker`).
   *
   * @throws the loader's own error, unchanged (never cached), unless a stale copy is served
   * @throws LoaderTimeoutError past `loaderTimeout.hard` without a stale copy
   * @throws LockTimeoutError past `lock.wait` with `lock.onTimeout: 'error'`
   */
  getOrLoad<T>(key: string, loader: Loader<T>, options?: GetOrLoadOptions): Promise<T | undefined> {
    if (typeof key !== 'string' || key === '') return Promise.reject(invalidKey(key));
    if (typeof loader !== 'function') {
      return Promise.reject(new InvalidValueError(key, 'getOrLoad needs a loader function'));
    }

    const cached = this.#l1.get(key);
    if (cached !== undefined) {
      if ((this.#defaults.refreshAhead > 0 || options?.refreshAhead) && cached !== NEGATIVE) {
        this.#refreshIfDue(key, loader, options);
      }
      return Promise.resolve(this.#l1Hit(cached) as T | undefined);
    }
    this.#stats.l1Misses++;
    return this.#flights.run(key, () => this.#resolve(key, loader, options));
  }

  /** A snapshot of the counters: hits and misses per level, loads, negative hits, errors. */
  stats(): CacheStats {
    const stats = this.#stats.snapshot(this.#l1.size, this.#breaker.snapshot());
    if (this.#bus !== null) stats.coherence = this.#bus.stats();
    return stats;
  }

  /** Stops renewing lock leases (Nest calls it on shutdown, before the driver closes). */
  onModuleDestroy(): void {
    this.#lock?.close();
  }

  #l1Hit(cached: unknown): unknown {
    this.#stats.l1Hits++;
    if (cached !== NEGATIVE) return cached;
    this.#stats.negativeHits++;
    return undefined;
  }

  /** `get` past an L1 miss. One async frame around the driver call: this is a hot path. */
  async #readL2(key: string): Promise<unknown> {
    let raw: string | null | undefined;
    try {
      if (!this.#breaker.allows()) throw this.#skipped('get', key);
      raw = await this.#l2Reads.get(this.#prefix + key);
    } catch (error) {
      return this.#staleOrThrow(key, this.#l2Failure('get', key, error));
    }
    this.#breaker.succeeded();
    const value = this.#acceptL2(key, raw);
    return value === NEGATIVE ? undefined : value;
  }

  /**
   * `getMany` past L1: one L2 request per `distributed.batchSize` keys (split evenly). Each
   * request is queued on its own turn of the event loop, so it leaves as its own write, and
   * is decoded when its reply is in: this process decodes one reply while Redis serves the
   * next, instead of waiting for all of them and then decoding all.
   */
  async #readManyL2(keys: readonly string[]): Promise<unknown[]> {
    const batchSize = this.#options.distributed.batchSize;
    if (keys.length <= batchSize) return this.#readChunkL2(keys);

    const values = new Array<unknown>(keys.length);
    await sendInTurns(keys.length, batchSize, async (start, end) => {
      const chunk = await this.#readChunkL2(keys.slice(start, end));
      for (let i = 0; i < chunk.length; i++) values[start + i] = chunk[i];
    });
    return values;
  }

  async #readChunkL2(keys: readonly string[]): Promise<unknown[]> {
    const l2Keys = new Array<string>(keys.length);
    for (let i = 0; i < keys.length; i++) l2Keys[i] = this.#prefix + keys[i];

    let raws: (string | null | undefined)[];
    try {
      if (!this.#breaker.allows()) throw this.#skipped('getMany', undefined);
      raws = await this.#l2.getMany(l2Keys).catch((cause) => {
        throw this.#l2Failure('getMany', undefined, cause);
      });
      this.#breaker.succeeded();
    } catch (error) {
      return keys.map((key) => this.#staleOrThrow(key, error));
    }
    return this.#acceptBatch(keys, raws);
  }

  /**
   * {@link #acceptL2} for a batch: the same counting and L1 fill, with one clock read and one
   * `JSON.parse` for all the values found.
   */
  #acceptBatch(keys: readonly string[], raws: readonly (string | null | undefined)[]) {
    const values = new Array<unknown>(raws.length);
    const now = this.#now();
    const live = liveMark(now);
    const parts: string[] = [];
    const found: number[] = [];
    const lifetimes: number[] = [];
    for (let i = 0; i < raws.length; i++) {
      const raw = raws[i];
      if (raw === null || raw === undefined || !(raw > live) || !isEntry(raw)) {
        this.#stats.l2Misses++;
        values[i] = undefined;
        continue;
      }
      this.#stats.l2Hits++;
      const remaining = this.#hasL1 ? expiryOf(raw) - now : 0;
      if (isNegative(raw)) {
        values[i] = undefined;
        this.#stats.negativeHits++;
        if (this.#hasL1) this.#l1.set(keys[i], NEGATIVE, this.#l1Ttl(remaining), 1);
        continue;
      }
      parts.push(jsonOf(raw));
      found.push(i);
      lifetimes.push(remaining);
    }

    const parsed = decodeJsonBatch(
      parts,
      found.map((i) => keys[i]),
    );
    for (let j = 0; j < found.length; j++) {
      const i = found[j];
      values[i] = parsed[j];
      if (this.#hasL1) {
        this.#l1.set(keys[i], deepFreeze(parsed[j]), this.#l1Ttl(lifetimes[j]), parts[j].length);
      }
    }
    return values;
  }

  #l1Ttl(remaining: number): number {
    return Math.min(remaining, this.#options.local.ttl);
  }

  /**
   * Turns an L2 string into a value, {@link NEGATIVE} or {@link MISS}, counting the outcome
   * and filling L1 with what remains of the entry's lifetime. An entry past its TTL but
   * within `grace` is a miss all the same, returned as a {@link StaleCopy} for fail-safe.
   *
   * Without L1 a value read by `get` or `getMany` is the caller's own fresh copy, so it is
   * not frozen; `getOrLoad` freezes what it shares between the callers of one flight.
   */
  #acceptL2(key: string, raw: string | null | undefined, grace = 0): unknown {
    if (raw === null || raw === undefined) {
      this.#stats.l2Misses++;
      return MISS;
    }
    const entry = isEntry(raw);
    const remaining = entry ? expiryOf(raw) - this.#now() : 0;
    if (remaining <= 0) {
      this.#stats.l2Misses++;
      if (!entry || grace === 0 || -remaining > grace) return MISS;
      return new StaleCopy(deepFreeze(decodeValue(raw, key)));
    }

    this.#stats.l2Hits++;
    const value = decodeValue(raw, key);
    if (value === NEGATIVE) this.#stats.negativeHits++;
    if (this.#hasL1) this.#l1.set(key, deepFreeze(value), this.#l1Ttl(remaining), raw.length);
    return value;
  }

  /** An L1 miss of `getOrLoad`: L2, else the load. One per key at a time (a flight). */
  async #resolve<T>(key: string, loader: Loader<T>, options: GetOrLoadOptions | undefined) {
    const policy = this.#policies.of(options);
    let stale: StaleCopy | undefined;
    let l2Usable = true;

    try {
      const raw = await this.#l2Get(key);
      const found = this.#acceptL2(key, raw, policy.grace);
      if (found instanceof StaleCopy) {
        stale = found;
      } else if (found !== MISS) {
        if (policy.refreshAhead > 0 && found !== NEGATIVE) {
          this.#refreshIfNear(key, loader, policy, raw as string);
        }
        return (found === NEGATIVE ? undefined : deepFreeze(found)) as T;
      }
    } catch (error) {
      // L2 unreadable (down, slow, breaker open, or an entry this module did not write).
      l2Usable = !(error instanceof DistributedCacheError);
      this.#reportSwallowed('get', key, error);
    }

    stale ??= this.#l1Stale(key, policy.grace);
    return this.#loadSafely(key, loader, policy, stale, l2Usable) as Promise<T | undefined>;
  }

  /**
   * Runs or joins the load of `key` under the fail-safe rules: with a stale copy at hand, a
   * load that fails or passes its soft timeout serves the copy instead, and so does a miss
   * while the loader is backing off after a failure or still finishing in the background.
   */
  async #loadSafely(
    key: string,
    loader: Loader<unknown>,
    policy: LoadPolicy,
    stale: StaleCopy | undefined,
    l2Usable: boolean,
  ): Promise<unknown> {
    if (stale !== undefined && (this.#backoff.active(key) || this.#loads.has(key))) {
      return this.#serveStale(key, stale, 'its loader failed moments ago or is still running');
    }

    const loading = this.#loads.run(key, () => this.#loadOnce(key, loader, policy, l2Usable));
    try {
      return await this.#withinTimeouts(key, loading, policy, stale);
    } catch (error) {
      if (stale === undefined) throw error;
      this.#backoff.start(key);
      return this.#serveStale(key, stale, error);
    }
  }

  /** Waits for a load within the soft timeout (stale copy at hand) and the hard timeout. */
  async #withinTimeouts(
    key: string,
    loading: Promise<unknown>,
    policy: LoadPolicy,
    stale: StaleCopy | undefined,
  ): Promise<unknown> {
    const soft = stale === undefined ? 0 : policy.softTimeout;
    const hard = policy.hardTimeout;
    if (soft === 0 && hard === 0) return loading;

    const softFirst = soft > 0 && (hard === 0 || soft < hard);
    const outcome = await within(loading, softFirst ? soft : hard);
    if (outcome !== TIMED_OUT) return outcome;

    this.#stats.loadTimeouts++;
    loading.catch((error) =>
      this.#log.warn('background', `the background load of "${key}" failed: ${reason(error)}`),
    );
    if (!softFirst) throw new LoaderTimeoutError(key, hard);
    const why = `its loader took over ${soft} ms (loaderTimeout.soft), finishing in the background`;
    return this.#serveStale(key, stale as StaleCopy, why);
  }

  /**
   * The load of `key` itself: existence filter, cross-instance lock, loader, store. Shared by
   * the callers and the refresh of `key` while it runs.
   */
  async #loadOnce(
    key: string,
    loader: Loader<unknown>,
    policy: LoadPolicy,
    l2Usable: boolean,
  ): Promise<unknown> {
    if (policy.filter !== undefined) {
      const exists = await mayExist(policy.filter, key, (error) => this.#filterFailed(key, error));
      if (!exists) {
        this.#stats.filtered++;
        return this.#storeNegative(key, policy, l2Usable);
      }
    }

    const lock = l2Usable && policy.lock ? this.#lock : undefined;
    if (lock === undefined) return this.#load(key, loader, policy, l2Usable);
    return this.#loadLocked(key, loader, policy, lock);
  }

  /** Loads `key` as the owner of its cross-instance lock, or takes the owner's value. */
  async #loadLocked(
    key: string,
    loader: Loader<unknown>,
    policy: LoadPolicy,
    lock: LoadLock,
  ): Promise<unknown> {
    // Past the hard timeout the load is abandoned: its lease is renewed no more.
    const deadline = policy.hardTimeout > 0 ? performance.now() + policy.hardTimeout : Infinity;
    let claim: WaitOutcome<unknown>;
    try {
      claim = await this.#claim(key, lock, policy.mustOutlive);
    } catch (error) {
      // L2 failed while locking: load without the lock rather than fail the call.
      this.#reportSwallowed('lock', key, error);
      return this.#load(key, loader, policy, false);
    }

    if (claim.kind === 'found') return claim.value;
    if (claim.kind === 'timeout') {
      this.#stats.lockTimeouts++;
      if (lock.settings.onTimeout === 'error') throw new LockTimeoutError(key, claim.waited);
      return this.#load(key, loader, policy, true);
    }
    const renewal = this.#keep(lock, key, claim.token, deadline);
    try {
      return await this.#load(key, loader, policy, true);
    } finally {
      renewal.stop();
      this.#release(lock, key, claim.token);
    }
  }

  /** Renews `key`'s lease while its load runs; a failure is counted and logged. */
  #keep(lock: LoadLock, key: string, token: string, deadline: number): LeaseRenewal {
    return lock.keep(key, token, deadline, {
      renewed: () => this.#stats.lockRenewals++,
      failed: (cause) => {
        const error = this.#l2Failure('renewLock', key, cause);
        this.#log.warn('l2:renewLock', `${error.message}; retried on the next renewal`);
      },
      lost: () => {
        this.#stats.locksLost++;
        const what = `the lock of "${key}" ran out while its load ran`;
        this.#log.warn('lock-lost', `${what}; another instance may load it too`);
      },
    });
  }

  /** Releases a lock without waiting; a failure is logged (the lease ends it anyway). */
  #release(lock: LoadLock, key: string, token: string): void {
    lock.release(key, token).catch((cause) => this.#reportSwallowed('releaseLock', key, cause));
  }

  /** Takes `key`'s lock, or waits for its owner's value (see {@link LoadLock}). */
  async #claim(key: string, lock: LoadLock, mustOutlive: number): Promise<WaitOutcome<unknown>> {
    let token = await lock.tryAcquire(key);
    if (token === undefined) {
      this.#stats.lockWaits++;
      const outcome = await lock.waitForOwner(key, () => this.#peek(key, mustOutlive));
      if (outcome.kind !== 'owner') return outcome;
      token = outcome.token;
    }

    // Another instance may have stored the value between our miss and taking the lock.
    let found: unknown;
    try {
      found = await this.#peek(key, mustOutlive);
    } catch (error) {
      this.#release(lock, key, token);
      throw error;
    }
    if (found === NOT_YET) return { kind: 'owner', token };
    this.#release(lock, key, token);
    return { kind: 'found', value: found };
  }

  /**
   * An entry of `key` in L2 with more than `mustOutlive` ms left, as a caller would get it
   * (filling L1), or {@link NOT_YET}. What it skips is not counted as a miss: the call
   * already counted one.
   */
  async #peek(key: string, mustOutlive: number): Promise<unknown> {
    const raw = await this.#l2Get(key);
    if (remainingOf(raw, this.#now()) <= mustOutlive) return NOT_YET;
    const found = this.#acceptL2(key, raw);
    return found === NEGATIVE ? undefined : found;
  }

  async #load(key: string, loader: Loader<unknown>, policy: LoadPolicy, writeL2: boolean) {
    this.#stats.loads++;
    let loaded: unknown;
    try {
      loaded = await loader();
    } catch (error) {
      this.#stats.loadErrors++;
      throw error;
    }
    this.#backoff.clear(key);

    if (loaded === undefined || loaded === null) {
      return this.#storeNegative(key, policy, writeL2);
    }
    const json = serialize(key, loaded);
    const ttl = applyJitter(policy.ttl, this.#options.jitter);
    const stored = this.#fillL1(key, json, ttl);
    if (writeL2) {
      const entry = encodeValue(this.#now() + ttl, json);
      const writing = this.#writeL2('set', key, entry, ttl + policy.grace);
      this.#bus?.publishAfter(GENERIC_SCOPE, key, writing);
      await writing.catch((cause) => this.#reportSwallowed('set', key, cause));
    } else {
      this.#bus?.publish(GENERIC_SCOPE, key);
    }
    return stored;
  }

  /**
   * Writes "not found" to both levels; in L2 only where no entry exists. When L2 already
   * holds a live value (written while the loader ran, here or on another instance), that
   * value wins: it replaces the negative entry in L1 and is returned.
   */
  async #storeNegative(key: string, policy: LoadPolicy, writeL2 = true): Promise<unknown> {
    const ttl = applyJitter(policy.negativeTtl, this.#options.jitter);
    if (this.#hasL1) this.#l1.set(key, NEGATIVE, Math.min(ttl, this.#options.local.ttl), 1);
    if (!writeL2) return undefined;
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

  /**
   * Stores a frozen copy of the value (parsed back from its JSON, so L1 holds exactly what L2
   * would return, and as compactly as V8 builds parsed objects) in L1 and returns it.
   */
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
    this.#breaker.succeeded();
  }

  /** Reads one key from L2 through the circuit breaker. */
  async #l2Get(key: string): Promise<string | null | undefined> {
    if (!this.#breaker.allows()) throw this.#skipped('get', key);
    let raw: string | null | undefined;
    try {
      raw = await this.#l2Reads.get(this.#prefix + key);
    } catch (cause) {
      throw this.#l2Failure('get', key, cause);
    }
    this.#breaker.succeeded();
    return raw;
  }

  /** The failure of a call that skipped L2 because the breaker is open. */
  #skipped(operation: string, key: string | undefined): DistributedCacheError {
    this.#stats.l2Skipped++;
    return new DistributedCacheError(operation, key, { cause: this.#breaker.openError() });
  }

  /**
   * An L1 copy of `key` for fail-safe: one that expired at most `grace` ago, or a live one
   * that L1 did not hand out (while coherence distrusts L1, its copies still beat an error).
   */
  #l1Stale(key: string, grace: number): StaleCopy | undefined {
    const value = this.#l1.getStale(key, grace);
    return value === undefined ? undefined : new StaleCopy(value);
  }

  /** A plain read whose L2 failed: a stale L1 copy within the module's grace, else the error. */
  #staleOrThrow(key: string, error: unknown): unknown {
    const stale = this.#l1Stale(key, this.#defaults.grace);
    if (stale === undefined) throw error;
    return this.#serveStale(key, stale, error);
  }

  #serveStale(key: string, stale: StaleCopy, why: unknown): unknown {
    this.#stats.staleServed++;
    this.#log.warn('stale', `served a stale copy of "${key}": ${reason(why)}`);
    return stale.value === NEGATIVE ? undefined : stale.value;
  }

  /** On an L1 hit: reloads in the background when the copy is in its refresh window. */
  #refreshIfDue(key: string, loader: Loader<unknown>, options?: GetOrLoadOptions): void {
    const share = options?.refreshAhead ?? this.#defaults.refreshAhead;
    if (!(share > 0) || this.#loads.has(key)) return;

    let policy: LoadPolicy;
    try {
      policy = this.#policies.of(options);
    } catch {
      return; // Invalid options: the next miss reports them to its caller.
    }
    const window = policy.refreshAhead * Math.min(policy.ttl, this.#options.local.ttl);
    if (this.#l1.remainingTtl(key) > window) return;
    this.#refresh(key, loader, policy, true);
  }

  /** On an L2 hit: reloads in the background when the entry is in its refresh window. */
  #refreshIfNear(key: string, loader: Loader<unknown>, policy: LoadPolicy, raw: string): void {
    if (remainingOf(raw, this.#now()) > policy.refreshAhead * policy.ttl) return;
    this.#refresh(key, loader, policy, false);
  }

  /**
   * Reloads `key` in the background, once at a time; no caller waits for it. With `peek`,
   * L2 is read first: a copy with time left (another instance refreshed it) refills L1 and
   * spares the loader.
   */
  #refresh(key: string, loader: Loader<unknown>, policy: LoadPolicy, peek: boolean): void {
    if (this.#loads.has(key)) return;
    const window = policy.refreshAhead * policy.ttl;
    const work = async () => {
      if (peek) {
        const raw = await this.#l2Get(key);
        if (remainingOf(raw, this.#now()) > window) {
          const found = this.#acceptL2(key, raw);
          return found === NEGATIVE ? undefined : found;
        }
      }
      this.#stats.refreshes++;
      return this.#loadOnce(key, loader, { ...policy, mustOutlive: window }, true);
    };
    this.#loads.run(key, work).catch((error) => {
      this.#log.warn('refresh', `refresh-ahead of "${key}" failed: ${reason(error)}`);
    });
  }

  #filterFailed(key: string, error: unknown): void {
    this.#stats.otherErrors++;
    const what = `the existence filter failed for "${key}", the loader runs`;
    this.#log.warn('filter', `${what}: ${reason(error)}`);
  }

  #ttl(given: Duration | undefined, fallback: number, option: string): number {
    return applyJitter(positiveMs(given, fallback, option), this.#options.jitter);
  }

  #l2Failure(operation: string, key: string | undefined, cause: unknown): ImCacheError {
    if (cause instanceof ImCacheError) return cause;
    this.#stats.l2Errors++;
    this.#breaker.failed();
    return new DistributedCacheError(operation, key, { cause });
  }

  #reportSwallowed(operation: string, key: string, cause: unknown): void {
    const error = this.#l2Failure(operation, key, cause);
    this.#log.warn(`l2:${operation}`, `${error.message}; served without L2`);
  }
}

/** Milliseconds an L2 entry has left before its logical expiry; 0 when absent or foreign. */
function remainingOf(raw: string | null | undefined, now: number): number {
  if (raw === null || raw === undefined || !isEntry(raw)) return 0;
  return expiryOf(raw) - now;
}

/** A failure (or a plain explanation) as a short phrase for a log line. */
function reason(why: unknown): string {
  return why instanceof Error ? why.message : String(why);
}
