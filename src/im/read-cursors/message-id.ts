import { InvalidMessageIdError } from '../../errors';

/** A message ID as callers may pass it: a decimal string, a bigint or a safe integer. */
export type MessageId = string | bigint | number;

const MAX = 18446744073709551615n; // 2^64 - 1
const MAX_TEXT = '18446744073709551615';
const DIGITS = /^[0-9]+$/;

/**
 * Turns a message ID into its canonical decimal string (no sign, no leading zeros), exactly:
 * no value ever passes through a floating-point number, so 2^53 + 1 stays 2^53 + 1.
 *
 * @throws InvalidMessageIdError when the ID is negative, fractional, not a number, an unsafe
 *   JavaScript number, or above 2^64 - 1
 */
export function normalizeMessageId(id: unknown): string {
  if (typeof id === 'string') return fromString(id);
  if (typeof id === 'bigint') {
    if (id < 0n) throw new InvalidMessageIdError(id, 'negative');
    if (id > MAX) throw new InvalidMessageIdError(id, 'larger than 64 bits');
    return id.toString();
  }
  if (typeof id === 'number') return fromNumber(id);
  throw new InvalidMessageIdError(id, `a ${typeof id} is not a message ID`);
}

function fromString(id: string): string {
  if (!DIGITS.test(id)) {
    const problem = id.startsWith('-') ? 'negative' : 'not a decimal integer';
    throw new InvalidMessageIdError(id, problem);
  }
  const canonical = id.replace(/^0+(?=.)/, '');
  const tooLarge =
    canonical.length > MAX_TEXT.length ||
    (canonical.length === MAX_TEXT.length && canonical > MAX_TEXT);
  if (tooLarge) throw new InvalidMessageIdError(id, 'larger than 64 bits');
  return canonical;
}

function fromNumber(id: number): string {
  if (!Number.isFinite(id) || !Number.isInteger(id)) {
    throw new InvalidMessageIdError(id, 'not an integer');
  }
  if (id < 0) throw new InvalidMessageIdError(id, 'negative');
  if (!Number.isSafeInteger(id)) {
    throw new InvalidMessageIdError(
      id,
      'above 2^53 - 1, where a JavaScript number is no longer exact; pass a string or bigint',
    );
  }
  return String(id);
}

/**
 * Compares two canonical message IDs exactly: by length, then character by character.
 * Negative when `a < b`, 0 when equal, positive when `a > b`.
 */
export function compareMessageIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
