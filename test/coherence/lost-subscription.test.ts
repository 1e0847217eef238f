import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import type { CoherenceDisconnectMode } from '../../src';
import { openRawRedis, type RawRedis } from '../support/redis-client';
import { startRedisServer, uniqueNamespace, type RedisServer } from '../support/redis';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy';
import { eventually, quiesce, startWorker, type Worker } from './support/workers';

/** The `CLIENT LIST` id of the connection named `name`. */
async function clientId(admin: RawRedis, name: string): Promise<string> {
  const list = String(await admin.sendCommand(['CLIENT', 'LIST']));
  const line = list.split('\n').find((entry) => entry.includes(` name=${name} `));
  assert.ok(line, `no connection named ${name}`);
  return /id=(\d+)/.exec(line)![1];
}

function subscriberName(worker: Worker): string {
  return `nest-im-cache:coherence:${worker.instanceId}`;
}

async function connected(worker: Worker): Promise<boolean> {
  return (await worker.stats()).coherence!.connected;
}

describe('coherence: a lost subscription', () => {
  const workers: Worker[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  async function start(url: string, mode: CoherenceDisconnectMode, heartbeat: string | false) {
    const options = {
      namespace: uniqueNamespace('lost'),
      distributed: { url },
      coherence: { onDisconnect: mode, heartbeat },
    };
    const pair = await Promise.all([startWorker(options), startWorker(options)]);
    workers.push(...pair);
    return pair;
  }

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.close()));
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  after(() => undefined);

  async function ownServer(): Promise<{ server: RedisServer; admin: RawRedis }> {
    const server = await startRedisServer();
    cleanups.push(() => server.stop());
    const admin = await openRawRedis(server.url);
    cleanups.push(() => admin.close());
    return { server, admin };
  }

  for (const mode of ['bypass', 'clear'] as const) {
    it(`onDisconnect '${mode}': nothing missed during the outage is served after it`, async () => {
      const { admin } = await ownServer();
      const [writer, reader] = await start((await ownServerUrl(admin)) as string, mode, false);

      await writer.call('set', 'route:42', 'gateway-a');
      await quiesce([writer, reader]);
      assert.equal(await reader.call('get', 'route:42'), 'gateway-a');
      assert.equal(await reader.call('peekRaw', 'route:42'), 'gateway-a');

      // Kill the reader's subscriber and keep it out: no new connection is accepted.
      const id = await clientId(admin, subscriberName(reader));
      const count = String(await admin.sendCommand(['CLIENT', 'LIST']))
        .trim()
        .split('\n');
      await admin.sendCommand(['CONFIG', 'SET', 'maxclients', String(count.length - 1)]);
      await admin.sendCommand(['CLIENT', 'KILL', 'ID', id]);
      await eventually(async () => !(await connected(reader)), 5000, 'the reader to notice');

      // Changed while the reader cannot hear it.
      await writer.call('set', 'route:42', 'gateway-b');
      await writer.call('flush');
      if (mode === 'bypass') {
        assert.equal(await reader.call('peek', 'route:42'), undefined, 'L1 is not read');
        assert.equal(await reader.call('get', 'route:42'), 'gateway-b');
      } else {
        assert.equal(await reader.call('peekRaw', 'route:42'), undefined, 'L1 was emptied');
        assert.equal(await reader.call('get', 'route:42'), 'gateway-b');
        // Kept in L1 during the outage, and changed again: may be served stale until back.
      }
      await writer.call('set', 'route:42', 'gateway-c');
      await writer.call('flush');

      await admin.sendCommand(['CONFIG', 'SET', 'maxclients', '10000']);
      await eventually(() => connected(reader), 10_000, 'the reader to subscribe again');

      assert.equal(await reader.call('get', 'route:42'), 'gateway-c');
      const stats = (await reader.stats()).coherence!;
      assert.equal(stats.outages, 1);
      const logs = await reader.call<{ level: string; message: string }[]>('logs');
      const lost = logs.filter((line) => line.message.includes('lost the invalidation'));
      assert.equal(lost.length, 1, 'logged once per outage');
      assert.ok(logs.some((line) => line.message.includes('subscription restored')));

      // And the bus works again.
      await writer.call('set', 'route:42', 'gateway-d');
      await reader.call('waitFor', 'route:42', 'gateway-d', 5000);
    });
  }

  it('a Redis restart leaves no stale copy behind', async () => {
    const { server, admin } = await ownServer();
    await admin.close();
    const [writer, reader] = await start(server.url, 'bypass', '200ms');
    await writer.call('set', 'status:7', 'online');
    await quiesce([writer, reader]);
    assert.equal(await reader.call('get', 'status:7'), 'online');
    assert.equal(await reader.call('peekRaw', 'status:7'), 'online');

    await server.stop();
    await eventually(async () => !(await connected(reader)), 5000, 'the reader to notice');
    await server.restart();
    await eventually(
      async () => {
        try {
          await writer.call('set', 'status:7', 'away');
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      'a write to succeed after the restart',
    );

    // The reader's own L2 connection may take longer to come back. Meanwhile its reads fail,
    // or get the copy it holds as the fail-safe fallback for an unreachable L2, counted as
    // stale (docs/protections.md); a read answering the old value otherwise is the bug.
    await eventually(
      async () => {
        const staleBefore = (await reader.stats()).staleServed;
        const read = await reader.call('get', 'status:7').catch(() => 'failed');
        if (read === 'online') assert.ok((await reader.stats()).staleServed > staleBefore);
        return read === 'away';
      },
      10_000,
      'the reader to read the new value',
    );
    await eventually(() => connected(reader), 10_000, 'the reader to subscribe again');
    assert.equal(await reader.call('get', 'status:7'), 'away');
    await writer.call('set', 'status:7', 'busy');
    await reader.call('waitFor', 'status:7', 'busy', 5000);
  });

  it('a silently dead subscription is noticed by the heartbeat and reopened', async () => {
    const { server, admin } = await ownServer();
    await admin.close();
    const proxy: TcpProxy = await startTcpProxy(server.port);
    cleanups.push(() => proxy.close());
    const [writer, reader] = await start(proxy.url, 'bypass', '100ms');

    await writer.call('set', 'route:9', 'gateway-a');
    await quiesce([writer, reader]);
    assert.equal(await reader.call('get', 'route:9'), 'gateway-a');

    // The reader's subscriber connection stops carrying bytes; its socket stays open.
    assert.equal(proxy.blackHole(subscriberName(reader)), 1);
    await writer.call('set', 'route:9', 'gateway-b');
    await writer.call('flush');

    await eventually(
      async () => (await reader.stats()).coherence!.outages === 1,
      5000,
      'the heartbeat to notice the dead subscription',
    );
    await eventually(() => connected(reader), 10_000, 'a new subscription');
    assert.equal(await reader.call('get', 'route:9'), 'gateway-b');
    await writer.call('set', 'route:9', 'gateway-c');
    await reader.call('waitFor', 'route:9', 'gateway-c', 5000);
  });
});

async function ownServerUrl(admin: RawRedis): Promise<string> {
  const port = (await admin.configGet('port')).port;
  return `redis://127.0.0.1:${port}`;
}
