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
