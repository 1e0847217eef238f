import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisDistributedCache } from '../../src/distributed/redis/redis.distributed-cache';
import { resolveOptions } from '../../src/options/resolve-options';
import { startRedisServer, type RedisServer } from '../support/redis';
import { eventually, settleWithin } from '../support/timing';
import { failOnUnhandledRejections } from '../support/unhandled';

failOnUnhandledRejections();

// Transactions and pipelines skip `sendCommand` on a standalone client: they need their own
// deadline, or code holding `RedisDistributedCache.client` waits forever on a frozen server.
describe('standalone client: MULTI and pipelines on a frozen server', () => {
  let server: RedisServer;
  let cache: RedisDistributedCache;
  let client: any;

  before(async () => {
    server = await startRedisServer();
    const options = resolveOptions({ distributed: { url: server.url, commandTimeout: 200 } });
    cache = new RedisDistributedCache(options.distributed);
    await cache.connect();
    client = cache.client;
  });

  after(async () => {
    server.resume();
    await cache.close();
    await server.stop();
  });

  it('exec and execAsPipeline fail within the timeout', async () => {
    server.pause();
    try {
      const [multi, pipeline] = await Promise.all([
        settleWithin(client.multi().set('k', 'a').get('k').exec(), 3000),
        settleWithin(client.multi().set('k', 'b').get('k').execAsPipeline(), 3000),
      ]);

      // The watchdog tears the silent connection down: node-redis rejects what was in flight.
      assert.equal(multi.status, 'rejected');
      assert.ok(multi.reason instanceof Error, String(multi.reason));
      assert.equal(pipeline.status, 'rejected');
      assert.ok(pipeline.reason instanceof Error, String(pipeline.reason));
    } finally {
      server.resume();
    }
  });

  it('answers in order again once the server is back', async () => {
    assert.ok(await eventually(async () => (await client.ping()) === 'PONG', 5000));

    assert.deepEqual(await client.multi().set('k', 'c').get('k').exec(), ['OK', 'c']);
    assert.deepEqual(await client.multi().get('k').set('k', 'd').execAsPipeline(), ['c', 'OK']);
    assert.equal(await client.get('k'), 'd');
  });
});
