import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { DISTRIBUTED_CACHE, DistributedCacheError, type CacheModuleOptions } from '../../src';
import { RedisDistributedCache } from '../../src/distributed/redis/redis.distributed-cache';
import { MemoryLogger, startCache, type TestCache } from '../support/app';
import { openRawRedis } from '../support/redis-client';
import { startRedisServer, uniqueNamespace, type RedisServer } from '../support/redis';
import { eventually, settleWithin } from '../support/timing';

/** Bounds for "does not hang", far above the configured timeouts: not speed checks. */
const NO_HANG = 2000;

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
process.on('unhandledRejection', onUnhandled);

afterEach(() => {
  assert.deepEqual(unhandled.splice(0), [], 'an unhandled rejection escaped');
});

after(() => {
  process.off('unhandledRejection', onUnhandled);
});

async function start(server: RedisServer, options: CacheModuleOptions): Promise<TestCache> {
  return startCache({
    namespace: uniqueNamespace('fail'),
    logger: new MemoryLogger(),
    ...options,
    distributed: { url: server.url, ...options.distributed },
  });
}

function l2Of(started: TestCache): RedisDistributedCache {
  return started.app.get(DISTRIBUTED_CACHE) as RedisDistributedCache;
}

async function assertL2Failure(call: Promise<unknown>, bound = NO_HANG): Promise<number> {
  const settled = await settleWithin(call, bound);
  assert.equal(settled.status, 'rejected', 'expected the call to fail');
  assert.ok(settled.reason instanceof DistributedCacheError, String(settled.reason));
  assert.equal((settled.reason as DistributedCacheError).code, 'E_L2_FAILURE');
  return settled.elapsed;
}

describe('Redis paused (SIGSTOP): commands time out', () => {
  let server: RedisServer;
  let c: TestCache;

  before(async () => {
    server = await startRedisServer();
    c = await start(server, {
      local: { driver: 'none' },
      distributed: { commandTimeout: 200 },
      breaker: false,
    });
  });

  after(async () => {
    server.resume();
    await c.close();
    await server.stop();
  });

  it('get, set, getMany and delete reject with DistributedCacheError, no hang', async () => {
    await c.cache.set('before', 'kept');
    server.pause();
    try {
      await assertL2Failure(c.cache.get('before'));
      await assertL2Failure(c.cache.set('during', 1));
      await assertL2Failure(c.cache.getMany(['before', 'other']));
      // A command past its deadline may still run once Redis wakes up: not 'before' then.
      await assertL2Failure(c.cache.delete('other'));
    } finally {
      server.resume();
    }
  });

  it('getOrLoad falls back to the loader and counts the L2 errors', async () => {
    const errorsBefore = c.cache.stats().l2.errors;
    server.pause();
    try {
      const settled = await settleWithin(
        c.cache.getOrLoad('load-while-paused', () => 'loaded'),
        5000,
      );

      assert.equal(settled.status, 'fulfilled', String(settled.reason));
      assert.equal(settled.value, 'loaded');
      assert.ok(c.cache.stats().l2.errors > errorsBefore, 'L2 errors counted');
      assert.ok(c.cache.stats().errors > 0);
    } finally {
      server.resume();
    }
  });

  it('answers correctly again once resumed, with no reply mixed up', async () => {
    const back = await eventually(async () => (await c.cache.get('before')) === 'kept', 5000);
    assert.ok(back, 'Redis answered again after resume');

    await c.cache.set('after-a', 'A');
    await c.cache.set('after-b', 'B');
    assert.deepEqual(await c.cache.getMany(['after-b', 'before', 'after-a']), ['B', 'kept', 'A']);
    assert.equal(await c.cache.get('after-a'), 'A');
  });
});

describe('Redis stopped: calls fail fast', () => {
  let server: RedisServer;
  let c: TestCache;

  before(async () => {
    server = await startRedisServer();
    // A long command timeout: failing fast must not depend on it.
    c = await start(server, { distributed: { commandTimeout: '10s' }, breaker: false });
  });

  after(async () => {
    await c.close();
    await server.stop();
  });

  it('rejects at once while the connection is down, and loads through getOrLoad', async () => {
    await c.cache.set('k', 'v');
    await server.stop();
    assert.ok(await eventually(() => !l2Of(c).client.isReady, NO_HANG), 'client saw the loss');

    const bound = 1000;
    await assertL2Failure(c.cache.get('missing-from-l1'), bound);
    await assertL2Failure(c.cache.set('k2', 1), bound);
    await assertL2Failure(c.cache.getMany(['x', 'y']), bound);
    await assertL2Failure(c.cache.delete(['x']), bound);
    const loaded = await settleWithin(
      c.cache.getOrLoad('load-while-down', () => 42),
      bound,
    );
    assert.equal(loaded.value, 42);
    assert.ok(c.cache.stats().l2.errors >= 5);
  });

  it('works again once Redis is back', async () => {
    await server.restart();

    const back = await eventually(async () => {
      await c.cache.set('back', 'yes');
      return (await c.cache.get('back')) === 'yes';
    }, 10_000);
    assert.ok(back, 'the client reconnected');
  });
});

describe('Redis down at start-up', () => {
  let server: RedisServer;
  let c: TestCache | undefined;

  before(async () => {
    server = await startRedisServer();
    await server.stop();
  });

  after(async () => {
    await c?.close();
    await server.stop();
  });

  it('starts anyway, calls fail, getOrLoad loads, and it works once Redis is up', async () => {
    const logger = new MemoryLogger();
    const namespace = uniqueNamespace('down-at-start');
    const options = {
      namespace,
      logger,
      distributed: { connectTimeout: 200, commandTimeout: 500 },
    };
    const started = await settleWithin(start(server, options), 5000);
    assert.equal(started.status, 'fulfilled', String(started.reason));
    c = started.value as TestCache;
    assert.ok(logger.lines.some((line) => /not reachable at start-up/.test(line.message)));

    await assertL2Failure(c.cache.get('k'));
    assert.equal(await c.cache.getOrLoad('loaded-while-down', () => 'from loader'), 'from loader');

    await server.restart();
    const back = await eventually(async () => {
      await c!.cache.set('k', 'v');
      return true;
    }, 10_000);
    assert.ok(back, 'the client connected once Redis came up');
    const raw = await openRawRedis(server.url);
    assert.match(String(await raw.get(`${namespace}:c:k`)), /^\d+\|"v"$/);
    await raw.close();
  });
});
