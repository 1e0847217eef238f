import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { LOCAL_CACHE, type LocalCache } from '../../src';
import { MemoryLogger, startCache, type TestCache } from '../support/app';
import { ManualClock } from '../support/clock';
import { counting, flush, gatedLoader } from './support';

describe('refresh-ahead', () => {
  let clock: ManualClock;
  let logger: MemoryLogger;
  let c: TestCache;
  let l1: LocalCache;

  beforeEach(async () => {
    clock = new ManualClock();
    logger = new MemoryLogger();
    c = await startCache({ now: clock.now, jitter: 0, logger, ttl: 10_000, refreshAhead: 0.2 });
    l1 = c.app.get(LOCAL_CACHE);
  });

  afterEach(() => c.close());

  it('reloads a hot key once in the background near expiry, never blocking callers', async () => {
    await c.cache.getOrLoad('hot', () => 'v1');
    clock.advance(8500); // 1.5 s left of 10 s: inside the last 20 %
    const { loader, open } = gatedLoader(() => 'v2');

    const reads = await Promise.all(
      Array.from({ length: 20 }, () => c.cache.getOrLoad('hot', loader)),
    );
    assert.deepEqual(new Set(reads), new Set(['v1']), 'callers got the cached value at once');
    await flush();
    assert.equal(loader.calls, 1);
    open();
    await flush();

    assert.equal(await c.cache.getOrLoad('hot', loader), 'v2');
    assert.equal(loader.calls, 1);
    assert.equal(c.cache.stats().refreshes, 1);
    clock.advance(2000); // past the first value's expiry: the refreshed one is still live
    assert.equal(await c.cache.get('hot'), 'v2');
  });

  it('leaves keys alone outside the refresh window', async () => {
    await c.cache.getOrLoad('calm', () => 'v1');
    clock.advance(7000);
    const loader = counting(() => 'v2');

    assert.equal(await c.cache.getOrLoad('calm', loader), 'v1');
    await flush();
    assert.equal(loader.calls, 0);
  });

  it('refreshes from an L2 hit near expiry too', async () => {
    await c.cache.getOrLoad('l2-hit', () => 'v1');
    l1.delete('l2-hit');
    clock.advance(9000);
    const loader = counting(() => 'v2');

    assert.equal(await c.cache.getOrLoad('l2-hit', loader), 'v1');
    await flush();
    assert.equal(loader.calls, 1);
    assert.equal(await c.cache.get('l2-hit'), 'v2');
  });

  it('refills L1 from L2 without a load when only the L1 copy is near its end', async () => {
    const long = await startCache({
      now: clock.now,
      jitter: 0,
      logger,
      refreshAhead: 0.2,
      local: { ttl: 1000 },
      distributed: { driver: c.app.get('nest-im-cache:DISTRIBUTED_CACHE') },
    });
    try {
      await long.cache.getOrLoad('profile', () => 'v1', { ttl: '1h' });
      clock.advance(900);
      const loader = counting(() => 'v2');

      assert.equal(await long.cache.getOrLoad('profile', loader, { ttl: '1h' }), 'v1');
      await flush();
      clock.advance(500); // the first L1 copy would be gone by now
      const hits = long.cache.stats().l1.hits;
      assert.equal(await long.cache.getOrLoad('profile', loader, { ttl: '1h' }), 'v1');
      assert.equal(long.cache.stats().l1.hits, hits + 1, 'served from the refilled L1');
      assert.equal(loader.calls, 0);
    } finally {
      await long.close();
    }
  });

  it('keeps the cached value when the refresh fails, and logs it', async () => {
    await c.cache.getOrLoad('fragile', () => 'v1');
    clock.advance(9000);

    assert.equal(
      await c.cache.getOrLoad('fragile', () => Promise.reject(new Error('db hiccup'))),
      'v1',
    );
    await flush();
    assert.equal(await c.cache.get('fragile'), 'v1');
    assert.ok(
      logger.lines.some((l) => /refresh-ahead of "fragile" failed: db hiccup/.test(l.message)),
    );
  });

  it('an invalid per-call option on a hit neither throws nor refreshes', async () => {
    await c.cache.getOrLoad('bad-options', () => 'v1');
    clock.advance(9000);
    const loader = counting(() => 'v2');

    const read = c.cache.getOrLoad('bad-options', loader, { ttl: 'soon', refreshAhead: 0.5 });
    assert.equal(await read, 'v1');
    await flush();
    assert.equal(loader.calls, 0);
  });

  it('is off per call with refreshAhead: 0', async () => {
    await c.cache.getOrLoad('opt-out', () => 'v1');
    clock.advance(9000);
    const loader = counting(() => 'v2');

    await c.cache.getOrLoad('opt-out', loader, { refreshAhead: 0 });
    await flush();
    assert.equal(loader.calls, 0);
  });
});
