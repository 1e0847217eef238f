import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisDistributedCache } from '../../src/distributed/redis/redis.distributed-cache';
import { resolveOptions } from '../../src/options/resolve-options';
import { MemoryLogger, startCache } from '../support/app';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster';
import { freePort, uniqueNamespace } from '../support/redis';

// A cluster whose nodes all require a password. node-redis uses the seed URL's credentials
// only for the seed itself: the nodes it discovers must get them from the module.
describe('a Cluster that requires a password', () => {
  let cluster: RedisCluster;

  before(async () => {
    cluster = await startRedisCluster({ password: 'cluster-secret' });
  });

  after(async () => {
    await cluster?.stop();
  });

  it('the seed URL carries the password, and every master is reached with it', async () => {
    assert.ok(cluster.nodes.every((url) => url.includes(':cluster-secret@')));
    const options = resolveOptions({
      distributed: { cluster: { nodes: cluster.nodes.slice(0, 1) }, commandTimeout: '5s' },
    });
    const cache = new RedisDistributedCache(options.distributed);
    await cache.connect();
    try {
      const keys = Array.from({ length: 20 }, (_, i) => `${uniqueNamespace('auth')}:${i}`);
      assert.equal(new Set(keys.map((key) => cluster.masterOf(key))).size, 3);

      await Promise.all(keys.map((key) => cache.set(key, key, 60_000)));

      assert.deepEqual(await cache.getMany(keys), keys);
      assert.equal(await cache.delete(keys), keys.length);
    } finally {
      await cache.close();
    }
  });

  it('a cluster unreachable at start-up is logged without the password', async () => {
    const logger = new MemoryLogger();
    const c = await startCache({
      logger,
      distributed: {
        cluster: { nodes: [`redis://:cluster-secret@127.0.0.1:${await freePort()}`] },
        connectTimeout: 200,
      },
      coherence: false,
    });
    await c.close();

    const text = logger.lines.map((line) => line.message).join('\n');
    assert.match(text, /not reachable at start-up \(cluster redis:\/\/:\*\*\*@127\.0\.0\.1:/);
    assert.doesNotMatch(text, /cluster-secret/);
  });

  it('through the module', async () => {
    const c = await startCache({
      namespace: uniqueNamespace('auth-module'),
      distributed: { cluster: { nodes: cluster.nodes }, commandTimeout: '5s' },
    });
    try {
      const keys = Array.from({ length: 20 }, (_, i) => `user:${i}`);
      await Promise.all(keys.map((key, i) => c.cache.set(key, i)));
      assert.deepEqual(
        await c.cache.getMany(keys),
        keys.map((_, i) => i),
      );
    } finally {
      await c.close();
    }
  });
});
