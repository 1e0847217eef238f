import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { COMBOS, startCombo, type ComboCache } from './matrix';

for (const combo of COMBOS) {
  describe(`ImCacheService getMany and stats: ${combo.label}`, () => {
    let c: ComboCache;

    beforeEach(async () => {
      c = await startCombo(combo, { jitter: 0 });
    });

    afterEach(() => c.close());

    it('getMany mixes L1 hits, L2 hits and misses, in order, and fills L1', async () => {
      await c.cache.set('a', 1);
      await c.cache.set('b', { two: 2 });
      await c.cache.set('c', [3]);
      c.l1.delete('c');

      const values = await c.cache.getMany(['a', 'c', 'missing', 'b', 'c']);

      assert.deepEqual(values, [1, [3], undefined, { two: 2 }, [3]]);
      assert.deepEqual(await c.cache.getMany([]), []);
      assert.equal(c.l1.get('c') !== undefined, combo.local === 'lru', 'L2 hit filled L1');
      assert.equal(c.l1.get('missing'), undefined);
    });

    it('counts hits and misses per level, loads, negative hits and errors', async () => {
      await c.cache.set('a', 1);
      await c.cache.set('b', 2);
      await c.cache.set('c', 3);
      c.l1.delete('c');
      await c.cache.getMany(['a', 'c', 'missing', 'b', 'c']);
      await c.cache.get('c');
      await c.cache.getOrLoad('n', () => null);
      await c.cache.getOrLoad('n', () => 'not called');
      await c.cache.getOrLoad('e', () => Promise.reject(new Error('boom'))).catch(() => 0);

      const expected =
        combo.local === 'lru'
          ? { l1: { hits: 4, misses: 5, size: 4 }, l2: { hits: 2, misses: 3, errors: 0 } }
          : { l1: { hits: 0, misses: 9, size: 0 }, l2: { hits: 6, misses: 3, errors: 0 } };
      // The protection and coherence counters have their own tests.
      const { l1, l2, loads, loadErrors, negativeHits, errors } = c.cache.stats();
      const { skipped, ...l2Counts } = l2;
      assert.equal(skipped, 0);
      assert.deepEqual(
        { l1, l2: l2Counts, loads, loadErrors, negativeHits, errors },
        {
          ...expected,
          loads: 2,
          loadErrors: 1,
          negativeHits: 1,
          errors: 1,
        },
      );
    });

    it('returns a snapshot, not live counters', async () => {
      const before = c.cache.stats();
      await c.cache.get('nothing');

      assert.equal(before.l2.misses, 0);
      assert.equal(c.cache.stats().l2.misses, 1);
    });
  });
}
