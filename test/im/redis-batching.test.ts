import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DistributedCacheError,
  type CacheModuleOptions,
  type ImCacheService,
  type OnlineStatus,
  type Route,
  type UserStatus,
} from '../../src';
import { MemoryLogger, startCache, type TestCache } from '../support/app';
import { ManualClock } from '../support/clock';
import { startRedisServer, uniqueNamespace, type RedisServer } from '../support/redis';
import { commandCalls, openRawRedis, type RawRedis } from '../support/redis-client';
import { settleWithin } from '../support/timing';
import { failOnUnhandledRejections } from '../support/unhandled';

failOnUnhandledRejections();

/** A bound for "does not hang", far above the configured timeout: not a speed check. */
const NO_HANG = 3000;
const USERS = 450;
const NOW = 1_700_000_000_000;

/** What the test stored for one user: the model the answers are checked against. */
interface UserState {
  status: UserStatus | undefined;
  routes: Route[];
  /** Set when an online user went invisible (the clock never moves here). */
  lastSeenAt: number | null;
}

/**
 * Every third user is bound (every ninth on two devices), some of them away or invisible;
 * a few unbound users chose a status; the rest were never seen.
 */
function initialState(i: number): UserState {
  const userId = `u${i}`;
  const route = (deviceId: string, server: number): Route => ({
    userId,
    deviceId,
    serverId: `gw-${server % 4}`,
    connectionId: `${userId}-${deviceId}`,
  });
  if (i % 3 !== 0) {
    return { status: i % 10 === 1 ? 'busy' : undefined, routes: [], lastSeenAt: null };
  }
  const routes = [route('phone', i)];
  if (i % 9 === 0) routes.push(route('web', i + 1));
  const status = i % 7 === 0 ? 'invisible' : i % 5 === 0 ? 'away' : 'online';
  return { status, routes, lastSeenAt: status === 'invisible' ? NOW : null };
}

function presenceOf(userId: string, state: UserState): OnlineStatus {
  const visible = state.status !== 'invisible' && state.routes.length > 0;
  return visible
    ? {
        userId,
        online: true,
        status: state.status ?? 'online',
        devices: state.routes.map((r) => r.deviceId),
        lastSeenAt: state.lastSeenAt,
      }
    : { userId, online: false, status: 'offline', devices: [], lastSeenAt: state.lastSeenAt };
}

/** The push fan-out of `userIds`: each server's bindings, in the order of the users. */
function groupsOf(userIds: string[], states: Map<string, UserState>): Map<string, Route[]> {
  const groups = new Map<string, Route[]>();
  for (const userId of userIds) {
    for (const route of states.get(userId)!.routes) {
      groups.set(route.serverId, [...(groups.get(route.serverId) ?? []), route]);
    }
  }
  return groups;
}

describe('IM batch reads on Redis are split in MGETs of at most distributed.batchSize', () => {
  let server: RedisServer;
  let raw: RawRedis;
  const namespace = uniqueNamespace('im-batch');
  const clock = new ManualClock(NOW);
  const apps: TestCache[] = [];
  const states = new Map<string, UserState>();
  // A shuffled order, so answers in the wrong order cannot pass.
  const userIds = Array.from({ length: USERS }, (_, i) => `u${(i * 7) % USERS}`);

  async function instance(extra: CacheModuleOptions = {}): Promise<ImCacheService> {
    const app = await startCache({
      namespace,
      now: clock.now,
      logger: new MemoryLogger(),
      coherence: false,
      ...extra,
      distributed: { url: server.url, batchSize: 100, ...extra.distributed },
    });
    apps.push(app);
    return app.cache;
  }

  /** The MGET calls the server ran while `work` ran. */
  async function mgetsDuring(work: () => Promise<unknown>): Promise<number> {
    const before = await commandCalls(raw, 'mget');
    await work();
    return (await commandCalls(raw, 'mget')) - before;
  }

  before(async () => {
    server = await startRedisServer();
    raw = await openRawRedis(server.url);
    const writer = await instance();
    for (let i = 0; i < USERS; i++) {
      const state = initialState(i);
      states.set(`u${i}`, state);
      for (const route of state.routes) await writer.routes.bind(route);
      if (state.status !== undefined) await writer.onlineStatus.setStatus(`u${i}`, state.status);
    }
  });

  after(async () => {
    server?.resume();
    await Promise.all(apps.map((app) => app.close()));
    await raw?.close();
    await server?.stop();
  });

  it('onlineStatus.getMany of 450 users: 5 MGETs, answers in order', async () => {
    const cache = await instance();
    let answers: OnlineStatus[] = [];
    const mgets = await mgetsDuring(async () => {
      answers = await cache.onlineStatus.getMany(userIds);
    });
    assert.deepEqual(
      answers,
      userIds.map((id) => presenceOf(id, states.get(id)!)),
    );
    assert.equal(mgets, 5, '450 users at 100 per request: 5 requests of 90');
    assert.ok(answers.some((a) => a.online) && answers.some((a) => !a.online));
  });

  it('routes.groupByServer and getMany: the same split, bindings in user order', async () => {
    const cache = await instance();
    let groups = new Map<string, Route[]>();
    assert.equal(
      await mgetsDuring(async () => {
        groups = await cache.routes.groupByServer(userIds);
      }),
      5,
    );
    assert.deepEqual(groups, groupsOf(userIds, states));
    assert.equal(groups.size, 4);

    let routes: Route[][] = [];
    assert.equal(
      await mgetsDuring(async () => {
        routes = await cache.routes.getMany(userIds);
      }),
      5,
    );
    assert.deepEqual(
      routes,
      userIds.map((id) => states.get(id)!.routes),
    );
  });

  it('sends a batch no larger than batchSize as one MGET', async () => {
    const cache = await instance();
    const few = userIds.slice(0, 100);
    let answers: OnlineStatus[] = [];
    assert.equal(
      await mgetsDuring(async () => {
        answers = await cache.onlineStatus.getMany(few);
      }),
      1,
    );
    assert.deepEqual(
      answers,
      few.map((id) => presenceOf(id, states.get(id)!)),
    );
  });

  it('through the coherent L1, reads only the users it has no copy of, in order', async () => {
    const cache = await instance({ coherence: {} });
    assert.equal(await mgetsDuring(() => cache.onlineStatus.getMany(userIds)), 5);

    // Every other user (in the order asked) changes: their copies go, the others stay.
    const changed = userIds.filter((_, i) => i % 2 === 0);
    const now = new Map(states);
    for (const userId of changed) {
      await cache.onlineStatus.setStatus(userId, 'busy');
      now.set(userId, { ...states.get(userId)!, status: 'busy' });
    }
    let groups = new Map<string, Route[]>();
    const reread = await mgetsDuring(async () => {
      groups = await cache.routes.groupByServer(userIds);
    });
    assert.deepEqual(groups, groupsOf(userIds, now));
    assert.equal(reread, 3, '225 users read again at 100 per request: 3 requests of 75');

    // And back: the same users are read again, the others still come from L1.
    for (const userId of changed) {
      await cache.onlineStatus.setStatus(userId, states.get(userId)!.status ?? 'online');
    }
    let answers: OnlineStatus[] = [];
    const again = await mgetsDuring(async () => {
      answers = await cache.onlineStatus.getMany(userIds);
    });
    assert.deepEqual(
      answers,
      userIds.map((id) => presenceOf(id, states.get(id)!)),
    );
    assert.equal(again, 3);
  });

  it('a request refused in the middle fails the call with DistributedCacheError', async () => {
    // The reader may not read the records of u100..u179: the second of five requests
    // (users 90 to 179 in this order) is refused (NOPERM), the others answer.
    const allowed = ['u?', 'u??', 'u1[89]?', 'u[234]??'].map((p) => `~${namespace}:im:u:{${p}}`);
    await raw.sendCommand(['ACL', 'SETUSER', 'reader', 'on', '>pw', '+@all', '&*', ...allowed]);
    const reader = await instance({
      distributed: { url: server.url.replace('//', '//reader:pw@') },
      breaker: false,
    });
    const ordered = Array.from({ length: USERS }, (_, i) => `u${i}`);
    const presence = await settleWithin(reader.onlineStatus.getMany(ordered), NO_HANG);
    assert.equal(presence.status, 'rejected');
    assert.ok(presence.reason instanceof DistributedCacheError, String(presence.reason));
    assert.match(presence.reason.message, /onlineStatus\.getMany \(450 users\)/);

    const groups = await settleWithin(reader.routes.groupByServer(ordered), NO_HANG);
    assert.equal(groups.status, 'rejected');
    assert.ok(groups.reason instanceof DistributedCacheError, String(groups.reason));
    assert.deepEqual(
      await reader.onlineStatus.getMany(ordered.slice(0, 90)),
      ordered.slice(0, 90).map((id) => presenceOf(id, states.get(id)!)),
      'the reader itself works: only the refused keys fail',
    );
  });

  it('a frozen server fails a split batch with DistributedCacheError, none unhandled', async () => {
    const frozen = await instance({
      distributed: { commandTimeout: 200, batchSize: 50 },
      breaker: false,
    });
    server.pause();
    try {
      const presence = await settleWithin(frozen.onlineStatus.getMany(userIds), NO_HANG);
      assert.equal(presence.status, 'rejected', 'the call settled within the bound, rejected');
      assert.ok(presence.reason instanceof DistributedCacheError, String(presence.reason));
      const groups = await settleWithin(frozen.routes.groupByServer(userIds), NO_HANG);
      assert.equal(groups.status, 'rejected');
      assert.ok(groups.reason instanceof DistributedCacheError, String(groups.reason));
    } finally {
      server.resume();
    }
  });
});
