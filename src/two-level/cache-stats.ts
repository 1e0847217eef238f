import type { CoherenceStats } from '../coherence/invalidation-bus';
import type { BreakerStats } from '../protection/circuit-breaker';

/** Counters of one `ImCacheService`, as returned by `stats()`. */
export interface CacheStats {
  l1: { hits: number; misses: number; size: number };
  /** `skipped`: L2 reads not attempted because the circuit breaker was open. */
  l2: { hits: number; misses: number; errors: number; skipped: number };
  /** Loader calls made by `getOrLoad`. */
  loads: number;
  /** Loader calls that threw. */
  loadErrors: number;
  /** Reads answered "not found" by a negative entry, in either level. */
  negativeHits: number;
  /** Loads that outlasted a soft or hard `loaderTimeout`. */
  loadTimeouts: number;
  /** Stale copies served by fail-safe (loader failure or timeout, L2 unreachable). */
  staleServed: number;
  /** Background reloads started by refresh-ahead. */
  refreshes: number;
  /** Misses the existence filter answered "cannot exist", without a loader call. */
  filtered: number;
  /**
   * Cross-instance lock: misses that waited for another instance (`waits`), waits that timed
   * out (`timeouts`), lease extensions of this instance's loads (`renewals`) and loads whose
   * lock ran out before a renewal reached it (`lost`).
   */
  lock: { waits: number; timeouts: number; renewals: number; lost: number };
  /** The L2 circuit breaker: its state and how often it changed. */
  breaker: BreakerStats;
  /** Every failure counted, L2 and loaders included. */
  errors: number;
  /** The invalidation bus between instances; absent when coherence is off. */
  coherence?: CoherenceStats;
}

/** Mutable counters; a flat object keeps the increments on the hot path cheap. */
export class StatsCounters {
  l1Hits = 0;
  l1Misses = 0;
  l2Hits = 0;
  l2Misses = 0;
  l2Errors = 0;
  loads = 0;
  loadErrors = 0;
  negativeHits = 0;
  l2Skipped = 0;
  loadTimeouts = 0;
  staleServed = 0;
  refreshes = 0;
  filtered = 0;
  lockWaits = 0;
  lockTimeouts = 0;
  lockRenewals = 0;
  locksLost = 0;
  /** Failures swallowed outside L2 and loaders (an existence filter that threw). */
  otherErrors = 0;

  snapshot(l1Size: number, breaker: BreakerStats): CacheStats {
    return {
      l1: { hits: this.l1Hits, misses: this.l1Misses, size: l1Size },
      l2: {
        hits: this.l2Hits,
        misses: this.l2Misses,
        errors: this.l2Errors,
        skipped: this.l2Skipped,
      },
      loads: this.loads,
      loadErrors: this.loadErrors,
      negativeHits: this.negativeHits,
      loadTimeouts: this.loadTimeouts,
      staleServed: this.staleServed,
      refreshes: this.refreshes,
      filtered: this.filtered,
      lock: {
        waits: this.lockWaits,
        timeouts: this.lockTimeouts,
        renewals: this.lockRenewals,
        lost: this.locksLost,
      },
      breaker,
      errors: this.l2Errors + this.loadErrors + this.loadTimeouts + this.otherErrors,
    };
  }
}
