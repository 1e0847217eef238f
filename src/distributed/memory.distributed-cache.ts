import type { ResolvedDistributedOptions } from '../options/resolve-options';
import type { DistributedCache } from './distributed-cache.interface';

interface MemoryEntry {
  value: string;
  expiresAt: number;
}

/**
 * `distributed.driver: 'memory'`: the embedded default. The L2 contract inside one process,
 * so the demo and a first run need nothing installed. Bounded by `maxEntries` (the oldest
 * write goes first); an expired entry is dropped when read or when it is the oldest.
 *
 * It is not shared between processes: use Redis as soon as there is more than one instance.
 */
export class MemoryDistributedCache implements DistributedCache {
  readonly name = 'memory';
  readonly #entries = new Map<string, MemoryEntry>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(
    options: Pick<ResolvedDistributedOptions, 'maxEntries'>,
    now: () => number = Date.now,
  ) {
    this.#maxEntries = options.maxEntries;
    this.#now = now;
  }

  /** Number of entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<string | undefined> {
    return this.#read(key);
  }

  async getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    return keys.map((key) => this.#read(key));
  }

  async set(key: string, value: string, ttl: number): Promise<void> {
    this.#write(key, value, ttl);
  }

  async add(key: string, value: string, ttl: number): Promise<boolean> {
    if (this.#read(key) !== undefined) return false;
    this.#write(key, value, ttl);
    return true;
  }

  async delete(keys: readonly string[]): Promise<number> {
    let removed = 0;
    for (const key of keys) {
      if (this.#read(key) !== undefined) removed++;
      this.#entries.delete(key);
    }
    return removed;
  }

  /** An in-process lock: enough for the instances that share this driver object. */
  async acquireLock(key: string, token: string, lease: number): Promise<boolean> {
    return this.add(key, token, lease);
  }

  async releaseLock(key: string, token: string): Promise<boolean> {
    if (this.#read(key) !== token) return false;
    this.#entries.delete(key);
    return true;
  }

  async renewLock(key: string, token: string, lease: number): Promise<boolean> {
    if (this.#read(key) !== token) return false;
    (this.#entries.get(key) as MemoryEntry).expiresAt = this.#now() + lease;
    return true;
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }

  #read(key: string): string | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.#now()) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  #write(key: string, value: string, ttl: number): void {
    // Re-inserting moves the key to the end, so Map order is write order.
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.#now() + ttl });
    if (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value as string);
    }
  }
}
