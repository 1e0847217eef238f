import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DistributedCacheError,
  UsersBusyError,
  type ImCacheService,
  type StartSessionInput,
} from '../../src';
import calculateSlot from 'cluster-key-slot';
import { startCache, type TestCache } from '../support/app';
import { settleWithin } from '../support/timing';
import { uniqueNamespace } from '../support/redis';
import { openRawRedis, type RawRedis } from '../support/redis-client';
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

  it('of overlapping concurrent starts at least one starts, all or none each', async () => {
    const namespace = uniqueNamespace('im');
    const distributed = { driver: 'redis' as const, cluster: { nodes: cluster.nodes } };
    const im = { sessionTtl: 30_000 };
    // Two instances, so the calls also race over different connections.
    const apps: TestCache[] = [];
    const raws = await Promise.all(cluster.nodes.map((node) => openRawRedis(node)));
    try {
      for (let i = 0; i < 2; i++)
        apps.push(await startCache({ namespace, distributed, coherence: false, im }));
      const flags = new FlagReader(namespace, raws, cluster.masterOf);
      for (let round = 0; round < 10; round++) {
        const calls = overlappingCalls(round);
        const users = [...new Set(calls.flatMap(callUsers))];
        const masters = new Set(users.map((u) => cluster.masterOf(flags.key(u))));
        assert.ok(masters.size >= 2, `round ${round}: users spread over the masters`);

        const outcomes = await Promise.allSettled(
          calls.map((c, i) => apps[i % 2].cache.videoSessions.start(c)),
        );
        await checkRound(round, calls, outcomes, flags, apps[0].cache);
      }
    } finally {
      await Promise.all(apps.map((app) => app.close()));
      await Promise.all(raws.map((raw) => raw.close()));
    }
  });

  it('a start cut off part-way frees the flags it had claimed', async () => {
    const namespace = uniqueNamespace('im');
    const flagKey = (u: string) => `${namespace}:im:b:{${u}}`;
    // `late` has the highest slot of the candidates, so it is claimed last; its master
    // freezes, while `early` (claimed first) and the session live elsewhere.
    const candidates = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    candidates.sort((x, y) => calculateSlot(flagKey(x)) - calculateSlot(flagKey(y)));
    const late = candidates[candidates.length - 1];
    const frozen = cluster.masterOf(flagKey(late));
    const early = candidates.find((u) => cluster.masterOf(flagKey(u)) !== frozen) as string;
    const sessionId = candidates.find(
      (s) => cluster.masterOf(`${namespace}:im:v:{${s}}`) !== frozen,
    ) as string;

    const app = await startCache({
      namespace,
      distributed: { driver: 'redis', cluster: { nodes: cluster.nodes }, commandTimeout: 300 },
      coherence: false,
      im: { sessionTtl: 30_000 },
    });
    const raws = await Promise.all(cluster.nodes.map((node) => openRawRedis(node)));
    const flag = (u: string) => raws[cluster.masterOf(flagKey(u))].get(flagKey(u));
    try {
      cluster.pause(frozen);
      const start = app.cache.videoSessions.start({
        sessionId,
        initiatorId: early,
        participantIds: [late],
        media: 'audio',
      });
      const settled = await settleWithin(start, 5000);
      assert.ok(settled.reason instanceof DistributedCacheError, String(settled.reason));
      assert.equal(await flag(early), null, 'the flag claimed before the cut is freed');
      cluster.resume(frozen);

      // The frozen master now runs the claim it had not answered, then the release sent
      // after it; a read on the same connection comes after both.
      assert.equal(await app.cache.videoSessions.getByUser(late), null);
      assert.equal(await flag(late), null, 'the claim left unanswered is freed too');
      assert.equal(await app.cache.videoSessions.get(sessionId), null);
    } finally {
      cluster.resume(frozen);
      await app.close();
      await Promise.all(raws.map((raw) => raw.close()));
    }
  });
});

/**
 * Round `round`'s calls, 4 to 6 of them over users of that round only. Even rounds: a ring
 * (call i rings user i + 1, and user 0 closes it), where claiming in any order of the
 * callers' own would let every call hold one user and miss the next. Odd rounds: each call
 * takes 3 of 7 users, picked by a fixed pseudo-random walk.
 */
function overlappingCalls(round: number): StartSessionInput[] {
  const n = 4 + (round % 3);
  const user = (i: number) => `r${round}-u${i}`;
  return Array.from({ length: n }, (_, i) => {
    const others =
      round % 2 === 0
        ? [user((i + 1) % n)]
        : [user((i * 3 + round) % 7), user((i * 5 + round + 2) % 7)];
    const initiator = round % 2 === 0 ? user(i) : user((i + round * 2 + 4) % 7);
    const participantIds = others.filter((u) => u !== initiator);
    if (participantIds.length === 0) participantIds.push(user(7));
    return { sessionId: `r${round}-s${i}`, initiatorId: initiator, participantIds, media: 'audio' };
  });
}

function callUsers(c: StartSessionInput): string[] {
  return [c.initiatorId, ...c.participantIds];
}

/** Reads busy flags straight from the master serving each one. */
class FlagReader {
  constructor(
    private readonly namespace: string,
    private readonly raws: RawRedis[],
    private readonly masterOf: (key: string) => number,
  ) {}

  key(userId: string): string {
    return `${this.namespace}:im:b:{${userId}}`;
  }

  get(userId: string): Promise<string | null> {
    const key = this.key(userId);
    return this.raws[this.masterOf(key)].get(key);
  }
}

/**
 * One round's outcome: some call started, the started calls share nobody, each user's flag
 * names the started call holding them or nothing, and the failed calls left no session.
 */
async function checkRound(
  round: number,
  calls: StartSessionInput[],
  outcomes: PromiseSettledResult<unknown>[],
  flags: FlagReader,
  cache: ImCacheService,
): Promise<void> {
  const holderOf = new Map<string, string>();
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'rejected') {
      assert.ok(outcome.reason instanceof UsersBusyError, `round ${round}: ${outcome.reason}`);
      return;
    }
    for (const u of callUsers(calls[i])) {
      assert.equal(holderOf.get(u), undefined, `round ${round}: ${u} is in two calls`);
      holderOf.set(u, calls[i].sessionId);
    }
  });
  assert.ok(holderOf.size > 0, `round ${round}: none of ${calls.length} calls started`);

  for (const u of new Set(calls.flatMap(callUsers)))
    assert.equal(await flags.get(u), holderOf.get(u) ?? null, `round ${round}: flag of ${u}`);
  for (let i = 0; i < calls.length; i++) {
    const stored = await cache.videoSessions.get(calls[i].sessionId);
    assert.equal(stored !== null, outcomes[i].status === 'fulfilled', calls[i].sessionId);
  }
}
