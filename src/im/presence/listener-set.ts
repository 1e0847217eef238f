import type { LoggerService } from '@nestjs/common';
import type { PresenceChange } from '../routes/route.types';
import type { PresenceListener } from './presence-feed';

/**
 * The presence listeners of one instance. A listener that throws is logged (one line) and
 * does not keep the others from their delivery.
 */
export class ListenerSet {
  readonly #listeners = new Set<PresenceListener>();

  constructor(private readonly logger: LoggerService) {}

  get size(): number {
    return this.#listeners.size;
  }

  add(listener: PresenceListener): () => void {
    // A wrapper, so one function registered twice is two subscriptions.
    const entry: PresenceListener = (change) => listener(change);
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  deliver(change: PresenceChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.logger.warn(
          `presence listener threw on ${change.type} of "${change.userId}": ${reason}`,
        );
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
