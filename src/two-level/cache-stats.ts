/** Counters of one `ImCacheService`, as returned by `stats()`. */
export interface CacheStats {
  l1: { hits: number; misses: number; size: number };
  l2: { hits: number; misses: number; errors: number };
  /** Loader calls made by `getOrLoad`. */
  loads: number;
  /** Loader calls that threw. */
  loadErrors: number;
  /** Reads answered "not found" by a negative entry, in either level. */
  negativeHits: number;
  /** Every failure counted, L2 and loaders included. */
  errors: number;
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

  snapshot(l1Size: number): CacheStats {
    return {
      l1: { hits: this.l1Hits, misses: this.l1Misses, size: l1Size },
      l2: { hits: this.l2Hits, misses: this.l2Misses, errors: this.l2Errors },
      loads: this.loads,
      loadErrors: this.loadErrors,
      negativeHits: this.negativeHits,
      errors: this.l2Errors + this.loadErrors,
    };
  }
}
