import type { LoggerService } from '@nestjs/common';
import {
  closeRedisConnection,
  reconnectDelay,
  type RedisCommands,
  type RedisTopology,
} from '../../distributed/redis/redis-connection';
import { ListenerSet } from './listener-set';
import {
  parsePresenceMessage,
  type PresenceFeed,
  type PresenceListener,
  type PresenceSubscription,
} from './presence-feed';

/**
 * Presence changes across instances over Redis pub/sub. The scripts that change a record
 * publish the change; each instance holds one subscription, opened on the first
 * `subscribe`, and hands every message to its listeners, so each change reaches each
 * instance once.
 *
 * Standalone: the subscription has its own connection (`client.duplicate()`), as a
 * subscribed connection can run nothing else. Cluster and Sentinel clients keep a dedicated
 * pub/sub connection themselves. node-redis resubscribes after a reconnect; messages
 * published while the subscription was down are lost (pub/sub keeps nothing).
 */
export class RedisPresenceFeed implements PresenceFeed {
  readonly #listeners: ListenerSet;
  #subscriber: RedisCommands | undefined;
  #ready: Promise<void> | undefined;
  #closed = false;
  readonly #onMessage = (message: string) => {
    const change = parsePresenceMessage(message);
    if (change !== undefined) this.#listeners.deliver(change);
  };

  constructor(
    private readonly client: RedisCommands,
    private readonly topology: RedisTopology,
    private readonly channel: string,
    private readonly logger: LoggerService,
  ) {
    this.#listeners = new ListenerSet(logger);
  }

  subscribe(listener: PresenceListener): PresenceSubscription {
    const unsubscribe = this.#listeners.add(listener);
    this.#ready ??= this.#start();
    return { ready: this.#ready, unsubscribe };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (subscriber === undefined) return;
    if (subscriber !== this.client) {
      await closeRedisConnection(subscriber);
      return;
    }
    await Promise.resolve(subscriber.unsubscribe(this.channel, this.#onMessage)).catch(() => {});
  }

  /** Subscribes, retrying with backoff until it works or the feed is closed. */
  async #start(): Promise<void> {
    for (let attempt = 0; !this.#closed; attempt++) {
      try {
        const subscriber = await this.#connection();
        await subscriber.subscribe(this.channel, this.#onMessage);
        return;
      } catch (error) {
        if (attempt === 0) {
          const reason = error instanceof Error ? error.message : String(error);
          this.logger.warn(`presence subscription failed: ${reason}; retrying`);
        }
        await new Promise((resolve) => setTimeout(resolve, reconnectDelay(attempt)).unref());
      }
    }
    // Closed before it could subscribe: stay pending, as documented (never reject).
    await new Promise<void>(() => {});
  }

  async #connection(): Promise<RedisCommands> {
    if (this.topology !== 'standalone') return (this.#subscriber = this.client);

    if (this.#subscriber === undefined) {
      this.#subscriber = this.client.duplicate() as RedisCommands;
      this.#subscriber.on('error', () => {
        // Reported once by the retry loop or the main client; node-redis reconnects.
      });
    }
    const subscriber = this.#subscriber;
    if (!subscriber.isOpen) await subscriber.connect();
    return subscriber;
  }
}
