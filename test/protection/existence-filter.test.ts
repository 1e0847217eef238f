import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DISTRIBUTED_CACHE, type DistributedCache } from '../../src';
import { MemoryLogger, startCache, type TestCache } from '../support/app';
import { counting } from './support';

describe('existence filter', () => {
  const known = new Set(['user:1', 'user:2']);
  let asked: string[];
  let logger: MemoryLogger;
  let c: TestCache;

  beforeEach(async () => {
    asked = [];
    logger = new MemoryLogger();
    c = await startCache({
      logger,
      existenceFilter: async (key) => {
        asked.push(key);
        if (key === 'broken') throw new Error('filter offline');
        return known.has(key);
      },
    });
  });

  afterEach(() => c.close());

  it('answers "not found" for keys it rules out, without a loader call', async () => {
    const loader = counting(() => ({ id: 'ghost' }));

    assert.equal(await c.cache.getOrLoad('user:404', loader), undefined);
    assert.equal(await c.cache.getOrLoad('user:404', loader), undefined);
    assert.equal(loader.calls, 0);
    assert.deepEqual(asked, ['user:404'], 'the negative entry answers the second call');
    const l2 = c.app.get<DistributedCache>(DISTRIBUTED_CACHE);
    assert.match(String(await l2.get('im:c:user:404')), /^\d+\|!$/);
    assert.equal(c.cache.stats().filtered, 1);
  });

  it('lets the loader run for keys that may exist', async () => {
    const loader = counting(() => ({ id: 1 }));

    assert.deepEqual(await c.cache.getOrLoad('user:1', loader), { id: 1 });
    assert.equal(loader.calls, 1);
    assert.equal(c.cache.stats().filtered, 0);
  });

  it('is not asked on a cache hit', async () => {
    await c.cache.set('user:3', 'cached');
    assert.equal(await c.cache.getOrLoad('user:3', () => 'loaded'), 'cached');
    assert.deepEqual(asked, []);
  });

  it('fails open: a throwing filter lets the loader run and is logged', async () => {
    assert.equal(await c.cache.getOrLoad('broken', () => 'loaded'), 'loaded');
    assert.ok(logger.lines.some((l) => /existence filter failed for "broken"/.test(l.message)));
    assert.equal(c.cache.stats().errors, 1);
  });

  it('can be replaced or skipped per call', async () => {
    const loader = counting(() => 'loaded');

    assert.equal(await c.cache.getOrLoad('user:9', loader, { existenceFilter: false }), 'loaded');
    const none = () => false;
    assert.equal(await c.cache.getOrLoad('user:1', loader, { existenceFilter: none }), undefined);
    assert.equal(loader.calls, 1);
    assert.deepEqual(asked, []);
  });
});
