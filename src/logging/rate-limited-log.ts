import type { LoggerService } from '@nestjs/common';

/**
 * Logs swallowed failures without flooding: the first failure of a kind is logged at once,
 * later ones of the same kind at most once per `interval` with the count of those skipped.
 * During an outage every call fails; the log still shows one line per kind and interval.
 */
export class RateLimitedLog {
  readonly #last = new Map<string, { at: number; skipped: number }>();

  constructor(
    private readonly logger: LoggerService,
    private readonly interval = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs a warning for `kind` unless one was logged less than `interval` ago. */
  warn(kind: string, message: string): void {
    const at = this.now();
    const last = this.#last.get(kind);
    if (last !== undefined && at - last.at < this.interval) {
      last.skipped++;
      return;
    }
    const skipped = last?.skipped ? ` (${last.skipped} more since the last report)` : '';
    this.#last.set(kind, { at, skipped: 0 });
    this.logger.warn(`${message}${skipped}`);
  }
}
