import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { scanKeys, globEscape } from '../support/redis-client';
import { uniqueNamespace } from '../support/redis';
import { COMBOS, rawRedis, startCombo, type ComboCache } from './matrix';

const ODD_KEYS = ['*', '?', '[a-z]', ':', '::', '..', '../other', 'a:b:c', '{slot}x', ' ', '用户'];

for (const combo of COMBOS) {
  describe(`ImCacheService namespaces: ${combo.label}`, () => {
    let a: ComboCache;
    let b: ComboCache;

    before(async () => {
      const base = uniqueNamespace('ns');
      a = await startCombo(combo, { namespace: `${base}-a` });
      // The same L2 under another namespace: the same Redis, or the very same memory driver.
      const shared = combo.distributed === 'memory' ? { distributed: { driver: a.l2 } } : {};
      b = await startCombo(combo, { namespace: `${base}-b`, ...shared });
    });

    after(async () => {
      await b.close();
      await a.close();
    });

    it("two namespaces on one L2 do not see or delete each other's keys", async () => {
      await a.cache.set('shared-name', 'from a');
      assert.equal(await b.cache.get('shared-name'), undefined);

      await b.cache.set('shared-name', 'from b');
      await b.cache.delete('shared-name');
      a.l1.delete('shared-name');

      assert.equal(await a.cache.get('shared-name'), 'from a');
      assert.equal(await b.cache.get('shared-name'), undefined);
    });

    it('keys with glob and path characters are literal keys of their own namespace', async () => {
      for (const [i, key] of ODD_KEYS.entries()) await a.cache.set(key, i);

      for (const [i, key] of ODD_KEYS.entries()) {
        a.l1.delete(key);
        assert.equal(await a.cache.get(key), i, key);
        assert.equal(await b.cache.get(key), undefined, key);
        assert.equal((await a.l2.get(a.l2Key(key))) !== undefined, true, key);
      }
      await b.cache.delete(ODD_KEYS);
      a.l1.clear();
      assert.deepEqual(
        await a.cache.getMany(ODD_KEYS),
        ODD_KEYS.map((_, i) => i),
      );

      await a.cache.delete(['*', '..']);
      assert.deepEqual(await a.cache.getMany(['*', '..', '?']), [undefined, undefined, 1]);
    });

    if (combo.distributed === 'redis') {
      it('every Redis key it writes starts with "<namespace>:c:"', async () => {
        for (const key of ODD_KEYS) await a.cache.set(key, key);
        const redis = await rawRedis();

        const written = await scanKeys(redis, `${globEscape(a.namespace)}*`);

        assert.ok(written.length >= ODD_KEYS.length);
        for (const key of written) assert.ok(key.startsWith(`${a.namespace}:c:`), key);
        for (const key of ODD_KEYS) {
          assert.equal(await redis.exists(`${a.namespace}:c:${key}`), 1, key);
        }
      });
    }
  });
}
