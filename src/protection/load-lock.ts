import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DistributedCache } from '../distributed/distributed-cache.interface';
import type { ResolvedLockOptions } from '../options/resolve-options';

/** What {@link LoadLock.waitForOwner} ends with. */
export type WaitOutcome<T> =
  /** The owner's value appeared in L2. */
  | { kind: 'found'; value: T }
  /** The lock became free (owner done without a value, or its lease ran out) and is ours. */
  | { kind: 'owner'; token: string }
  /** `lock.wait` passed. */
  | { kind: 'timeout'; waited: number };

/** Returned by a `peek` that found nothing yet. */
export const NOT_YET: unique symbol = Symbol('nest-im-cache:not-yet');

const FIRST_POLL_MS = 5;
const LONGEST_POLL_MS = 50;

/**
 * One load per key across instances: a lock in L2 (`<namespace>:lock:<key>`) with an owner
 * token and a lease. Only the owner releases it (compare-and-delete); an owner that dies
 * leaves it to expire after the lease. Instances that do not get it poll L2 for the owner's
 * value with a short, growing backoff, trying to take the lock on each poll, for at most
 * `lock.wait` milliseconds of real time (the cache's injectable clock is not used here).
 *
 * Built only when the driver implements `acquireLock` and `releaseLock`.
 */
export class LoadLock {
  readonly #l2: Required<Pick<DistributedCache, 'acquireLock' | 'releaseLock'>>;
  readonly #prefix: string;
  readonly settings: ResolvedLockOptions;

  private constructor(l2: DistributedCache, settings: ResolvedLockOptions, keyPrefix: string) {
    this.#l2 = l2 as Required<DistributedCache>;
    this.settings = settings;
    this.#prefix = `${keyPrefix}lock:`;
  }

  /** A lock over `l2`, or `undefined` when locking is off or the driver cannot lock. */
  static over(
    l2: DistributedCache,
    settings: ResolvedLockOptions | false,
    keyPrefix: string,
  ): LoadLock | undefined {
    if (settings === false) return undefined;
    if (typeof l2.acquireLock !== 'function' || typeof l2.releaseLock !== 'function') {
      return undefined;
    }
    return new LoadLock(l2, settings, keyPrefix);
  }

  /** Takes the lock of `key`; resolves its token, or `undefined` when someone holds it. */
  async tryAcquire(key: string): Promise<string | undefined> {
    const token = randomUUID();
    const taken = await this.#l2.acquireLock(this.#prefix + key, token, this.settings.lease);
    return taken ? token : undefined;
  }

  /** Releases the lock of `key` if `token` still owns it. */
  async release(key: string, token: string): Promise<void> {
    await this.#l2.releaseLock(this.#prefix + key, token);
  }

  /**
   * Waits for the owner of `key`'s lock: polls `peek` (which reads L2) and tries to take the
   * lock after each empty poll, until one of them succeeds or `lock.wait` passes.
   */
  async waitForOwner<T>(
    key: string,
    peek: () => Promise<T | typeof NOT_YET>,
  ): Promise<WaitOutcome<T>> {
    const started = performance.now();
    let delay = FIRST_POLL_MS;

    for (;;) {
      const left = this.settings.wait - (performance.now() - started);
      if (left <= 0) return { kind: 'timeout', waited: Math.round(performance.now() - started) };
      // Jittered, so instances that started waiting together do not poll in lockstep.
      await sleep(Math.min(left, delay * (0.5 + Math.random() / 2)));
      delay = Math.min(delay * 2, LONGEST_POLL_MS);

      const found = await peek();
      if (found !== NOT_YET) return { kind: 'found', value: found };
      const token = await this.tryAcquire(key);
      if (token !== undefined) return { kind: 'owner', token };
    }
  }
}
