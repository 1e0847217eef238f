import KeyvRedis, { Keyv } from '@keyv/redis';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KeyvDistributedCache } from '../../src/distributed/keyv.distributed-cache';
import { MemoryDistributedCache } from '../../src/distributed/memory.distributed-cache';
import { NoneDistributedCache } from '../../src/distributed/none.distributed-cache';
import { RedisDistributedCache } from '../../src/distributed/redis/redis.distributed-cache';
import { resolveOptions } from '../../src/options/resolve-options';
import {
  deleteKeys,
  globEscape,
  openRawRedis,
  scanKeys,
  type RawRedis,
} from '../support/redis-client';
import { testRedisUrl, uniqueNamespace } from '../support/redis';
import { distributedCacheContract } from './distributed-cache.contract';

let raw: RawRedis;
const prefixes: string[] = [];

before(async () => {
  raw = await openRawRedis(await testRedisUrl());
});

after(async () => {
  // Every key a Redis-backed run wrote starts with (or, under Keyv, contains) its prefix.
  for (const prefix of prefixes) await deleteKeys(raw, `*${globEscape(prefix)}*`);
  await raw.close();
});

function newPrefix(label: string): string {
  const prefix = `${uniqueNamespace(`contract-${label}`)}:`;
  prefixes.push(prefix);
  return prefix;
}

distributedCacheContract('redis', async () => {
  const url = await testRedisUrl();
  const options = resolveOptions({ distributed: { url, commandTimeout: '5s' } }).distributed;
  return { cache: new RedisDistributedCache(options), prefix: newPrefix('redis') };
});

distributedCacheContract('memory', async () => ({
  cache: new MemoryDistributedCache({ maxEntries: 10_000 }),
  prefix: 'mem:',
}));

distributedCacheContract('keyv with a KeyvRedis store', async () => {
  const store = new KeyvRedis(await testRedisUrl());
  return { cache: new KeyvDistributedCache({ store }), prefix: newPrefix('keyv-redis') };
});

distributedCacheContract('keyv with a Keyv in-memory instance', async () => ({
  cache: new KeyvDistributedCache({ store: new Keyv() }),
  prefix: 'kv:',
}));

distributedCacheContract('keyv with a bare Map store', async () => ({
  cache: new KeyvDistributedCache({ store: new Map() }),
  prefix: 'map:',
}));

distributedCacheContract(
  'none',
  async () => ({ cache: new NoneDistributedCache(), prefix: 'n:' }),
  {
    storesNothing: true,
  },
);

describe('redis driver specifics', () => {
  it('writes plain keys with a real Redis expiry, and close() closes its connection', async () => {
    const url = await testRedisUrl();
    const cache = new RedisDistributedCache(resolveOptions({ distributed: { url } }).distributed);
    const prefix = newPrefix('redis-raw');
    await cache.connect();

    await cache.set(`${prefix}k`, 'v', 30_000);

    assert.equal(await raw.get(`${prefix}k`), 'v');
    const pttl = await raw.pTTL(`${prefix}k`);
    assert.ok(pttl > 25_000 && pttl <= 30_000, `PTTL ${pttl}`);
    assert.deepEqual(await scanKeys(raw, `${globEscape(prefix)}*`), [`${prefix}k`]);

    await cache.close();
    assert.equal(cache.client.isOpen, false);
  });
});

describe('memory driver specifics', () => {
  it('holds at most maxEntries, dropping the oldest write first', async () => {
    const cache = new MemoryDistributedCache({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) await cache.set(key, key, 60_000);
    await cache.set('a', 'a2', 60_000); // rewritten: 'b' is now the oldest write

    await cache.set('d', 'd', 60_000);

    assert.equal(cache.size, 3);
    assert.deepEqual(await cache.getMany(['a', 'b', 'c', 'd']), ['a2', undefined, 'c', 'd']);
  });
});
