import type { WriteStamp } from './invalidation-message';

interface Invalidation extends WriteStamp {
  /** Local monotonic time the invalidation was applied. */
  at: number;
  /** Whether a read of the key may have been in flight when it was applied. */
  blocking: boolean;
}

/**
 * What a coherent L1 remembers for one window (the L2 command timeout) after the fact: the
 * keys it missed and the keys other instances changed.
 *
 * It closes a race every L1 in front of a shared store has: a read of L2 starts, another
 * instance writes the key and its invalidation arrives, then the read's (now old) answer
 * comes back and would be put in L1, where it would stay until `local.ttl`. An L2 read
 * starts right after an L1 miss and lasts at most one command timeout, so:
 *
 * - an invalidation of a key missed less than one window earlier is "blocking": a read may
 *   be in flight;
 * - for one window after a blocking invalidation, fills of that key are refused (the key is
 *   read from L2 but not kept in L1). Keys read from L1 (hits) are never blocked, so the
 *   hot keys of a steady workload keep their L1 copies across changes.
 *
 * Bounded: past `maxEntries` the oldest records are forgotten and `record()` returns false,
 * asking the caller to refuse every fill for one window instead, which stays correct.
 */
export class RecentInvalidations {
  readonly #window: number;
  readonly #maxEntries: number;
  readonly #misses = new Map<string, number>();
  readonly #invalidations = new Map<string, Invalidation>();

  constructor(window: number, maxEntries = 200_000) {
    this.#window = window;
    this.#maxEntries = maxEntries;
  }

  /** Notes that `key` missed at `now`: a read of L2 is starting. */
  missed(key: string, now: number): boolean {
    this.#misses.delete(key);
    this.#misses.set(key, now);
    if (this.#misses.size > this.#maxEntries) return this.#dropOldest(this.#misses);
    return true;
  }

  /**
   * Whether a later (or the same) write of the same origin was already applied to `key`.
   * Writes of one origin reach Redis in the order of their counters, so such a message is
   * older than what this instance holds. Writes of different origins are never ordered here:
   * only Redis knows which landed last, so their messages are always applied.
   */
  supersedes(key: string, stamp: WriteStamp): boolean {
    const entry = this.#invalidations.get(key);
    return entry !== undefined && entry.origin === stamp.origin && entry.seq >= stamp.seq;
  }

  /** Records that `key` was invalidated by `stamp` at `now`; false when saturated. */
  record(key: string, stamp: WriteStamp, now: number): boolean {
    const missedAt = this.#misses.get(key);
    const blocking = missedAt !== undefined && now - missedAt < this.#window;

    this.#invalidations.delete(key);
    this.#invalidations.set(key, { origin: stamp.origin, seq: stamp.seq, at: now, blocking });
    if (this.#invalidations.size > this.#maxEntries) return this.#dropOldest(this.#invalidations);
    return true;
  }

  /** Whether a fill of `key` at `now` may carry a value read before its last change. */
  blocks(key: string, now: number): boolean {
    const entry = this.#invalidations.get(key);
    return entry !== undefined && entry.blocking && now - entry.at < this.#window;
  }

  /** Whether anything is remembered (a fast path for `blocks`). */
  get empty(): boolean {
    return this.#invalidations.size === 0;
  }

  /** Forgets records older than one window. Cheap: stops at the first recent one. */
  prune(now: number): void {
    for (const [key, at] of this.#misses) {
      if (now - at < this.#window) break;
      this.#misses.delete(key);
    }
    for (const [key, entry] of this.#invalidations) {
      if (now - entry.at < this.#window) break;
      this.#invalidations.delete(key);
    }
  }

  clear(): void {
    this.#misses.clear();
    this.#invalidations.clear();
  }

  #dropOldest(map: Map<string, unknown>): false {
    map.delete(map.keys().next().value as string);
    return false;
  }
}
