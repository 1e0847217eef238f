import { deepStrictEqual } from 'node:assert/strict';
import {
  forEachLimited,
  onlineStatusRecord,
  randomBatches,
  retrying,
  settleAll,
  userKeys,
} from '../lib/data';
import { openRawRedis } from '../lib/redis';
import { throughputRow, type ResultRow } from '../lib/report';
import { startImCache } from '../lib/subject';
import type { SuiteContext } from '../lib/suite';
import { compareThroughput } from '../lib/timing';

export const name = 'get-many';
export const title = 'Batch read: ImCacheService.getMany of 500 keys with no L1';
export const description =
  "The presence of a 500-member group in one call. With the local driver 'none' the " +
  'batch goes to Redis as MGETs of at most batchSize (200) keys, each decoded as its reply ' +
  'comes in; the module adds prefixing, entry decoding and counters per key. The ' +
  'baseline is a default node-redis client doing MGET + JSON.parse of each of the same ' +
  '500 records stored as plain JSON. One call in flight at a time; each call picks a ' +
  'different random set of 500 keys, the same sets for both subjects.';

const TTL = 30 * 60_000;
const BATCH = 500;
const SCENARIO = `getMany, ${BATCH} keys`;

export async function run(context: SuiteContext): Promise<ResultRow[]> {
  const count = context.quick ? 5_000 : 50_000;
  const keys = userKeys(count);
  const rawPrefix = `${context.prefix}.raw:`;
  const batches = randomBatches(count, 64, BATCH, 7);
  const ourBatches = batches.map((batch) => Array.from(batch, (i) => keys[i]));
  const rawBatches = batches.map((batch) => Array.from(batch, (i) => rawPrefix + keys[i]));

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
        retrying(() => raw.set(rawPrefix + key, JSON.stringify(value), { PX: TTL })),
      ]);
    });
    const before = ours.cache.stats();

    const readRaw = async (batch: string[]): Promise<unknown[]> => {
      const texts = await raw.mGet(batch);
      const values = new Array<unknown>(texts.length);
      for (let i = 0; i < texts.length; i++) {
        const text = texts[i];
        values[i] = text === null ? undefined : JSON.parse(text);
      }
      return values;
    };
    const [mine, baseline] = await compareThroughput(
      [
        {
          subject: "ImCacheService.getMany, local 'none'",
          op: (i) => ours.cache.getMany(ourBatches[i & 63]),
        },
        { subject: 'raw node-redis MGET + JSON.parse', op: (i) => readRaw(rawBatches[i & 63]) },
      ],
      context.timing,
    );

    const after = ours.cache.stats();
    const expected = Array.from(batches[0], (i) => onlineStatusRecord(i));
    deepStrictEqual(await ours.cache.getMany(ourBatches[0]), expected);
    deepStrictEqual(await readRaw(rawBatches[0]), expected);

    return [
      throughputRow(SCENARIO, mine, 'calls/s', {
        ours: true,
        note:
          `${after.l2.hits - before.l2.hits} L2 hits, ${after.l2.misses - before.l2.misses} ` +
          `L2 misses (${Math.round(mine.opsPerSec * BATCH).toLocaleString('en-US')} keys/s)`,
      }),
      throughputRow(SCENARIO, baseline, 'calls/s', { versus: { atLeast: 1 } }),
    ];
  } finally {
    await Promise.allSettled([ours.close(), raw.close()]);
  }
}
