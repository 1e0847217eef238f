import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../support/clock';
import { COMBOS, startCombo, startPeer, type ComboCache } from './matrix';

const CALLERS = 50;

/** A loader that counts its calls and finishes only when told to. */
function gatedLoader<T>(outcome: () => T | Promise<T>) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const loader = async () => {
    loader.calls++;
    await gate;
    return outcome();
  };
  loader.calls = 0;
  return { loader, open: () => open() };
}

function counting<T>(outcome: () => T) {
  const loader = () => {
    loader.calls++;
    return outcome();
  };
  loader.calls = 0;
  return loader;
}

for (const combo of COMBOS) {
  describe(`ImCacheService.getOrLoad: ${combo.label}`, () => {
    let clock: ManualClock;
    let c: ComboCache;
    let peer: ComboCache;

    before(async () => {
      clock = new ManualClock();
      const options = { now: clock.now, jitter: 0, negativeTtl: '5s', ttl: '1m' };
      c = await startCombo(combo, options);
      peer = await startPeer(combo, c, options);
    });

    after(async () => {
      await peer.close();
      await c.close();
    });

    it(`calls the loader once for ${CALLERS} concurrent callers sharing its result`, async () => {
      const { loader, open } = gatedLoader(() => ({ id: 'u1', devices: ['ios', 'web'] }));

      const pending = Array.from({ length: CALLERS }, () => c.cache.getOrLoad('sf:ok', loader));
      open();
      const results = await Promise.all(pending);

      assert.equal(loader.calls, 1);
      assert.deepEqual(results[0], { id: 'u1', devices: ['ios', 'web'] });
      for (const result of results) assert.equal(result, results[0]);
      assert.deepEqual(await c.cache.get('sf:ok'), results[0]);
    });

    it('shares one loader error with every concurrent caller and does not cache it', async () => {
      const failure = new Error('database unavailable');
      const { loader, open } = gatedLoader(() => Promise.reject(failure));

      const pending = Array.from({ length: CALLERS }, () => c.cache.getOrLoad('sf:err', loader));
      open();
      const settled = await Promise.allSettled(pending);

      assert.equal(loader.calls, 1);
      for (const outcome of settled) {
        assert.equal(outcome.status, 'rejected');
        assert.equal((outcome as PromiseRejectedResult).reason, failure);
      }
      const retry = counting(() => 'recovered');
      assert.equal(await c.cache.getOrLoad('sf:err', retry), 'recovered');
      assert.equal(retry.calls, 1);
      assert.equal(await c.cache.get('sf:err'), 'recovered');
    });

    it('passes a synchronous throw through unchanged', async () => {
      const failure = new TypeError('bad input');
      await assert.rejects(
        c.cache.getOrLoad('sf:throw', () => {
          throw failure;
        }),
        (error) => error === failure,
      );
    });

    it('loads different keys separately', async () => {
      const loader = counting(() => 'v');
      await Promise.all([
        c.cache.getOrLoad('sep:1', loader),
        c.cache.getOrLoad('sep:2', loader),
        c.cache.getOrLoad('sep:1', loader),
      ]);
      assert.equal(loader.calls, 2);
    });

    it('does not call the loader when either level holds the key', async () => {
      const loader = counting(() => 'from loader');
      await c.cache.set('cached', 'from cache');
      await peer.cache.set('peer-wrote', 'from peer');

      assert.equal(await c.cache.getOrLoad('cached', loader), 'from cache');
      assert.equal(await c.cache.getOrLoad('peer-wrote', loader), 'from peer');
      assert.equal(loader.calls, 0);
    });

    for (const [name, nothing] of [
      ['undefined', undefined],
      ['null', null],
    ] as const) {
      it(`a loader returning ${name} leaves a negative entry for negativeTtl`, async () => {
        const key = `neg:${name}`;
        const first = counting(() => nothing);
        const later = counting(() => ({ found: true }));

        assert.equal(await c.cache.getOrLoad(key, first), undefined);
        assert.equal(await c.cache.getOrLoad(key, later), undefined, 'negative from L1');
        c.l1.delete(key);
        assert.equal(await c.cache.getOrLoad(key, later), undefined, 'negative from L2');
        assert.equal(await peer.cache.getOrLoad(key, later), undefined, 'seen by a peer');
        assert.equal(await c.cache.get(key), undefined);
        assert.match(String(await c.l2.get(c.l2Key(key))), /^\d+\|!$/);
        assert.equal(first.calls, 1);
        assert.equal(later.calls, 0);

        clock.advance(5001);
        assert.deepEqual(await c.cache.getOrLoad(key, later), { found: true });
        assert.equal(later.calls, 1);
      });
    }

    it('a per-call negativeTtl overrides the module default', async () => {
      const later = counting(() => 'found');
      await c.cache.getOrLoad('neg:short', () => null, { negativeTtl: 1000 });

      clock.advance(999);
      assert.equal(await c.cache.getOrLoad('neg:short', later), undefined);
      clock.advance(2);
      assert.equal(await c.cache.getOrLoad('neg:short', later), 'found');
    });

    it('concurrent callers share one "not found" and one negative entry', async () => {
      const { loader, open } = gatedLoader(() => null);

      const pending = Array.from({ length: CALLERS }, () => c.cache.getOrLoad('neg:many', loader));
      open();

      assert.deepEqual(new Set(await Promise.all(pending)), new Set([undefined]));
      assert.equal(loader.calls, 1);
    });

    it('a negative entry never overwrites real data written meanwhile', async () => {
      const racing = async () => {
        await peer.cache.set('neg:race', { real: 1 });
        return null;
      };

      await c.cache.getOrLoad('neg:race', racing);

      assert.match(String(await c.l2.get(c.l2Key('neg:race'))), /^\d+\|\{"real":1\}$/);
      assert.deepEqual(await c.cache.get('neg:race'), { real: 1 }, 'this instance');
      assert.deepEqual(await peer.cache.get('neg:race'), { real: 1 }, 'the writer');
    });

    it('a negative entry is replaced by a later set', async () => {
      await c.cache.getOrLoad('neg:then-set', () => undefined);
      await c.cache.set('neg:then-set', 'now it exists');

      assert.equal(await c.cache.get('neg:then-set'), 'now it exists');
      c.l1.delete('neg:then-set');
      assert.equal(await c.cache.get('neg:then-set'), 'now it exists');
    });
  });
}
