import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DISTRIBUTED_CACHE, type DistributedCacheOptions } from '../../src';
import { RedisDistributedCache } from '../../src/distributed/redis/redis.distributed-cache';
import { resolveOptions } from '../../src/options/resolve-options';
import { distributedCacheContract } from '../contract/distributed-cache.contract';
import { startCache, type TestCache } from '../support/app';
import { globEscape, openRawRedis, scanKeys, type RawRedis } from '../support/redis-client';
import { startRedisSentinel, type RedisSentinel } from '../support/redis-sentinel';
import { uniqueNamespace } from '../support/redis';

// One throwaway Sentinel deployment (master, replica, one sentinel) for the whole file: the
// L2 contract and the service through Sentinel (the IM repositories' contract runs through
// Sentinel in test/im/sentinel.test.ts). The master is never paused or failed over here (see
// failure.test).
let sentinel: RedisSentinel;
let master: RawRedis;

before(async () => {
  sentinel = await startRedisSentinel();
  master = await openRawRedis(sentinel.servers[0].url);
});

after(async () => {
  await master?.close();
  await sentinel?.stop();
});

const distributed = (): DistributedCacheOptions => ({
  sentinel: { name: sentinel.name, nodes: sentinel.nodes },
  commandTimeout: '5s',
});

distributedCacheContract('redis through Sentinel', async () => ({
  cache: new RedisDistributedCache(resolveOptions({ distributed: distributed() }).distributed),
  prefix: `${uniqueNamespace('sen-contract')}:`,
}));

describe('ImCacheService through Sentinel', () => {
  let c: TestCache;
  let namespace: string;

  before(async () => {
    namespace = uniqueNamespace('sen-service');
    c = await startCache({ namespace, local: { driver: 'none' }, distributed: distributed() });
  });

  after(async () => {
    await c.close();
  });

  it('runs the redis driver in sentinel mode, on the master Sentinel names', async () => {
    assert.equal((c.app.get(DISTRIBUTED_CACHE) as RedisDistributedCache).topology, 'sentinel');
    await c.cache.set('where', 'master');

    assert.equal(await sentinel.currentMaster(), 0);
    assert.equal(
      await master.get(`${namespace}:c:where`).then((v) => v?.endsWith('"master"')),
      true,
    );
  });

  it('set, get, getMany, delete of JSON values', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `user:${i}`);
    await Promise.all(keys.map((key, i) => c.cache.set(key, { id: i })));

    const values = await c.cache.getMany<{ id: number }>(['absent', ...keys]);
    assert.deepEqual(values, [undefined, ...keys.map((_, i) => ({ id: i }))]);
    await c.cache.delete(keys.slice(0, 10));
    assert.deepEqual(await c.cache.getMany(keys.slice(8, 12)), [
      undefined,
      undefined,
      { id: 10 },
      { id: 11 },
    ]);
  });

  it('keeps its keys under its namespace', async () => {
    const keys = await scanKeys(master, `${globEscape(namespace)}:*`);

    assert.ok(keys.length > 0);
    for (const key of keys) assert.ok(key.startsWith(`${namespace}:c:`), key);
  });

  it('entries expire after their TTL', async () => {
    await c.cache.set('short', 'soon gone', { ttl: 40 });
    await c.cache.set('long', 'stays', { ttl: '1m' });

    await sleep(150);

    assert.deepEqual(await c.cache.getMany(['short', 'long']), [undefined, 'stays']);
  });

  it('writes reach the replica Sentinel watches', async () => {
    await c.cache.set('replicated', 42);
    const replica = await openRawRedis(sentinel.servers[1].url);
    try {
      const key = `${namespace}:c:replicated`;
      let copy: string | null = null;
      for (let i = 0; i < 100 && copy === null; i++) {
        copy = await replica.get(key);
        if (copy === null) await sleep(20);
      }
      assert.match(String(copy), /\|42$/);
    } finally {
      await replica.close();
    }
  });
});
