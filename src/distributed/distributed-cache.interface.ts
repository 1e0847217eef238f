/**
 * The shared cache (L2). Drivers store opaque strings: the two-level service owns the entry
 * format (expiry, negative markers), so every driver behaves the same and a new backend only
 * moves strings. Implement this interface and pass the class or an instance as
 * `distributed.driver`.
 *
 * Keys given to a driver are already namespaced. Every method must settle in bounded time
 * even when the backend is unreachable: reject rather than wait forever.
 */
export interface DistributedCache {
  /** Name used in logs and errors, e.g. `'redis'`. */
  readonly name: string;

  /** Opens connections. Called once when the module starts; may be omitted. */
  connect?(): Promise<void>;

  /** The stored string; `undefined` or `null` when absent or expired. */
  get(key: string): Promise<string | null | undefined>;

  /**
   * One result per key, in order (`undefined` or `null` where absent); a batch is one round
   * trip where the backend allows.
   */
  getMany(keys: readonly string[]): Promise<(string | null | undefined)[]>;

  /** Stores `value` for `ttl` milliseconds (always > 0). */
  set(key: string, value: string, ttl: number): Promise<void>;

  /**
   * Stores `value` only when `key` is absent; resolves `true` when it was stored. Used for
   * negative entries, which must never overwrite real data.
   */
  add(key: string, value: string, ttl: number): Promise<boolean>;

  /** Removes keys; resolves how many existed. */
  delete(keys: readonly string[]): Promise<number>;

  /**
   * Optional: takes the lock `key` for `lease` milliseconds when nobody holds it (set if
   * absent, with expiry), storing `token` as its owner; resolves `true` when taken. Together
   * with {@link releaseLock} it gives one load per key across instances; a driver without
   * them still works, its instances then load independently.
   */
  acquireLock?(key: string, token: string, lease: number): Promise<boolean>;

  /**
   * Optional: releases the lock `key` only if `token` still owns it (compare and delete, in
   * one atomic step); resolves `true` when it was released.
   */
  releaseLock?(key: string, token: string): Promise<boolean>;

  /**
   * Optional: sets the lock `key` to expire `lease` milliseconds from now, only if `token`
   * still owns it (compare and expire, in one atomic step); resolves `true` when renewed.
   * The owner calls it while its load runs, so a load longer than the lease keeps the lock.
   * A driver without it still locks; a load that outlasts the lease may then run once more
   * on another instance.
   */
  renewLock?(key: string, token: string, lease: number): Promise<boolean>;

  /** Closes connections this driver opened. Called once when the application shuts down. */
  close?(): Promise<void>;
}

/** A class implementing {@link DistributedCache}, constructed with the `distributed` options. */
export type DistributedCacheClass = new (options: Record<string, unknown>) => DistributedCache;
