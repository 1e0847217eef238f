import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DISTRIBUTED_CACHE, DistributedCacheError } from '../../src';
import { RedisDistributedCache } from '../../src/distributed/redis/redis.distributed-cache';
import { ReplyTimeoutError } from '../../src/distributed/redis/reply-deadlines';
import { resolveOptions } from '../../src/options/resolve-options';
import { MemoryLogger, startCache, type TestCache } from '../support/app';
import { startRedisSentinel, type RedisSentinel } from '../support/redis-sentinel';
import { openRawRedis } from '../support/redis-client';
import { uniqueNamespace } from '../support/redis';
import { eventually, settleWithin, type Settled } from '../support/timing';
import { failOnUnhandledRejections } from '../support/unhandled';

/**
 * Sentinel's master frozen (SIGSTOP) or replaced: no call hangs, whoever sends it, and the
 * client follows a fail-over to the new master.
 */
const COMMAND_TIMEOUT = 300;
/** "Does not hang": far above the command timeout, far below the test timeout. */
const NO_HANG = 3000;
/** Sentinel's `down-after-milliseconds`: the brief pause below stays well under it. */
const DOWN_AFTER = 2000;

failOnUnhandledRejections();

describe('Sentinel: a frozen master, then fail-overs', () => {
  let sentinel: RedisSentinel;
  let c: TestCache;
  let client: any;
  const namespace = uniqueNamespace('sen-fail');

  before(async () => {
    sentinel = await startRedisSentinel({ downAfter: DOWN_AFTER });
    c = await startCache({
      namespace,
      logger: new MemoryLogger(),
      local: { driver: 'none' },
      distributed: {
        sentinel: { name: sentinel.name, nodes: sentinel.nodes },
        commandTimeout: COMMAND_TIMEOUT,
      },
      breaker: false,
      coherence: false,
    });
    client = (c.app.get(DISTRIBUTED_CACHE) as RedisDistributedCache).client;
  });

  after(async () => {
    for (const server of sentinel?.servers ?? []) server.resume();
    await c?.close();
    await sentinel?.stop();
  });

  /** Runs `calls` all at once while the master is frozen; resumes it afterwards. */
  async function whilePaused(calls: Record<string, () => Promise<unknown>>) {
    const master = sentinel.servers[await sentinel.currentMaster()];
    master.pause();
    try {
      const names = Object.keys(calls);
      const settled = await Promise.all(names.map((n) => settleWithin(calls[n](), NO_HANG)));
      return Object.fromEntries(names.map((n, i) => [n, settled[i]]));
    } finally {
      master.resume();
    }
  }

  function assertFailed(
    settled: Settled<unknown>,
    what: string,
    type: new (...args: never[]) => Error,
  ): void {
    assert.equal(settled.status, 'rejected', `${what}: expected a failure`);
    assert.ok(settled.reason instanceof type, `${what}: ${String(settled.reason)}`);
  }

  /**
   * Resolves once a write through the service succeeds again and lands on the server
   * Sentinel names as master (not on a demoted or frozen one).
   */
  const answersAgain = (key: string) =>
    eventually(
      async () => {
        await c.cache.set(key, 'probe');
        const master = await openRawRedis(sentinel.servers[await sentinel.currentMaster()].url);
        try {
          return (await master.get(`${namespace}:c:${key}`))?.endsWith('|"probe"') === true;
        } finally {
          await master.close();
        }
      },
      15_000,
      100,
    );

  it('a write given up on during a freeze does not land after a later write', async () => {
    // First in the file, from an idle client: the case where node-redis used to lease a
    // connection per call and run the calls given up on after later ones.
    const r = await whilePaused({
      first: () => client.get('order'),
      stale: () => client.sendCommand(false, ['SET', 'order', 'stale']),
    });
    assertFailed(r.stale, 'stale write', ReplyTimeoutError);
    // Sent right after the resume, while the frozen calls' replies are still on their way.
    await client.sendCommand(false, ['SET', 'order', 'fresh']);

    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await client.get('order'), 'fresh');
  });

  it('a brief freeze: every call fails within the timeout, none hangs', async () => {
    await c.cache.set('before', 'kept');

    const r = await whilePaused({
      get: () => c.cache.get('before'),
      set: () => c.cache.set('during', 1),
      getMany: () => c.cache.getMany(['before', 'other']),
      delete: () => c.cache.delete('other'),
      loaded: () => c.cache.getOrLoad('load-while-frozen', () => 'from the loader'),
      command: () => client.get('raw'),
      sendCommand: () => client.sendCommand(false, ['SET', 'raw', 'v']),
      multi: () => client.multi().set('raw', 'a').get('raw').exec(),
      pipeline: () => client.multi().set('raw', 'a').get('raw').execAsPipeline(),
      route: () => c.cache.routes.get('u1'),
      markRead: () =>
        c.cache.readCursors.markRead({
          userId: 'u1',
          chat: 'group',
          conversationId: 'g1',
          messageId: '7',
        }),
    });

    for (const call of ['get', 'set', 'getMany', 'delete']) {
      assertFailed(r[call], call, DistributedCacheError);
    }
    for (const call of ['command', 'sendCommand', 'multi', 'pipeline']) {
      assertFailed(r[call], call, ReplyTimeoutError);
    }
    for (const call of ['route', 'markRead']) {
      assert.equal(r[call].status, 'rejected', `${call}: expected a failure`);
    }
    assert.equal(r.loaded.status, 'fulfilled', String(r.loaded.reason));
    assert.equal(r.loaded.value, 'from the loader');
  });

  it('answers correctly once the master is back, with no reply mixed up', async () => {
    assert.ok(await answersAgain('probe-1'), 'the master answered again');

    assert.equal(await c.cache.get('before'), 'kept');
    assert.deepEqual(await client.multi().set('raw', 'C').get('raw').exec(), ['OK', 'C']);
    assert.equal(await client.sendCommand(true, ['GET', 'raw']), 'C');
    assert.equal(await sentinel.currentMaster(), 0, 'no fail-over happened');
  });

  it('a master frozen while a client starts: start-up goes on, calls fail, then work', async () => {
    const options = resolveOptions({
      distributed: {
        sentinel: { name: sentinel.name, nodes: sentinel.nodes },
        commandTimeout: COMMAND_TIMEOUT,
        connectTimeout: 500,
      },
    });
    const logger = new MemoryLogger();
    const late = new RedisDistributedCache(options.distributed, logger);
    const master = sentinel.servers[await sentinel.currentMaster()];
    master.pause();
    try {
      const started = await settleWithin(late.connect(), NO_HANG);
      assert.equal(started.status, 'fulfilled');
      assert.match(logger.lines[0]?.message ?? '', /not reachable at start-up/);
      assert.equal((await settleWithin(late.get('late'), NO_HANG)).status, 'rejected');
    } finally {
      master.resume();
    }

    const works = async () => {
      await late.set('late', 'written', 60_000);
      return true;
    };
    try {
      assert.ok(await eventually(works, 5000), 'the client reached the master');
      assert.equal(await late.get('late'), 'written');
    } finally {
      await late.close();
    }
  });

  it('follows a fail-over to the replica, keeping what was written before', async () => {
    await c.cache.set('written-before', { n: 1 });
    await c.cache.readCursors.markRead({
      userId: 'u2',
      chat: 'single',
      conversationId: 'u3',
      messageId: '18446744073709551615',
    });
    await sentinel.replicated();

    const promoted = await sentinel.failover();

    assert.equal(promoted, 1);
    assert.ok(await answersAgain('probe-2'), 'writes succeed on the new master');
    assert.deepEqual(await c.cache.get('written-before'), { n: 1 });
    const cursor = await c.cache.readCursors.get({
      userId: 'u2',
      chat: 'single',
      conversationId: 'u3',
    });
    assert.equal(cursor, '18446744073709551615');
  });

  it('a master frozen for good: the replica is promoted and calls succeed again', async () => {
    const frozen = sentinel.servers[await sentinel.currentMaster()];
    await c.cache.set('before-freeze', 'kept');
    await sentinel.replicated();
    frozen.pause();
    try {
      const during = await settleWithin(c.cache.get('before-freeze'), NO_HANG);
      assertFailed(during, 'get while frozen', DistributedCacheError);

      assert.ok(await answersAgain('probe-3'), 'the client reached the promoted replica');
      assert.notEqual(sentinel.servers[await sentinel.currentMaster()], frozen);
      assert.equal(await c.cache.get('before-freeze'), 'kept');
    } finally {
      frozen.resume();
    }
  });
});
