import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DISTRIBUTED_CACHE,
  LoaderTimeoutError,
  LockTimeoutError,
  type CacheModuleOptions,
} from '../../src';
import { MemoryDistributedCache } from '../../src/distributed/memory.distributed-cache';
import { RedisDistributedCache } from '../../src/distributed/redis/redis.distributed-cache';
import { LoadLock } from '../../src/protection/load-lock';
import type { ResolvedDistributedOptions } from '../../src/options/resolve-options';
import { MemoryLogger, startCache, type TestCache } from '../support/app';
import { ManualClock } from '../support/clock';
import { deleteKeys, globEscape, openRawRedis, type RawRedis } from '../support/redis-client';
import { startRedisServer, testRedisUrl, uniqueNamespace } from '../support/redis';
import { settleWithin } from '../support/timing';
import { failOnUnhandledRejections } from '../support/unhandled';
import { counting, FaultyL2, gatedLoader } from './support';

failOnUnhandledRejections();

/** Short, so a load of three leases stays under a second. */
const LEASE = 300;

/** The redis driver, counting the renewals it is asked for (only a lock owner asks). */
class CountingRedis extends RedisDistributedCache {
  renewals = 0;

  constructor(options: Record<string, unknown>) {
    super(options as unknown as ResolvedDistributedOptions);
  }

  override renewLock(key: string, token: string, lease: number): Promise<boolean> {
    this.renewals++;
    return super.renewLock(key, token, lease);
  }
}

/** The memory driver, counting the renewals it is asked for. */
class CountingMemory extends MemoryDistributedCache {
  renewals = 0;

  override renewLock(key: string, token: string, lease: number): Promise<boolean> {
    this.renewals++;
    return super.renewLock(key, token, lease);
  }
}

const renewalsOf = (c: TestCache) => (c.app.get(DISTRIBUTED_CACHE) as CountingRedis).renewals;

/** Polls `check` every 20 ms until it holds; fails after `bound` ms. */
async function eventually(check: () => Promise<boolean>, bound: number, what: string) {
  const until = Date.now() + bound;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`${what}: not within ${bound} ms`);
    await sleep(20);
  }
}

describe('lock lease renewal on Redis', () => {
  const namespace = uniqueNamespace('renew');
  const started: TestCache[] = [];
  let raw: RawRedis;
  let distributed: CacheModuleOptions['distributed'];

  /** One "instance": its own module on the same Redis and namespace. */
  const instance = async (extra: CacheModuleOptions = {}) => {
    const lock = { lease: LEASE, wait: '3s' };
    const c = await startCache({
      namespace,
      logger: new MemoryLogger(),
      distributed,
      lock,
      ...extra,
    });
    started.push(c);
    return c;
  };
  const lockKey = (key: string) => `${namespace}:lock:${key}`;
  const lockGone = (key: string) => async () => (await raw.exists(lockKey(key))) === 0;

  before(async () => {
    const url = await testRedisUrl();
    distributed = { driver: CountingRedis, url };
    raw = await openRawRedis(url);
  });

  after(async () => {
    for (const c of started) await c.close();
    await deleteKeys(raw, `${globEscape(namespace)}:*`);
    await raw.close();
  });

  it('a load of 3 leases keeps its lock: another instance waits and gets its value', async () => {
    const [a, b] = [await instance(), await instance()];
    const { loader, open } = gatedLoader(() => ({ from: 'A' }));
    setTimeout(open, 3 * LEASE);

    const loading = a.cache.getOrLoad('slow', loader);
    await sleep(LEASE + 100); // A's first lease has run out by now
    assert.ok((await raw.pTTL(lockKey('slow'))) > 0, 'the lock outlived its first lease');
    const other = counting(() => ({ from: 'B' }));
    const [fromA, fromB] = await Promise.all([loading, b.cache.getOrLoad('slow', other)]);

    assert.deepEqual([fromA, fromB], [{ from: 'A' }, { from: 'A' }]);
    assert.equal(loader.calls, 1);
    assert.equal(other.calls, 0, 'B did not run its loader');
    assert.equal(b.cache.stats().lock.waits, 1);
    assert.ok(renewalsOf(a) >= 2, `renewed ${renewalsOf(a)} times`);
    assert.deepEqual(
      { ...a.cache.stats().lock, renewals: a.cache.stats().lock.renewals >= 2 },
      { waits: 0, timeouts: 0, renewals: true, lost: 0 },
      'A counts its renewals',
    );
    await eventually(lockGone('slow'), 1000, 'lock released after the load');

    // The renewal ended with the load: no timer asks for one any more.
    const renewals = renewalsOf(a);
    await sleep(2 * LEASE);
    assert.equal(renewalsOf(a), renewals);
  });

  it("past lock.wait, B follows onTimeout: 'error' instead of loading", async () => {
    const a = await instance();
    const b = await instance({ lock: { lease: LEASE, wait: LEASE, onTimeout: 'error' } });
    const { loader, open } = gatedLoader(() => 'A');
    setTimeout(open, 3 * LEASE);

    const loading = a.cache.getOrLoad('slow-error', loader);
    await sleep(LEASE + 50);
    const other = counting(() => 'B');
    await assert.rejects(b.cache.getOrLoad('slow-error', other), LockTimeoutError);

    assert.equal(other.calls, 0, 'B did not take the lock of a load still running');
    assert.equal(await loading, 'A');
    await eventually(lockGone('slow-error'), 1000, 'lock released after the load');
  });

  it('the lease is not renewed after the loader fails', async () => {
    const a = await instance();
    const loader = async () => {
      await sleep(LEASE);
      throw new Error('database down');
    };

    await assert.rejects(a.cache.getOrLoad('failing', loader), /database down/);
    const renewals = renewalsOf(a);
    assert.ok(renewals >= 1, `renewed ${renewals} times while the loader ran`);
    await eventually(lockGone('failing'), 1000, 'lock released after the failure');
    await sleep(2 * LEASE);
    assert.equal(renewalsOf(a), renewals, 'no renewal after the failure');
  });

  it('renewal stops at the hard loader timeout: the lock then runs out', async () => {
    const a = await instance();
    const { loader, open } = gatedLoader(() => 'late');
    const hard = LEASE + 100;

    const loading = a.cache.getOrLoad('abandoned', loader, { loaderTimeout: { hard } });
    await assert.rejects(loading, LoaderTimeoutError);
    // The loader still runs, but its lock is no longer kept: it ends within one lease.
    await eventually(lockGone('abandoned'), LEASE + 500, 'lock expired after the timeout');
    const renewals = renewalsOf(a);
    await sleep(LEASE);
    assert.equal(renewalsOf(a), renewals, 'no renewal after the timeout');

    open();
    await eventually(
      async () => (await raw.exists(`${namespace}:c:abandoned`)) === 1,
      1000,
      'stored',
    );
  });

  it('module shutdown stops the renewals of loads still running', async () => {
    const a = await startCache({
      namespace,
      distributed,
      lock: { lease: LEASE },
      logger: new MemoryLogger(),
    });
    const { loader, open } = gatedLoader(() => 'value');

    const loading = a.cache.getOrLoad('at-shutdown', loader);
    await sleep(LEASE);
    const driver = a.app.get(DISTRIBUTED_CACHE) as CountingRedis;
    await a.close();
    const renewals = driver.renewals;
    await sleep(2 * LEASE);
    assert.equal(driver.renewals, renewals, 'no renewal after close');

    open();
    // The driver is closed: the load keeps its value in L1, and nothing hangs or leaks.
    assert.equal((await settleWithin(loading, 5000)).status, 'fulfilled');
  });
});

describe('lock lease renewal while Redis is down', () => {
  it('a failed renewal is counted and logged once, never thrown', async () => {
    const server = await startRedisServer();
    const logger = new MemoryLogger();
    const c = await startCache({
      namespace: uniqueNamespace('renew-down'),
      logger,
      lock: { lease: LEASE },
      distributed: { driver: 'redis', url: server.url, commandTimeout: 200 },
    });
    try {
      const { loader, open } = gatedLoader(() => 'loaded');
      const loading = c.cache.getOrLoad('k', loader);
      await sleep(50);
      await server.stop();
      await sleep(3 * LEASE); // several renewals fail meanwhile
      open();

      const outcome = await settleWithin(loading, 5000);
      assert.deepEqual([outcome.status, outcome.value], ['fulfilled', 'loaded']);
      const lines = logger.lines.filter((line) => line.message.includes('renewLock'));
      assert.equal(lines.length, 1, JSON.stringify(logger.lines));
      assert.ok(c.cache.stats().l2.errors >= 3, `l2 errors: ${c.cache.stats().l2.errors}`);
    } finally {
      await c.close();
      await server.stop();
    }
  });
});

describe('lock lease renewal: the lock itself', () => {
  // Expiry follows a manual clock, so a stalled event loop cannot make a lease run out.
  const settings = { lease: 60, wait: 1000, onTimeout: 'load' as const };
  const quiet = {
    renewed: () => undefined,
    failed: () => assert.fail('no failure expected'),
    lost: () => undefined,
  };

  it('keeps a lock past its lease until stopped, and reports a lost lock', async () => {
    const clock = new ManualClock();
    const l2 = new CountingMemory({ maxEntries: 100 }, clock.now);
    const lock = LoadLock.over(l2, settings, 'ns:') as LoadLock;
    const token = (await lock.tryAcquire('k')) as string;

    const renewal = lock.keep('k', token, Infinity, quiet);
    clock.advance(settings.lease / 2);
    await eventually(async () => l2.renewals > 0, 2000, 'a renewal');
    clock.advance(settings.lease / 2 + 1);
    assert.equal(await l2.get('ns:lock:k'), token, 'held past its first lease');
    renewal.stop();
    assert.equal(lock.renewing, 0);
    const renewals = l2.renewals;
    await sleep(settings.lease);
    assert.equal(l2.renewals, renewals, 'no renewal once stopped');
    clock.advance(settings.lease);
    assert.equal(await l2.get('ns:lock:k'), undefined, 'expired once renewal stopped');

    // Someone else's lock under the same key: the renewal finds out and stops.
    let lost = 0;
    await l2.acquireLock('ns:lock:k2', 'theirs', 10_000);
    lock.keep('k2', 'mine', Infinity, { ...quiet, lost: () => lost++ });
    await eventually(async () => lost === 1, 2000, 'lost reported');
    assert.equal(lock.renewing, 0);
  });

  it('close() stops every renewal and starts no more', async () => {
    const lock = LoadLock.over(new MemoryDistributedCache({ maxEntries: 10 }), settings, 'ns:');
    const token = (await lock?.tryAcquire('k')) as string;
    lock?.keep('k', token, Infinity, quiet);
    assert.equal(lock?.renewing, 1);
    lock?.close();
    assert.equal(lock?.renewing, 0);
    lock?.keep('k', token, Infinity, quiet);
    assert.equal(lock?.renewing, 0);
  });

  it('a renewal under way does not keep the process alive', () => {
    const src = resolve(__dirname, '../../src');
    const script = `
      const { LoadLock } = require(${JSON.stringify(`${src}/protection/load-lock`)});
      const memory = require(${JSON.stringify(`${src}/distributed/memory.distributed-cache`)});
      // A clock that stands still: the lock never expires, the renewal never stops by itself.
      const l2 = new memory.MemoryDistributedCache({ maxEntries: 10 }, () => 0);
      const lock = LoadLock.over(l2, { lease: 30, wait: 100, onTimeout: 'load' }, 'ns:');
      lock.tryAcquire('k').then((token) => {
        lock.keep('k', token, Infinity, { renewed() {}, failed() {}, lost() {} });
        setTimeout(() => process.stdout.write(String(lock.renewing)), 100);
      });`;
    const child = spawnSync(process.execPath, ['-e', script], { timeout: 5000 });

    assert.equal(child.signal, null, 'the process exited by itself');
    assert.equal(child.stdout.toString(), '1', child.stderr.toString());
  });

  it('a driver without renewLock keeps the old behaviour: the lease runs out', async () => {
    const l2 = new FaultyL2(Date.now);
    const lock = { lease: 100, wait: '2s' };
    const [a, b] = [
      await startCache({ lock, distributed: { driver: l2 } }),
      await startCache({ lock, distributed: { driver: l2 } }),
    ];
    try {
      const { loader, open } = gatedLoader(() => 'A');
      setTimeout(open, 300);
      const loading = a.cache.getOrLoad('k', loader);
      await sleep(150);
      const other = counting(() => 'B');
      assert.equal(await b.cache.getOrLoad('k', other), 'B');
      assert.equal(other.calls, 1, 'B loaded once the lease ran out');
      await loading;
    } finally {
      await a.close();
      await b.close();
    }
  });
});
