/**
 * Freezes a JSON value and everything it contains, so that a caller mutating a value it read
 * from L1 fails loudly (a `TypeError` in strict mode) instead of changing what the next
 * caller reads. Reads then hand out the stored object itself: no copy on the hot path.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (typeof item === 'object' && item !== null) deepFreeze(item);
    }
  } else {
    for (const key in value) {
      const item = (value as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) deepFreeze(item);
    }
  }
  return value;
}

/** Returned by {@link frozenJsonCopy} when the value is not plain JSON data. */
export const NOT_PLAIN: unique symbol = Symbol('nest-im-cache:not-plain');

/**
 * A deeply frozen copy of a value made only of plain JSON data (plain objects, dense arrays,
 * strings, finite numbers, booleans, null), equal to what `JSON.parse(JSON.stringify(value))`
 * gives. Strings are immutable, so the copy shares them with the original instead of
 * duplicating them as a JSON round trip would: cheaper to make, and lighter in L1.
 *
 * Anything a JSON round trip would change (a `Date` or other `toJSON`, a class instance,
 * `undefined`, `NaN`, `-0`, a sparse array, a `__proto__` key) gives {@link NOT_PLAIN}; the
 * caller then falls back to the round trip.
 */
export function frozenJsonCopy(value: unknown, depth = 0): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? value : NOT_PLAIN;
    case 'object':
      if (value === null) return null;
      if (depth > 64) return NOT_PLAIN;
      return Array.isArray(value) ? copyArray(value, depth) : copyObject(value, depth);
    default:
      return NOT_PLAIN;
  }
}

function copyArray(source: unknown[], depth: number): unknown {
  if (Object.getPrototypeOf(source) !== Array.prototype) return NOT_PLAIN;
  const copy = new Array<unknown>(source.length);
  for (let i = 0; i < source.length; i++) {
    if (!(i in source)) return NOT_PLAIN;
    const item = frozenJsonCopy(source[i], depth + 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    copy[i] = item;
  }
  return Object.freeze(copy);
}

function copyObject(source: object, depth: number): unknown {
  const proto = Object.getPrototypeOf(source);
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
  if (typeof (source as { toJSON?: unknown }).toJSON === 'function') return NOT_PLAIN;

  const copy: Record<string, unknown> = {};
  for (const key in source) {
    if (key === '__proto__') return NOT_PLAIN;
    const item = frozenJsonCopy((source as Record<string, unknown>)[key], depth + 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    copy[key] = item;
  }
  return Object.freeze(copy);
}
