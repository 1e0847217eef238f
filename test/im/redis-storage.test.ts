import calculateSlot from 'cluster-key-slot';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DistributedCacheError, type ImCacheService } from '../../src';
import { MARK_READ } from '../../src/im/read-cursors/read-cursor.scripts';
import { startCache, type TestCache } from '../support/app';
import {
  startRedisServer,
  testRedisUrl,
  uniqueNamespace,
  type RedisServer,
} from '../support/redis';
import { deleteKeys, globEscape, openRawRedis, type RawRedis } from '../support/redis-client';
import { settleWithin } from '../support/timing';

describe('IM repositories on Redis: storage', () => {
  let url: string;
  let raw: RawRedis;
  const namespaces: string[] = [];
  const apps: TestCache[] = [];

  async function instance(im: object = {}): Promise<{ cache: ImCacheService; ns: string }> {
    const ns = uniqueNamespace('im-store');
    namespaces.push(ns);
    const app = await startCache({
      namespace: ns,
      distributed: { driver: 'redis', url, commandTimeout: '5s' },
      coherence: false,
      im,
    });
    apps.push(app);
    return { cache: app.cache, ns };
  }

  before(async () => {
    url = await testRedisUrl();
    raw = await openRawRedis(url);
  });

  after(async () => {
    await Promise.all(apps.map((app) => app.close()));
    for (const ns of namespaces) await deleteKeys(raw, `${globEscape(ns)}:*`);
    await raw.close();
  });

  it("keeps each user's keys in one hash slot, under <namespace>:im:", async () => {
    const { cache, ns } = await instance();
    await cache.routes.bind({ userId: 'u1', deviceId: 'd', serverId: 'gw', connectionId: 'c' });
    await cache.readCursors.markRead({
      userId: 'u1',
      chat: 'group',
      conversationId: 'g',
      messageId: 1,
    });
    await cache.videoSessions.start({
      sessionId: 'call',
      initiatorId: 'u1',
      participantIds: ['u2'],
      media: 'audio',
    });

    const expected = [
      `${ns}:im:u:{u1}`,
      `${ns}:im:r:{u1}`,
      `${ns}:im:b:{u1}`,
      `${ns}:im:b:{u2}`,
      `${ns}:im:s:{gw}`,
      `${ns}:im:v:{call}`,
    ];
    assert.deepEqual((await raw.keys(`${globEscape(ns)}:*`)).sort(), [...expected].sort());
    const slots = new Set(expected.slice(0, 3).map((key) => calculateSlot(key)));
    assert.equal(slots.size, 1, 'record, cursors and busy flag of u1 share a slot');
    assert.equal(await raw.hGet(`${ns}:im:r:{u1}`, 'g:g'), '1');
    assert.deepEqual(await raw.sMembers(`${ns}:im:s:{gw}`), ['u1']);
  });

  it('bounds every key by a TTL: records, cursors, sessions and busy flags', async () => {
    const { cache, ns } = await instance({
      routeTtl: '1m',
      lastSeenTtl: '1h',
      cursorTtl: '1d',
      sessionTtl: '20s',
    });
    await cache.routes.bind({ userId: 'u1', deviceId: 'd', serverId: 'gw', connectionId: 'c' });
    await cache.readCursors.markRead({
      userId: 'u1',
      chat: 'single',
      conversationId: 'p',
      messageId: 5,
    });
    await cache.videoSessions.start({
      sessionId: 'call',
      initiatorId: 'u1',
      participantIds: ['u2'],
      media: 'video',
    });

    const within = async (key: string, max: number) => {
      const ttl = await raw.pTTL(key);
      assert.ok(ttl > 0 && ttl <= max, `${key}: ${ttl} ms`);
    };
    await within(`${ns}:im:u:{u1}`, 60_000 + 3_600_000);
    await within(`${ns}:im:r:{u1}`, 86_400_000);
    await within(`${ns}:im:v:{call}`, 20_000);
    await within(`${ns}:im:b:{u2}`, 20_000);

    const { cache: keep, ns: keepNs } = await instance({ cursorTtl: 0 });
    await keep.readCursors.markRead({
      userId: 'u1',
      chat: 'single',
      conversationId: 'p',
      messageId: 5,
    });
    assert.equal(await raw.pTTL(`${keepNs}:im:r:{u1}`), -1, 'cursorTtl 0 (the default): kept');
  });

  it('lets real leases of tens of milliseconds run out', async () => {
    const { cache, ns } = await instance({ routeTtl: 40, lastSeenTtl: 60 });
    await cache.routes.bind({ userId: 'u1', deviceId: 'd', serverId: 'gw', connectionId: 'c' });
    await sleep(60);
    assert.equal((await cache.onlineStatus.get('u1')).online, false, 'the lease ended');
    assert.deepEqual(
      await cache.routes.renew([{ userId: 'u1', deviceId: 'd', connectionId: 'c' }]),
      [{ userId: 'u1', deviceId: 'd', connectionId: 'c' }],
    );
    await sleep(150);
    assert.equal(await raw.exists(`${ns}:im:u:{u1}`), 0, 'and the record itself expired');
  });

  it('runs its scripts again after Redis forgot them (flush, restart, failover)', async () => {
    const { cache } = await instance();
    await cache.routes.bind({ userId: 'u1', deviceId: 'd', serverId: 'gw', connectionId: 'c1' });
    await raw.scriptFlush();
    const replaced = await cache.routes.bind({
      userId: 'u1',
      deviceId: 'd',
      serverId: 'gw',
      connectionId: 'c2',
    });
    assert.equal(replaced?.connectionId, 'c1');
    await raw.scriptFlush();
    assert.equal(
      await cache.readCursors.markRead({
        userId: 'u1',
        chat: 'group',
        conversationId: 'g',
        messageId: 3,
      }),
      '3',
    );
  });

  it('answers each of many markRead calls made in one tick with its own cursor', async () => {
    const { cache } = await instance();
    const calls = Array.from({ length: 700 }, (_, i) => ({
      userId: `u${i % 7}`,
      chat: 'group' as const,
      conversationId: `g${i % 5}`,
      messageId: BigInt(i),
    }));
    const answers = await Promise.all(calls.map((c) => cache.readCursors.markRead(c)));
    // Calls run in order: each answer is the largest ID its cursor had seen so far.
    const best = new Map<string, bigint>();
    calls.forEach((c, i) => {
      const key = `${c.userId}/${c.conversationId}`;
      const max = (best.get(key) ?? -1n) > c.messageId ? best.get(key)! : c.messageId;
      best.set(key, max);
      assert.equal(answers[i], max.toString());
    });
  });

  it('compares IDs exactly also where the server collation does not order digits', async () => {
    // The script compares equal-length IDs as strings when the digits collate in order (they
    // do here); this runs its other branch, the exact comparison in two halves.
    const fallback = MARK_READ.source.replace('local in_order = ', 'local in_order = false and ');
    assert.notEqual(fallback, MARK_READ.source);
    const key = `${uniqueNamespace('im-fallback')}:cursors`;
    let seed = 11;
    const next = () => (seed = (seed * 48271) % 2147483647);
    for (let round = 0; round < 40; round++) {
      const length = 1 + (round % 20);
      const digits = (n: number) => String(n).padStart(10, '0');
      const make = () => {
        const text = (digits(next()) + digits(next())).slice(0, length).replace(/^0+(?=.)/, '');
        return BigInt(text) > 2n ** 64n - 1n ? (2n ** 64n - 1n).toString() : text;
      };
      const [first, second] = [make(), make()];
      const stored = await raw.eval(fallback, {
        keys: [key, key],
        arguments: ['0', `f${round}`, first, `f${round}`, second],
      });
      const max = BigInt(first) > BigInt(second) ? first : second;
      const expected = [1, max === first ? first : 1];
      assert.deepEqual(stored, expected, `${first} then ${second}`);
    }
    await raw.del(key);
  });

  const handedIn = [false, true];
  for (const ownClient of handedIn) {
    const how = ownClient ? 'a client handed in (no timeout of its own)' : 'its own client';
    it(`fails fast with a typed error when Redis is gone, and never hangs: ${how}`, async () => {
      const server = await startRedisServer();
      const client = ownClient ? await openRawRedis(server.url) : undefined;
      const target = client === undefined ? { url: server.url } : { client };
      const app = await startCache({
        namespace: uniqueNamespace('im-down'),
        distributed: { driver: 'redis', ...target, commandTimeout: 300 },
        coherence: false,
      });
      try {
        await assertEveryRepositoryFails(app.cache, server);
      } finally {
        server.resume();
        await app.close();
        await client?.close();
        await server.stop();
      }
    });
  }
});

/** Pauses `server`; every repository call must then reject with a typed L2 error, in bounds. */
async function assertEveryRepositoryFails(cache: ImCacheService, server: RedisServer) {
  await cache.routes.bind({ userId: 'u1', deviceId: 'd', serverId: 'gw', connectionId: 'c' });
  server.pause();
  const calls: Promise<unknown>[] = [
    cache.routes.bind({ userId: 'u1', deviceId: 'd', serverId: 'gw', connectionId: 'c2' }),
    cache.onlineStatus.getMany(['u1', 'u2']),
    cache.readCursors.markRead({ userId: 'u1', chat: 'single', conversationId: 'p', messageId: 1 }),
    cache.videoSessions.start({
      sessionId: 's',
      initiatorId: 'a',
      participantIds: ['b'],
      media: 'audio',
    }),
    cache.routes.removeServer('gw'),
  ];
  for (const settled of await Promise.all(calls.map((c) => settleWithin(c, 5000)))) {
    assert.equal(settled.status, 'rejected');
    assert.ok(settled.reason instanceof DistributedCacheError, String(settled.reason));
    assert.equal((settled.reason as DistributedCacheError).code, 'E_L2_FAILURE');
  }
}
