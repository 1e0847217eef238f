import { deepStrictEqual, equal } from 'node:assert/strict';
import type { OnlineStatus, Route, UserStatus } from '../../src';
import { RESOLVED_CACHE_OPTIONS } from '../../src/cache.constants';
import { forEachLimited, randomBatches } from '../lib/data';
import { deleteByPrefix, openRawRedis, type RawRedisClient } from '../lib/redis';
import type { ResultRow } from '../lib/report';
import { startImCache, type StartedCache } from '../lib/subject';
import type { SuiteContext } from '../lib/suite';
import { performance } from 'node:perf_hooks';
import { compareThroughput, median, spreadOf, type Throughput } from '../lib/timing';

export const name = 'im-repositories';
export const title = 'IM repositories: presence and routing reads, lease renewal, read cursors';
export const description =
  'The calls a gateway makes on every group message, heartbeat and read receipt, against ' +
  'what an application would write by hand with a default node-redis client on the same ' +
  'Redis. Group reads: `onlineStatus.getMany` and `routes.groupByServer` of 500 random ' +
  'users (1 to 3 devices each, a quarter invisible) vs MGET of the same 500 users stored ' +
  'as plain JSON, parsed and (for routing) grouped by server (the same work), and vs the ' +
  'bare MGET of those 500 keys with nothing done to the replies (the strict reading of the ' +
  'target); once with the defaults (unchanged records come from the coherent L1 of user ' +
  'records), once with every call read from Redis (`coherence: false`). Renewal: ' +
  '`routes.renew` of every binding vs PEXPIRE of as many keys, all sent at once ' +
  '(node-redis pipelines them). Read receipts: `readCursors.markRead` ' +
  'with 128 calls in flight (each an atomic forward-only compare of 64-bit IDs) vs a plain ' +
  'HSET that compares nothing.';

const BATCH = 500;
const DEVICE_SETS = [['ios'], ['ios', 'web'], ['android', 'desktop', 'web']];
const STATUSES: UserStatus[] = ['online', 'away', 'busy', 'invisible'];

/** The bindings of user number `i`: 1 to 3 devices on 16 servers. */
function routesOf(i: number): Route[] {
  const userId = `u${100_000_000 + i}`;
  return DEVICE_SETS[i % DEVICE_SETS.length].map((deviceId, d) => ({
    userId,
    deviceId,
    serverId: `gw-${(i + d) % 16}`,
    connectionId: `${userId}-${deviceId}-${i * 7 + d}`,
  }));
}

/** What `onlineStatus.getMany` reports for user `i`: the raw subject stores the same. */
function presenceOf(i: number): OnlineStatus {
  const status = STATUSES[i % STATUSES.length];
  const routes = routesOf(i);
  const visible = status !== 'invisible';
  return {
    userId: routes[0].userId,
    online: visible,
    status: visible ? status : 'offline',
    devices: visible ? routes.map((r) => r.deviceId) : [],
    lastSeenAt: visible ? null : 1_700_000_000_000,
  };
}

export async function run(context: SuiteContext): Promise<ResultRow[]> {
  const users = context.quick ? 5_000 : 60_000;
  const renewCount = context.quick ? 10_000 : 100_000;
  const now = { value: 1_700_000_000_000 };
  const ours = await startImCache({
    namespace: `${context.prefix}.ours`,
    distributed: { driver: 'redis', url: context.redisUrl },
    now: () => now.value,
    im: { routeTtl: '10m' },
  });
  // The same records read by an instance without the invalidation bus: every read is a
  // Redis round trip (the defaults answer unchanged records from the coherent L1).
  const direct = await startImCache({
    namespace: `${context.prefix}.ours`,
    distributed: { driver: 'redis', url: context.redisUrl },
    coherence: false,
    now: () => now.value,
    im: { routeTtl: '10m' },
  });
  const raw = await openRawRedis(context.redisUrl);
  const rawPrefix = `${context.prefix}.raw:`;

  try {
    context.log(`binding the devices of ${users} users for both subjects`);
    await seed(ours, raw, rawPrefix, users, now);

    const rows = [
      ...(await groupReads(context, { ours, direct }, raw, rawPrefix, users)),
      ...(await renewal(context, ours, raw, rawPrefix, renewCount)),
      ...(await readReceipts(context, ours, raw, rawPrefix)),
    ];
    return rows;
  } finally {
    await deleteByPrefix(raw, context.prefix).catch(() => 0);
    await Promise.allSettled([ours.close(), direct.close(), raw.close()]);
  }
}

async function seed(
  ours: StartedCache,
  raw: RawRedisClient,
  rawPrefix: string,
  users: number,
  now: { value: number },
): Promise<void> {
  const indexes = Array.from({ length: users }, (_, i) => i);
  await forEachLimited(indexes, 256, async (i) => {
    const routes = routesOf(i);
    const userId = routes[0].userId;
    if (i % STATUSES.length === 3) {
      // Invisible users went invisible at a known time, so their lastSeenAt is known.
      now.value = 1_700_000_000_000;
    }
    await Promise.all(routes.map((route) => ours.cache.routes.bind(route)));
    const status = STATUSES[i % STATUSES.length];
    if (status !== 'online') await ours.cache.onlineStatus.setStatus(userId, status);
    await Promise.all([
      raw.set(`${rawPrefix}p:${userId}`, JSON.stringify(presenceOf(i))),
      raw.set(`${rawPrefix}r:${userId}`, JSON.stringify(routes)),
    ]);
  });
}

async function groupReads(
  context: SuiteContext,
  subjects: { ours: StartedCache; direct: StartedCache },
  raw: RawRedisClient,
  rawPrefix: string,
  users: number,
): Promise<ResultRow[]> {
  const batches = randomBatches(users, 64, BATCH, 11);
  const ids = batches.map((batch) => Array.from(batch, (i) => routesOf(i)[0].userId));
  const presenceKeys = ids.map((batch) => batch.map((id) => `${rawPrefix}p:${id}`));
  const routeKeys = ids.map((batch) => batch.map((id) => `${rawPrefix}r:${id}`));

  const rawPresence = async (keys: string[]): Promise<OnlineStatus[]> => {
    const texts = await raw.mGet(keys);
    return texts.map((text) => JSON.parse(text as string));
  };
  const rawGroups = async (keys: string[]): Promise<Map<string, Route[]>> => {
    const texts = await raw.mGet(keys);
    const groups = new Map<string, Route[]>();
    for (const text of texts) {
      for (const route of JSON.parse(text as string) as Route[]) {
        const group = groups.get(route.serverId);
        if (group) group.push(route);
        else groups.set(route.serverId, [route]);
      }
    }
    return groups;
  };

  const { ours, direct } = subjects;
  context.log('onlineStatus.getMany vs MGET');
  const presence = await compareThroughput(
    [
      { subject: 'onlineStatus.getMany', op: (i) => ours.cache.onlineStatus.getMany(ids[i & 63]) },
      { subject: 'raw MGET + JSON.parse', op: (i) => rawPresence(presenceKeys[i & 63]) },
      { subject: 'raw MGET, no parsing', op: (i) => raw.mGet(presenceKeys[i & 63]) },
      {
        subject: 'onlineStatus.getMany, coherence off',
        op: (i) => direct.cache.onlineStatus.getMany(ids[i & 63]),
      },
    ],
    context.timing,
  );
  const expected = await rawPresence(presenceKeys[0]);
  deepStrictEqual(await ours.cache.onlineStatus.getMany(ids[0]), expected);
  deepStrictEqual(await direct.cache.onlineStatus.getMany(ids[0]), expected);

  context.log('routes.groupByServer vs MGET');
  const routing = await compareThroughput(
    [
      { subject: 'routes.groupByServer', op: (i) => ours.cache.routes.groupByServer(ids[i & 63]) },
      { subject: 'raw MGET + JSON.parse + group', op: (i) => rawGroups(routeKeys[i & 63]) },
      { subject: 'raw MGET, no parsing', op: (i) => raw.mGet(routeKeys[i & 63]) },
      {
        subject: 'routes.groupByServer, coherence off',
        op: (i) => direct.cache.routes.groupByServer(ids[i & 63]),
      },
    ],
    context.timing,
  );
  const groups = await rawGroups(routeKeys[0]);
  deepStrictEqual(await ours.cache.routes.groupByServer(ids[0]), groups);
  deepStrictEqual(await direct.cache.routes.groupByServer(ids[0]), groups);

  const sizes = await recordSizes(ours, raw, ids[0], presenceKeys[0]);
  return [
    ...readRows(`onlineStatus.getMany, ${BATCH} users`, presence, sizes),
    ...readRows(`routes.groupByServer, ${BATCH} users`, routing),
  ];
}

/**
 * The rows of a group read: the defaults (records of unchanged users come from the coherent
 * L1) and, as a second scenario, every call read from Redis; both against the same raw
 * baseline, measured in the same interleaved rounds.
 */
function readRows(
  scenario: string,
  [defaults, baseline, bare, direct]: Throughput[],
  sizes?: { ours: number; json: number },
): ResultRow[] {
  const row = (name: string, result: Throughput, extra: Partial<ResultRow>): ResultRow => ({
    scenario: name,
    subject: result.subject,
    value: result.opsPerSec,
    unit: 'calls/s',
    spread: result.spread,
    ...extra,
  });
  const fromRedis = `${scenario}, every call to Redis`;
  return [
    row(`${scenario}, defaults`, defaults, {
      ours: true,
      note: 'unchanged records are answered by the coherent L1 (the invalidation bus is on)',
    }),
    row(`${scenario}, defaults`, baseline, { versus: { atLeast: 1 } }),
    row(`${scenario}, defaults`, bare, { versus: { atLeast: 1 } }),
    row(fromRedis, direct, {
      ours: true,
      note:
        sizes === undefined
          ? undefined
          : `one raw MGET (node-redis sendCommand, without the typed command layer) of the ` +
            `module's records (${sizes.ours} bytes per user on average, ${sizes.json} for the ` +
            'JSON), parsed in one pass without JSON.parse',
    }),
    row(fromRedis, baseline, { versus: { atLeast: 1 } }),
    row(fromRedis, bare, {
      versus: { atLeast: 1 },
      note: sizes === undefined ? undefined : 'the MGET of the JSON, nothing done to the replies',
    }),
  ];
}

/** Average bytes per user of the module's records and of the JSON ones, over a batch. */
async function recordSizes(
  ours: StartedCache,
  raw: RawRedisClient,
  userIds: string[],
  jsonKeys: string[],
): Promise<{ ours: number; json: number }> {
  const namespace = (ours.app.get(RESOLVED_CACHE_OPTIONS) as { namespace: string }).namespace;
  const records = await raw.mGet(userIds.map((id) => `${namespace}:im:u:{${id}}`));
  const json = await raw.mGet(jsonKeys);
  const average = (values: (string | null)[]) =>
    Math.round(values.reduce((sum, v) => sum + Buffer.byteLength(v ?? ''), 0) / values.length);
  return { ours: average(records), json: average(json) };
}

async function renewal(
  context: SuiteContext,
  ours: StartedCache,
  raw: RawRedisClient,
  rawPrefix: string,
  count: number,
): Promise<ResultRow[]> {
  context.log(`binding ${count} more devices for the renewal scenario`);
  const routes = Array.from({ length: count }, (_, i) => ({
    userId: `r${i}`,
    deviceId: 'phone',
    serverId: `gw-${i % 16}`,
    connectionId: `conn-${i}`,
  }));
  const keys = routes.map((route) => `${rawPrefix}lease:${route.userId}`);
  await forEachLimited(routes, 512, async (route, i) => {
    await Promise.all([ours.cache.routes.bind(route), raw.set(keys[i], route.connectionId)]);
  });

  const scenario = `routes.renew of ${count.toLocaleString('en-US')} bindings`;
  context.log(scenario);
  const results = await timeEach(
    [
      {
        subject: 'routes.renew',
        op: async () => equal((await ours.cache.routes.renew(routes)).length, 0),
      },
      {
        subject: 'raw PEXPIRE of as many keys, pipelined',
        op: () => Promise.all(keys.map((key) => raw.pExpire(key, 600_000))),
      },
    ],
    context.quick ? 3 : 9,
  );
  return compared(scenario, results, 'bindings/s', count, 0.5);
}

/**
 * For operations of about a second (`compareThroughput` calls an operation 256 times between
 * clock reads): one warm-up call each, then `rounds` timed calls each, interleaved and
 * rotating; the median of the rounds.
 */
async function timeEach(
  contenders: { subject: string; op: () => Promise<unknown> }[],
  rounds: number,
): Promise<Throughput[]> {
  const perRound = contenders.map(() => [] as number[]);
  for (const contender of contenders) await contender.op();
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = (r + k) % contenders.length;
      const started = performance.now();
      await contenders[c].op();
      perRound[c].push(1000 / (performance.now() - started));
    }
  }
  return contenders.map((contender, c) => ({
    subject: contender.subject,
    opsPerSec: median(perRound[c]),
    rounds: perRound[c],
    spread: spreadOf(perRound[c]),
  }));
}

async function readReceipts(
  context: SuiteContext,
  ours: StartedCache,
  raw: RawRedisClient,
  rawPrefix: string,
): Promise<ResultRow[]> {
  context.log('readCursors.markRead vs HSET, 128 in flight');
  let ourNext = 1n << 60n;
  let rawNext = 1n << 60n;
  const results = await compareThroughput(
    [
      {
        subject: 'readCursors.markRead',
        inFlight: 128,
        op: (i) =>
          ours.cache.readCursors.markRead({
            userId: `reader-${i % 2000}`,
            chat: 'group',
            conversationId: `g${i % 50}`,
            messageId: ourNext++,
          }),
      },
      {
        subject: 'raw HSET',
        inFlight: 128,
        op: (i) => raw.hSet(`${rawPrefix}cursor:${i % 2000}`, `g:g${i % 50}`, String(rawNext++)),
      },
    ],
    context.timing,
  );
  return compared('readCursors.markRead, 128 in flight', results, 'calls/s', 1, 0.7);
}

/** Rows of a scenario: the first result is ours, the second the target baseline. */
function compared(
  scenario: string,
  results: Throughput[],
  unit: string,
  scale = 1,
  atLeast = 1,
): ResultRow[] {
  return results.map((result, i) => ({
    scenario,
    subject: result.subject,
    value: result.opsPerSec * scale,
    unit,
    spread: result.spread,
    ...(i === 0 ? { ours: true } : {}),
    ...(i === 1 ? { versus: { atLeast } } : {}),
  }));
}
