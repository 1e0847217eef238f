import 'reflect-metadata';
import { deepStrictEqual } from 'node:assert/strict';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cacheable, CacheModule, ImCacheService } from '../../src';
import { onlineStatusRecord, randomIndexes } from '../lib/data';
import { createRawLru } from '../lib/peers';
import type { ResultRow } from '../lib/report';
import type { SuiteContext } from '../lib/suite';
import { compareThroughput } from '../lib/timing';

export const name = 'decorators';
export const title = 'Decorators: a @Cacheable method answered from L1';
export const description =
  'A provider method decorated with @Cacheable({ key: "status:{0}" }) is called with random ' +
  'user IDs whose values all sit in L1 (one pre-generated index sequence, replayed by every ' +
  'subject, each call awaited). The cost per call is the decorator wrapper (key template, ' +
  'binding lookup) plus getOrLoad on an L1 hit; it is set against an awaited raw lru-cache ' +
  'get of the same records, and against getOrLoad called directly. Target: the decorated ' +
  'call costs at most 2x the raw get (a ratio of at least 0.5).';

const TTL = 30 * 60_000;
const SCENARIO = 'L1 hit through @Cacheable, random reads';

/** Counts loader calls so the suite can check that every timed call was an L1 hit. */
let loads = 0;

@Injectable()
class StatusReader {
  @Cacheable({ key: 'status:{0}', ttl: TTL })
  async read(userId: number): Promise<object> {
    loads++;
    return onlineStatusRecord(userId);
  }
}

export async function run(context: SuiteContext): Promise<ResultRow[]> {
  const count = context.quick ? 20_000 : 100_000;
  const order = randomIndexes(count);
  const mask = order.length - 1;

  @Module({
    imports: [
      CacheModule.forRoot({
        namespace: `${context.prefix}.ours`,
        ttl: TTL,
        local: { maxEntries: count, ttl: TTL },
        distributed: { driver: 'redis', url: context.redisUrl },
      }),
    ],
    providers: [StatusReader],
  })
  class BenchModule {}

  const app = await NestFactory.createApplicationContext(BenchModule, {
    logger: false,
    abortOnError: false,
  });
  const reader = app.get(StatusReader);
  const cache = app.get(ImCacheService);
  const lru = createRawLru<object>(count);
  const keys = Array.from({ length: count }, (_, i) => `status:${i}`);
  const load = (i: number) => () => onlineStatusRecord(i);

  try {
    context.log(`filling L1 with ${count} records through the decorated method`);
    for (let i = 0; i < count; i++) {
      lru.set(keys[i], onlineStatusRecord(i));
      await reader.read(i);
    }
    const loadsBefore = loads;
    const hitsBefore = cache.stats().l1.hits;

    const [decorated, direct, raw] = await compareThroughput(
      [
        { subject: '@Cacheable method', op: (i) => reader.read(order[i & mask]) },
        {
          subject: 'ImCacheService.getOrLoad',
          op: (i) => cache.getOrLoad(keys[order[i & mask]], load(order[i & mask])),
        },
        { subject: 'raw lru-cache get (awaited)', op: (i) => lru.get(keys[order[i & mask]]) },
      ],
      context.timing,
    );

    const extraLoads = loads - loadsBefore;
    for (const i of [0, count >> 1, count - 1]) {
      deepStrictEqual(await reader.read(i), onlineStatusRecord(i));
    }
    const hits = cache.stats().l1.hits - hitsBefore;
    const row = (result: typeof raw, extra: Partial<ResultRow>): ResultRow => ({
      scenario: SCENARIO,
      subject: result.subject,
      value: result.opsPerSec,
      unit: 'ops/s',
      spread: result.spread,
      ...extra,
    });
    return [
      row(decorated, { ours: true, note: `${hits} L1 hits, ${extraLoads} method runs` }),
      row(direct, {}),
      row(raw, { versus: { atLeast: 0.5 } }),
    ];
  } finally {
    await app.close();
  }
}
