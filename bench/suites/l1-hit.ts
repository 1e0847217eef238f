import { deepStrictEqual } from 'node:assert/strict';
import {
  forEachLimited,
  onlineStatusRecord,
  randomIndexes,
  retrying,
  settleAll,
  userKeys,
} from '../lib/data';
import { createBentoTwoTier, createCacheManagerTwoTier, createRawLru } from '../lib/peers';
import { throughputRow, type ResultRow } from '../lib/report';
import { startImCache } from '../lib/subject';
import type { SuiteContext } from '../lib/suite';
import { compareThroughput } from '../lib/timing';

export const name = 'l1-hit';
export const title = 'L1 hit: ImCacheService.get';
export const description =
  'Every subject holds the same 100k online-status records in its in-memory tier and ' +
  'answers random reads (one pre-generated index sequence, replayed by all). Each call is ' +
  'awaited before the next, as a request handler does. This is the hot path of a gateway: ' +
  'most reads of routes and presence should end here, so the cost per read is the ' +
  'overhead a cache library adds on top of a hash lookup.';

const TTL = 30 * 60_000;
const SCENARIO = 'L1 hit, 100k keys, random reads';

export async function run(context: SuiteContext): Promise<ResultRow[]> {
  const count = context.quick ? 20_000 : 100_000;
  const keys = userKeys(count);
  const order = randomIndexes(count);
  const mask = order.length - 1;
  const settings = { url: context.redisUrl, maxEntries: count };

  const ours = await startImCache({
    namespace: `${context.prefix}.ours`,
    ttl: TTL,
    local: { maxEntries: count, ttl: TTL },
    distributed: { driver: 'redis', url: context.redisUrl },
  });
  const manager = createCacheManagerTwoTier({ ...settings, prefix: `${context.prefix}.cm` });
  const bento = createBentoTwoTier({ ...settings, prefix: `${context.prefix}.bento` });
  const lru = createRawLru<object>(count);

  try {
    context.log(`writing ${count} records through each subject`);
    await forEachLimited(keys, 256, async (key, i) => {
      const value = onlineStatusRecord(i);
      lru.set(key, value);
      await settleAll([
        retrying(() => ours.cache.set(key, value)),
        retrying(() => manager.cache.set(key, value, TTL)),
        retrying(() => bento.bento.set({ key, value, ttl: TTL })),
      ]);
    });
    const oursBefore = ours.cache.stats();

    const results = await compareThroughput(
      [
        { subject: 'ImCacheService.get', op: (i) => ours.cache.get(keys[order[i & mask]]) },
        {
          subject: 'cache-manager 7 two-tier get',
          op: (i) => manager.cache.get(keys[order[i & mask]]),
        },
        {
          subject: 'bentocache two-tier get',
          op: (i) => bento.bento.get({ key: keys[order[i & mask]] }),
        },
        { subject: 'raw lru-cache get (awaited)', op: (i) => lru.get(keys[order[i & mask]]) },
      ],
      context.timing,
    );

    const oursAfter = ours.cache.stats();
    const misses = oursAfter.l1.misses - oursBefore.l1.misses;
    await checkAnswers(keys, [
      (key) => ours.cache.get(key),
      (key) => manager.cache.get(key),
      (key) => bento.bento.get({ key }),
      (key) => lru.get(key),
    ]);

    const [mine, cm, bc, raw] = results;
    return [
      throughputRow(SCENARIO, mine, 'ops/s', {
        ours: true,
        note: `${oursAfter.l1.hits - oursBefore.l1.hits} L1 hits, ${misses} L1 misses`,
      }),
      throughputRow(SCENARIO, cm, 'ops/s', { versus: { atLeast: 4 } }),
      throughputRow(SCENARIO, bc, 'ops/s', { versus: { atLeast: 4 } }),
      throughputRow(SCENARIO, raw, 'ops/s', { versus: { atLeast: 0.6 } }),
    ];
  } finally {
    await Promise.allSettled([ours.close(), manager.close(), bento.close()]);
  }
}

/** Every subject must still answer the stored record: a broken subject must not look fast. */
async function checkAnswers(
  keys: readonly string[],
  readers: ((key: string) => unknown)[],
): Promise<void> {
  for (const i of [0, keys.length >> 1, keys.length - 1]) {
    for (const read of readers) deepStrictEqual(await read(keys[i]), onlineStatusRecord(i));
  }
}
