import { Keyv } from 'keyv';
import type { DistributedCache } from './distributed-cache.interface';

/**
 * `distributed.driver: 'keyv'`: any Keyv store as L2, so every Keyv adapter (Redis, Valkey,
 * Postgres, MongoDB, SQLite, ...) works by configuration.
 *
 * Give `store` as a Keyv instance (used as configured, its own namespace included) or as a
 * bare store adapter (wrapped in a Keyv without a key prefix). Keyv adds its envelope and a
 * serializer pass to every entry, which costs 2-4x on batch reads compared with the `'redis'`
 * driver; `add` is a read then a write, not atomic (Keyv has no set-if-absent).
 */
export class KeyvDistributedCache implements DistributedCache {
  readonly name = 'keyv';
  readonly #keyv: Keyv<string>;
  readonly #owned: boolean;

  constructor(options: { store?: unknown }) {
    if (options.store instanceof Keyv) {
      this.#keyv = options.store as Keyv<string>;
      this.#owned = false;
    } else {
      this.#keyv = new Keyv<string>({ store: options.store, useKeyPrefix: false });
      this.#owned = true;
    }
    // Keyv is an event emitter: an 'error' without a listener would crash the process. The
    // failing call itself still rejects, which is where the service reports it.
    this.#keyv.on('error', () => undefined);
  }

  get(key: string): Promise<string | undefined> {
    return this.#keyv.get(key);
  }

  getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.#keyv.getMany(keys as string[]);
  }

  async set(key: string, value: string, ttl: number): Promise<void> {
    await this.#keyv.set(key, value, ttl);
  }

  async add(key: string, value: string, ttl: number): Promise<boolean> {
    if ((await this.#keyv.get(key)) !== undefined) return false;
    await this.#keyv.set(key, value, ttl);
    return true;
  }

  async delete(keys: readonly string[]): Promise<number> {
    const existing = await this.getMany(keys);
    await this.#keyv.deleteMany(keys as string[]);
    return existing.filter((value) => value !== undefined).length;
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#keyv.disconnect();
  }
}
