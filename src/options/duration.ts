import { InvalidOptionError } from '../errors';

/**
 * A duration: milliseconds as a number, or a string with a unit such as `'250ms'`, `'30s'`,
 * `'5m'`, `'1h'` or `'1d'`. Never seconds as a bare number.
 */
export type Duration = number | string;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/**
 * Converts a {@link Duration} to whole milliseconds.
 *
 * @param option the option's dotted name, used in the error message
 * @throws InvalidOptionError when the value is negative, NaN, infinite or not a duration
 */
export function toMilliseconds(value: Duration, option: string): number {
  if (typeof value === 'number') return checkNumber(value, option);

  if (typeof value === 'string') {
    const match = PATTERN.exec(value.trim());
    if (match) return checkNumber(Math.round(Number(match[1]) * UNITS[match[2]]), option);
  }

  throw new InvalidOptionError(
    option,
    `expected milliseconds (a number) or a string such as '500ms', '30s', '5m', '1h'; ` +
      `got ${JSON.stringify(value)}`,
  );
}

function checkNumber(ms: number, option: string): number {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new InvalidOptionError(option, `a duration must be a finite number >= 0, got ${ms}`);
  }
  return Math.round(ms);
}
