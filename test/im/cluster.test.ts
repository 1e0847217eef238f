import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openRawRedis } from '../support/redis-client';
import { presenceContract } from './contract/presence.contract';
import { readCursorsContract } from './contract/read-cursors.contract';
import { routesContract } from './contract/routes.contract';
import { videoSessionsContract } from './contract/video-sessions.contract';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster';
import { redisFixtureOn, type Backend } from './support/fixture';

// The whole contract again on a three-master Redis Cluster: batches split by hash slot,
// scripts per slot, busy flags claimed slot by slot, pub/sub through the cluster client.
let cluster: RedisCluster;

before(async () => {
  cluster = await startRedisCluster();
});

after(async () => {
  await cluster?.stop();
});

const clusterBackend: Backend = {
  name: 'redis cluster',
  shared: true,
  create: () =>
    redisFixtureOn(
      { driver: 'redis', cluster: { nodes: cluster.nodes }, commandTimeout: '5s' },
      async () => {
        // Throwaway servers: everything goes when the cluster stops.
      },
    ),
};

routesContract(clusterBackend);
presenceContract(clusterBackend);
readCursorsContract(clusterBackend);
videoSessionsContract(clusterBackend);

describe('IM repositories on a Redis Cluster', () => {
  it('spread users over every master, and answer batches across them', async () => {
    const f = await clusterBackend.create();
    try {
      const cache = await f.instance();
      const users = Array.from({ length: 60 }, (_, i) => `user-${i}`);
      await Promise.all(
        users.map((u) =>
          cache.routes.bind({ userId: u, deviceId: 'd', serverId: 'gw', connectionId: u }),
        ),
      );
      for (const node of cluster.nodes) {
        const raw = await openRawRedis(node);
        assert.ok((await raw.dbSize()) > 0, `${node} holds some of the users`);
        await raw.close();
      }
      const statuses = await cache.onlineStatus.getMany(users);
      assert.ok(statuses.every((s) => s.online));
      assert.equal((await cache.routes.groupByServer(users)).get('gw')?.length, 60);
    } finally {
      await f.close();
    }
  });
});
