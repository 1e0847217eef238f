import type { DistributedCache } from './distributed-cache.interface';

/** `distributed.driver: 'none'`: no L2; the cache is L1 only, per process. */
export class NoneDistributedCache implements DistributedCache {
  readonly name = 'none';

  async get(): Promise<undefined> {
    return undefined;
  }

  async getMany(keys: readonly string[]): Promise<undefined[]> {
    return new Array<undefined>(keys.length).fill(undefined);
  }

  async set(): Promise<void> {}

  async add(): Promise<boolean> {
    return true;
  }

  async delete(): Promise<number> {
    return 0;
  }
}
