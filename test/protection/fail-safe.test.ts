import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { LOCAL_CACHE, LoaderTimeoutError, type LocalCache } from '../../src';
import { MemoryLogger, startCache, type TestCache } from '../support/app';
import { ManualClock } from '../support/clock';
import { openRawRedis } from '../support/redis-client';
import { testRedisUrl, uniqueNamespace } from '../support/redis';
import { counting, FaultyL2, flush, gatedLoader } from './support';

const failing = () => Promise.reject(new Error('database down'));

describe('fail-safe: stale copies within grace', () => {
  let clock: ManualClock;
  let l2: FaultyL2;
  let c: TestCache;
  let l1: LocalCache;

  beforeEach(async () => {
    clock = new ManualClock();
    l2 = new FaultyL2(clock.now);
    c = await startCache({
      now: clock.now,
      jitter: 0,
      logger: new MemoryLogger(),
      distributed: { driver: l2 },
      failSafe: { grace: '1m', backoff: '5s' },
    });
    l1 = c.app.get(LOCAL_CACHE);
  });

  afterEach(() => c.close());

  it('serves the stale L2 copy when the loader fails after the TTL', async () => {
    await c.cache.set('user:1', { name: 'ann' }, { ttl: 1000 });
    l1.delete('user:1');
    clock.advance(30_000);

    assert.deepEqual(await c.cache.getOrLoad('user:1', failing), { name: 'ann' });
    assert.equal(c.cache.stats().staleServed, 1);
    assert.equal(c.cache.stats().loadErrors, 1);
  });

  it('serves the stale L1 copy when L2 is down and the loader fails', async () => {
    await c.cache.set('user:2', { name: 'bob' }, { ttl: 1000 });
    clock.advance(30_000);
    l2.failing = true;

    assert.deepEqual(await c.cache.getOrLoad('user:2', failing), { name: 'bob' });
    assert.deepEqual(await c.cache.get('user:2'), { name: 'bob' }, 'plain reads too');
    assert.equal(c.cache.stats().staleServed, 2);
  });

  it('does not serve a copy past its grace period', async () => {
    await c.cache.set('user:3', 'old', { ttl: 1000 });
    clock.advance(1000 + 60_001);

    await assert.rejects(c.cache.getOrLoad('user:3', failing), /database down/);
    assert.equal(c.cache.stats().staleServed, 0);
  });

  it('prefers a fresh load over the stale copy', async () => {
    await c.cache.set('user:4', 'old', { ttl: 1000 });
    clock.advance(5000);

    assert.equal(await c.cache.getOrLoad('user:4', () => 'new'), 'new');
    assert.equal(c.cache.stats().staleServed, 0);
  });

  it('backs off: misses right after a failure get the stale copy, no loader call', async () => {
    await c.cache.set('user:5', 'old', { ttl: 1000 });
    clock.advance(5000);
    const loader = counting(failing);

    assert.equal(await c.cache.getOrLoad('user:5', loader), 'old');
    assert.equal(await c.cache.getOrLoad('user:5', loader), 'old');
    assert.equal(loader.calls, 1);
    clock.advance(5000);
    assert.equal(await c.cache.getOrLoad('user:5', loader), 'old');
    assert.equal(loader.calls, 2, 'tried again once the backoff passed');
  });

  it('a per-call grace overrides the module one', async () => {
    await c.cache.set('user:6', 'old', { ttl: 1000 });
    clock.advance(3000);

    await assert.rejects(c.cache.getOrLoad('user:6', failing, { grace: 1000 }), /database down/);
    assert.equal(await c.cache.getOrLoad('user:6', failing, { grace: 5000 }), 'old');
  });
});

describe('fail-safe: loader timeouts', () => {
  let clock: ManualClock;
  let c: TestCache;

  beforeEach(async () => {
    clock = new ManualClock();
    c = await startCache({
      now: clock.now,
      jitter: 0,
      logger: new MemoryLogger(),
      failSafe: { grace: '1m' },
      loaderTimeout: { soft: 30, hard: 200 },
    });
  });

  afterEach(() => c.close());

  it('soft timeout: serves the stale copy and finishes the load in the background', async () => {
    await c.cache.set('slow', 'old', { ttl: 1000 });
    clock.advance(2000);
    const { loader, open } = gatedLoader(() => 'new');

    assert.equal(await c.cache.getOrLoad('slow', loader), 'old');
    assert.equal(await c.cache.getOrLoad('slow', loader), 'old', 'no wait while it runs');
    assert.equal(loader.calls, 1);
    open();
    await flush();

    assert.equal(await c.cache.get('slow'), 'new');
    assert.equal(c.cache.stats().loadTimeouts, 1);
  });

  it('ignores the soft timeout when there is no stale copy', async () => {
    const { loader, open } = gatedLoader(() => 'first');
    const pending = c.cache.getOrLoad('cold', loader);
    setTimeout(open, 60);

    assert.equal(await pending, 'first');
    assert.equal(c.cache.stats().loadTimeouts, 0);
  });

  it('hard timeout: a typed error without a stale copy; the value is stored later', async () => {
    const { loader, open } = gatedLoader(() => 'late');

    await assert.rejects(
      c.cache.getOrLoad('stuck', loader),
      (error) =>
        error instanceof LoaderTimeoutError &&
        error.code === 'E_LOADER_TIMEOUT' &&
        error.key === 'stuck' &&
        error.timeout === 200,
    );
    open();
    await flush();
    assert.equal(await c.cache.get('stuck'), 'late');
  });

  it('hard timeout with a stale copy serves the copy', async () => {
    await c.cache.set('stuck-stale', 'old', { ttl: 1000 });
    clock.advance(2000);
    const { loader, open } = gatedLoader(() => 'late');

    const value = await c.cache.getOrLoad('stuck-stale', loader, {
      loaderTimeout: { soft: 0, hard: 40 },
    });
    assert.equal(value, 'old');
    open();
  });
});

describe('fail-safe: L2 keeps entries for ttl + grace (Redis)', () => {
  it('sets the physical Redis TTL to ttl + grace, the logical one to ttl', async () => {
    const url = await testRedisUrl();
    const namespace = uniqueNamespace('grace');
    const c = await startCache({
      namespace,
      jitter: 0,
      failSafe: { grace: '1m' },
      distributed: { driver: 'redis', url },
    });
    const raw = await openRawRedis(url);
    try {
      const before = Date.now();
      await c.cache.set('a', 1, { ttl: 10_000 });
      await c.cache.getOrLoad('b', () => 2, { ttl: 10_000 });

      for (const key of ['a', 'b']) {
        const pttl = await raw.pTTL(`${namespace}:c:${key}`);
        assert.ok(pttl > 60_000 && pttl <= 70_000, `PTTL of ${key}: ${pttl}`);
        const expiresAt = Number(String(await raw.get(`${namespace}:c:${key}`)).split('|')[0]);
        assert.ok(expiresAt >= before + 10_000 && expiresAt <= Date.now() + 10_000);
      }
      await raw.del([`${namespace}:c:a`, `${namespace}:c:b`]);
    } finally {
      await raw.close();
      await c.close();
    }
  });
});
