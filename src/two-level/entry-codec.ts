import { CorruptEntryError } from '../errors';

/**
 * The format of an entry in L2: `<expiresAt>|<json>` for a value and `<expiresAt>|!` for a
 * negative ("not found") entry. `expiresAt` is the logical expiry in epoch milliseconds; the
 * L2 key itself may live longer (a grace period for stale copies). Carrying the expiry in the
 * value lets an L2 hit fill L1 with the remaining lifetime without a second round trip.
 */

/** The L1 and decode marker of a negative entry. */
export const NEGATIVE: unique symbol = Symbol('nest-im-cache:negative');

const BAR = 124; // '|'
const BANG = 33; // '!'

/** Encodes a value already serialized to JSON. */
export function encodeValue(expiresAt: number, json: string): string {
  return `${expiresAt}|${json}`;
}

/** Encodes a negative entry. */
export function encodeNegative(expiresAt: number): string {
  return `${expiresAt}|!`;
}

/** Position of the separator, or -1 when `raw` is not in this format. */
export function separatorOf(raw: string): number {
  const end = Math.min(raw.length, 17);
  for (let i = 0; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (c === BAR) return i > 0 ? i : -1;
    if (c < 48 || c > 57) return -1;
  }
  return -1;
}

/** The logical expiry of an entry whose separator is at `bar`. */
export function expiryOf(raw: string, bar: number): number {
  let expiresAt = 0;
  for (let i = 0; i < bar; i++) expiresAt = expiresAt * 10 + (raw.charCodeAt(i) - 48);
  return expiresAt;
}

/** Whether the entry whose separator is at `bar` is a negative one. */
export function isNegative(raw: string, bar: number): boolean {
  return raw.length === bar + 2 && raw.charCodeAt(bar + 1) === BANG;
}

/**
 * The value of an entry (parsed from JSON) or {@link NEGATIVE}.
 *
 * @throws CorruptEntryError when `raw` was not written by this module
 */
export function decodeValue(raw: string, bar: number, key: string): unknown {
  if (isNegative(raw, bar)) return NEGATIVE;
  try {
    return JSON.parse(raw.slice(bar + 1));
  } catch (cause) {
    throw new CorruptEntryError(key, { cause });
  }
}

/**
 * Parses the JSON parts of many entries with one `JSON.parse` call, which is cheaper than one
 * call per part. A part that could change the framing of the batch (its first and last
 * characters disagree, as they never do in a JSON text this module wrote) or a batch that
 * does not parse into exactly one element per part falls back to part-by-part parsing, so a
 * corrupt entry is still reported under its own key.
 */
export function decodeJsonBatch(parts: readonly string[], keys: readonly string[]): unknown[] {
  if (parts.length > 1 && parts.every(isFramed)) {
    try {
      const values = JSON.parse(`[${parts.join(',')}]`) as unknown[];
      if (values.length === parts.length) return values;
    } catch {
      // One part is not JSON: the loop below names it.
    }
  }
  return parts.map((part, i) => {
    try {
      return JSON.parse(part);
    } catch (cause) {
      throw new CorruptEntryError(keys[i], { cause });
    }
  });
}

const CLOSERS: Record<string, string> = { '[': ']', '{': '}', '"': '"' };

/** A JSON text's first and last characters agree: brackets, braces, quotes or a scalar. */
function isFramed(part: string): boolean {
  const first = part[0];
  const closer = CLOSERS[first];
  if (closer !== undefined) return part.length > 1 && part[part.length - 1] === closer;
  return part.length > 0 && !/[[\]{}",]/.test(part);
}
