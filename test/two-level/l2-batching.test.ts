import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DistributedCacheError, type CacheModuleOptions } from '../../src';
import { MemoryLogger, startCache, type TestCache } from '../support/app';
import { commandCalls, openRawRedis, type RawRedis } from '../support/redis-client';
import { startRedisServer, uniqueNamespace, type RedisServer } from '../support/redis';
import { settleWithin } from '../support/timing';
import { failOnUnhandledRejections } from '../support/unhandled';

failOnUnhandledRejections();

/** A bound for "does not hang", far above the configured timeout: not a speed check. */
const NO_HANG = 3000;

const mgetCalls = (raw: RawRedis) => commandCalls(raw, 'mget');

/** The GET and MGET calls the server ran while `work` ran. */
async function commandsDuring(raw: RawRedis, work: () => Promise<unknown>) {
  const [gets, mgets] = [await commandCalls(raw, 'get'), await mgetCalls(raw)];
  await work();
  return { get: (await commandCalls(raw, 'get')) - gets, mget: (await mgetCalls(raw)) - mgets };
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

  it('a frozen server fails a split batch with DistributedCacheError, none unhandled', async () => {
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

describe('single-key reads started in one turn go to Redis as one MGET (coalesceReads)', () => {
  let server: RedisServer;
  let raw: RawRedis;
  let c: TestCache;

  const start = (extra: CacheModuleOptions = {}) =>
    startCache({
      namespace: uniqueNamespace('coalesce'),
      jitter: 0,
      local: { driver: 'none' },
      logger: new MemoryLogger(),
      ...extra,
      distributed: { url: server.url, batchSize: 100, ...extra.distributed },
    });

  before(async () => {
    server = await startRedisServer();
    raw = await openRawRedis(server.url);
    c = await start();
    for (let i = 0; i < 250; i += 2) await c.cache.set(`k${i}`, { i });
    await c.cache.getOrLoad('gone', () => null);
  });

  after(async () => {
    server.resume();
    await c?.close();
    await raw?.close();
    await server?.stop();
  });

  it('answers each concurrent get with its own value, from one MGET', async () => {
    const keys = ['k0', 'k1', 'gone', 'k2', 'k0', 'k48'];
    let values: unknown[] = [];
    const sent = await commandsDuring(raw, async () => {
      values = await Promise.all(keys.map((key) => c.cache.get(key)));
    });
    assert.deepEqual(values, [{ i: 0 }, undefined, undefined, { i: 2 }, { i: 0 }, { i: 48 }]);
    assert.deepEqual(sent, { get: 0, mget: 1 });
  });

  it('sends at most batchSize keys per MGET', async () => {
    const keys = Array.from({ length: 250 }, (_, i) => `k${i}`);
    let values: unknown[] = [];
    const sent = await commandsDuring(raw, async () => {
      values = await Promise.all(keys.map((key) => c.cache.get(key)));
    });
    assert.deepEqual(
      values,
      keys.map((_, i) => (i % 2 === 0 ? { i } : undefined)),
    );
    assert.deepEqual(sent, { get: 0, mget: 3 });
  });

  it('reads a lone key with a GET, and getOrLoad misses share the batch', async () => {
    assert.deepEqual(
      await commandsDuring(raw, async () => assert.deepEqual(await c.cache.get('k4'), { i: 4 })),
      { get: 1, mget: 0 },
    );
    const loads: string[] = [];
    const load = (key: string) => c.cache.getOrLoad(key, () => (loads.push(key), 'loaded'));
    let values: unknown[] = [];
    const sent = await commandsDuring(raw, async () => {
      values = await Promise.all([load('k6'), load('new1'), c.cache.get('k8')]);
    });
    assert.deepEqual(values, [{ i: 6 }, 'loaded', { i: 8 }]);
    assert.deepEqual(loads, ['new1']);
    assert.equal(sent.mget, 1);
  });

  it('with coalesceReads: false, every get is its own GET', async () => {
    const plain = await start({ distributed: { coalesceReads: false } });
    try {
      const sent = await commandsDuring(raw, () =>
        Promise.all(['a', 'b', 'c'].map((key) => plain.cache.get(key))),
      );
      assert.deepEqual(sent, { get: 3, mget: 0 });
    } finally {
      await plain.close();
    }
  });

  it('a frozen server fails every read of the batch with an error naming its key', async () => {
    const frozen = await start({ distributed: { commandTimeout: 200 }, breaker: false });
    server.pause();
    try {
      const reads = ['k0', 'k2', 'x'].map((key) => settleWithin(frozen.cache.get(key), NO_HANG));
      const loaded = settleWithin(
        frozen.cache.getOrLoad('k10', () => 'from the loader'),
        NO_HANG,
      );
      const settled = await Promise.all(reads);
      settled.forEach((outcome, i) => {
        assert.equal(outcome.status, 'rejected');
        const error = outcome.reason as DistributedCacheError;
        assert.ok(error instanceof DistributedCacheError, String(error));
        assert.equal(error.key, ['k0', 'k2', 'x'][i]);
      });
      const { status, value } = await loaded;
      assert.deepEqual({ status, value }, { status: 'fulfilled', value: 'from the loader' });
    } finally {
      server.resume();
      await frozen.close();
    }
  });
});
