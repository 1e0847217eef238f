import { InvalidOptionError } from '../errors';
import type { ExistenceFilter, LoaderTimeoutOptions } from '../options/cache-options.interface';
import { toMilliseconds, type Duration } from '../options/duration';
import { fraction, type ResolvedCacheOptions } from '../options/resolve-options';

/** Options of a single `set`. */
export interface SetOptions {
  /** Lifetime of the value; the module's `ttl` by default. Jitter is applied. */
  ttl?: Duration;
}

/**
 * Options of a single `getOrLoad`. Each overrides, for this call, the module option of the
 * same name (documented there). Concurrent callers of one key share the first caller's load,
 * and so its options.
 */
export interface GetOrLoadOptions extends SetOptions {
  /** Lifetime of the negative entry written when the loader finds nothing. */
  negativeTtl?: Duration;
  /** Grace period of this key's stale copies (`failSafe.grace`). */
  grace?: Duration;
  /** Time limits of this loader (`loaderTimeout`). */
  loaderTimeout?: LoaderTimeoutOptions;
  /** Refresh-ahead fraction of this key (`refreshAhead`); 0 turns it off. */
  refreshAhead?: number;
  /** `false` skips the cross-instance lock for this key (`lock`). */
  lock?: boolean;
  /** Existence filter of this key; `false` skips the module's (`existenceFilter`). */
  existenceFilter?: ExistenceFilter | false;
}

/** The settings of one load: per-call options over module options, in milliseconds. */
export interface LoadPolicy {
  /** Before jitter. */
  ttl: number;
  /** Before jitter. */
  negativeTtl: number;
  grace: number;
  softTimeout: number;
  hardTimeout: number;
  refreshAhead: number;
  lock: boolean;
  filter: ExistenceFilter | undefined;
  /**
   * An L2 entry found while waiting for or taking the lock spares the load only with more
   * than this left: 0, or the refresh window for a refresh-ahead load.
   */
  mustOutlive: number;
}

/**
 * The load policies of one service: the module's own, and those of per-call options over
 * it. A frozen options object (a decorator's) is resolved once and remembered.
 */
export class LoadPolicies {
  /** The module's policy: what a call without options loads with. */
  readonly defaults: LoadPolicy;
  readonly #known = new WeakMap<GetOrLoadOptions, LoadPolicy>();

  /** `lockAvailable`: whether the module has a cross-instance lock at all. */
  constructor(
    options: ResolvedCacheOptions,
    private readonly lockAvailable: boolean,
  ) {
    this.defaults = {
      ttl: options.ttl,
      negativeTtl: options.negativeTtl,
      grace: options.failSafe.grace,
      softTimeout: options.loaderTimeout.soft,
      hardTimeout: options.loaderTimeout.hard,
      refreshAhead: options.refreshAhead,
      lock: lockAvailable,
      filter: options.existenceFilter,
      mustOutlive: 0,
    };
  }

  /**
   * The policy of a call with `options`.
   *
   * @throws InvalidOptionError naming the option, for a bad duration or fraction
   */
  of(options: GetOrLoadOptions | undefined): LoadPolicy {
    if (options === undefined) return this.defaults;
    const known = this.#known.get(options);
    if (known !== undefined) return known;

    const policy = this.#resolve(options);
    if (Object.isFrozen(options)) this.#known.set(options, policy);
    return policy;
  }

  #resolve(options: GetOrLoadOptions): LoadPolicy {
    const base = this.defaults;
    const timeout = options.loaderTimeout;
    const filter = options.existenceFilter;
    return {
      ttl: positiveMs(options.ttl, base.ttl, 'ttl'),
      negativeTtl: positiveMs(options.negativeTtl, base.negativeTtl, 'negativeTtl'),
      grace: ms(options.grace, base.grace, 'grace'),
      softTimeout: ms(timeout?.soft, base.softTimeout, 'loaderTimeout.soft'),
      hardTimeout: ms(timeout?.hard, base.hardTimeout, 'loaderTimeout.hard'),
      refreshAhead:
        options.refreshAhead === undefined
          ? base.refreshAhead
          : fraction(options.refreshAhead, 'refreshAhead'),
      lock: this.lockAvailable && (options.lock ?? base.lock),
      filter: filter === false ? undefined : (filter ?? base.filter),
      mustOutlive: 0,
    };
  }
}

function ms(given: Duration | undefined, fallback: number, option: string): number {
  return given === undefined ? fallback : toMilliseconds(given, option);
}

/**
 * `given` in milliseconds, else `fallback`.
 *
 * @throws InvalidOptionError naming `option` unless the result is above 0
 */
export function positiveMs(given: Duration | undefined, fallback: number, option: string): number {
  const value = ms(given, fallback, option);
  if (value <= 0) throw new InvalidOptionError(option, 'must be greater than 0');
  return value;
}
