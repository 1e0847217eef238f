import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LOCAL_CACHE, UnsupportedDriverError, type LocalCache } from '../../src';
import { RedisBusTransport } from '../../src/coherence/bus-transport';
import { resolveCoherenceOptions } from '../../src/coherence/coherence-options';
import { CoherentLocalCache } from '../../src/coherence/coherent-local-cache';
import { InvalidationBus } from '../../src/coherence/invalidation-bus';
import { decodeInvalidation } from '../../src/coherence/invalidation-message';
import { MemoryDistributedCache } from '../../src/distributed/memory.distributed-cache';
import { createClient } from '@keyv/redis';
import { MemoryLogger, startCache, type TestCache } from '../support/app';
import { openRawRedis, type RawRedis } from '../support/redis-client';
import { startRedisServer, testRedisUrl, uniqueNamespace } from '../support/redis';
import { eventually } from './support/workers';

const quiet = () => new MemoryLogger();

async function subscriberNames(raw: RawRedis): Promise<string[]> {
  const list = String(await raw.sendCommand(['CLIENT', 'LIST']));
  return [...list.matchAll(/ name=(nest-im-cache:coherence:\S+) /g)].map((match) => match[1]);
}

describe('coherence in the module', () => {
  let url: string;
  let raw: RawRedis;

  before(async () => {
    url = await testRedisUrl();
    raw = await openRawRedis(url);
  });
  after(() => raw?.close());

  it('is off on the embedded memory driver: plain L1, no coherence stats', async () => {
    const { app, cache, close } = await startCache({ logger: quiet() });
    try {
      assert.ok(!(app.get<LocalCache>(LOCAL_CACHE) instanceof CoherentLocalCache));
      assert.equal(cache.stats().coherence, undefined);
    } finally {
      await close();
    }
  });

  it('is on with Redis, and app.close() closes its connection', async () => {
    const { app, cache, close } = await startCache({
      namespace: uniqueNamespace('mod'),
      distributed: { url },
      logger: quiet(),
    });
    const id = cache.stats().coherence!.instanceId;
    try {
      assert.ok(app.get<LocalCache>(LOCAL_CACHE) instanceof CoherentLocalCache);
      assert.equal(cache.stats().coherence!.connected, true);
      assert.ok((await subscriberNames(raw)).includes(`nest-im-cache:coherence:${id}`));
    } finally {
      await close();
    }
    assert.ok(!(await subscriberNames(raw)).includes(`nest-im-cache:coherence:${id}`));
  });

  it('coherence: false keeps it off with Redis', async () => {
    const { app, cache, close } = await startCache({
      namespace: uniqueNamespace('mod'),
      distributed: { url },
      coherence: false,
      logger: quiet(),
    });
    try {
      assert.ok(!(app.get<LocalCache>(LOCAL_CACHE) instanceof CoherentLocalCache));
      assert.equal(cache.stats().coherence, undefined);
    } finally {
      await close();
    }
  });

  it('asked for explicitly over a driver without pub/sub, fails at start naming it', async () => {
    const driver = new MemoryDistributedCache({ maxEntries: 10 } as never, Date.now);
    await assert.rejects(
      startCache({ distributed: { driver }, coherence: true, logger: quiet() }),
      (error: unknown) => error instanceof UnsupportedDriverError && error.driver === 'memory',
    );
  });

  it('sends the invalidations of completed writes before the application closes', async () => {
    const namespace = uniqueNamespace('mod');
    const options = { namespace, distributed: { url }, logger: quiet() };
    const [a, b] = await Promise.all([startCache(options), startCache(options)]);
    try {
      await a.cache.set('k', 'old');
      await eventually(async () => b.cache.stats().coherence!.received === 1, 5000, 'settle');
      assert.equal(await b.cache.get('k'), 'old');

      await a.cache.set('k', 'new');
      await a.close(); // the invalidation still waits for its tick when close() starts

      await eventually(async () => (await b.cache.get('k')) === 'new', 5000, 'the last write');
    } finally {
      await b.close();
    }
  });

  it('skips a malformed message on the channel, logged, and keeps working', async () => {
    const namespace = uniqueNamespace('mod');
    const logger = new MemoryLogger();
    const a = await startCache({ namespace, distributed: { url }, logger: quiet() });
    const b = await startCache({ namespace, distributed: { url }, logger });
    try {
      await raw.publish(`${namespace}:coherence`, 'not json');
      await raw.publish(`${namespace}:coherence`, '{"o":1}');
      await a.cache.set('k', 'v1');
      await eventually(async () => b.cache.stats().coherence!.received === 1, 5000, 'settle');

      assert.equal(logger.lines.filter((l) => l.message.includes('malformed')).length, 1);
      assert.equal(b.cache.stats().coherence!.connected, true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('starts while Redis is unreachable, L1 suspended, and subscribes once it is up', async () => {
    const server = await startRedisServer();
    await server.stop();
    const logger = new MemoryLogger();
    const started = Date.now();
    let app: TestCache | undefined;
    try {
      app = await startCache({
        namespace: uniqueNamespace('mod'),
        distributed: { url: server.url, connectTimeout: 200 },
        logger,
      });
      assert.ok(Date.now() - started < 5000, 'start-up is bounded');
      assert.equal(app.cache.stats().coherence!.connected, false);
      assert.ok(logger.lines.some((line) => line.message.includes('not subscribed')));

      await server.restart();
      await eventually(async () => app!.cache.stats().coherence!.connected, 10_000, 'subscribe');
      await eventually(
        () =>
          app!.cache.set('k', 'v').then(
            () => true,
            () => false,
          ),
        10_000,
        'L2 to be back',
      );
      assert.equal(await app.cache.get('k'), 'v');
    } finally {
      await app?.close();
      await server.stop();
    }
  });
});

describe('InvalidationBus', () => {
  let url: string;
  let raw: RawRedis;
  let listener: RawRedis;

  before(async () => {
    url = await testRedisUrl();
    raw = await openRawRedis(url);
    listener = await openRawRedis(url);
  });
  after(async () => {
    await listener?.close();
    await raw?.close();
  });

  async function bus(channel: string, maxKeysPerMessage: number, publisher = raw) {
    const options = resolveCoherenceOptions({ channel, heartbeat: false }, 'x', 'redis');
    const transport = new RedisBusTransport(() => raw.duplicate() as never, publisher as never);
    const created = new InvalidationBus(options, transport, quiet(), { maxKeysPerMessage });
    await created.start(5000);
    return created;
  }

  it('splits a large batch into messages of at most maxKeysPerMessage keys', async () => {
    const channel = uniqueNamespace('chan');
    const received: number[] = [];
    await listener.subscribe(channel, (message) => {
      const decoded = decodeInvalidation(message);
      received.push(decoded ? Object.values(decoded.keys).flat().length : -1);
    });
    const sender = await bus(channel, 10);
    try {
      sender.publishMany(
        'c',
        Array.from({ length: 25 }, (_, i) => `k${i}`),
      );
      sender.publish('c', 'k0'); // the same key twice in one tick is sent once
      await sender.flush();

      await eventually(async () => received.length === 3, 5000, 'three messages');
      assert.deepEqual(received, [10, 10, 5]);
      assert.equal(sender.stats().published, 3);
      assert.equal(sender.stats().publishedKeys, 25);
    } finally {
      await sender.close();
      await listener.unsubscribe(channel);
    }
  });

  it('keeps the keys of a failed publish and sends them once Redis answers again', async () => {
    const server = await startRedisServer();
    // Configured as the module configures L2: no offline queue, a command timeout.
    const publisher = createClient({
      url: server.url,
      disableOfflineQueue: true,
      commandOptions: { timeout: 1000 },
    });
    publisher.on('error', () => undefined);
    await publisher.connect();
    const channel = uniqueNamespace('chan');
    const options = resolveCoherenceOptions({ channel, heartbeat: false }, 'x', 'redis');
    const open = () => publisher.duplicate() as never;
    const transport = new RedisBusTransport(open, publisher as never);
    const sender = new InvalidationBus(options, transport, quiet());
    await sender.start(5000);
    try {
      await server.stop();
      sender.publish('c', 'lost-if-not-retried');
      await eventually(async () => sender.stats().publishErrors >= 1, 5000, 'a failure');
      assert.equal(sender.stats().published, 0);

      await server.restart();
      await eventually(async () => sender.stats().publishedKeys === 1, 10_000, 'the retry');
    } finally {
      await sender.close();
      await publisher.close().catch(() => undefined);
      await server.stop();
    }
  });
});
