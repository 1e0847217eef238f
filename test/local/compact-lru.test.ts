import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompactLru, MAX_LRU_TTL, type CompactLruSettings } from '../../src/local/compact-lru';
import { ManualClock } from '../support/clock';

const MINUTE = 60_000;

function lru(settings: Partial<CompactLruSettings> = {}): CompactLru<string> {
  return new CompactLru<string>({ maxEntries: 1000, maxBytes: 0, now: Date.now, ...settings });
}

/**
 * The order in which live `keys` leave a full cache as new keys arrive, read without touching
 * recency (`remainingTtl` does not refresh it).
 */
function evictionOrder(cache: CompactLru<string>, keys: string[]): string[] {
  const order: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    cache.set(`probe${i}`, 'p', MINUTE, 1);
    const gone = keys.filter((key) => !order.includes(key) && cache.remainingTtl(key) === 0);
    assert.equal(gone.length, 1, `one eviction per insert, got ${gone.join()}`);
    order.push(gone[0]);
  }
  return order;
}

describe('CompactLru', () => {
  describe('eviction', () => {
    it('evicts in least-recently-used order, counting get and set as uses', () => {
      const cache = lru({ maxEntries: 4 });
      for (const key of ['a', 'b', 'c', 'd']) cache.set(key, key, MINUTE, 1);
      cache.get('a');
      cache.set('b', 'b2', MINUTE, 1);

      assert.deepEqual(evictionOrder(cache, ['a', 'b', 'c', 'd']), ['c', 'd', 'a', 'b']);
    });

    it('does not refresh recency on a miss or on reading an expired entry', () => {
      const clock = new ManualClock();
      const cache = lru({ maxEntries: 3, now: clock.now });
      cache.set('old', 'o', 10, 1);
      cache.set('b', 'b', MINUTE, 1);
      cache.set('c', 'c', MINUTE, 1);
      clock.advance(20);

      assert.equal(cache.get('old'), undefined);
      assert.equal(cache.getStale('old', MINUTE), 'o');
      cache.set('d', 'd', MINUTE, 1);

      assert.equal(cache.getStale('old', MINUTE), undefined, 'still the least recently used');
      assert.deepEqual([cache.get('b'), cache.get('c'), cache.get('d')], ['b', 'c', 'd']);
    });

    it('keeps the byte bound, evicting as many as needed, and tracks the bytes held', () => {
      const cache = lru({ maxEntries: 100, maxBytes: 100 });
      for (let i = 0; i < 10; i++) cache.set(`k${i}`, 'v', MINUTE, 10);
      assert.equal(cache.bytes, 100);

      cache.set('big', 'b', MINUTE, 35);

      assert.equal(cache.bytes, 95);
      assert.equal(cache.size, 7);
      for (const key of ['k0', 'k1', 'k2', 'k3']) assert.equal(cache.get(key), undefined, key);
      assert.equal(cache.get('k4'), 'v');
    });

    it('recounts the bytes of a replaced entry and counts a size below 1 as 1', () => {
      const cache = lru({ maxEntries: 100, maxBytes: 100 });
      cache.set('a', 'a', MINUTE, 60);
      cache.set('a', 'a2', MINUTE, 20);
      cache.set('b', 'b', MINUTE, 0);
      cache.set('c', 'c', MINUTE, -5);

      assert.equal(cache.bytes, 22);
      cache.delete('a');
      assert.equal(cache.bytes, 2);
    });

    it('drops an entry heavier than maxBytes, and the old value of its key', () => {
      const cache = lru({ maxEntries: 100, maxBytes: 100 });
      cache.set('a', 'a', MINUTE, 10);
      cache.set('a', 'huge', MINUTE, 101);

      assert.equal(cache.get('a'), undefined);
      assert.equal(cache.size, 0);
      assert.equal(cache.bytes, 0);
    });

    it('ignores sizes without a byte bound', () => {
      const cache = lru({ maxEntries: 5, maxBytes: 0 });
      for (let i = 0; i < 5; i++) cache.set(`k${i}`, 'v', MINUTE, 2 ** 40);

      assert.equal(cache.size, 5);
      assert.equal(cache.bytes, 0);
    });
  });

  describe('slots', () => {
    it('reuses the slots of deleted entries instead of growing', () => {
      const cache = lru({ maxEntries: 10_000 });
      for (let i = 0; i < 64; i++) cache.set(`k${i}`, 'v', MINUTE, 1);
      const capacity = cache.capacity;

      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 32; i++) cache.delete(`k${i}`);
        for (let i = 0; i < 32; i++) cache.set(`k${i}`, `r${round}`, MINUTE, 1);
      }

      assert.equal(cache.capacity, capacity);
      assert.equal(cache.size, 64);
      assert.equal(cache.get('k0'), 'r19');
      assert.equal(cache.get('k63'), 'v');
    });

    it('starts small, doubles as entries arrive, and stops at maxEntries', () => {
      const cache = lru({ maxEntries: 1000, maxBytes: 1_000_000 });
      const initial = cache.capacity;
      assert.ok(initial > 0 && initial < 1000, `initial capacity ${initial}`);

      for (let i = 0; i < initial + 1; i++) cache.set(`k${i}`, `v${i}`, MINUTE, 3);
      assert.equal(cache.capacity, initial * 2);

      for (let i = 0; i < 5000; i++) cache.set(`k${i}`, `v${i}`, MINUTE, 3);
      assert.equal(cache.capacity, 1000);
      assert.equal(cache.size, 1000);
      assert.equal(cache.bytes, 3000);
    });

    it('keeps every entry, its order, TTL and size across growth', () => {
      const clock = new ManualClock();
      const cache = lru({ maxEntries: 500, maxBytes: 100_000, now: clock.now });
      for (let i = 0; i < 300; i++) cache.set(`k${i}`, `v${i}`, 1000 + i, i + 1);

      for (let i = 0; i < 300; i++) {
        assert.equal(cache.getStale(`k${i}`, 0), `v${i}`);
        assert.equal(cache.remainingTtl(`k${i}`), 1000 + i);
      }
      assert.equal(cache.bytes, (300 * 301) / 2);
    });

    it('clear empties the cache, shrinks it back and leaves it usable', () => {
      const cache = lru({ maxEntries: 10_000, maxBytes: 1_000_000 });
      const initial = cache.capacity;
      for (let i = 0; i < 1000; i++) cache.set(`k${i}`, 'v', MINUTE, 10);

      cache.clear();

      assert.equal(cache.size, 0);
      assert.equal(cache.bytes, 0);
      assert.equal(cache.capacity, initial);
      assert.equal(cache.get('k0'), undefined);

      for (let i = 0; i < 100; i++) cache.set(`n${i}`, `v${i}`, MINUTE, 10);
      assert.equal(cache.bytes, 1000);
      assert.equal(cache.get('n99'), 'v99');
      assert.equal(cache.get('k99'), undefined);
    });
  });

  describe('expiry', () => {
    it('serves an entry until its TTL has passed, and reports what remains', () => {
      const clock = new ManualClock();
      const cache = lru({ now: clock.now });
      cache.set('a', 'v', 1000, 1);

      clock.advance(999);
      assert.equal(cache.get('a'), 'v');
      assert.equal(cache.remainingTtl('a'), 1);

      clock.advance(1);
      assert.equal(cache.get('a'), undefined);
      assert.equal(cache.remainingTtl('a'), 0);
      assert.equal(cache.size, 1, 'kept for getStale');
    });

    it('serves a stale entry only within the staleness window', () => {
      const clock = new ManualClock();
      const cache = lru({ now: clock.now });
      cache.set('a', 'v', 1000, 1);

      clock.advance(1000 + 2999);
      assert.equal(cache.getStale('a', 3000), 'v');
      assert.equal(cache.getStale('a', 2999), undefined);

      clock.advance(1);
      assert.equal(cache.getStale('a', 3000), undefined);
      assert.equal(cache.getStale('missing', 3000), undefined);
    });

    it('stores an entry with a TTL of 0 or less as already expired', () => {
      const clock = new ManualClock();
      const cache = lru({ now: clock.now });
      cache.set('zero', 'z', 0, 1);
      cache.set('negative', 'n', -10, 1);

      assert.equal(cache.get('zero'), undefined);
      assert.equal(cache.get('negative'), undefined);
      assert.equal(cache.getStale('zero', 10), 'z');
    });

    it('clamps a TTL beyond the int32 range to MAX_LRU_TTL', () => {
      const clock = new ManualClock();
      const cache = lru({ now: clock.now });
      cache.set('a', 'v', Number.MAX_SAFE_INTEGER, 1);

      assert.equal(cache.remainingTtl('a'), MAX_LRU_TTL);
    });

    it('keeps expiries right when the clock runs past the int32 range of offsets', () => {
      const clock = new ManualClock();
      const cache = lru({ now: clock.now });
      cache.set('long', 'l', MAX_LRU_TTL, 1);
      cache.set('short', 's', 1000, 1);

      // Beyond 2^31 ms from construction, where a plain int32 offset would wrap.
      for (let step = 0; step < 5; step++) {
        clock.advance(MAX_LRU_TTL - 1);
        cache.set(`k${step}`, 'v', MAX_LRU_TTL, 1);
      }

      assert.equal(cache.get('long'), undefined);
      assert.equal(cache.remainingTtl('k4'), MAX_LRU_TTL);
      assert.equal(cache.remainingTtl('k3'), 1);
      assert.equal(cache.getStale('short', 2 ** 40), 's', 'expired long ago, in a wide window');
      assert.equal(cache.getStale('short', 2 ** 30), undefined);
      clock.advance(1);
      assert.equal(cache.get('k3'), undefined);
      assert.equal(cache.getStale('k3', 10), 'v');

      clock.advance(MAX_LRU_TTL);
      assert.equal(cache.get('k4'), undefined, 'a get is the first call after the base moves');
      assert.equal(cache.getStale('k4', 10), 'v');
    });

    it('reads the clock once per call', () => {
      let reads = 0;
      const clock = new ManualClock();
      const cache = lru({
        now: () => {
          reads++;
          return clock.now();
        },
      });
      cache.set('a', 'v', MINUTE, 1);
      reads = 0;

      cache.get('a');
      cache.getStale('a', 10);
      cache.remainingTtl('a');
      cache.set('b', 'v', MINUTE, 1);

      assert.equal(reads, 4);
    });
  });
});
