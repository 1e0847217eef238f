import { CorruptEntryError } from '../errors';

/**
 * The format of an entry in L2: `<expiresAt>|<json>` for a value and `<expiresAt>|!` for a
 * negative ("not found") entry. `expiresAt` is the logical expiry in epoch milliseconds,
 * always 13 digits (zero-padded), so the separator sits at a fixed place and an entry can be
 * checked for expiry by comparing strings, without parsing a number; the L2 key itself may
 * live longer (a grace period for stale copies). Carrying the expiry in the value lets an L2
 * hit fill L1 with the remaining lifetime without a second round trip.
 *
 * The hot paths touch entries with as few string operations as possible: node-redis defines
 * a `String` subclass, which makes V8 take slower paths for every string method in the
 * process.
 */

/** The L1 and decode marker of a negative entry. */
export const NEGATIVE: unique symbol = Symbol('nest-im-cache:negative');

const DIGITS = 13;
const LARGEST = 9_999_999_999_999;
const BAR = 124; // '|'
const BANG = 33; // '!'

/** `ms` as the 13 digits an entry starts with. */
function stamp(ms: number): string {
  const digits = String(Math.min(LARGEST, Math.max(0, Math.floor(ms))));
  return digits.length === DIGITS ? digits : digits.padStart(DIGITS, '0');
}

/** Encodes a value already serialized to JSON. */
export function encodeValue(expiresAt: number, json: string): string {
  return `${stamp(expiresAt)}|${json}`;
}

/** Encodes a negative entry. */
export function encodeNegative(expiresAt: number): string {
  return `${stamp(expiresAt)}|!`;
}

/** Whether `raw` has this module's shape (a digit first, the separator after 13 digits). */
export function isEntry(raw: string): boolean {
  if (raw.length <= DIGITS + 1 || raw.charCodeAt(DIGITS) !== BAR) return false;
  const first = raw.charCodeAt(0);
  return first >= 48 && first <= 57;
}

/**
 * A string that every entry still live at `now` compares greater than (`raw > mark`), and
 * every expired one does not: the expiry check of a batch without parsing numbers.
 */
export function liveMark(now: number): string {
  return stamp(now + 1);
}

/** The logical expiry of an entry (see {@link isEntry}); 0 when it is not a number. */
export function expiryOf(raw: string): number {
  const expiresAt = Number(raw.slice(0, DIGITS));
  return Number.isNaN(expiresAt) ? 0 : expiresAt;
}

/** Whether an entry (see {@link isEntry}) is a negative one. */
export function isNegative(raw: string): boolean {
  return raw.length === DIGITS + 2 && raw.charCodeAt(DIGITS + 1) === BANG;
}

/** The JSON text of a value entry. */
export function jsonOf(raw: string): string {
  return raw.slice(DIGITS + 1);
}

/**
 * The value of an entry (parsed from JSON) or {@link NEGATIVE}.
 *
 * @throws CorruptEntryError when the JSON part was not written by this module
 */
export function decodeValue(raw: string, key: string): unknown {
  if (isNegative(raw)) return NEGATIVE;
  try {
    return JSON.parse(jsonOf(raw));
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
