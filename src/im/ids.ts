import { describe, InvalidArgumentError } from '../errors';

/** Longest user, device, server, connection, conversation or session ID accepted. */
export const MAX_ID_LENGTH = 256;

// Control characters separate the fields of stored records, so IDs may not contain them.
const CONTROL = /[\x00-\x1f\x7f]/;

/**
 * Checks one ID: a non-empty string of at most {@link MAX_ID_LENGTH} characters without
 * control characters.
 *
 * @param argument dotted path used in the error, e.g. `route.userId`
 * @throws InvalidArgumentError naming the argument
 */
export function checkId(value: unknown, argument: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidArgumentError(argument, `expected a non-empty string, got ${describe(value)}`);
  }
  if (value.length > MAX_ID_LENGTH) {
    throw new InvalidArgumentError(argument, `longer than ${MAX_ID_LENGTH} characters`);
  }
  if (CONTROL.test(value)) {
    throw new InvalidArgumentError(
      argument,
      `${describe(value)} contains a control character (U+0000 to U+001F, U+007F)`,
    );
  }
  return value;
}

/** Checks that `values` is an array. */
export function checkArray(values: unknown, argument: string): unknown[] {
  if (!Array.isArray(values)) {
    throw new InvalidArgumentError(argument, `expected an array, got ${describe(values)}`);
  }
  return values;
}

/** Checks a list of IDs. */
export function checkIds(values: unknown, argument: string): string[] {
  checkArray(values, argument);
  const ids = values as string[];
  for (let i = 0; i < ids.length; i++) checkId(ids[i], `${argument}[${i}]`);
  return ids;
}

/** Checks that `value` is a plain object, for the record-shaped arguments. */
export function checkObject(value: unknown, argument: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(argument, `expected an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Checks that `value` is one of `allowed`. */
export function checkOneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  argument: string,
): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) {
    return value as T;
  }
  const names = allowed.map((a) => `'${a}'`).join(', ');
  throw new InvalidArgumentError(argument, `expected one of ${names}, got ${describe(value)}`);
}
