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
/** The owner extends its lease this many times per lease while its load runs. */
const RENEWALS_PER_LEASE = 3;

/** The renewal of one lock's lease; see {@link LoadLock.keep}. */
export interface LeaseRenewal {
  /** Stops renewing. Idempotent; a renewal already sent is not awaited. */
  stop(): void;
}

/** What a renewal tells its owner. The lock logs nothing itself. */
export interface RenewalReports {
  /** A renewal extended the lease. */
  renewed(): void;
  /** A renewal failed in L2 (down, slow); the next one is tried on schedule. */
  failed(cause: unknown): void;
  /** The lock no longer held the owner's token (its lease ran out first); renewal stopped. */
  lost(): void;
}

const NOT_RENEWED: LeaseRenewal = Object.freeze({ stop() {} });

/**
 * One load per key across instances: a lock in L2 (`<namespace>:lock:<key>`) with an owner
 * token and a lease. Only the owner releases it (compare-and-delete); an owner that dies
 * leaves it to expire after the lease. Instances that do not get it poll L2 for the owner's
 * value with a short, growing backoff, trying to take the lock on each poll, for at most
 * `lock.wait` milliseconds of real time (the cache's injectable clock is not used here).
 *
 * While the owner's load runs, {@link keep} extends the lease every third of it, so a load
 * longer than the lease keeps the lock (when the driver implements `renewLock`).
 *
 * Built only when the driver implements `acquireLock` and `releaseLock`.
 */
export class LoadLock {
  readonly #l2: Required<Pick<DistributedCache, 'acquireLock' | 'releaseLock'>> &
    Pick<DistributedCache, 'renewLock'>;
  readonly #prefix: string;
  readonly #renewals = new Set<LeaseRenewal>();
  #closed = false;
  readonly settings: ResolvedLockOptions;

  private constructor(l2: DistributedCache, settings: ResolvedLockOptions, keyPrefix: string) {
    this.#l2 = l2 as Required<DistributedCache>;
    this.settings = settings;
    this.#prefix = `${keyPrefix}lock:`;
  }

  /** Whether the driver can renew a lease (`renewLock`). */
  get renews(): boolean {
    return typeof this.#l2.renewLock === 'function';
  }

  /** Renewals under way: one per load this instance runs as a lock owner. */
  get renewing(): number {
    return this.#renewals.size;
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
   * Keeps the lock of `key` while its owner loads: every `lease / 3` the lease is set back to
   * `lease`, only if the lock still holds `token` (an atomic compare and expire in the
   * driver). It stops on {@link LeaseRenewal.stop}, once `deadline` (a `performance.now()`
   * reading; `Infinity` for none) has passed, when the lock turns out lost, and on
   * {@link close}. The timer never keeps the process alive; a failed renewal is reported,
   * never thrown. Without `renewLock` in the driver, nothing is renewed.
   */
  keep(key: string, token: string, deadline: number, reports: RenewalReports): LeaseRenewal {
    if (!this.renews || this.#closed || performance.now() >= deadline) return NOT_RENEWED;
    const lockKey = this.#prefix + key;
    const lease = this.settings.lease;
    let sending = false;

    const timer = setInterval(
      () => {
        if (performance.now() >= deadline) return renewal.stop();
        // A renewal still waiting for L2 is not doubled; the command timeout bounds the wait.
        if (sending) return;
        sending = true;
        this.#renew(lockKey, token, lease).then(
          (held) => {
            sending = false;
            if (!this.#renewals.has(renewal)) return;
            if (held) return reports.renewed();
            renewal.stop();
            reports.lost();
          },
          (cause: unknown) => {
            sending = false;
            if (this.#renewals.has(renewal)) reports.failed(cause);
          },
        );
      },
      Math.max(1, Math.floor(lease / RENEWALS_PER_LEASE)),
    );
    timer.unref();

    const renewal: LeaseRenewal = {
      stop: () => {
        clearInterval(timer);
        this.#renewals.delete(renewal);
      },
    };
    this.#renewals.add(renewal);
    return renewal;
  }

  /** Stops every renewal and starts no more (module shutdown). Locks are left to expire. */
  close(): void {
    this.#closed = true;
    for (const renewal of [...this.#renewals]) renewal.stop();
  }

  /** One renewal; a driver that throws instead of rejecting is turned into a rejection. */
  async #renew(lockKey: string, token: string, lease: number): Promise<boolean> {
    return (await this.#l2.renewLock?.(lockKey, token, lease)) === true;
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
