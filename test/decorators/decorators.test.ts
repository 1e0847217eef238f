import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { ContextIdFactory, DiscoveryModule, Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import {
  Cacheable,
  CacheModule,
  CachePut,
  DecoratorKeyError,
  ImCacheService,
  InvalidOptionError,
  type CacheModuleOptions,
} from '../../src';
import { MemoryLogger } from '../support/app';
import { deleteKeys, globEscape, openRawRedis } from '../support/redis-client';
import { testRedisUrl, uniqueNamespace } from '../support/redis';
import {
  CountingGuard,
  FactoryMade,
  MiniEventBus,
  ProfileController,
  ProfileService,
  ProfileStore,
  RequestScopedReader,
  ROLE,
  TAG,
} from './fixtures';

interface App {
  app: INestApplication;
  cache: ImCacheService;
  profiles: ProfileService;
  store: ProfileStore;
  url: string;
}

async function startApp(options: CacheModuleOptions = {}, label = 'app'): Promise<App> {
  const moduleRef = await Test.createTestingModule({
    imports: [CacheModule.forRoot({ logger: new MemoryLogger(), ...options }), DiscoveryModule],
    providers: [
      ProfileStore,
      ProfileService,
      MiniEventBus,
      CountingGuard,
      RequestScopedReader,
      { provide: FactoryMade, useFactory: () => new FactoryMade() },
    ],
    controllers: [ProfileController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const profiles = app.get(ProfileService);
  profiles.label = label;
  return {
    app,
    cache: app.get(ImCacheService),
    profiles,
    store: app.get(ProfileStore),
    url: await app.getUrl(),
  };
}

describe('cache decorators on providers and controllers', () => {
  let a: App;

  before(async () => {
    a = await startApp();
  });

  after(() => a.app.close());

  beforeEach(() => {
    a.store.reads = 0;
  });

  it('@Cacheable: a miss runs the method, a hit returns the cached value', async () => {
    const first = await a.profiles.find('1');
    const second = await a.profiles.find('1');

    assert.deepEqual(first, { id: '1', name: 'ann' });
    assert.equal(second, first);
    assert.equal(a.store.reads, 1);
    assert.deepEqual(await a.cache.get('profile:1'), first, 'stored under the template key');
  });

  it('@Cacheable: "not found" is cached as a negative entry, returned as undefined', async () => {
    assert.equal(await a.profiles.find('nobody'), undefined);
    assert.equal(await a.profiles.find('nobody'), undefined);
    assert.equal(a.store.reads, 1);
  });

  it('@Cacheable: a thrown error is passed on and never cached', async () => {
    await assert.rejects(a.profiles.find('boom'), /cannot read boom/);
    await assert.rejects(a.profiles.find('boom'), /cannot read boom/);
    assert.equal(a.store.reads, 2);
  });

  it('@Cacheable: concurrent callers share one call of the method', async () => {
    a.store.hold();
    const pending = Array.from({ length: 100 }, () => a.profiles.find('1-concurrent'));
    setTimeout(() => a.store.release(), 20);
    const results = await Promise.all(pending);

    assert.equal(a.store.reads, 1);
    assert.deepEqual(new Set(results), new Set([undefined]));
  });

  it('@Cacheable: `this` is the instance', async () => {
    assert.equal(await a.profiles.whoAmI(), 'app');
  });

  it('@Cacheable: a key function resolving to "" is a typed error naming the method', async () => {
    await assert.rejects(
      a.profiles.findRaw('blank'),
      (error) =>
        error instanceof DecoratorKeyError &&
        error.method === 'ProfileService.findRaw' &&
        error.decorator === '@Cacheable',
    );
    await assert.rejects(a.profiles.find(''), DecoratorKeyError);
    assert.equal(a.store.reads, 0, 'the method did not run');
  });

  it('@CachePut: runs the method, then stores the result', async () => {
    await a.profiles.find('2');
    await a.profiles.save({ id: '2', name: 'bea' });

    assert.deepEqual(await a.profiles.find('2'), { id: '2', name: 'bea' });
    assert.equal(a.store.reads, 1, 'the second find was a hit on the stored result');
  });

  it('@CachePut: a null result deletes the key', async () => {
    await a.profiles.save({ id: '3', name: 'cid' });
    await a.profiles.erase('3');

    assert.equal(await a.cache.get('profile:3'), undefined);
  });

  it('@CacheEvict: deletes every key after the method succeeded', async () => {
    await a.profiles.save({ id: '4', name: 'dan' });
    await a.profiles.findRaw('4');
    await a.profiles.remove('4');

    assert.equal(await a.cache.get('profile:4'), undefined);
    assert.equal(await a.cache.get('raw:4'), undefined);
  });

  it('@CacheEvict: nothing is deleted when the method throws', async () => {
    await a.cache.set('profile:locked', { id: 'locked', name: 'eve' });
    await assert.rejects(a.profiles.remove('locked'), /locked profile/);

    assert.deepEqual(await a.cache.get('profile:locked'), { id: 'locked', name: 'eve' });
  });

  it('@CacheEvict with beforeInvocation deletes even when the method throws', async () => {
    await a.cache.set('profile:5', { id: '5', name: 'fay' });
    await assert.rejects(a.profiles.removeThenFail('5'), /failed after evicting 5/);

    assert.equal(await a.cache.get('profile:5'), undefined);
  });

  it('@CachePut and @CacheEvict combine on one method', async () => {
    await a.cache.set('profiles:all', ['stale list']);
    await a.profiles.rename({ id: '6', name: 'gus' });

    assert.equal(await a.cache.get('profiles:all'), undefined);
    assert.deepEqual(await a.cache.get('profile:6'), { id: '6', name: 'gus' });
  });

  it("keeps the method's other metadata, name and length", () => {
    const reflector = a.app.get(Reflector);
    for (const method of [a.profiles.find, ProfileService.prototype.find]) {
      assert.equal(reflector.get(ROLE, method), 'reader', 'decorator applied above');
      assert.equal(reflector.get(TAG, method), 'inner', 'decorator applied below');
    }
    assert.equal(a.profiles.find.name, 'find');
    assert.equal(a.profiles.find.length, 1);
    assert.deepEqual(Reflect.getMetadata('design:paramtypes', ProfileService.prototype, 'find'), [
      String,
    ]);
  });

  it('event handlers bound at bootstrap from the metadata call the cached method', async () => {
    const bus = a.app.get(MiniEventBus);

    const [first] = await bus.emit('profile.requested', '1');
    const [second] = await bus.emit('profile.requested', '1');

    assert.deepEqual(first, { id: '1', name: 'ann' });
    assert.equal(second, first);
    assert.equal(a.store.reads, 1);
  });

  it('controller routes keep their guards and get cached', async () => {
    CountingGuard.calls = 0;
    CountingGuard.seenRoles = [];
    const controller = a.app.get(ProfileController);

    const first = await (await fetch(`${a.url}/profiles/1`)).json();
    const second = await (await fetch(`${a.url}/profiles/1`)).json();

    assert.deepEqual(first, { id: '1', name: 'ann' });
    assert.deepEqual(second, first);
    assert.equal(CountingGuard.calls, 2, 'the guard ran on every request');
    assert.deepEqual(CountingGuard.seenRoles, ['http-reader', 'http-reader']);
    assert.equal(controller.served, 1, 'the second request was a cache hit');
  });

  it('request-scoped providers share the cache by key', async () => {
    const one = await a.app.resolve(RequestScopedReader, ContextIdFactory.create());
    const two = await a.app.resolve(RequestScopedReader, ContextIdFactory.create());
    assert.notEqual(one, two);

    assert.deepEqual(await one.read('1'), { id: '1', name: 'ann' });
    assert.deepEqual(await two.read('1'), { id: '1', name: 'ann' });
    assert.equal(a.store.reads, 1);
  });

  it('factory-made providers are covered too', async () => {
    const made = a.app.get(FactoryMade);

    assert.equal(await made.compute(21), 42);
    assert.equal(await made.compute(21), 42);
    assert.equal(made.calls, 1);
  });
});

describe('cache decorators across applications', () => {
  it('two applications in one process each use their own cache', async () => {
    const one = await startApp({ namespace: 'one' }, 'one');
    const two = await startApp({ namespace: 'two' }, 'two');
    try {
      assert.equal(await one.profiles.whoAmI(), 'one');
      assert.equal(await two.profiles.whoAmI(), 'two');
      assert.equal(await one.cache.get('whoami'), 'one');
      assert.equal(await two.cache.get('whoami'), 'two');
    } finally {
      await two.app.close();
      await one.app.close();
    }
  });

  it('instances share cached values through Redis', async () => {
    const url = await testRedisUrl();
    const namespace = uniqueNamespace('decorators');
    const options: CacheModuleOptions = { namespace, distributed: { driver: 'redis', url } };
    const one = await startApp(options);
    const two = await startApp(options);
    try {
      assert.deepEqual(await one.profiles.find('1'), { id: '1', name: 'ann' });
      assert.deepEqual(await two.profiles.find('1'), { id: '1', name: 'ann' });

      assert.equal(one.store.reads, 1);
      assert.equal(two.store.reads, 0, 'the second instance read the value from Redis');
    } finally {
      await two.app.close();
      await one.app.close();
      const raw = await openRawRedis(url);
      await deleteKeys(raw, `${globEscape(namespace)}:*`);
      await raw.close();
    }
  });

  it('without CacheModule a decorated method runs as written', async () => {
    class Lonely {
      calls = 0;

      @Cacheable({ key: 'lonely' })
      async value(): Promise<number> {
        return ++this.calls;
      }
    }
    const lonely = new Lonely();

    assert.equal(await lonely.value(), 1);
    assert.equal(await lonely.value(), 2);
  });
});

describe('cache decorators: definition errors', () => {
  const rejects = (define: () => unknown, pattern: RegExp) =>
    assert.throws(
      define,
      (error) => error instanceof InvalidOptionError && pattern.test(error.message),
    );

  it('rejects a static method', () => {
    rejects(() => {
      class S {
        @Cacheable({ key: 'k' })
        static async find(): Promise<number> {
          return 1;
        }
      }
      return S;
    }, /@Cacheable on S\.find.*instance methods/);
  });

  it('rejects missing options or key', () => {
    rejects(() => {
      class K {
        @Cacheable(undefined as never)
        async find(): Promise<number> {
          return 1;
        }
      }
      return K;
    }, /expected options with a key/);
    rejects(() => {
      class K {
        @Cacheable({} as never)
        async find(): Promise<number> {
          return 1;
        }
      }
      return K;
    }, /key of @Cacheable on K\.find/);
  });

  it('rejects a template naming no parameter', () => {
    rejects(() => {
      class T {
        @Cacheable({ key: 'user:{userId}' })
        async find(id: string): Promise<string> {
          return id;
        }
      }
      return T;
    }, /\{userId\} names no parameter of the method \(parameters: id\)/);
  });

  it('rejects a method declared to return something other than a Promise', () => {
    rejects(() => {
      class R {
        @Cacheable({ key: 'k' })
        find(): string {
          return 'sync';
        }
      }
      return R;
    }, /returns String, but a cached method returns a Promise/);
  });

  it('rejects @Cacheable combined with another cache decorator', () => {
    rejects(() => {
      class C {
        @Cacheable({ key: 'k' })
        @CachePut({ key: 'k' })
        async find(): Promise<number> {
          return 1;
        }
      }
      return C;
    }, /cannot be combined/);
  });

  it('rejects a bad duration, naming it', () => {
    rejects(() => {
      class D {
        @Cacheable({ key: 'k', ttl: '5 minutes' })
        async find(): Promise<number> {
          return 1;
        }
      }
      return D;
    }, /ttl of @Cacheable on D\.find/);
  });
});
