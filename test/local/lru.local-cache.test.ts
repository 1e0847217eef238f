import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LruLocalCache } from '../../src/local/lru.local-cache';
import { ManualClock } from '../support/clock';

describe('LruLocalCache', () => {
  it('expires entries on the real clock (Date.now, the default)', async () => {
    const cache = new LruLocalCache({ maxEntries: 10, maxBytes: 1000, now: Date.now });
    cache.set('short', 's', 30, 1);
    cache.set('long', 'l', 60_000, 1);
    assert.equal(cache.get('short'), 's');
    assert.ok(cache.remainingTtl('short') > 0 && cache.remainingTtl('short') <= 30);

    await sleep(80);

    assert.equal(cache.get('short'), undefined);
    assert.equal(cache.remainingTtl('short'), 0);
    assert.equal(cache.getStale('short', 60_000), 's', 'kept as a stale copy');
    assert.equal(cache.getStale('short', 1), undefined, 'past a 1 ms staleness window');
    assert.equal(cache.get('long'), 'l');
  });

  it('keeps expired entries within the entry bound, and drops them in LRU order', () => {
    const clock = new ManualClock();
    const cache = new LruLocalCache({ maxEntries: 3, maxBytes: 0, now: clock.now });
    cache.set('a', 'a', 60_000, 1);
    cache.set('b', 'b', 60_000, 1);
    cache.set('expired', 'x', 100, 1); // the most recently used, and soon expired
    clock.advance(200);

    cache.set('d', 'd', 60_000, 1);

    assert.equal(cache.size, 3);
    assert.equal(cache.get('a'), undefined, 'the least recently used went first');
    assert.equal(cache.getStale('expired', 60_000), 'x');
    assert.deepEqual([cache.get('b'), cache.get('d')], ['b', 'd']);
  });

  it('counts a size of 0 or less as 1 byte', () => {
    const cache = new LruLocalCache({ maxEntries: 100, maxBytes: 3, now: Date.now });
    for (const key of ['a', 'b', 'c', 'd']) cache.set(key, key, 60_000, 0);

    assert.equal(cache.size, 3);
    assert.equal(cache.get('a'), undefined);
  });

  it('reads a replaced clock on every call, to the millisecond', () => {
    const clock = new ManualClock();
    const cache = new LruLocalCache({ maxEntries: 10, maxBytes: 0, now: clock.now });
    cache.set('k', 'v', 10, 1);

    for (let i = 0; i < 10; i++) {
      assert.equal(cache.remainingTtl('k'), 10 - i);
      clock.advance(1);
    }
    clock.advance(1);
    assert.equal(cache.get('k'), undefined);
  });
});
