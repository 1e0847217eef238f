import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DistributedCacheError, LOCAL_CACHE, type LocalCache } from '../../src';
import { MemoryLogger, startCache, type TestCache } from '../support/app';
import { ManualClock } from '../support/clock';
import { openRawRedis, type RawRedis } from '../support/redis-client';
import { startRedisServer, uniqueNamespace, type RedisServer } from '../support/redis';

const COMMAND_TIMEOUT = 500;
/** Far above the command timeout: a call still pending by then hangs. */
const HANG_BOUND = 5000;

/** The outcome of `work`, failing the test if it has not settled within HANG_BOUND. */
async function settleBounded<T>(work: Promise<T>, what: string) {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} hung`)), HANG_BOUND);
  });
  try {
    const [outcome] = await Promise.race([Promise.allSettled([work]), hang]);
    return outcome;
  } finally {
    clearTimeout(timer);
  }
}

async function value<T>(work: Promise<T>, what: string): Promise<T> {
  const outcome = await settleBounded(work, what);
  if (outcome.status === 'rejected') throw outcome.reason;
  return outcome.value;
}

async function l2Failure(work: Promise<unknown>, what: string): Promise<void> {
  const outcome = await settleBounded(work, what);
  assert.equal(outcome.status, 'rejected', `${what} should fail`);
  const reason = (outcome as PromiseRejectedResult).reason;
  assert.ok(reason instanceof DistributedCacheError, `${what}: ${reason}`);
}

describe('Redis stopped while a load runs', () => {
  let server: RedisServer;
  let c: TestCache;
  let l1: LocalCache;
  const clock = new ManualClock();
  const namespace = uniqueNamespace('outage');
  const logger = new MemoryLogger();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    server = await startRedisServer();
    c = await startCache({
      namespace,
      now: clock.now,
      jitter: 0,
      logger,
      failSafe: { grace: '1m' },
      distributed: { driver: 'redis', url: server.url, commandTimeout: COMMAND_TIMEOUT },
    });
    l1 = c.app.get(LOCAL_CACHE);
  });

  after(async () => {
    await c.close();
    await server.stop();
    process.off('unhandledRejection', onUnhandled);
  });

  it('serves L1 and grace copies, fails the rest fast, and recovers', async () => {
    const { cache } = c;
    await cache.getOrLoad('hot', () => ({ v: 'hot' }), { ttl: '10m' });
    await cache.getOrLoad('graced', () => ({ v: 'graced' }), { ttl: 1000 });
    await cache.set('graced-set', { v: 'graced-set' }, { ttl: 1000 });
    clock.advance(5000); // 'graced' and 'graced-set' are past their TTL, within grace

    let finishLoad!: () => void;
    const gate = new Promise<void>((resolve) => (finishLoad = resolve));
    const running = cache.getOrLoad('in-flight', async () => {
      await gate;
      return { v: 'in-flight' };
    });
    await sleep(50); // the load holds its lock and waits on the gate
    await server.stop();

    const failing = () => Promise.reject(new Error('database down too'));
    assert.deepEqual(await value(cache.getOrLoad('hot', failing), 'L1 key'), { v: 'hot' });
    assert.deepEqual(await value(cache.get('hot'), 'L1 get'), { v: 'hot' });
    const graced = await value(cache.getOrLoad('graced', failing), 'grace key');
    assert.deepEqual(graced, { v: 'graced' });
    assert.deepEqual(await value(cache.get('graced-set'), 'grace get'), { v: 'graced-set' });
    const loaded = await value(
      cache.getOrLoad('cold-loaded', () => 'fresh'),
      'cold load',
    );
    assert.equal(loaded, 'fresh', 'loads still work without L2');

    await l2Failure(cache.get('cold'), 'cold get');
    await l2Failure(cache.getMany(['hot', 'cold']), 'getMany with a cold key');
    await l2Failure(cache.set('written', 1), 'set');
    await l2Failure(cache.delete('written'), 'delete');

    finishLoad();
    assert.deepEqual(await value(running, 'the load under way'), { v: 'in-flight' });
    const stats = cache.stats();
    assert.ok(stats.staleServed >= 2, `stale copies served: ${stats.staleServed}`);
    assert.ok(stats.l2.errors > 0);

    await server.restart();
    const raw = await openRawRedis(server.url);
    try {
      const restarted = performance.now();
      await recovered(c, l1, raw, namespace);
      const took = performance.now() - restarted;
      assert.ok(took < 2000, `writes and reads reached Redis again after ${Math.round(took)} ms`);
    } finally {
      await raw.close();
    }
    assert.deepEqual(unhandled, []);
  });

  it('a frozen Redis (paused) costs a call at most about the command timeout', async () => {
    const frozen = await startCache({
      namespace: uniqueNamespace('outage-paused'),
      logger: new MemoryLogger(),
      distributed: { driver: 'redis', url: server.url, commandTimeout: COMMAND_TIMEOUT },
    });
    try {
      await frozen.cache.set('hot', 'v');
      server.pause();
      const started = performance.now();

      assert.equal(await value(frozen.cache.get('hot'), 'L1 get'), 'v');
      const loaded = frozen.cache.getOrLoad('cold-loaded', () => 'fresh');
      assert.equal(await value(loaded, 'getOrLoad of a cold key'), 'fresh');
      await l2Failure(frozen.cache.get('cold'), 'cold get');
      const took = performance.now() - started;
      assert.ok(took < HANG_BOUND, `took ${Math.round(took)} ms`);
      assert.deepEqual(unhandled, []);
    } finally {
      server.resume();
      await frozen.close();
    }
  });

  it('serves live L1 copies without a grace period too', async () => {
    const plain = await startCache({
      namespace: uniqueNamespace('outage-plain'),
      logger: new MemoryLogger(),
      distributed: { driver: 'redis', url: server.url, commandTimeout: COMMAND_TIMEOUT },
    });
    try {
      await plain.cache.set('hot', 'v');
      await server.stop();
      const failing = () => Promise.reject(new Error('database down too'));

      assert.equal(await value(plain.cache.get('hot'), 'L1 get'), 'v');
      assert.equal(await value(plain.cache.getOrLoad('hot', failing), 'L1 getOrLoad'), 'v');
      await l2Failure(plain.cache.get('cold'), 'cold get');
      assert.deepEqual(unhandled, []);
    } finally {
      await server.restart();
      await plain.close();
    }
  });
});

/** Resolves once a write lands in Redis and a read comes back from it (L1 bypassed). */
async function recovered(c: TestCache, l1: LocalCache, raw: RawRedis, namespace: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      await c.cache.set('after', attempt);
      assert.match(String(await raw.get(`${namespace}:c:after`)), new RegExp(`\\|${attempt}$`));
      l1.delete('after');
      if ((await c.cache.get('after')) === attempt) return;
    } catch {
      // Not back yet.
    }
    await sleep(25);
  }
}
