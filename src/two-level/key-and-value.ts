import { InvalidKeyError, InvalidValueError } from '../errors';

/** The error of a key that is not a non-empty string. */
export function invalidKey(key: unknown): InvalidKeyError {
  return new InvalidKeyError(key, 'a cache key must be a non-empty string');
}

/** Throws {@link InvalidKeyError} unless `key` is a non-empty string. */
export function checkKey(key: unknown): void {
  if (typeof key !== 'string' || key === '') throw invalidKey(key);
}

/** Throws {@link InvalidKeyError} unless `keys` is an array of non-empty strings. */
export function checkKeys(keys: readonly unknown[]): void {
  if (!Array.isArray(keys)) throw new InvalidKeyError(keys, 'expected an array of keys');
  for (const key of keys) checkKey(key);
}

/**
 * The JSON of a value to store under `key`.
 *
 * @throws InvalidValueError when it is not JSON data (`undefined`, a function, a cycle)
 */
export function serialize(key: string, value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (cause) {
    throw new InvalidValueError(key, 'the value is not JSON-serializable', { cause });
  }
  if (json === undefined) {
    throw new InvalidValueError(key, `a ${typeof value} is not JSON data`);
  }
  return json;
}
