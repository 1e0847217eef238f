import type { DistributedCache } from '../../src';
import { MemoryDistributedCache } from '../../src/distributed/memory.distributed-cache';

/**
 * A memory L2 that fails on demand: the fault-injecting wrapper the breaker and fail-safe
 * tests need (a real Redis cannot be made to fail one command at a time). Counts the calls
 * that reached it.
 */
export class FaultyL2 implements DistributedCache {
  readonly name = 'faulty';
  readonly inner: MemoryDistributedCache;
  failing = false;
  calls = 0;

  constructor(now: () => number) {
    this.inner = new MemoryDistributedCache({ maxEntries: 10_000 }, now);
  }

  get(key: string) {
    return this.#call(() => this.inner.get(key));
  }

  getMany(keys: readonly string[]) {
    return this.#call(() => this.inner.getMany(keys));
  }

  set(key: string, value: string, ttl: number) {
    return this.#call(() => this.inner.set(key, value, ttl));
  }

  add(key: string, value: string, ttl: number) {
    return this.#call(() => this.inner.add(key, value, ttl));
  }

  delete(keys: readonly string[]) {
    return this.#call(() => this.inner.delete(keys));
  }

  acquireLock(key: string, token: string, lease: number) {
    return this.#call(() => this.inner.acquireLock(key, token, lease));
  }

  releaseLock(key: string, token: string) {
    return this.#call(() => this.inner.releaseLock(key, token));
  }

  async #call<T>(work: () => Promise<T>): Promise<T> {
    this.calls++;
    if (this.failing) throw new Error('injected L2 failure');
    return work();
  }
}

/** A loader that counts its calls and finishes only when `open` is called. */
export function gatedLoader<T>(outcome: () => T | Promise<T>) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const loader = async () => {
    loader.calls++;
    await gate;
    return outcome();
  };
  loader.calls = 0;
  return { loader, open: () => open() };
}

/** A loader that counts its calls. */
export function counting<T>(outcome: () => T) {
  const loader = () => {
    loader.calls++;
    return outcome();
  };
  loader.calls = 0;
  return loader;
}

/** Lets pending promise callbacks and timers of 0 ms run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}
