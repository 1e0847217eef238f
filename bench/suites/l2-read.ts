import { deepStrictEqual } from 'node:assert/strict';
import {
  forEachLimited,
  onlineStatusRecord,
  randomIndexes,
  retrying,
  settleAll,
  userKeys,
} from '../lib/data';
import { openRawRedis } from '../lib/redis';
import { throughputRow, type ResultRow } from '../lib/report';
import { startImCache } from '../lib/subject';
import type { SuiteContext } from '../lib/suite';
import { compareThroughput } from '../lib/timing';

export const name = 'l2-read';
export const title = 'L2 read: ImCacheService.get with no L1';
export const description =
  "With the local driver 'none' every get goes to Redis: what the module adds to a Redis " +
  'read (key prefixing, the entry format: expiry + JSON, counters, the reply watchdog) and ' +
  'what it saves (the gets in flight together leave as one MGET, coalesceReads being on by ' +
  'default). 128 requests stay in flight, as on a busy gateway; the baseline is a default ' +
  'node-redis client doing GET + JSON.parse of the same records stored as plain JSON.';

const TTL = 30 * 60_000;
const IN_FLIGHT = 128;
const SCENARIO = `L2 read, ${IN_FLIGHT} in flight`;

export async function run(context: SuiteContext): Promise<ResultRow[]> {
  const count = context.quick ? 2_000 : 20_000;
  const keys = userKeys(count);
  const rawKeys = keys.map((key) => `${context.prefix}.raw:${key}`);
  const order = randomIndexes(count);
  const mask = order.length - 1;

  const ours = await startImCache({
    namespace: `${context.prefix}.ours`,
    ttl: TTL,
    local: { driver: 'none' },
    distributed: { driver: 'redis', url: context.redisUrl },
  });
  const raw = await openRawRedis(context.redisUrl);

  try {
    context.log(`writing ${count} records for each subject`);
    await forEachLimited(keys, 256, async (key, i) => {
      const value = onlineStatusRecord(i);
      await settleAll([
        retrying(() => ours.cache.set(key, value)),
        retrying(() => raw.set(rawKeys[i], JSON.stringify(value), { PX: TTL })),
      ]);
    });
    const before = ours.cache.stats();

    const readRaw = async (key: string): Promise<unknown> => {
      const text = await raw.get(key);
      return text === null ? undefined : JSON.parse(text);
    };
    const [mine, baseline] = await compareThroughput(
      [
        {
          subject: "ImCacheService.get, local 'none'",
          op: (i) => ours.cache.get(keys[order[i & mask]]),
          inFlight: IN_FLIGHT,
        },
        {
          subject: 'raw node-redis GET + JSON.parse',
          op: (i) => readRaw(rawKeys[order[i & mask]]),
          inFlight: IN_FLIGHT,
        },
      ],
      context.timing,
    );

    const after = ours.cache.stats();
    for (const i of [0, count - 1]) {
      deepStrictEqual(await ours.cache.get(keys[i]), onlineStatusRecord(i));
      deepStrictEqual(await readRaw(rawKeys[i]), onlineStatusRecord(i));
    }

    return [
      throughputRow(SCENARIO, mine, 'ops/s', {
        ours: true,
        note:
          `${after.l2.hits - before.l2.hits} L2 hits, ${after.l2.misses - before.l2.misses} ` +
          `L2 misses, ${after.l2.errors - before.l2.errors} L2 errors`,
      }),
      throughputRow(SCENARIO, baseline, 'ops/s', { versus: { atLeast: 0.85 } }),
    ];
  } finally {
    await Promise.allSettled([ours.close(), raw.close()]);
  }
}
