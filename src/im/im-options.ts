import { InvalidOptionError } from '../errors';
import { toMilliseconds, type Duration } from '../options/duration';

/**
 * Options of the IM repositories (`im`): routes, online status, read cursors and video
 * sessions. See docs/repositories.md.
 */
export interface ImRepositoryOptions {
  /**
   * Lease of a route binding (one device connection). A binding that is not renewed within
   * it expires: the device reads as gone and the user as offline once no device is left.
   * Renew well inside it, e.g. every third of it.
   * @default '60s'
   */
  routeTtl?: Duration;
  /**
   * How long a user's presence record (chosen status, `lastSeenAt`) is kept after the last
   * device went. Past it the user reads as never seen and the status as the default.
   * @default '7d'
   */
  lastSeenTtl?: Duration;
  /**
   * Lease of a video session and of its participants' busy flags. A session nobody keeps
   * alive within it expires and frees its users.
   * @default '30s'
   */
  sessionTtl?: Duration;
  /**
   * How long a user's read cursors are kept after their last forward move; 0 keeps them
   * for good. The repository is then their only store, so the default keeps them: set a
   * lifetime only when a database holds the truth and this is its cache. A lifetime costs
   * one more Redis step per forward move (a `PEXPIRE`).
   * @default 0
   */
  cursorTtl?: Duration;
}

/** `im` after defaults and validation; durations in milliseconds. */
export interface ResolvedImOptions {
  /**
   * `true` when `im` was given (the driver must then serve the repositories, or the module
   * fails at start-up), `false` for `im: false`, `'auto'` when omitted (on when the driver
   * can serve them).
   */
  enabled: boolean | 'auto';
  routeTtl: number;
  lastSeenTtl: number;
  sessionTtl: number;
  /** 0 when cursors never expire. */
  cursorTtl: number;
}

const KEYS = new Set(['routeTtl', 'lastSeenTtl', 'sessionTtl', 'cursorTtl']);

/**
 * Validates `im`: `false` disables the repositories, an object (or `true`) requires them,
 * omitted enables them when the L2 driver can serve them.
 *
 * @throws InvalidOptionError naming the option at fault
 */
export function resolveImOptions(
  raw: ImRepositoryOptions | boolean | undefined,
): ResolvedImOptions {
  const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
  if (raw !== undefined && typeof raw !== 'boolean' && !isObject) {
    throw new InvalidOptionError('im', 'expected false, true or an options object');
  }
  const given: ImRepositoryOptions = isObject ? raw : {};
  for (const key of Object.keys(given)) {
    if (!KEYS.has(key)) {
      throw new InvalidOptionError(
        `im.${key}`,
        `unknown option; valid ones are ${[...KEYS].join(', ')}`,
      );
    }
  }

  return {
    enabled: raw === undefined ? 'auto' : raw !== false,
    routeTtl: lease(given.routeTtl ?? '60s', 'im.routeTtl'),
    lastSeenTtl: lease(given.lastSeenTtl ?? '7d', 'im.lastSeenTtl'),
    sessionTtl: lease(given.sessionTtl ?? '30s', 'im.sessionTtl'),
    cursorTtl: toMilliseconds(given.cursorTtl ?? 0, 'im.cursorTtl'),
  };
}

function lease(value: Duration, option: string): number {
  const ms = toMilliseconds(value, option);
  if (ms < 1) throw new InvalidOptionError(option, 'must be at least 1ms');
  return ms;
}
