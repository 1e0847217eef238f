import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { CoherentLocalCache } from '../../src/coherence/coherent-local-cache';
import { LruLocalCache } from '../../src/local/lru.local-cache';

const WINDOW = 40;

function coherent(): { l1: CoherentLocalCache; inner: LruLocalCache } {
  const inner = new LruLocalCache({ maxEntries: 100, maxBytes: 0, now: Date.now });
  return { l1: new CoherentLocalCache(inner, WINDOW), inner };
}

const other = (seq: number) => ({ origin: 'other', seq });

describe('CoherentLocalCache', () => {
  it('drops the keys a message names and counts them', () => {
    const { l1 } = coherent();
    l1.set('a', 1, 60_000, 1);
    l1.set('b', 2, 60_000, 1);

    l1.invalidate(['a', 'missing'], other(1));

    assert.equal(l1.get('a'), undefined);
    assert.equal(l1.get('b'), 2);
    assert.equal(l1.counters.invalidated, 2);
  });

  it('skips a message older than one of the same origin already applied', () => {
    const { l1 } = coherent();
    l1.invalidate(['k'], other(5));
    l1.set('k', 'fresh', 60_000, 1);

    l1.invalidate(['k'], other(4));
    l1.invalidate(['k'], other(5));
    assert.equal(l1.get('k'), 'fresh');
    assert.equal(l1.counters.ignored, 2);

    l1.invalidate(['k'], { origin: 'third', seq: 1 });
    assert.equal(l1.get('k'), undefined, 'another origin is always applied');
  });

  it('refuses a fill whose read may have started before the change', async () => {
    const { l1 } = coherent();
    assert.equal(l1.get('k'), undefined); // a miss: a read of L2 starts
    l1.invalidate(['k'], other(1)); // the key changes while it is in flight

    l1.set('k', 'read before the change', 60_000, 1);
    assert.equal(l1.get('k'), undefined);
    assert.equal(l1.counters.refusedFills, 1);

    await sleep(WINDOW + 10);
    l1.set('k', 'read later', 60_000, 1);
    assert.equal(l1.get('k'), 'read later');
  });

  it('keeps filling keys that were not being read when they changed', () => {
    const { l1 } = coherent();
    l1.set('hot', 'v1', 60_000, 1);
    assert.equal(l1.get('hot'), 'v1'); // a hit: no read of L2 in flight

    l1.invalidate(['hot'], other(1));
    assert.equal(l1.get('hot'), undefined);
    l1.set('hot', 'v2', 60_000, 1);
    assert.equal(l1.get('hot'), 'v2');
    assert.equal(l1.counters.refusedFills, 0);
  });

  it("'bypass': answers no read, takes no fill, keeps stale copies for the fallback", async () => {
    const { l1, inner } = coherent();
    l1.set('k', 'held', 60_000, 1);

    l1.suspend('bypass');
    assert.equal(l1.get('k'), undefined);
    assert.equal(l1.getStale('k', 1000), 'held');
    l1.set('new', 'x', 60_000, 1);
    assert.equal(inner.get('new'), undefined);

    l1.resume();
    assert.equal(inner.get('k'), undefined, 'emptied when the bus is back');
    l1.set('k', 'read during the outage', 60_000, 1);
    assert.equal(l1.get('k'), undefined, 'fills stay suspect for one window');
    await sleep(WINDOW + 10);
    l1.set('k', 'fresh', 60_000, 1);
    assert.equal(l1.get('k'), 'fresh');
  });

  it("'clear': empties L1 and keeps working during the outage", () => {
    const { l1 } = coherent();
    l1.set('k', 'held', 60_000, 1);

    l1.suspend('clear');
    assert.equal(l1.get('k'), undefined);
    l1.set('k', 'during', 60_000, 1);
    assert.equal(l1.get('k'), 'during');

    l1.resume();
    assert.equal(l1.get('k'), undefined);
  });

  it('forwards the driver name and size', () => {
    const { l1 } = coherent();
    l1.set('a', 1, 60_000, 1);
    assert.equal(l1.name, 'lru');
    assert.equal(l1.size, 1);
  });
});
