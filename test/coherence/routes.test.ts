import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { openRawRedis, type RawRedis } from '../support/redis-client';
import { startRedisServer, uniqueNamespace, type RedisServer } from '../support/redis';
import { quiesce, startWorker, type Worker } from './support/workers';

interface Status {
  online: boolean;
  status: string;
  lastSeenAt: number | null;
}

/**
 * A gateway instance that writes routes and a reader instance that looks them up, in two
 * processes, on a Redis of their own so its command counters show what reached Redis.
 */
function twoInstances(routeTtl: number) {
  const setup = {} as { server: RedisServer; admin: RawRedis; gateway: Worker; reader: Worker };

  before(async () => {
    setup.server = await startRedisServer();
    setup.admin = await openRawRedis(setup.server.url);
    const options = {
      namespace: uniqueNamespace('routes'),
      distributed: { url: setup.server.url },
      im: { routeTtl },
    };
    [setup.gateway, setup.reader] = await Promise.all([startWorker(options), startWorker(options)]);
  });

  after(async () => {
    await Promise.all([setup.gateway?.close(), setup.reader?.close()]);
    await setup.admin?.close();
    await setup.server?.stop();
  });

  return setup;
}

let users = 0;

/** A fresh user and a helper building its routes. */
function newUser() {
  const userId = `user-${++users}`;
  const route = (deviceId: string, serverId: string, connectionId: string) => ({
    userId,
    deviceId,
    serverId,
    connectionId,
  });
  return { userId, route };
}

describe('coherence: routes and online status from L1', () => {
  // Leases far longer than any wait below: only an invalidation can make a change visible.
  const setup = twoInstances(60_000);
  const settle = () => quiesce([setup.gateway, setup.reader]);

  async function calls(command: string): Promise<number> {
    const info = String(await setup.admin.sendCommand(['INFO', 'commandstats']));
    const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
    return match ? Number(match[1]) : 0;
  }

  it('a repeated lookup of unchanged routes and status does not reach Redis', async () => {
    const { gateway, reader } = setup;
    const { userId, route } = newUser();
    await gateway.call('bind', route('phone', 'gw-a', 'c1'));
    await settle();
    assert.deepEqual(await reader.call('routes', userId), [route('phone', 'gw-a', 'c1')]);

    const before = await calls('mget');
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await reader.call('routes', userId), [route('phone', 'gw-a', 'c1')]);
      assert.equal((await reader.call<Status>('online', userId)).online, true);
      assert.deepEqual(Object.keys(await reader.call('groupByServer', [userId])), ['gw-a']);
    }
    assert.equal(await calls('mget'), before);
  });

  it('bind on one instance replaces the route another instance holds', async () => {
    const { gateway, reader } = setup;
    const { userId, route } = newUser();
    await gateway.call('bind', route('phone', 'gw-a', 'c1'));
    await settle();
    assert.deepEqual(await reader.call('routes', userId), [route('phone', 'gw-a', 'c1')]);

    const kicked = await gateway.call('bind', route('phone', 'gw-b', 'c2'));
    assert.deepEqual(kicked, route('phone', 'gw-a', 'c1'));

    await reader.call('waitForRoutes', userId, [route('phone', 'gw-b', 'c2')], 3000);
  });

  it('unbind on one instance removes the route and the online state elsewhere', async () => {
    const { gateway, reader } = setup;
    const { userId, route } = newUser();
    await gateway.call('bind', route('laptop', 'gw-a', 'c3'));
    await settle();
    assert.equal((await reader.call<Status>('online', userId)).online, true);

    const ref = { userId, deviceId: 'laptop', connectionId: 'c3' };
    assert.equal(await gateway.call('unbind', ref), true);

    await reader.call('waitForRoutes', userId, [], 3000);
    const status = await reader.call<Status>('online', userId);
    assert.equal(status.online, false);
    assert.equal(typeof status.lastSeenAt, 'number');
  });

  it('a status change on one instance is seen on another', async () => {
    const { gateway, reader } = setup;
    const { userId, route } = newUser();
    await gateway.call('bind', route('phone', 'gw-a', 'c4'));
    await settle();
    assert.equal((await reader.call<Status>('online', userId)).status, 'online');

    await gateway.call('setStatus', userId, 'busy');

    const busy = { userId, online: true, status: 'busy', devices: ['phone'], lastSeenAt: null };
    await reader.call('waitForOnline', userId, busy, 3000);
  });

  it('removeServer on one instance drops the routes another instance holds', async () => {
    const { gateway, reader } = setup;
    const { userId } = newUser();
    const onDead = [`${userId}-x`, `${userId}-y`];
    for (const [i, id] of onDead.entries()) {
      const bound = { userId: id, deviceId: 'd', serverId: 'gw-dead', connectionId: `k${i}` };
      await gateway.call('bind', bound);
    }
    await gateway.call('bind', { userId, deviceId: 'd', serverId: 'gw-alive', connectionId: 'k9' });
    await settle();
    const held = await reader.call<object>('groupByServer', [...onDead, userId]);
    assert.deepEqual(Object.keys(held).sort(), ['gw-alive', 'gw-dead']);

    assert.equal(await gateway.call('removeServer', 'gw-dead'), 2);

    await reader.call('waitForRoutes', onDead[0], [], 3000);
    await reader.call('waitForRoutes', onDead[1], [], 3000);
    const left = await reader.call<object>('groupByServer', [...onDead, userId]);
    assert.deepEqual(Object.keys(left), ['gw-alive']);
  });
});

describe('coherence: renewed leases through L1', () => {
  const routeTtl = 600;
  const setup = twoInstances(routeTtl);

  it('a renewed lease is seen past the end of the lease a copy was taken with', async () => {
    const { gateway, reader } = setup;
    const { userId, route } = newUser();
    await gateway.call('bind', route('phone', 'gw-a', 'c5'));
    await quiesce([gateway, reader]);
    assert.equal((await reader.call<unknown[]>('routes', userId)).length, 1); // copy taken

    await sleep(routeTtl / 2);
    const ref = { userId, deviceId: 'phone', connectionId: 'c5' };
    assert.deepEqual(await gateway.call('renew', [ref]), []);
    await sleep(routeTtl / 2 + 100); // past the first lease, inside the renewed one

    assert.deepEqual(await reader.call('routes', userId), [route('phone', 'gw-a', 'c5')]);
    assert.equal((await reader.call<Status>('online', userId)).online, true);
  });
});
