import 'reflect-metadata';
import { Inject, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import KeyvRedis from '@keyv/redis';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CacheModule,
  DISTRIBUTED_CACHE,
  ImCacheService,
  LOCAL_CACHE,
  type CacheModuleOptions,
  type DistributedCache,
  type LocalCache,
} from '../../src';
import { KeyvDistributedCache } from '../../src/distributed/keyv.distributed-cache';
import { MemoryDistributedCache } from '../../src/distributed/memory.distributed-cache';
import { NoneDistributedCache } from '../../src/distributed/none.distributed-cache';
import { RedisDistributedCache } from '../../src/distributed/redis/redis.distributed-cache';
import { MemoryLogger } from '../support/app';
import { deleteKeys, openRawRedis, type RawRedis } from '../support/redis-client';
import { testRedisUrl, uniqueNamespace } from '../support/redis';

/** A stand-in for @nestjs/config: a module exporting a provider that knows the settings. */
@Injectable()
class AppConfig {
  static values: Record<string, string> = {};
  get(name: string): string {
    const value = AppConfig.values[name];
    if (value === undefined) throw new Error(`missing setting ${name}`);
    return value;
  }
}

@Module({ providers: [AppConfig], exports: [AppConfig] })
class AppConfigModule {}

/** Reads the drivers through the public tokens, as a user's provider would. */
@Injectable()
class DriverProbe {
  constructor(
    @Inject(LOCAL_CACHE) readonly local: LocalCache,
    @Inject(DISTRIBUTED_CACHE) readonly distributed: DistributedCache,
    readonly cache: ImCacheService,
  ) {}
}

let raw: RawRedis;
let url: string;
const namespaces: string[] = [];
const logger = new MemoryLogger();

function namespace(label: string): string {
  const ns = uniqueNamespace(`mod-${label}`);
  namespaces.push(ns);
  return ns;
}

async function compile(imports: unknown[], providers: unknown[] = []) {
  const moduleRef = await Test.createTestingModule({
    imports: imports as never[],
    providers: providers as never[],
  })
    .setLogger(logger)
    .compile();
  return moduleRef.init();
}

before(async () => {
  url = await testRedisUrl();
  raw = await openRawRedis(url);
});

after(async () => {
  for (const ns of namespaces) await deleteKeys(raw, `${ns}:*`);
  await raw.close();
});

describe('CacheModule registration', () => {
  it('forRoot gives a working ImCacheService on the embedded default', async () => {
    const app = await compile([CacheModule.forRoot({ logger })]);
    const cache = app.get(ImCacheService);

    await cache.set('k', { v: 1 });
    assert.deepEqual(await cache.get('k'), { v: 1 });
    assert.ok(app.get(DISTRIBUTED_CACHE) instanceof MemoryDistributedCache);
    await app.close();
  });

  it('forRootAsync takes its options from an imported, injected provider', async () => {
    const ns = namespace('async');
    AppConfig.values = { namespace: ns, redisUrl: url };
    const app = await compile([
      CacheModule.forRootAsync({
        imports: [AppConfigModule],
        inject: [AppConfig],
        useFactory: async (config: AppConfig): Promise<CacheModuleOptions> => ({
          namespace: config.get('namespace'),
          distributed: { url: config.get('redisUrl') },
          logger,
        }),
      }),
    ]);

    await app.get(ImCacheService).set('from-async', 'yes');

    assert.ok(app.get(DISTRIBUTED_CACHE) instanceof RedisDistributedCache);
    assert.match(String(await raw.get(`${ns}:c:from-async`)), /^\d+\|"yes"$/);
    await app.close();
  });

  it('forRootAsync accepts useClass with a create() method', async () => {
    const ns = namespace('use-class');

    @Injectable()
    class CacheOptionsFactory {
      create(): CacheModuleOptions {
        return { namespace: ns, distributed: { driver: 'redis', url }, logger };
      }
    }
    const app = await compile([CacheModule.forRootAsync({ useClass: CacheOptionsFactory })]);

    await app.get(ImCacheService).set('from-class', 1);

    assert.equal(await raw.exists(`${ns}:c:from-class`), 1);
    await app.close();
  });

  it('isGlobal makes the service injectable in a module that does not import it', async () => {
    @Injectable()
    class ProfileService {
      constructor(readonly cache: ImCacheService) {}
    }
    @Module({ providers: [ProfileService], exports: [ProfileService] })
    class ProfileModule {}

    const app = await compile([CacheModule.forRoot({ isGlobal: true, logger }), ProfileModule]);

    const profiles = app.get(ProfileService);
    assert.ok(profiles.cache instanceof ImCacheService);
    assert.equal(profiles.cache, app.get(ImCacheService));
    await app.close();
  });

  it('without isGlobal a module that does not import it cannot inject the service', async () => {
    @Injectable()
    class LonelyService {
      constructor(readonly cache: ImCacheService) {}
    }
    @Module({ providers: [LonelyService] })
    class LonelyModule {}

    await assert.rejects(
      compile([CacheModule.forRoot({ logger }), LonelyModule]),
      /ImCacheService/,
    );
  });

  it('isGlobal works with forRootAsync too', async () => {
    @Injectable()
    class Consumer {
      constructor(readonly cache: ImCacheService) {}
    }
    @Module({ providers: [Consumer] })
    class ConsumerModule {}

    const app = await compile([
      CacheModule.forRootAsync({ isGlobal: true, useFactory: () => ({ logger }) }),
      ConsumerModule,
    ]);

    assert.ok(app.get(Consumer).cache instanceof ImCacheService);
    await app.close();
  });
});

describe('CacheModule driver tokens', () => {
  // L1 is checked by name: with Redis, the module may wrap it (coherence) under the same name.
  const cases: [string, () => CacheModuleOptions, string, new (...args: never[]) => unknown][] = [
    ['defaults', () => ({}), 'lru', MemoryDistributedCache],
    ['a url alone', () => ({ distributed: { url } }), 'lru', RedisDistributedCache],
    [
      "'none' and 'redis'",
      () => ({ local: { driver: 'none' }, distributed: { driver: 'redis', url } }),
      'none',
      RedisDistributedCache,
    ],
    [
      "'lru' and 'keyv'",
      () => ({ local: { driver: 'lru' }, distributed: { driver: 'keyv', store: new Map() } }),
      'lru',
      KeyvDistributedCache,
    ],
    ["'none' L2", () => ({ distributed: { driver: 'none' } }), 'lru', NoneDistributedCache],
  ];

  for (const [name, options, localName, distributedClass] of cases) {
    it(`LOCAL_CACHE and DISTRIBUTED_CACHE inject the chosen drivers: ${name}`, async () => {
      const app = await compile(
        [CacheModule.forRoot({ ...options(), namespace: namespace('tokens'), logger })],
        [DriverProbe],
      );
      const probe = app.get(DriverProbe);

      assert.equal(probe.local.name, localName);
      assert.ok(probe.distributed instanceof distributedClass, probe.distributed.name);
      await probe.cache.set('through', 'the service');
      assert.equal(await probe.cache.get('through'), 'the service');
      await app.close();
    });
  }

  it("'keyv' with a KeyvRedis store writes to Redis and app.close() closes the store", async () => {
    const ns = namespace('keyv');
    const store = new KeyvRedis(url);
    const app = await compile([
      CacheModule.forRoot({ namespace: ns, distributed: { driver: 'keyv', store }, logger }),
    ]);

    await app.get(ImCacheService).set('via-keyv', 'v');
    const written = await raw.keys(`*${ns}:c:via-keyv*`);
    assert.equal(written.length, 1, String(written));
    await app.close();

    assert.equal(store.client.isOpen, false);
    await raw.unlink(written);
  });
});

/** A custom L1: a Map with expiry, counting calls, recording what it was built with. */
class MapLocalCache implements LocalCache {
  readonly name = 'map';
  readonly entries = new Map<string, { value: unknown; expiresAt: number }>();
  calls = 0;

  constructor(readonly settings: { maxEntries: number; now: () => number }) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): unknown {
    this.calls++;
    const entry = this.entries.get(key);
    return entry && entry.expiresAt > this.settings.now() ? entry.value : undefined;
  }

  set(key: string, value: unknown, ttl: number): void {
    this.calls++;
    this.entries.set(key, { value, expiresAt: this.settings.now() + ttl });
  }

  getStale(key: string): unknown {
    return this.entries.get(key)?.value;
  }

  remainingTtl(key: string): number {
    return Math.max(0, (this.entries.get(key)?.expiresAt ?? 0) - this.settings.now());
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** A custom L2 over a Map, recording its options, whether it was connected and closed. */
class MapDistributedCache implements DistributedCache {
  readonly name = 'map';
  readonly entries = new Map<string, string>();
  connected = false;
  closed = false;

  constructor(readonly options: Record<string, unknown> = {}) {}

  async connect(): Promise<void> {
    this.connected = true;
  }

  async get(key: string): Promise<string | undefined> {
    return this.entries.get(key);
  }

  async getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    return keys.map((key) => this.entries.get(key));
  }

  async set(key: string, value: string): Promise<void> {
    this.entries.set(key, value);
  }

  async add(key: string, value: string): Promise<boolean> {
    if (this.entries.has(key)) return false;
    this.entries.set(key, value);
    return true;
  }

  async delete(keys: readonly string[]): Promise<number> {
    return keys.filter((key) => this.entries.delete(key)).length;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

describe('CacheModule custom drivers', () => {
  it('takes custom L1 and L2 classes, built with the resolved options', async () => {
    const app = await compile(
      [
        CacheModule.forRoot({
          namespace: 'custom',
          local: { driver: MapLocalCache, maxEntries: 123 },
          distributed: { driver: MapDistributedCache, region: 'eu-west' },
          logger,
        }),
      ],
      [DriverProbe],
    );
    const { local, distributed, cache } = app.get(DriverProbe);
    const l1 = local as MapLocalCache;
    const l2 = distributed as MapDistributedCache;

    await cache.set('k', { v: 1 });

    assert.ok(l1 instanceof MapLocalCache && l2 instanceof MapDistributedCache);
    assert.equal(l1.settings.maxEntries, 123);
    assert.equal(l2.options.region, 'eu-west');
    assert.equal(l2.connected, true);
    assert.match(String(l2.entries.get('custom:c:k')), /^\d+\|\{"v":1\}$/);
    l1.clear();
    assert.deepEqual(await cache.get('k'), { v: 1 });
    assert.ok(l1.calls > 0);

    await app.close();
    assert.equal(l2.closed, true, 'a driver the module built is closed by it');
  });

  it("takes custom L1 and L2 instances, and leaves the caller's L2 open", async () => {
    const l1 = new MapLocalCache({ maxEntries: 10, now: Date.now });
    const l2 = new MapDistributedCache();
    const app = await compile(
      [CacheModule.forRoot({ local: { driver: l1 }, distributed: { driver: l2 }, logger })],
      [DriverProbe],
    );
    const probe = app.get(DriverProbe);

    assert.equal(probe.local, l1);
    assert.equal(probe.distributed, l2);
    assert.equal(await probe.cache.getOrLoad('k', () => 'loaded'), 'loaded');
    assert.equal(l1.entries.size, 1);
    assert.equal(l2.entries.size, 1);

    await app.close();
    assert.equal(l2.closed, false);
  });
});
