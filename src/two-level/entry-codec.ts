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

/**
 * The value of an entry (parsed from JSON) or {@link NEGATIVE}.
 *
 * @throws CorruptEntryError when `raw` was not written by this module
 */
export function decodeValue(raw: string, bar: number, key: string): unknown {
  if (raw.length === bar + 2 && raw.charCodeAt(bar + 1) === BANG) return NEGATIVE;
  try {
    return JSON.parse(raw.slice(bar + 1));
  } catch (cause) {
    throw new CorruptEntryError(key, { cause });
  }
}
