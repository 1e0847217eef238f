import type { LoggerService } from '@nestjs/common';
import { CircuitOpenError } from '../errors';

/** Where the breaker stands: L2 used (`closed`), skipped (`open`), or being probed. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** The breaker's part of `stats()`. */
export interface BreakerStats {
  state: BreakerState;
  /** Times it opened (from closed, or again after a failed probe). */
  opened: number;
  /** Times it let a probe through. */
  halfOpened: number;
  /** Times it closed again. */
  closed: number;
}

/** What a breaker is built from: the `breaker` option (or `false`), a clock and a logger. */
export interface BreakerSettings {
  failures: number;
  openFor: number;
}

/**
 * A circuit breaker around L2. After `failures` consecutive failures it opens: callers skip
 * L2 (and serve L1, stale copies or the loader) instead of each waiting for a failing
 * command. After `openFor` one call is let through as a probe (half-open): its success
 * closes the breaker, its failure opens it again. Any success closes it.
 *
 * The closed state costs one comparison per call. Every transition is logged once (opening
 * as a warning, closing as a log line, probes at debug level) and counted.
 */
export class CircuitBreaker {
  #state: BreakerState = 'closed';
  #failures = 0;
  #openedAt = 0;
  readonly #threshold: number;
  readonly #openFor: number;
  readonly #now: () => number;
  readonly #logger: LoggerService;
  readonly #counts = { opened: 0, halfOpened: 0, closed: 0 };

  constructor(settings: BreakerSettings | false, now: () => number, logger: LoggerService) {
    this.#threshold = settings === false ? Infinity : settings.failures;
    this.#openFor = settings === false ? 0 : settings.openFor;
    this.#now = now;
    this.#logger = logger;
  }

  /** The current state. */
  get state(): BreakerState {
    return this.#state;
  }

  /**
   * Whether a call may use L2 now. While open, the first call after `openFor` becomes the
   * probe (and so does one per further `openFor`, should a probe never report back).
   */
  allows(): boolean {
    if (this.#state === 'closed') return true;

    const now = this.#now();
    if (now - this.#openedAt < this.#openFor) return false;
    this.#openedAt = now;
    if (this.#state === 'open') {
      this.#state = 'half-open';
      this.#counts.halfOpened++;
      this.#logger.debug?.('l2 circuit breaker half-open: probing L2');
    }
    return true;
  }

  /** Reports a call that reached L2 and succeeded. */
  succeeded(): void {
    if (this.#failures === 0 && this.#state === 'closed') return;

    this.#failures = 0;
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#counts.closed++;
    this.#logger.log('l2 circuit breaker closed: L2 answers again');
  }

  /** Reports a call that reached L2 and failed. */
  failed(): void {
    this.#failures++;
    if (this.#state === 'half-open') {
      this.#open('l2 circuit breaker open again: the probe failed', 'debug');
      return;
    }
    if (this.#state === 'closed' && this.#failures >= this.#threshold) {
      this.#open(
        `l2 circuit breaker open after ${this.#failures} consecutive failures; ` +
          `skipping L2 for ${this.#openFor} ms at a time until a probe succeeds`,
        'warn',
      );
    }
  }

  /** The error a skipped call carries as its cause. */
  openError(): CircuitOpenError {
    const retryIn = Math.max(0, this.#openedAt + this.#openFor - this.#now());
    return new CircuitOpenError(this.#failures, retryIn);
  }

  /** A snapshot for `stats()`. */
  snapshot(): BreakerStats {
    return { state: this.#state, ...this.#counts };
  }

  #open(message: string, level: 'warn' | 'debug'): void {
    this.#state = 'open';
    this.#openedAt = this.#now();
    this.#counts.opened++;
    if (level === 'warn') this.#logger.warn(message);
    else this.#logger.debug?.(message);
  }
}
