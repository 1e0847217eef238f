import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DISTRIBUTED_CACHE, type CacheModuleOptions } from '../../src';
import { RedisDistributedCache } from '../../src/distributed/redis/redis.distributed-cache';
import { resolveOptions } from '../../src/options/resolve-options';
import { distributedCacheContract } from '../contract/distributed-cache.contract';
import { startCache, type TestCache } from '../support/app';
import { openRawRedis, scanKeys, globEscape, type RawRedis } from '../support/redis-client';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster';
import { uniqueNamespace } from '../support/redis';

// One throwaway three-master cluster for the whole file: the L2 contract, then the driver's
// and the service's batches across hash slots. Nodes are never paused here (see failure.test).
let cluster: RedisCluster;
let raws: RawRedis[];

before(async () => {
  cluster = await startRedisCluster();
  raws = await Promise.all(cluster.nodes.map((url) => openRawRedis(url)));
});

after(async () => {
  await Promise.all((raws ?? []).map((raw) => raw.close()));
  await cluster?.stop();
});

function clusterDriver(): RedisDistributedCache {
  const options = resolveOptions({
    distributed: { cluster: { nodes: cluster.nodes }, commandTimeout: '5s' },
  }).distributed;
  return new RedisDistributedCache(options);
}

/** `count` keys under `prefix` whose slots cover every master. */
function spreadKeys(prefix: string, count: number): string[] {
  const keys = Array.from({ length: count }, (_, i) => `${prefix}k${i}`);
  const masters = new Set(keys.map((key) => cluster.masterOf(key)));
  assert.equal(masters.size, 3, 'the keys land on all three masters');
  return keys;
}

/** The raw client of the master serving `key`. */
const ownerOf = (key: string) => raws[cluster.masterOf(key)];

distributedCacheContract('redis on a three-master Cluster', async () => ({
  cache: clusterDriver(),
  prefix: `${uniqueNamespace('clu-contract')}:`,
}));

describe('redis driver on a Cluster: batches across hash slots', () => {
  let cache: RedisDistributedCache;
  const prefix = `${uniqueNamespace('clu-driver')}:`;

  before(async () => {
    cache = clusterDriver();
    await cache.connect();
  });

  after(async () => {
    await cache.close();
  });

  it('reports the cluster topology', () => {
    assert.equal(cache.topology, 'cluster');
  });

  it('getMany answers keys of every master in the order asked', async () => {
    const keys = spreadKeys(`${prefix}many:`, 40);
    await Promise.all(keys.map((key, i) => cache.set(key, `v${i}`, 60_000)));
    const asked = [...keys].reverse();
    asked.splice(7, 0, `${prefix}many:absent-a`);
    asked.push(`${prefix}many:absent-b`, keys[3]);

    const values = await cache.getMany(asked);

    const expected = asked.map((key) => {
      const i = keys.indexOf(key);
      return i === -1 ? undefined : `v${i}`;
    });
    assert.deepEqual(values, expected);
  });

  it('stores each key on the master of its slot, with its TTL', async () => {
    const keys = spreadKeys(`${prefix}placed:`, 12);
    await Promise.all(keys.map((key) => cache.set(key, key, 30_000)));

    for (const key of keys) {
      assert.equal(await ownerOf(key).get(key), key, `${key} on its own master`);
      const pttl = await ownerOf(key).pTTL(key);
      assert.ok(pttl > 25_000 && pttl <= 30_000, `PTTL of ${key}: ${pttl}`);
    }
  });

  it('keys sharing a hash tag share a slot and a batch', async () => {
    const tagged = ['profile', 'settings', 'avatar'].map((f) => `${prefix}{user:42}:${f}`);
    const owners = new Set(tagged.map((key) => cluster.masterOf(key)));
    assert.equal(owners.size, 1);
    await Promise.all(tagged.map((key) => cache.set(key, key.split(':').at(-1)!, 60_000)));

    assert.deepEqual(await cache.getMany(tagged), ['profile', 'settings', 'avatar']);
    // One MGET on the owner answers them all: they really are in one slot.
    assert.deepEqual(await ownerOf(tagged[0]).mGet(tagged), ['profile', 'settings', 'avatar']);
    assert.equal(await cache.delete([...tagged, `${prefix}{user:42}:absent`]), 3);
  });

  it('delete across slots removes every key and counts those that existed', async () => {
    const keys = spreadKeys(`${prefix}del:`, 30);
    await Promise.all(keys.slice(0, 20).map((key) => cache.set(key, 'x', 60_000)));

    assert.equal(await cache.delete(keys), 20);

    assert.deepEqual(
      await cache.getMany(keys),
      keys.map(() => undefined),
    );
    assert.equal(await cache.delete(keys), 0);
  });

  it('add is set-if-absent on whichever master owns the key', async () => {
    const keys = spreadKeys(`${prefix}add:`, 9);
    const first = await Promise.all(keys.map((key) => cache.add(key, 'first', 60_000)));
    const second = await Promise.all(keys.map((key) => cache.add(key, 'second', 60_000)));

    assert.deepEqual(
      first,
      keys.map(() => true),
    );
    assert.deepEqual(
      second,
      keys.map(() => false),
    );
    assert.deepEqual(
      await cache.getMany(keys),
      keys.map(() => 'first'),
    );
  });

  it('locks are acquired and released by token on every master (Lua per key)', async () => {
    const keys = spreadKeys(`${prefix}lock:`, 9);
    for (const key of keys) {
      assert.equal(await cache.acquireLock(key, 'me', 10_000), true);
      assert.equal(await cache.acquireLock(key, 'other', 10_000), false);
      assert.equal(await cache.releaseLock(key, 'other'), false);
      assert.equal(await cache.releaseLock(key, 'me'), true);
    }
  });
});

describe('ImCacheService on a Cluster', () => {
  let c: TestCache;
  let namespace: string;

  const start = (options: CacheModuleOptions = {}) =>
    startCache({
      namespace,
      local: { driver: 'none' },
      distributed: { cluster: { nodes: cluster.nodes }, commandTimeout: '5s' },
      ...options,
    });

  before(async () => {
    namespace = uniqueNamespace('clu-service');
    c = await start();
  });

  after(async () => {
    await c.close();
  });

  it('runs the redis driver in cluster mode', () => {
    assert.equal((c.app.get(DISTRIBUTED_CACHE) as RedisDistributedCache).topology, 'cluster');
  });

  it('set, get and getMany of JSON values across slots', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `user:${i}`);
    await Promise.all(keys.map((key, i) => c.cache.set(key, { id: i, tags: [i % 2 === 0] })));

    for (const [i, key] of keys.entries()) {
      assert.deepEqual(await c.cache.get(key), { id: i, tags: [i % 2 === 0] });
    }
    const asked = ['absent', ...keys.slice(10), ...keys.slice(0, 10)];
    const values = await c.cache.getMany<{ id: number }>(asked);
    assert.equal(values[0], undefined);
    assert.deepEqual(
      values.slice(1).map((v) => v?.id),
      [...keys.slice(10), ...keys.slice(0, 10)].map((key) => Number(key.split(':')[1])),
    );
  });

  it('keeps its keys under the namespace, spread over every master', async () => {
    const pattern = `${globEscape(namespace)}:*`;
    const perMaster = await Promise.all(raws.map((raw) => scanKeys(raw, pattern)));

    assert.ok(
      perMaster.every((keys) => keys.length > 0),
      `keys per master: ${perMaster.map((k) => k.length)}`,
    );
    for (const key of perMaster.flat()) assert.ok(key.startsWith(`${namespace}:c:`), key);
  });

  it('two namespaces on one cluster do not see each other', async () => {
    const other = await startCache({
      namespace: uniqueNamespace('clu-other'),
      local: { driver: 'none' },
      distributed: { cluster: { nodes: cluster.nodes }, commandTimeout: '5s' },
    });
    try {
      await other.cache.set('user:1', 'theirs');
      assert.deepEqual(await c.cache.get('user:1'), { id: 1, tags: [false] });
      assert.equal(await other.cache.get('user:2'), undefined);
    } finally {
      await other.close();
    }
  });

  it('values round-trip exactly, hash-tagged keys included', async () => {
    const values: [string, unknown][] = [
      ['{room:7}:zero', 0],
      ['{room:7}:empty', ''],
      ['{room:7}:false', false],
      ['{room:7}:null', null],
      ['nested', { a: [1, { b: 'é🙂' }] }],
    ];
    for (const [key, value] of values) await c.cache.set(key, value);

    assert.deepEqual(
      await c.cache.getMany(values.map(([key]) => key)),
      values.map(([, value]) => value),
    );
  });

  it('delete of many keys across slots', async () => {
    const keys = Array.from({ length: 24 }, (_, i) => `del:${i}`);
    await Promise.all(keys.map((key) => c.cache.set(key, key)));

    await c.cache.delete(keys);

    assert.deepEqual(
      await c.cache.getMany(keys),
      keys.map(() => undefined),
    );
  });

  it('entries expire after their TTL', async () => {
    const keys = Array.from({ length: 6 }, (_, i) => `short:${i}`);
    await Promise.all(keys.map((key) => c.cache.set(key, 'soon gone', { ttl: 40 })));
    await c.cache.set('long', 'stays', { ttl: '1m' });
    assert.deepEqual(
      await c.cache.getMany(keys),
      keys.map(() => 'soon gone'),
    );

    await sleep(150);

    assert.deepEqual(await c.cache.getMany([...keys, 'long']), [
      ...keys.map(() => undefined),
      'stays',
    ]);
  });

  it('getOrLoad loads once, stores negative entries, serves both from the cluster', async () => {
    let loads = 0;
    const loader = (value: unknown) => async () => {
      loads++;
      return value;
    };

    assert.deepEqual(await c.cache.getOrLoad('profile:9', loader({ name: 'nine' })), {
      name: 'nine',
    });
    assert.equal(await c.cache.getOrLoad('profile:404', loader(null)), undefined);
    assert.deepEqual(await c.cache.getOrLoad('profile:9', loader('not called')), {
      name: 'nine',
    });
    assert.equal(await c.cache.getOrLoad('profile:404', loader('not called')), undefined);

    assert.equal(loads, 2);
    assert.equal(c.cache.stats().negativeHits, 1);
  });
});
