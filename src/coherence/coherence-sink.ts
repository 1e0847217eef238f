import type { CoherenceDisconnectMode } from './coherence-options';
import type { WriteStamp } from './invalidation-message';

/** Counters a sink keeps for `stats().coherence`. */
export interface SinkCounters {
  /** Keys whose L1 copy was dropped on another instance's message. */
  invalidated: number;
  /** Keys skipped because a later write of the same origin was already applied. */
  ignored: number;
  /** L1 fills refused: bus down (`'bypass'`), or the key changed while it was being read. */
  refusedFills: number;
}

/**
 * One key space held in L1 that the bus keeps coherent (the generic cache, routes, online
 * status): it drops copies on messages and stops trusting them while the bus is down.
 */
export interface CoherenceSink {
  readonly counters: SinkCounters;

  /** Another instance changed `keys` with the write `stamp`: drop the local copies. */
  invalidate(keys: readonly string[], stamp: WriteStamp): void;

  /** Another instance changed too many keys to list: drop every local copy. */
  invalidateAll(): void;

  /** The bus cannot hear invalidations (down, or not yet subscribed). */
  suspend(mode: CoherenceDisconnectMode): void;

  /** The bus is subscribed again: whatever was missed meanwhile must not be served. */
  resume(): void;
}
