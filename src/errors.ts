/**
 * Every error the module throws. Each class carries a stable `code` (safe to match on in
 * callers and logs), names the key or option at fault, and keeps the underlying `cause`.
 */

/** Base class of every error thrown by nest-im-cache. */
export abstract class ImCacheError extends Error {
  /** Stable, machine-readable code such as `E_INVALID_OPTION`. */
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An option passed to `CacheModule.forRoot()` / `forRootAsync()` is invalid. */
export class InvalidOptionError extends ImCacheError {
  readonly code = 'E_INVALID_OPTION';

  /**
   * @param option dotted path of the option at fault, e.g. `local.maxEntries`
   * @param problem what is wrong with it and what to do
   */
  constructor(
    readonly option: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`Invalid cache option "${option}": ${problem}`, options);
  }
}

/** A cache key is empty, not a string, or otherwise unusable. */
export class InvalidKeyError extends ImCacheError {
  readonly code = 'E_INVALID_KEY';

  constructor(
    readonly key: unknown,
    problem: string,
  ) {
    super(`Invalid cache key ${describe(key)}: ${problem}`);
  }
}

/** A value cannot be stored: `undefined`, or not representable as JSON. */
export class InvalidValueError extends ImCacheError {
  readonly code = 'E_INVALID_VALUE';

  constructor(
    readonly key: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot cache the value of key "${key}": ${problem}`, options);
  }
}

/** The distributed cache (L2) failed or did not answer in time. */
export class DistributedCacheError extends ImCacheError {
  readonly code = 'E_L2_FAILURE';

  constructor(
    readonly operation: string,
    readonly key: string | undefined,
    options?: { cause?: unknown },
  ) {
    const what = key === undefined ? operation : `${operation} of key "${key}"`;
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`Distributed cache ${what} failed${reason}`, options);
  }
}

/** A driver cannot provide a capability the configuration asks of it. */
export class UnsupportedDriverError extends ImCacheError {
  readonly code = 'E_UNSUPPORTED_DRIVER';

  constructor(
    readonly driver: string,
    problem: string,
  ) {
    super(`Cache driver "${driver}" ${problem}`);
  }
}

/** A value read back from L2 is not in the format this module writes. */
export class CorruptEntryError extends ImCacheError {
  readonly code = 'E_CORRUPT_ENTRY';

  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(
      `The stored entry of key "${key}" is not in nest-im-cache's format; ` +
        'was it written by another program under the same namespace?',
      options,
    );
  }
}

/** Shortens a value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 200));
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'array' : 'object';
}

/** A loader did not finish within its hard timeout (`loaderTimeout.hard`). */
export class LoaderTimeoutError extends ImCacheError {
  readonly code = 'E_LOADER_TIMEOUT';

  constructor(
    readonly key: string,
    readonly timeout: number,
  ) {
    super(
      `The loader of key "${key}" did not finish within ${timeout} ms (loaderTimeout.hard); ` +
        'it keeps running and its value is stored when it arrives',
    );
  }
}

/** Another instance held the load lock of a key longer than `lock.wait` allows. */
export class LockTimeoutError extends ImCacheError {
  readonly code = 'E_LOCK_TIMEOUT';

  constructor(
    readonly key: string,
    readonly waited: number,
  ) {
    super(
      `Waited ${waited} ms for another instance to load key "${key}" (lock.wait); ` +
        "raise lock.wait, or set lock.onTimeout: 'load' to load anyway",
    );
  }
}

/**
 * L2 was skipped because its circuit breaker is open. Found as the `cause` of the
 * `DistributedCacheError` a call fails with while the breaker is open.
 */
export class CircuitOpenError extends ImCacheError {
  readonly code = 'E_CIRCUIT_OPEN';

  constructor(
    readonly failures: number,
    readonly retryIn: number,
  ) {
    super(
      `the L2 circuit breaker is open after ${failures} consecutive failures; ` +
        `L2 is tried again in ${retryIn} ms`,
    );
  }
}

/**
 * The key of a cache decorator resolved, at call time, to something that is not a non-empty
 * string. Names the decorated method (`Class.method`) and the decorator.
 */
export class DecoratorKeyError extends ImCacheError {
  readonly code = 'E_DECORATOR_KEY';

  constructor(
    readonly method: string,
    readonly decorator: string,
    readonly key: unknown,
    problem: string,
  ) {
    super(`${decorator} on ${method}: the cache key resolved to ${describe(key)}; ${problem}`);
  }
}

/**
 * An argument of an IM repository call is missing or malformed: an ID that is not a
 * non-empty string, holds control characters or is too long, an unknown status or media.
 */
export class InvalidArgumentError extends ImCacheError {
  readonly code = 'E_INVALID_ARGUMENT';

  /**
   * @param argument dotted path of the argument at fault, e.g. `route.deviceId`
   * @param problem what is wrong with it and what is expected
   */
  constructor(
    readonly argument: string,
    problem: string,
  ) {
    super(`Invalid argument "${argument}": ${problem}`);
  }
}

/**
 * A message ID is not an integer from 0 to 2^64 - 1: negative, fractional, not a number, an
 * unsafe JavaScript number, or larger than 64 bits.
 */
export class InvalidMessageIdError extends ImCacheError {
  readonly code = 'E_INVALID_MESSAGE_ID';

  constructor(
    readonly messageId: unknown,
    problem: string,
  ) {
    super(
      `Invalid message ID ${describe(messageId)}: ${problem}; pass an integer from 0 to ` +
        '2^64 - 1 as a decimal string, a bigint, or a safe integer number',
    );
  }
}

/** One user found in another call by `VideoSessionRepository.start` or `join`. */
export interface BusyUser {
  userId: string;
  /** The session that holds the user. */
  sessionId: string;
}

/**
 * A call could not start (or a user could not join it) because some of its users are in
 * another session. Nothing was claimed: the users that were free are still free.
 */
export class UsersBusyError extends ImCacheError {
  readonly code = 'E_USERS_BUSY';

  constructor(
    readonly sessionId: string,
    readonly busy: readonly BusyUser[],
  ) {
    const names = busy.map((b) => `"${b.userId}" (in session "${b.sessionId}")`).join(', ');
    super(`Session "${sessionId}" cannot claim busy users: ${names}`);
  }

  /** The IDs of the busy users. */
  get userIds(): string[] {
    return this.busy.map((b) => b.userId);
  }
}

/** No video session has this ID: it never started, ended, or expired without keepAlive. */
export class SessionNotFoundError extends ImCacheError {
  readonly code = 'E_SESSION_NOT_FOUND';

  constructor(readonly sessionId: string) {
    super(`Video session "${sessionId}" does not exist (never started, ended, or expired)`);
  }
}

/** `VideoSessionRepository.start` was given the ID of a session that is still running. */
export class SessionExistsError extends ImCacheError {
  readonly code = 'E_SESSION_EXISTS';

  constructor(readonly sessionId: string) {
    super(`Video session "${sessionId}" already exists; session IDs must be unique`);
  }
}

/** `join` or `leave` named a user who is not a participant of the session. */
export class NotInSessionError extends ImCacheError {
  readonly code = 'E_NOT_IN_SESSION';

  constructor(
    readonly sessionId: string,
    readonly userId: string,
  ) {
    super(`User "${userId}" is not a participant of video session "${sessionId}"`);
  }
}

/** An IM repository was called while the repositories are turned off with `im: false`. */
export class RepositoriesDisabledError extends ImCacheError {
  readonly code = 'E_REPOSITORIES_DISABLED';

  constructor(readonly repository: string) {
    super(
      `${repository} is unavailable: the IM repositories are turned off (im: false); ` +
        'remove that option to use them',
    );
  }
}
