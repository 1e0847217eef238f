import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DistributedCacheError } from '../../src';
import { RedisDistributedCache } from '../../src/distributed/redis/redis.distributed-cache';
import { ReplyDeadlines, ReplyTimeoutError } from '../../src/distributed/redis/reply-deadlines';
import { resolveOptions } from '../../src/options/resolve-options';
import { openRawRedis, type RawRedis } from '../support/redis-client';
import { startRedisServer, type RedisServer } from '../support/redis';
import { settleWithin } from '../support/timing';
import { failOnUnhandledRejections } from '../support/unhandled';

failOnUnhandledRejections();

const never = () => new Promise<never>(() => undefined);

describe('ReplyDeadlines', () => {
  it('rejects a reply that does not come within the timeout', async () => {
    const deadlines = new ReplyDeadlines(50);

    const settled = await settleWithin(deadlines.bound(never()), 2000);

    assert.equal(settled.status, 'rejected');
    assert.ok(settled.reason instanceof ReplyTimeoutError);
    assert.match(String((settled.reason as Error).message), /within 50 ms/);
    assert.equal(deadlines.size, 0);
  });

  it('passes replies and errors that come in time through, and forgets them', async () => {
    const deadlines = new ReplyDeadlines(1000);
    const failure = new Error('WRONGTYPE');

    assert.equal(await deadlines.bound(Promise.resolve('OK')), 'OK');
    await assert.rejects(deadlines.bound(Promise.reject(failure)), (e) => e === failure);
    assert.equal(deadlines.size, 0);
  });

  it('expires commands in order and keeps the later ones waiting', async () => {
    const deadlines = new ReplyDeadlines(60);
    const first = deadlines.bound(never());
    await sleep(30);
    let resolveLate!: (value: string) => void;
    const late = deadlines.bound(new Promise<string>((resolve) => (resolveLate = resolve)));

    await assert.rejects(first, ReplyTimeoutError);
    assert.equal(deadlines.size, 1, 'the later command is still within its deadline');
    resolveLate('in time');
    assert.equal(await late, 'in time');
  });

  it('swallows a reply or error that arrives after the deadline', async () => {
    const deadlines = new ReplyDeadlines(20);
    let failLate!: (error: Error) => void;
    const bounded = deadlines.bound(new Promise((_, reject) => (failLate = reject)));

    await assert.rejects(bounded, ReplyTimeoutError);
    failLate(new Error('too late'));
    await sleep(10);
  });
});

describe('Redis driver on a client it did not create (replies bounded by the driver)', () => {
  let server: RedisServer;
  let raw: RawRedis;
  let cache: RedisDistributedCache;

  before(async () => {
    server = await startRedisServer();
    raw = await openRawRedis(server.url);
    const options = resolveOptions({ distributed: { client: raw, commandTimeout: 150 } });
    cache = new RedisDistributedCache(options.distributed);
  });

  after(async () => {
    server.resume();
    await raw.close();
    await server.stop();
  });

  it('fails a call to a frozen server within the timeout instead of waiting', async () => {
    await cache.set('k', 'v', 60_000);
    server.pause();
    try {
      const settled = await settleWithin(cache.get('k'), 2000);
      assert.equal(settled.status, 'rejected');
      assert.ok(settled.reason instanceof ReplyTimeoutError, String(settled.reason));
      assert.ok(!(settled.reason instanceof DistributedCacheError), 'the service wraps it');
    } finally {
      server.resume();
    }
    assert.equal(await cache.get('k'), 'v');
  });
});
