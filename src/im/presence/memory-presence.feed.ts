import type { LoggerService } from '@nestjs/common';
import type { PresenceChange } from '../routes/route.types';
import type { PresenceFeed, PresenceListener, PresenceSubscription } from './presence-feed';
import { ListenerSet } from './listener-set';

/**
 * Presence changes inside one process, for the embedded `memory` driver: the store emits,
 * listeners receive on the next microtask (never inside the write that caused the change).
 */
export class MemoryPresenceFeed implements PresenceFeed {
  readonly #listeners: ListenerSet;

  constructor(logger: LoggerService) {
    this.#listeners = new ListenerSet(logger);
  }

  subscribe(listener: PresenceListener): PresenceSubscription {
    return { ready: Promise.resolve(), unsubscribe: this.#listeners.add(listener) };
  }

  /** Called by the memory store for each change it makes. */
  emit(change: PresenceChange): void {
    if (this.#listeners.size === 0) return;
    queueMicrotask(() => this.#listeners.deliver(change));
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}
