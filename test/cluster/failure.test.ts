import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DISTRIBUTED_CACHE, DistributedCacheError } from '../../src';
import { RedisDistributedCache } from '../../src/distributed/redis/redis.distributed-cache';
import { ReplyTimeoutError } from '../../src/distributed/redis/reply-deadlines';
import { resolveOptions } from '../../src/options/resolve-options';
import { MemoryLogger, startCache, type TestCache } from '../support/app';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster';
import { uniqueNamespace } from '../support/redis';
import { eventually, settleWithin, type Settled } from '../support/timing';
import { failOnUnhandledRejections } from '../support/unhandled';

/**
 * A frozen Cluster master (SIGSTOP: its sockets stay open, nothing answers) must not make any
 * call hang, whoever sends it: the driver, the IM repositories' scripts, or code holding
 * `RedisDistributedCache.client` (commands, `sendCommand`, `MULTI`, pipelines).
 */
const COMMAND_TIMEOUT = 300;
/** "Does not hang": far above the command timeout, far below the test timeout. */
const NO_HANG = 3000;
/** Pauses stay well below `cluster-node-timeout` (5 s), so the cluster never fails over. */
const PAUSED = 0;

failOnUnhandledRejections();

describe('a paused Cluster master', () => {
  let cluster: RedisCluster;
  let c: TestCache;
  let client: any;
  const logger = new MemoryLogger();
  /** Keys (and IM user IDs) whose slot the paused master serves, and ones it does not. */
  let onPaused: string;
  let elsewhere: string;

  before(async () => {
    cluster = await startRedisCluster();
    c = await startCache({
      namespace: uniqueNamespace('clu-fail'),
      logger,
      local: { driver: 'none' },
      distributed: { cluster: { nodes: cluster.nodes }, commandTimeout: COMMAND_TIMEOUT },
      breaker: false,
      coherence: false,
    });
    client = (c.app.get(DISTRIBUTED_CACHE) as RedisDistributedCache).client;
    const names = Array.from({ length: 50 }, (_, i) => `u${i}`);
    onPaused = names.find((name) => cluster.masterOf(`{${name}}`) === PAUSED)!;
    elsewhere = names.find((name) => cluster.masterOf(`{${name}}`) !== PAUSED)!;
  });

  after(async () => {
    cluster?.resume(PAUSED);
    await c?.close();
    await cluster?.stop();
  });

  /** Runs `calls` while master PAUSED is frozen, all at once; resumes it afterwards. */
  async function whilePaused(calls: Record<string, () => Promise<unknown>>) {
    cluster.pause(PAUSED);
    try {
      const names = Object.keys(calls);
      const settled = await Promise.all(names.map((n) => settleWithin(calls[n](), NO_HANG)));
      return Object.fromEntries(names.map((n, i) => [n, settled[i]]));
    } finally {
      cluster.resume(PAUSED);
    }
  }

  function assertTimedOut(
    settled: Settled<unknown>,
    what: string,
    type: new (...args: never[]) => Error,
  ): void {
    assert.equal(settled.status, 'rejected', `${what}: expected a failure`);
    assert.ok(settled.reason instanceof type, `${what}: ${String(settled.reason)}`);
  }

  it('service calls touching it fail within the timeout; other masters still answer', async () => {
    const key = `{${onPaused}}:profile`;
    const other = `{${elsewhere}}:profile`;
    await c.cache.set(key, 'before');
    await c.cache.set(other, 'before');

    const r = await whilePaused({
      get: () => c.cache.get(key),
      set: () => c.cache.set(key, 'during'),
      getMany: () => c.cache.getMany([other, key]),
      delete: () => c.cache.delete([key, `{${elsewhere}}:gone`]),
      loaded: () => c.cache.getOrLoad(key, () => 'from the loader'),
      otherGet: () => c.cache.get(other),
    });

    for (const call of ['get', 'set', 'getMany', 'delete']) {
      assertTimedOut(r[call], call, DistributedCacheError);
    }
    assert.equal(r.loaded.status, 'fulfilled', String(r.loaded.reason));
    assert.equal(r.loaded.value, 'from the loader');
    assert.equal(r.otherGet.status, 'fulfilled', String(r.otherGet.reason));
    assert.equal(r.otherGet.value, 'before');
  });

  it('commands sent through RedisDistributedCache.client are bounded too', async () => {
    const key = `{${onPaused}}:raw`;
    const other = `{${elsewhere}}:raw`;

    const r = await whilePaused({
      command: () => client.get(key),
      sendCommand: () => client.sendCommand(key, false, ['SET', key, 'v']),
      script: () => client.eval('return redis.call("GET", KEYS[1])', { keys: [key] }),
      multi: () => client.multi().set(key, 'a').get(key).exec(),
      pipeline: () => client.multi().set(key, 'a').get(key).execAsPipeline(),
      otherSendCommand: () => client.sendCommand(other, false, ['SET', other, 'v']),
    });

    for (const call of ['command', 'sendCommand', 'script', 'multi', 'pipeline']) {
      assertTimedOut(r[call], call, ReplyTimeoutError);
    }
    assert.equal(r.otherSendCommand.status, 'fulfilled', String(r.otherSendCommand.reason));
  });

  it('IM repository calls of users on it fail within the timeout', async () => {
    const bind = (userId: string) =>
      c.cache.routes.bind({ userId, deviceId: 'phone', serverId: 'gw-1', connectionId: 'c1' });
    await bind(elsewhere);

    const r = await whilePaused({
      bind: () => bind(onPaused),
      route: () => c.cache.routes.get(onPaused),
      status: () => c.cache.onlineStatus.getMany([elsewhere, onPaused]),
      markRead: () =>
        c.cache.readCursors.markRead({
          userId: onPaused,
          chat: 'single',
          conversationId: 'peer',
          messageId: '42',
        }),
      otherRoute: () => c.cache.routes.get(elsewhere),
    });

    for (const call of ['bind', 'route', 'status', 'markRead']) {
      assert.equal(r[call].status, 'rejected', `${call}: expected a failure`);
    }
    assert.equal(r.otherRoute.status, 'fulfilled', String(r.otherRoute.reason));
  });

  it('answers correctly once the master is resumed, with no reply mixed up', async () => {
    const key = `{${onPaused}}:after`;
    const other = `{${elsewhere}}:after`;
    const answers = async () => {
      await c.cache.get(key);
      return true;
    };
    assert.ok(await eventually(answers, 5000), 'the master answered again after resume');

    await c.cache.set(key, 'A');
    await c.cache.set(other, 'B');
    assert.deepEqual(await c.cache.getMany([other, key, other]), ['B', 'A', 'B']);
    assert.deepEqual(await client.multi().set(key, 'C').get(key).exec(), ['OK', 'C']);
    assert.equal(await client.sendCommand(key, true, ['GET', key]), 'C');
    assert.deepEqual(await c.cache.routes.get(onPaused), []);
  });

  it('a seed frozen while the client starts: start-up goes on, calls fail, then work', async () => {
    const options = resolveOptions({
      distributed: {
        cluster: { nodes: [cluster.nodes[PAUSED]] },
        commandTimeout: COMMAND_TIMEOUT,
        connectTimeout: 500,
      },
    });
    const logger = new MemoryLogger();
    const late = new RedisDistributedCache(options.distributed, logger);
    cluster.pause(PAUSED);
    try {
      const started = await settleWithin(late.connect(), NO_HANG);
      assert.equal(started.status, 'fulfilled');
      assert.match(logger.lines[0]?.message ?? '', /not reachable at start-up/);
      assert.equal((await settleWithin(late.get(`{${elsewhere}}:x`), NO_HANG)).status, 'rejected');
    } finally {
      cluster.resume(PAUSED);
    }

    const works = async () => {
      await late.set(`{${elsewhere}}:x`, 'late', 60_000);
      return true;
    };
    try {
      assert.ok(await eventually(works, 5000), 'the client discovered the cluster');
      assert.deepEqual(await late.getMany([`{${onPaused}}:x`, `{${elsewhere}}:x`]), [
        undefined,
        'late',
      ]);
    } finally {
      await late.close();
    }
  });

  it('a master that goes away is logged once, calls fail fast, it is back on restart', async () => {
    const key = `{${onPaused}}:restart`;
    const lines = () => logger.lines.map((line) => `${line.level} ${line.message}`);
    const address = `127.0.0.1:${cluster.ports[PAUSED]}`;
    await cluster.kill(PAUSED);
    try {
      for (let i = 0; i < 5; i++) {
        assertTimedOut(await settleWithin(c.cache.get(key), NO_HANG), 'get', DistributedCacheError);
      }
      const down = lines().filter((line) => line.includes(`node ${address} error`));
      assert.equal(down.length, 1, lines().join('\n'));
      assert.match(down[0], /^warn redis cluster node .* reconnecting$/);
    } finally {
      await cluster.start(PAUSED);
    }

    const works = async () => {
      await c.cache.set(key, 'back');
      return true;
    };
    assert.ok(await eventually(works, 10_000), 'the restarted master serves its slots again');
    assert.equal(await c.cache.get(key), 'back');
    assert.ok(lines().includes(`log redis cluster node ${address} restored`), lines().join('\n'));
  });
});
