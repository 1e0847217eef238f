import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryLogger, startCache } from '../support/app';
import { eventually, settleWithin } from '../support/timing';
import { openRawRedis } from '../support/redis-client';
import { startRedisSentinel, type RedisSentinel } from '../support/redis-sentinel';
import { uniqueNamespace } from '../support/redis';

// Sentinel and data servers that require a password: the one in the sentinels' URLs serves
// both the sentinels and the master.
describe('a Sentinel deployment that requires a password', () => {
  let sentinel: RedisSentinel;

  before(async () => {
    sentinel = await startRedisSentinel({ password: 'sentinel-secret' });
  });

  after(async () => {
    await sentinel?.stop();
  });

  it('is reached with the password of the sentinel URLs', async () => {
    assert.ok(sentinel.nodes.every((url) => url.includes(':sentinel-secret@')));
    const namespace = uniqueNamespace('sen-auth');
    const c = await startCache({
      namespace,
      local: { driver: 'none' },
      distributed: {
        sentinel: { name: sentinel.name, nodes: sentinel.nodes },
        commandTimeout: '5s',
      },
    });
    try {
      await c.cache.set('profile:1', { name: 'one' });
      await c.cache.routes.bind({ userId: 'u1', deviceId: 'd', serverId: 'gw', connectionId: 'c' });

      assert.deepEqual(await c.cache.get('profile:1'), { name: 'one' });
      assert.equal((await c.cache.routes.get('u1')).length, 1);
      const master = await openRawRedis(sentinel.servers[0].url);
      assert.match(String(await master.get(`${namespace}:c:profile:1`)), /\|\{"name":"one"\}$/);
      await master.close();
    } finally {
      await c.close();
    }
  });

  it('a master that goes away is logged, not once per failed call or reconnect', async () => {
    const logger = new MemoryLogger();
    const c = await startCache({
      logger,
      local: { driver: 'none' },
      distributed: {
        sentinel: { name: sentinel.name, nodes: sentinel.nodes },
        commandTimeout: 300,
      },
      coherence: false,
      breaker: false,
    });
    const master = sentinel.servers[0];
    try {
      await c.cache.set('k', 'v');
      await master.stop();
      for (let i = 0; i < 5; i++) {
        const settled = await settleWithin(c.cache.get('k'), 3000);
        assert.equal(settled.status, 'rejected');
      }
      await master.restart();

      assert.ok(await eventually(async () => (await c.cache.set('k', 'back'), true), 10_000));
      const errors = logger.lines.filter((l) => l.message.startsWith('redis sentinel error'));
      assert.equal(errors.length, 1, logger.lines.map((l) => l.message).join('\n'));
      assert.match(errors[0].message, /Master Client \(127\.0\.0\.1:\d+\).*reconnecting/);
    } finally {
      await c.close();
    }
  });
});
