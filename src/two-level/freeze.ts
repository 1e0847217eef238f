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
