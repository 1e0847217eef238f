import 'reflect-metadata';
import KeyvRedis from '@keyv/redis';
import { Test } from '@nestjs/testing';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CacheModule,
  ImCacheService,
  InvalidOptionError,
  OnlineStatusRepository,
  ReadCursorRepository,
  RepositoriesDisabledError,
  RouteRepository,
  UnsupportedDriverError,
  VideoSessionRepository,
  type CacheModuleOptions,
} from '../../src';
import { startCache } from '../support/app';
import { testRedisUrl, uniqueNamespace } from '../support/redis';

async function startFails(options: CacheModuleOptions): Promise<unknown> {
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot(options)],
    }).compile();
    const app = await moduleRef.init();
    await app.close();
  } catch (error) {
    return error;
  }
  assert.fail('the module started');
}

describe('IM repositories in the module', () => {
  it('are providers of their own and the properties of ImCacheService', async () => {
    const { app, cache, close } = await startCache({ distributed: { driver: 'memory' } });
    try {
      assert.equal(cache.routes, app.get(RouteRepository));
      assert.equal(cache.onlineStatus, app.get(OnlineStatusRepository));
      assert.equal(cache.readCursors, app.get(ReadCursorRepository));
      assert.equal(cache.videoSessions, app.get(VideoSessionRepository));
      assert.ok(cache.routes instanceof RouteRepository);
    } finally {
      await close();
    }
  });

  it('can be injected by a provider of an importing module', async () => {
    class Gateway {
      constructor(readonly routes: RouteRepository) {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ distributed: { driver: 'memory' } })],
      providers: [
        {
          provide: Gateway,
          inject: [RouteRepository],
          useFactory: (r: RouteRepository) => new Gateway(r),
        },
      ],
    }).compile();
    const app = await moduleRef.init();
    try {
      const gateway = app.get(Gateway);
      await gateway.routes.bind({ userId: 'u', deviceId: 'd', serverId: 's', connectionId: 'c' });
      assert.equal((await app.get(ImCacheService).onlineStatus.get('u')).online, true);
    } finally {
      await app.close();
    }
  });

  it('im: false turns them off: every call fails with a typed error', async () => {
    const { cache, close } = await startCache({ distributed: { driver: 'memory' }, im: false });
    try {
      await assert.rejects(cache.routes.get('u'), (error: unknown) => {
        assert.ok(error instanceof RepositoriesDisabledError);
        assert.equal(error.code, 'E_REPOSITORIES_DISABLED');
        assert.match(error.message, /RouteRepository.*im: false/);
        return true;
      });
      await assert.rejects(
        cache.readCursors.get({ userId: 'u', chat: 'single', conversationId: 'c' }),
        RepositoriesDisabledError,
      );
      await assert.rejects(cache.videoSessions.get('s'), RepositoriesDisabledError);
      assert.throws(() => cache.onlineStatus.onChange(() => {}), RepositoriesDisabledError);
      assert.equal(await cache.get('generic'), undefined, 'the cache itself works');
    } finally {
      await close();
    }
  });

  it('with a driver that cannot serve them and im omitted: starts, calls fail', async () => {
    const store = new KeyvRedis(await testRedisUrl());
    const { cache, close } = await startCache({
      namespace: uniqueNamespace('im-keyv'),
      distributed: { driver: 'keyv', store },
      coherence: false,
    });
    try {
      await assert.rejects(cache.onlineStatus.get('u'), (error: unknown) => {
        assert.ok(error instanceof UnsupportedDriverError);
        assert.equal(error.code, 'E_UNSUPPORTED_DRIVER');
        assert.match(
          error.message,
          /"keyv" cannot serve OnlineStatusRepository.*'redis'.*'memory'.*im: false/,
        );
        return true;
      });
    } finally {
      await close();
      await store.disconnect();
    }
  });

  it('with a driver that cannot serve them and im asked for, fails at start-up', async () => {
    const noneDriver = await startFails({
      distributed: { driver: 'none' },
      im: { routeTtl: '30s' },
    });
    assert.ok(noneDriver instanceof UnsupportedDriverError, String(noneDriver));
    assert.match(noneDriver.message, /"none" cannot serve the IM repositories/);

    const custom = {
      name: 'custom',
      get: async () => null,
      getMany: async (keys: readonly string[]) => keys.map(() => null),
      set: async () => undefined,
      add: async () => true,
      delete: async () => 0,
    };
    const customDriver = await startFails({ distributed: { driver: custom }, im: true });
    assert.ok(customDriver instanceof UnsupportedDriverError, String(customDriver));
    assert.match(customDriver.message, /"custom"/);
  });

  it('validates the im options when the module starts', async () => {
    const cases: [unknown, string, RegExp][] = [
      ['yes', 'im', /false, true or an options object/],
      [{ routeTtl: -1 }, 'im.routeTtl', />= 0/],
      [{ routeTtl: 0 }, 'im.routeTtl', /at least 1ms/],
      [{ sessionTtl: '5 minutes' }, 'im.sessionTtl', /'30s'/],
      [{ cursorTtl: 'never' }, 'im.cursorTtl', /milliseconds/],
      [{ routeTTL: '1m' }, 'im.routeTTL', /unknown option; valid ones are routeTtl, lastSeenTtl/],
    ];
    for (const [im, option, says] of cases) {
      const error = await startFails({ distributed: { driver: 'memory' }, im: im as never });
      assert.ok(error instanceof InvalidOptionError, `${option}: ${error}`);
      assert.equal(error.option, option);
      assert.match(error.message, says);
    }
  });
});
