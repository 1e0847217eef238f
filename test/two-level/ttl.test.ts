import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../support/clock';
import { COMBOS, expiryOfEntry, rawRedis, startCombo, type ComboCache } from './matrix';

for (const combo of COMBOS) {
  describe(`ImCacheService TTLs: ${combo.label}`, () => {
    let clock: ManualClock;
    let c: ComboCache;
    let capped: ComboCache;

    before(async () => {
      clock = new ManualClock();
      c = await startCombo(combo, { now: clock.now, jitter: 0, local: { ttl: '1m' } });
      capped = await startCombo(combo, { now: clock.now, jitter: 0, local: { ttl: '5s' } });
    });

    after(async () => {
      await capped.close();
      await c.close();
    });

    it('an L2 hit fills L1 with what remains of the L2 lifetime', async () => {
      await c.cache.set('fill', { v: 1 }, { ttl: '10s' });
      c.l1.delete('fill');
      clock.advance(3000);

      assert.deepEqual(await c.cache.get('fill'), { v: 1 });

      assert.equal(c.l1.remainingTtl('fill'), combo.local === 'lru' ? 7000 : 0);
      assert.equal(expiryOfEntry(await c.l2.get(c.l2Key('fill'))) - clock.now(), 7000);
    });

    it('never longer than local.ttl', async () => {
      await capped.cache.set('cap', 'v', { ttl: '10s' });
      assert.equal(capped.l1.remainingTtl('cap'), combo.local === 'lru' ? 5000 : 0, 'on set');

      capped.l1.delete('cap');
      clock.advance(2000);
      assert.equal(await capped.cache.get('cap'), 'v');

      assert.equal(capped.l1.remainingTtl('cap'), combo.local === 'lru' ? 5000 : 0, 'on fill');
    });

    it('an entry is gone from both levels once its lifetime has passed', async () => {
      await c.cache.set('gone', 'v', { ttl: '4s' });
      clock.advance(4001);

      assert.equal(await c.cache.get('gone'), undefined, 'L1 expired');
      c.l1.delete('gone');
      assert.equal(await c.cache.get('gone'), undefined, 'L2 entry past its expiry');
      assert.equal(c.l1.remainingTtl('gone'), 0, 'an expired L2 entry does not refill L1');
    });
  });
}

for (const combo of COMBOS) {
  describe(`ImCacheService TTL jitter: ${combo.label}`, () => {
    const TTL = 60_000;
    const KEYS = Array.from({ length: 40 }, (_, i) => `jitter:${i}`);
    let clock: ManualClock;
    let c: ComboCache;

    before(async () => {
      clock = new ManualClock();
      c = await startCombo(combo, { now: clock.now, jitter: 0.1, local: { ttl: '1h' } });
      for (const key of KEYS) await c.cache.set(key, key, { ttl: TTL });
    });

    after(() => c.close());

    it('spreads the logical expiry of keys written together within +-10%', async () => {
      const remaining = await Promise.all(
        KEYS.map(async (key) => expiryOfEntry(await c.l2.get(c.l2Key(key))) - clock.now()),
      );
      assertSpread(remaining, TTL);
    });

    if (combo.local === 'lru') {
      it('spreads the L1 lifetimes the same way', () => {
        assertSpread(
          KEYS.map((key) => c.l1.remainingTtl(key)),
          TTL,
        );
      });
    }

    if (combo.distributed === 'redis') {
      it('spreads the Redis PTTLs the same way', async () => {
        const redis = await rawRedis();
        const pttls = await Promise.all(KEYS.map((key) => redis.pTTL(c.l2Key(key))));

        // Real time passes between the write and PTTL: allow a second below the band.
        assertSpread(pttls, TTL, 1000);
      });
    }
  });
}

function assertSpread(ttls: number[], ttl: number, slack = 0): void {
  const low = Math.min(...ttls);
  const high = Math.max(...ttls);

  assert.ok(low >= ttl * 0.9 - 1 - slack, `shortest ${low} below -10% of ${ttl}`);
  assert.ok(high <= ttl * 1.1 + 1, `longest ${high} above +10% of ${ttl}`);
  assert.ok(new Set(ttls).size > 1, 'all TTLs are equal: no jitter');
  assert.ok(high - low > ttl * 0.02, `spread ${high - low} ms is too narrow for 40 keys`);
}
