import { performance } from 'node:perf_hooks';
import type { LocalCache } from '../local/local-cache.interface';
import type { CoherenceDisconnectMode } from './coherence-options';
import type { CoherenceSink, SinkCounters } from './coherence-sink';
import type { WriteStamp } from './invalidation-message';
import { RecentInvalidations } from './recent-invalidations';

/**
 * An L1 kept coherent by the invalidation bus: wraps the configured {@link LocalCache} and is
 * what the module provides as `LOCAL_CACHE` when the bus is on.
 *
 * - Reads pass straight through while the bus is up (one flag test on the hit path); a miss
 *   is noted, as it starts a read of L2.
 * - A message from another instance deletes the keys it names.
 * - A fill (`set`) is refused while the bus is down in `'bypass'` mode, for one command
 *   timeout after the subscription came back, and for one command timeout after its key was
 *   invalidated while a read of it may have been in flight: the value may come from an L2
 *   read that started before the change (see {@link RecentInvalidations}).
 */
export class CoherentLocalCache implements LocalCache, CoherenceSink {
  readonly name: string;
  readonly counters: SinkCounters = { invalidated: 0, ignored: 0, refusedFills: 0 };
  readonly #inner: LocalCache;
  readonly #recent: RecentInvalidations;
  readonly #window: number;
  /** True while the bus is down in `'bypass'` mode: no reads, no fills. */
  #bypassed = false;
  /** Monotonic time before which every fill is refused; 0 when none is. */
  #refuseFillsUntil = 0;

  /**
   * @param inner the configured L1 driver
   * @param window how long a fill stays suspect after a change: the L2 command timeout
   */
  constructor(inner: LocalCache, window: number) {
    this.name = inner.name;
    this.#inner = inner;
    this.#window = window;
    this.#recent = new RecentInvalidations(window);
  }

  /** The wrapped driver. */
  get inner(): LocalCache {
    return this.#inner;
  }

  get size(): number {
    return this.#inner.size;
  }

  get(key: string): unknown {
    if (this.#bypassed) return undefined;
    const value = this.#inner.get(key);
    if (value === undefined) this.#missed(key);
    return value;
  }

  set(key: string, value: unknown, ttl: number, size: number): void {
    if (this.#bypassed || this.#suspect(key)) {
      this.counters.refusedFills++;
      return;
    }
    this.#inner.set(key, value, ttl, size);
  }

  /** Stale copies stay readable in every mode: they are the fallback used when L2 fails. */
  getStale(key: string, maxStaleness: number): unknown {
    return this.#inner.getStale(key, maxStaleness);
  }

  remainingTtl(key: string): number {
    return this.#bypassed ? 0 : this.#inner.remainingTtl(key);
  }

  delete(key: string): void {
    this.#inner.delete(key);
  }

  clear(): void {
    this.#inner.clear();
  }

  invalidate(keys: readonly string[], stamp: WriteStamp): void {
    const now = performance.now();
    this.#recent.prune(now);

    for (const key of keys) {
      if (this.#recent.supersedes(key, stamp)) {
        this.counters.ignored++;
        continue;
      }
      if (!this.#recent.record(key, stamp, now)) this.#refuseFillsUntil = now + this.#window;
      this.#inner.delete(key);
      this.counters.invalidated++;
    }
  }

  invalidateAll(): void {
    this.#inner.clear();
    // Reads in flight may still answer with what changed.
    this.#refuseFillsUntil = performance.now() + this.#window;
  }

  suspend(mode: CoherenceDisconnectMode): void {
    if (mode === 'bypass') this.#bypassed = true;
    else this.#inner.clear();
  }

  resume(): void {
    this.#inner.clear();
    this.#recent.clear();
    this.#bypassed = false;
    // Reads that started during the outage may answer now with values changed meanwhile.
    this.#refuseFillsUntil = performance.now() + this.#window;
  }

  #suspect(key: string): boolean {
    if (this.#refuseFillsUntil !== 0) {
      if (performance.now() < this.#refuseFillsUntil) return true;
      this.#refuseFillsUntil = 0;
    }
    return !this.#recent.empty && this.#recent.blocks(key, performance.now());
  }

  /** A miss starts a read of L2, whose answer is suspect if the key changes meanwhile. */
  #missed(key: string): void {
    const now = performance.now();
    this.#recent.prune(now);
    if (!this.#recent.missed(key, now)) this.#refuseFillsUntil = now + this.#window;
  }
}
