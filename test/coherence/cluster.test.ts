import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster';
import { openRawRedis } from '../support/redis-client';
import { uniqueNamespace } from '../support/redis';
import { eventually, quiesce, startWorker, type Worker } from './support/workers';

/** The bus on a three-master Redis Cluster: plain PUBLISH reaches every node. */
describe('coherence on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let writer: Worker;
  let reader: Worker;

  before(async () => {
    cluster = await startRedisCluster();
    const options = {
      namespace: uniqueNamespace('clu'),
      distributed: { cluster: { nodes: cluster.nodes }, commandTimeout: '2s' },
      coherence: { heartbeat: '200ms' },
    };
    [writer, reader] = await Promise.all([startWorker(options), startWorker(options)]);
  });

  after(async () => {
    await Promise.all([writer?.close(), reader?.close()]);
    await cluster?.stop();
  });

  it('subscribes, and propagates writes of keys on every master', async () => {
    assert.equal((await reader.stats()).coherence!.connected, true);
    const keys = Array.from({ length: 30 }, (_, i) => `profile:${i}`);
    await writer.call(
      'setMany',
      keys.map((key) => [key, 'old']),
    );
    await quiesce([writer, reader]);
    assert.deepEqual(
      await reader.call('getMany', keys),
      keys.map(() => 'old'),
    );

    await writer.call(
      'setMany',
      keys.map((key) => [key, 'new']),
    );

    await eventually(
      async () => (await reader.call<unknown[]>('getMany', keys)).every((v) => v === 'new'),
      5000,
      'every key to propagate',
    );
  });

  it('a killed subscription is noticed, restored, and leaves no stale copy', async () => {
    await writer.call('set', 'route:1', 'gateway-a');
    await quiesce([writer, reader]);
    assert.equal(await reader.call('get', 'route:1'), 'gateway-a');
    assert.equal(await reader.call('peekRaw', 'route:1'), 'gateway-a');

    const name = `nest-im-cache:coherence:${reader.instanceId}`;
    for (const url of cluster.nodes) {
      const admin = await openRawRedis(url);
      const list = String(await admin.sendCommand(['CLIENT', 'LIST']));
      const lines = list.split('\n').filter((entry) => entry.includes(` name=${name} `));
      for (const line of lines) {
        await admin.sendCommand(['CLIENT', 'KILL', 'ID', /id=(\d+)/.exec(line)![1]]);
      }
      await admin.close();
    }
    await writer.call('set', 'route:1', 'gateway-b');

    await eventually(async () => (await reader.stats()).coherence!.outages >= 1, 5000, 'down');
    await eventually(async () => (await reader.stats()).coherence!.connected, 10_000, 'back');
    assert.equal(await reader.call('get', 'route:1'), 'gateway-b');
    await writer.call('set', 'route:1', 'gateway-c');
    await reader.call('waitFor', 'route:1', 'gateway-c', 5000);
  });
});
