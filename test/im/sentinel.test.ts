import { after, before } from 'node:test';
import { presenceContract } from './contract/presence.contract';
import { readCursorsContract } from './contract/read-cursors.contract';
import { routesContract } from './contract/routes.contract';
import { videoSessionsContract } from './contract/video-sessions.contract';
import { startRedisSentinel, type RedisSentinel } from '../support/redis-sentinel';
import { redisFixtureOn, type Backend } from './support/fixture';

// The whole contract again through Redis Sentinel: the scripts and the presence
// subscription go through the Sentinel client (its master connection and its own pub/sub).
let sentinel: RedisSentinel;

before(async () => {
  sentinel = await startRedisSentinel();
});

after(async () => {
  await sentinel?.stop();
});

const sentinelBackend: Backend = {
  name: 'redis sentinel',
  shared: true,
  create: () =>
    redisFixtureOn(
      {
        driver: 'redis',
        sentinel: { name: sentinel.name, nodes: sentinel.nodes },
        commandTimeout: '5s',
      },
      async () => {
        // Throwaway servers: everything goes when the deployment stops.
      },
    ),
};

routesContract(sentinelBackend);
presenceContract(sentinelBackend);
readCursorsContract(sentinelBackend);
videoSessionsContract(sentinelBackend);
