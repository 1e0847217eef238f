import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DISTRIBUTED_CACHE,
  LockTimeoutError,
  type CacheModuleOptions,
  type DistributedCache,
} from '../../src';
import { MemoryDistributedCache } from '../../src/distributed/memory.distributed-cache';
import { MemoryLogger, startCache, type TestCache } from '../support/app';
import { deleteKeys, globEscape, openRawRedis } from '../support/redis-client';
import { testRedisUrl, uniqueNamespace } from '../support/redis';
import { counting, gatedLoader } from './support';

const CALLERS = 50;

for (const driver of ['memory', 'redis'] as const) {
  describe(`cross-instance lock in-process: ${driver}`, () => {
    const namespace = uniqueNamespace(`lock-${driver}`);
    const started: TestCache[] = [];
    let distributed: CacheModuleOptions['distributed'];
    let l2: DistributedCache;

    /** Another "instance": its own module on the same L2 and namespace. */
    const instance = async (extra: CacheModuleOptions = {}) => {
      const c = await startCache({ namespace, logger: new MemoryLogger(), distributed, ...extra });
      started.push(c);
      return c;
    };
    const lockKey = (key: string) => `${namespace}:lock:${key}`;

    before(async () => {
      distributed =
        driver === 'memory'
          ? { driver: new MemoryDistributedCache({ maxEntries: 1000 }) }
          : { driver: 'redis', url: await testRedisUrl() };
      const first = await instance();
      l2 = first.app.get(DISTRIBUTED_CACHE);
    });

    after(async () => {
      for (const c of started) await c.close();
      if (driver === 'redis') {
        const raw = await openRawRedis(await testRedisUrl());
        await deleteKeys(raw, `${globEscape(namespace)}:*`);
        await raw.close();
      }
    });

    it('two instances missing one key together run its loader once', async () => {
      const [a, b] = [started[0], await instance()];
      const { loader, open } = gatedLoader(() => ({ id: 'shared' }));

      const pending = [a, b].flatMap((c) =>
        Array.from({ length: CALLERS }, () => c.cache.getOrLoad('shared', loader)),
      );
      setTimeout(open, 50);
      const values = await Promise.all(pending);

      assert.equal(loader.calls, 1);
      assert.deepEqual(new Set(values.map((v) => JSON.stringify(v))), new Set(['{"id":"shared"}']));
      assert.equal(a.cache.stats().lock.waits + b.cache.stats().lock.waits, 1);
      assert.equal(await l2.acquireLock!(lockKey('shared'), 'probe', 1000), true, 'released');
      await l2.releaseLock!(lockKey('shared'), 'probe');
    });

    it('only the owner token releases a lock', async () => {
      assert.equal(await l2.acquireLock!(lockKey('owned'), 'mine', 10_000), true);
      assert.equal(await l2.acquireLock!(lockKey('owned'), 'theirs', 10_000), false);
      assert.equal(await l2.releaseLock!(lockKey('owned'), 'theirs'), false);
      assert.equal(await l2.releaseLock!(lockKey('owned'), 'mine'), true);
      assert.equal(await l2.releaseLock!(lockKey('owned'), 'mine'), false);
    });

    it('only the owner token renews a lock, for a whole new lease', async () => {
      assert.equal(await l2.acquireLock!(lockKey('renewed'), 'mine', 200), true);
      assert.equal(await l2.renewLock!(lockKey('renewed'), 'theirs', 10_000), false);
      assert.equal(await l2.renewLock!(lockKey('renewed'), 'mine', 10_000), true);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(await l2.acquireLock!(lockKey('renewed'), 'theirs', 1000), false, 'renewed');
      assert.equal(await l2.releaseLock!(lockKey('renewed'), 'mine'), true);
      assert.equal(await l2.renewLock!(lockKey('renewed'), 'mine', 10_000), false, 'released');
      assert.equal((await l2.get(lockKey('renewed'))) ?? undefined, undefined, 'not recreated');
    });

    it("past lock.wait, onTimeout: 'error' fails with LockTimeoutError", async () => {
      const c = await instance({ lock: { wait: 100, onTimeout: 'error' } });
      await l2.acquireLock!(lockKey('held'), 'someone-else', 10_000);
      const loader = counting(() => 'loaded');

      await assert.rejects(
        c.cache.getOrLoad('held', loader),
        (error) => error instanceof LockTimeoutError && error.key === 'held' && error.waited >= 100,
      );
      assert.equal(loader.calls, 0);
      assert.deepEqual(c.cache.stats().lock, { waits: 1, timeouts: 1, renewals: 0, lost: 0 });
    });

    it("past lock.wait, onTimeout: 'load' loads anyway", async () => {
      const c = await instance({ lock: { wait: 100 } });
      await l2.acquireLock!(lockKey('held-load'), 'someone-else', 10_000);

      assert.equal(await c.cache.getOrLoad('held-load', () => 'loaded'), 'loaded');
      assert.equal(c.cache.stats().lock.timeouts, 1);
    });

    it('past lock.wait, a stale copy within grace is served first', async () => {
      const c = await instance({
        lock: { wait: 50, onTimeout: 'error' },
        failSafe: { grace: '1m' },
      });
      await c.cache.set('held-stale', 'old', { ttl: 1 });
      await new Promise((resolve) => setTimeout(resolve, 10));
      await l2.acquireLock!(lockKey('held-stale'), 'someone-else', 10_000);

      assert.equal(await c.cache.getOrLoad('held-stale', () => 'new'), 'old');
      assert.equal(c.cache.stats().staleServed, 1);
    });

    it('a waiter takes the value the owner stored', async () => {
      const c = await instance({ lock: { wait: '5s' } });
      await l2.acquireLock!(lockKey('handed-over'), 'owner', 10_000);
      const loader = counting(() => 'waiter loaded');

      const waiting = c.cache.getOrLoad('handed-over', loader);
      setTimeout(async () => {
        await started[0].cache.set('handed-over', 'owner loaded');
        await l2.releaseLock!(lockKey('handed-over'), 'owner');
      }, 50);

      assert.equal(await waiting, 'owner loaded');
      assert.equal(loader.calls, 0);
    });

    it('lock: false per call skips the lock', async () => {
      const c = await instance({ lock: { wait: '5s', onTimeout: 'error' } });
      await l2.acquireLock!(lockKey('bypass'), 'someone-else', 10_000);

      assert.equal(await c.cache.getOrLoad('bypass', () => 'loaded', { lock: false }), 'loaded');
      assert.equal(c.cache.stats().lock.waits, 0);
    });
  });
}

describe('cross-instance lock: drivers without lock support', () => {
  it('the keyv driver loads without the lock', async () => {
    const c = await startCache({ distributed: { driver: 'keyv', store: new Map() } });
    try {
      assert.equal(await c.cache.getOrLoad('k', () => 'loaded'), 'loaded');
      assert.deepEqual(c.cache.stats().lock, { waits: 0, timeouts: 0, renewals: 0, lost: 0 });
    } finally {
      await c.close();
    }
  });
});
