/**
 * A copy of a value past its TTL but within its grace period. Served only when the fresh
 * value cannot be had: the loader failed or timed out, or L2 is unreachable.
 */
export class StaleCopy {
  constructor(readonly value: unknown) {}
}

/**
 * Keys whose loader failed recently while a stale copy was served: until `backoff` passes,
 * further misses of such a key get the stale copy without calling the loader again, so a
 * struggling backend is not hit once per miss. Bounded: past `maxKeys` the oldest go.
 */
export class FailureBackoff {
  readonly #until = new Map<string, number>();

  constructor(
    private readonly backoff: number,
    private readonly now: () => number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Whether `key` is backing off now. */
  active(key: string): boolean {
    if (this.#until.size === 0) return false;
    const until = this.#until.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.#until.delete(key);
    return false;
  }

  /** Starts (or restarts) the backoff of `key`. */
  start(key: string): void {
    if (this.backoff === 0) return;
    this.#until.delete(key);
    this.#until.set(key, this.now() + this.backoff);
    if (this.#until.size > this.maxKeys) {
      this.#until.delete(this.#until.keys().next().value as string);
    }
  }

  /** Ends the backoff of `key` (its loader succeeded). */
  clear(key: string): void {
    if (this.#until.size !== 0) this.#until.delete(key);
  }
}

/** What {@link within} resolves when time ran out first. */
export const TIMED_OUT: unique symbol = Symbol('nest-im-cache:timed-out');

/**
 * `work`'s outcome, or {@link TIMED_OUT} when it takes longer than `ms` milliseconds of real
 * time. `work` itself is not stopped; the timer is cleared as soon as it settles.
 */
export function within<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMED_OUT);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
