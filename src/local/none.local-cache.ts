import type { LocalCache } from './local-cache.interface';

/** `local.driver: 'none'`: no L1, every read goes to L2. */
export class NoneLocalCache implements LocalCache {
  readonly name = 'none';
  readonly size = 0;

  get(): unknown {
    return undefined;
  }

  set(): void {}

  getStale(): unknown {
    return undefined;
  }

  remainingTtl(): number {
    return 0;
  }

  delete(): void {}

  clear(): void {}
}
