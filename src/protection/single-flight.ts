/**
 * Coalesces concurrent calls per key: while a call for a key runs, later callers get the same
 * promise (its result and its error) instead of starting another. This is the per-process half
 * of the breakdown protection.
 */
export class SingleFlight {
  readonly #running = new Map<string, Promise<unknown>>();

  /** Number of keys with a call under way. */
  get size(): number {
    return this.#running.size;
  }

  /** Whether a call for `key` is under way. */
  has(key: string): boolean {
    return this.#running.has(key);
  }

  /** Runs `work` for `key` unless a call for `key` is already under way; shares its outcome. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.#running.get(key);
    if (running !== undefined) return running as Promise<T>;

    const started = work().finally(() => this.#running.delete(key));
    this.#running.set(key, started);
    return started;
  }
}
