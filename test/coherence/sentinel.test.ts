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
    // The reader has no heartbeat: the end of the outage a fail-over causes must be noticed
    // without one (its subscription is confirmed on the new master).
    const readerOptions = { ...options, coherence: { heartbeat: false as const } };
    [writer, reader] = await Promise.all([startWorker(options), startWorker(readerOptions)]);
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

  it('after a fail-over, keeps propagating and serves no copy from before it', async () => {
    const user = { userId: 'u-failover', deviceId: 'phone', serverId: 'gw-a', connectionId: 'c1' };
    await writer.call('set', 'route', 'gateway-a');
    await writer.call('set', 'unannounced', 'before');
    await writer.call('set', 'source', 'after');
    await writer.call('bind', user);
    await quiesce([writer, reader]);
    assert.equal(await reader.call('get', 'route'), 'gateway-a');
    assert.equal(await reader.call('get', 'unannounced'), 'before');
    assert.equal(await reader.call('peekRaw', 'unannounced'), 'before'); // an L1 copy
    assert.deepEqual(await reader.call('routes', user.userId), [user]);
    await sentinel.replicated();

    // What a fail-over can do to a reader: the new master holds something else than what its
    // copies were read from, and no message it hears says so (a write lost on the old master
    // after its message went out, or a message sent while its subscription was moving). Made
    // certain here: the replica about to be promoted is changed behind everyone's back.
    await diverge(sentinel.servers[1 - (await sentinel.currentMaster())]);

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

    await readerSees('route', 'gateway-b');
    await readerSees('unannounced', 'after');
    await eventually(
      async () => (await reader.call<unknown[]>('routes', user.userId)).length === 0,
      15_000,
      'the reader to drop its copy of the user record',
    );
    await eventually(async () => (await reader.stats()).coherence!.connected, 15_000, 'bus up');
    // Both of the reader's connections moved: L2's (L1 emptied) and the subscription's (an
    // outage, ended once the subscription was confirmed on the new master).
    const stats = (await reader.stats()).coherence!;
    assert.ok(stats.masterChanges >= 1 && stats.outages >= 1, JSON.stringify(stats));
    const logs = (await reader.call<{ message: string }[]>('logs')).map((line) => line.message);
    assert.ok(
      logs.some((line) => /Sentinel master is now .*; L1 emptied/.test(line)),
      logs.join('\n'),
    );
    assert.ok(
      logs.some((line) => /subscription \(Sentinel master changed/.test(line)),
      logs.join('\n'),
    );
    await writer.call('set', 'route', 'gateway-c');
    await reader.call('waitFor', 'route', 'gateway-c', 5000);
  });

  /**
   * On `replica`, with no message: `unannounced` takes the stored entry of `source`, and the
   * user record of the test is deleted.
   */
  async function diverge(replica: { url: string }): Promise<void> {
    const raw = await openRawRedis(replica.url);
    try {
      await raw.configSet('replica-read-only', 'no');
      const entry = await raw.get(`${namespace}:c:source`);
      assert.ok(entry !== null, 'the replica holds the source entry');
      await raw.set(`${namespace}:c:unannounced`, entry, { PX: 60_000 });
      assert.equal(await raw.del(`${namespace}:im:u:{u-failover}`), 1);
      await raw.configSet('replica-read-only', 'yes');
    } finally {
      await raw.close();
    }
  }

  async function readerSees(key: string, value: string): Promise<void> {
    let last: unknown;
    await eventually(
      async () => {
        last = await reader.call('get', key).catch((error: Error) => error.message);
        return last === value;
      },
      15_000,
      `the reader to read ${value} for ${key}`,
    ).catch(async (error: Error) => {
      const stats = (await reader.stats()).coherence;
      throw new Error(`${error.message}; last read ${String(last)}, ${JSON.stringify(stats)}`);
    });
  }

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
