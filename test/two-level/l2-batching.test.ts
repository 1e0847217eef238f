import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DistributedCacheError } from '../../src';
import { MemoryLogger, startCache, type TestCache } from '../support/app';
import { openRawRedis, type RawRedis } from '../support/redis-client';
import { startRedisServer, uniqueNamespace, type RedisServer } from '../support/redis';
import { settleWithin } from '../support/timing';
import { failOnUnhandledRejections } from '../support/unhandled';

failOnUnhandledRejections();

/** A bound for "does not hang", far above the configured timeout: not a speed check. */
const NO_HANG = 3000;

/** MGET calls the server has run so far, from `INFO commandstats`. */
async function mgetCalls(raw: RawRedis): Promise<number> {
  const info = await raw.info('commandstats');
  const match = /cmdstat_mget:calls=(\d+)/.exec(info);
  return match === null ? 0 : Number(match[1]);
}

describe('getMany past L1 is sent in requests of at most distributed.batchSize keys', () => {
  let server: RedisServer;
  let raw: RawRedis;
  let c: TestCache;

  before(async () => {
    server = await startRedisServer();
    raw = await openRawRedis(server.url);
    c = await startCache({
      namespace: uniqueNamespace('batch'),
      jitter: 0,
      local: { driver: 'none' },
      distributed: { url: server.url, batchSize: 100 },
      logger: new MemoryLogger(),
    });
  });

  after(async () => {
    server.resume();
    await c?.close();
    await raw?.close();
    await server?.stop();
  });

  it('answers 450 keys in order across 5 MGETs: values, misses and negatives', async () => {
    const keys = Array.from({ length: 450 }, (_, i) => `k${i}`);
    // Every third key holds a value, every seventh a negative entry, the rest nothing.
    for (let i = 0; i < keys.length; i++) {
      if (i % 3 === 0) await c.cache.set(keys[i], { i, tag: `v${i}` });
      else if (i % 7 === 0) await c.cache.getOrLoad(keys[i], () => null);
    }
    const expected = keys.map((_, i) => (i % 3 === 0 ? { i, tag: `v${i}` } : undefined));
    const shuffled = keys.map((key, i) => ({ key, i })).reverse();

    const before = await mgetCalls(raw);
    const values = await c.cache.getMany(shuffled.map(({ key }) => key));
    const calls = (await mgetCalls(raw)) - before;

    assert.deepEqual(
      values,
      shuffled.map(({ i }) => expected[i]),
    );
    assert.equal(calls, 5, '450 keys at 100 per request: 5 requests of 90');
  });

  it('sends a batch no larger than batchSize as one MGET', async () => {
    const before = await mgetCalls(raw);
    assert.deepEqual(await c.cache.getMany(['k0', 'k1', 'k3']), [
      { i: 0, tag: 'v0' },
      undefined,
      { i: 3, tag: 'v3' },
    ]);
    assert.equal((await mgetCalls(raw)) - before, 1);
  });

  it('a frozen server fails a split batch with DistributedCacheError, nothing left unhandled', async () => {
    const stopped = await startCache({
      namespace: uniqueNamespace('batch-frozen'),
      local: { driver: 'none' },
      distributed: { url: server.url, batchSize: 50, commandTimeout: 200 },
      breaker: false,
      logger: new MemoryLogger(),
    });
    server.pause();
    try {
      const keys = Array.from({ length: 230 }, (_, i) => `frozen${i}`);
      const settled = await settleWithin(stopped.cache.getMany(keys), NO_HANG);
      assert.equal(settled.status, 'rejected', 'the call settled within the bound, rejected');
      assert.ok(settled.reason instanceof DistributedCacheError, String(settled.reason));
    } finally {
      server.resume();
      await stopped.close();
    }
  });
});
