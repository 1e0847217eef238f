import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { InvalidArgumentError, type ImCacheService, type Route } from '../../../src';
import type { Backend, ImFixture } from '../support/fixture';

const route = (
  userId: string,
  deviceId: string,
  serverId: string,
  connectionId: string,
): Route => ({
  userId,
  deviceId,
  serverId,
  connectionId,
});

/** The contract of `RouteRepository`, run against one backend. */
export function routesContract(backend: Backend): void {
  describe(`RouteRepository on ${backend.name}`, () => {
    let f: ImFixture;
    let cache: ImCacheService;

    beforeEach(async () => {
      f = await backend.create();
      cache = await f.instance();
    });

    afterEach(() => f.close());

    it('binds a device and reads it back', async () => {
      assert.equal(await cache.routes.bind(route('u1', 'phone', 's1', 'c1')), null);
      assert.deepEqual(await cache.routes.get('u1'), [route('u1', 'phone', 's1', 'c1')]);
      assert.deepEqual(await cache.routes.get('nobody'), []);
    });

    it('returns the binding a takeover replaced, on another server or the same', async () => {
      await cache.routes.bind(route('u1', 'phone', 's1', 'c1'));

      const moved = await cache.routes.bind(route('u1', 'phone', 's2', 'c2'));
      assert.deepEqual(moved, route('u1', 'phone', 's1', 'c1'));

      const reconnected = await cache.routes.bind(route('u1', 'phone', 's2', 'c3'));
      assert.deepEqual(reconnected, route('u1', 'phone', 's2', 'c2'));
      assert.deepEqual(await cache.routes.get('u1'), [route('u1', 'phone', 's2', 'c3')]);
    });

    it('binding the same connection again replaces nothing', async () => {
      await cache.routes.bind(route('u1', 'phone', 's1', 'c1'));
      assert.equal(await cache.routes.bind(route('u1', 'phone', 's1', 'c1')), null);
    });

    it('keeps the devices of one user apart', async () => {
      await cache.routes.bind(route('u1', 'phone', 's1', 'c1'));
      assert.equal(await cache.routes.bind(route('u1', 'desktop', 's2', 'c2')), null);
      const devices = (await cache.routes.get('u1')).map((r) => r.deviceId).sort();
      assert.deepEqual(devices, ['desktop', 'phone']);
    });

    it('of 8 concurrent binds of a device, each replaced connection is returned once', async () => {
      const binds = Array.from({ length: 8 }, (_, i) => route('u1', 'phone', `s${i % 3}`, `c${i}`));
      const replaced = await Promise.all(binds.map((r) => cache.routes.bind(r)));

      // Exactly one bind came first and replaced nothing; every other one replaced exactly
      // the binding applied just before it, so the replaced ones are all but the survivor.
      assert.equal(replaced.filter((r) => r === null).length, 1);
      const [survivor] = await cache.routes.get('u1');
      const returned = replaced.filter((r): r is Route => r !== null).map((r) => r.connectionId);
      assert.equal(new Set(returned).size, 7, 'no connection is reported replaced twice');
      assert.ok(!returned.includes(survivor.connectionId), 'the survivor was not replaced');
      assert.deepEqual(
        [...returned, survivor.connectionId].sort(),
        binds.map((r) => r.connectionId).sort(),
      );

      // The losers learn it too: their renew reports them gone and their unbind is a no-op.
      const losers = binds.filter((r) => r.connectionId !== survivor.connectionId);
      assert.deepEqual(await cache.routes.renew(losers), losers);
      for (const loser of losers) assert.equal(await cache.routes.unbind(loser), false);
      assert.deepEqual(await cache.routes.get('u1'), [survivor]);
    });

    it('a late unbind of an old connection leaves the newer login alone', async () => {
      await cache.routes.bind(route('u1', 'phone', 's1', 'old'));
      await cache.routes.bind(route('u1', 'phone', 's2', 'new'));

      assert.equal(
        await cache.routes.unbind({ userId: 'u1', deviceId: 'phone', connectionId: 'old' }),
        false,
      );
      assert.deepEqual(await cache.routes.get('u1'), [route('u1', 'phone', 's2', 'new')]);
      assert.equal(
        await cache.routes.unbind({ userId: 'u1', deviceId: 'phone', connectionId: 'new' }),
        true,
      );
      assert.deepEqual(await cache.routes.get('u1'), []);
      assert.equal(
        await cache.routes.unbind({ userId: 'ghost', deviceId: 'd', connectionId: 'c' }),
        false,
      );
    });

    it('a binding not renewed expires with its lease', async () => {
      await cache.routes.bind(route('u1', 'phone', 's1', 'c1'));
      f.clock.advance(f.routeTtl - 1);
      assert.equal((await cache.routes.get('u1')).length, 1);

      f.clock.advance(1);
      assert.deepEqual(await cache.routes.get('u1'), []);
      assert.deepEqual(await cache.routes.groupByServer(['u1']), new Map());
    });

    it('renew extends live leases and returns the routes that are gone', async () => {
      const live = route('u1', 'phone', 's1', 'c1');
      const replaced = route('u2', 'phone', 's1', 'c2');
      const expiring = route('u3', 'phone', 's1', 'c3');
      await cache.routes.bind(live);
      await cache.routes.bind(replaced);
      await cache.routes.bind(route('u2', 'phone', 's2', 'c2b'));
      f.clock.advance(f.routeTtl / 2);
      await cache.routes.bind(expiring);
      f.clock.advance(f.routeTtl / 2 - 1);

      // `live` is renewed in the last millisecond of its lease; `expiring` is not renewed.
      const unknown = { userId: 'ghost', deviceId: 'phone', connectionId: 'c9' };
      const gone = await cache.routes.renew([live, replaced, unknown]);
      assert.deepEqual(gone, [replaced, unknown]);
      assert.equal(gone[0], replaced, 'the same objects come back');

      f.clock.advance(f.routeTtl - 1);
      assert.equal((await cache.routes.get('u1')).length, 1, 'renewed: still there');
      assert.deepEqual(await cache.routes.get('u3'), [], 'not renewed since bind: expired');
      assert.deepEqual(await cache.routes.renew([expiring]), [expiring]);
    });

    it('renews thousands of bindings in one call', async () => {
      const routes = Array.from({ length: 2500 }, (_, i) =>
        route(`u${i}`, 'd', `s${i % 4}`, `c${i}`),
      );
      await Promise.all(routes.map((r) => cache.routes.bind(r)));
      await cache.routes.unbind(routes[7]);
      await cache.routes.bind(route('u1999', 'd', 's0', 'other'));

      f.clock.advance(f.routeTtl - 1);
      const gone = await cache.routes.renew(routes);
      assert.deepEqual(gone, [routes[7], routes[1999]]);

      f.clock.advance(f.routeTtl - 1);
      const online = await cache.routes.getMany(routes.map((r) => r.userId));
      assert.equal(online.filter((r) => r.length === 1).length, 2498);
    });

    it('getMany answers in the order asked, empty where nothing is bound', async () => {
      await cache.routes.bind(route('a', 'phone', 's1', 'c1'));
      await cache.routes.bind(route('c', 'phone', 's2', 'c2'));
      await cache.routes.bind(route('c', 'pad', 's1', 'c3'));
      const many = await cache.routes.getMany(['c', 'b', 'a']);
      assert.deepEqual(many, [
        [route('c', 'phone', 's2', 'c2'), route('c', 'pad', 's1', 'c3')],
        [],
        [route('a', 'phone', 's1', 'c1')],
      ]);
      assert.deepEqual(await cache.routes.getMany([]), []);
    });

    it('groupByServer gives each server the devices it holds', async () => {
      await cache.routes.bind(route('a', 'phone', 's1', 'c1'));
      await cache.routes.bind(route('a', 'desktop', 's2', 'c2'));
      await cache.routes.bind(route('b', 'phone', 's1', 'c3'));
      const groups = await cache.routes.groupByServer(['a', 'b', 'nobody']);
      assert.deepEqual(
        groups,
        new Map([
          ['s1', [route('a', 'phone', 's1', 'c1'), route('b', 'phone', 's1', 'c3')]],
          ['s2', [route('a', 'desktop', 's2', 'c2')]],
        ]),
      );
    });

    it('removeServer drops the bindings of a dead node and only those', async () => {
      await cache.routes.bind(route('a', 'phone', 'dead', 'c1'));
      await cache.routes.bind(route('a', 'desktop', 'alive', 'c2'));
      await cache.routes.bind(route('b', 'phone', 'dead', 'c3'));
      // c moved away from the dead node before it died: a stale index member.
      await cache.routes.bind(route('c', 'phone', 'dead', 'c4'));
      await cache.routes.bind(route('c', 'phone', 'alive', 'c5'));

      assert.equal(await cache.routes.removeServer('dead'), 2);
      assert.deepEqual(await cache.routes.getMany(['a', 'b', 'c']), [
        [route('a', 'desktop', 'alive', 'c2')],
        [],
        [route('c', 'phone', 'alive', 'c5')],
      ]);
      assert.equal(await cache.routes.removeServer('dead'), 0, 'a second call finds nothing');
      assert.equal(await cache.routes.removeServer('never-seen'), 0);
    });

    it('removeServer clears a node holding many users', async () => {
      const routes = Array.from({ length: 1200 }, (_, i) => route(`u${i}`, 'd', 'dead', `c${i}`));
      await Promise.all(routes.map((r) => cache.routes.bind(r)));
      assert.equal(await cache.routes.removeServer('dead'), 1200);
      const left = await cache.routes.getMany(routes.map((r) => r.userId));
      assert.equal(left.flat().length, 0);
    });

    it('rejects malformed arguments with a typed error naming them', async () => {
      const bad: [() => Promise<unknown>, string][] = [
        [() => cache.routes.bind(route('', 'd', 's', 'c')), 'route.userId'],
        [() => cache.routes.bind(route('u', 'd\u001f', 's', 'c')), 'route.deviceId'],
        [
          () => cache.routes.bind({ userId: 'u', deviceId: 'd', serverId: 's' } as Route),
          'route.connectionId',
        ],
        [() => cache.routes.bind(null as unknown as Route), 'route'],
        [
          () => cache.routes.unbind({ userId: 'u', deviceId: 7, connectionId: 'c' } as never),
          'ref.deviceId',
        ],
        [() => cache.routes.renew([route('u', 'd', 's', 'c'), {} as Route]), 'routes[1].userId'],
        [() => cache.routes.renew('u' as never), 'routes'],
        [() => cache.routes.getMany(['ok', 'x'.repeat(300)]), 'userIds[1]'],
        [() => cache.routes.groupByServer([3] as never), 'userIds[0]'],
        [() => cache.routes.removeServer(''), 'serverId'],
      ];
      for (const [call, argument] of bad) {
        await assert.rejects(call, (error: unknown) => {
          assert.ok(error instanceof InvalidArgumentError, String(error));
          assert.equal(error.code, 'E_INVALID_ARGUMENT');
          assert.equal(error.argument, argument);
          return true;
        });
      }
    });

    it('IDs are taken verbatim: braces, colons and non-ASCII are fine', async () => {
      const odd = route('{u}:1', 'téléphone', 'gw:{2}', 'conn 1');
      await cache.routes.bind(odd);
      assert.deepEqual(await cache.routes.get('{u}:1'), [odd]);
      assert.deepEqual(await cache.routes.groupByServer(['{u}:1']), new Map([['gw:{2}', [odd]]]));
    });
  });
}
