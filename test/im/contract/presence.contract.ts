import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { InvalidArgumentError, type ImCacheService, type Route } from '../../../src';
import { ChangeLog, type Backend, type ImFixture } from '../support/fixture';

const route = (
  userId: string,
  deviceId: string,
  serverId = 's1',
  connectionId = `${userId}-${deviceId}`,
): Route => ({
  userId,
  deviceId,
  serverId,
  connectionId,
});

const offline = (userId: string, lastSeenAt: number | null = null) => ({
  userId,
  online: false,
  status: 'offline',
  devices: [],
  lastSeenAt,
});

/** The contract of `OnlineStatusRepository`, run against one backend. */
export function presenceContract(backend: Backend): void {
  describe(`OnlineStatusRepository on ${backend.name}`, () => {
    let f: ImFixture;
    let cache: ImCacheService;
    let log: ChangeLog;

    beforeEach(async () => {
      f = await backend.create();
      cache = await f.instance();
      log = await ChangeLog.of(cache);
    });

    afterEach(() => f.close());

    it('follows the routes: online with a live device, last seen when the last goes', async () => {
      assert.deepEqual(await cache.onlineStatus.get('u1'), offline('u1'));

      await cache.routes.bind(route('u1', 'phone'));
      await cache.routes.bind(route('u1', 'desktop', 's2'));
      assert.deepEqual(await cache.onlineStatus.get('u1'), {
        userId: 'u1',
        online: true,
        status: 'online',
        devices: ['phone', 'desktop'],
        lastSeenAt: null,
      });

      await cache.routes.unbind(route('u1', 'phone'));
      assert.deepEqual((await cache.onlineStatus.get('u1')).devices, ['desktop']);

      f.clock.advance(5);
      const leftAt = f.clock.now();
      await cache.routes.unbind(route('u1', 'desktop', 's2'));
      assert.deepEqual(await cache.onlineStatus.get('u1'), offline('u1', leftAt));
    });

    it('a lease that ran out reads offline, last seen at its end', async () => {
      await cache.routes.bind(route('u1', 'phone'));
      const leaseEnd = f.clock.now() + f.routeTtl;
      f.clock.advance(f.routeTtl);
      assert.deepEqual(await cache.onlineStatus.get('u1'), offline('u1', leaseEnd));

      // The next write notices it: the offline change is published once, dated at the end.
      await cache.onlineStatus.setStatus('u1', 'away');
      await log.settle(cache);
      assert.deepEqual(
        log.of('u1').map((c) => [c.type, c.at]),
        [
          ['online', leaseEnd - f.routeTtl],
          ['offline', leaseEnd],
        ],
      );
      assert.deepEqual(await cache.onlineStatus.get('u1'), offline('u1', leaseEnd));
    });

    it('removeServer takes the users it leaves without a device offline', async () => {
      await cache.routes.bind(route('a', 'phone', 'dead'));
      await cache.routes.bind(route('b', 'phone', 'dead'));
      await cache.routes.bind(route('b', 'desktop', 'alive'));
      await cache.routes.removeServer('dead');
      const [a, b] = await cache.onlineStatus.getMany(['a', 'b']);
      assert.deepEqual(a, offline('a', f.clock.now()));
      assert.deepEqual(b.devices, ['desktop']);

      await log.settle(cache);
      assert.deepEqual(
        log.of('a').map((c) => c.type),
        ['online', 'offline'],
      );
      assert.deepEqual(
        log.of('b').map((c) => c.type),
        ['online'],
      );
    });

    it('invisible reads as offline to others, and truly to the user themself', async () => {
      await cache.routes.bind(route('u1', 'phone'));
      f.clock.advance(10);
      await cache.onlineStatus.setStatus('u1', 'invisible');
      const hiddenAt = f.clock.now();

      assert.deepEqual(await cache.onlineStatus.get('u1'), offline('u1', hiddenAt));
      assert.deepEqual(await cache.onlineStatus.get('u1', { self: true }), {
        userId: 'u1',
        online: true,
        status: 'invisible',
        devices: ['phone'],
        lastSeenAt: hiddenAt,
      });
      assert.equal((await cache.routes.get('u1')).length, 1, 'routing still reaches the user');

      // Connecting and disconnecting while invisible shows nothing to others.
      f.clock.advance(10);
      await cache.routes.bind(route('u1', 'desktop'));
      await cache.routes.unbind(route('u1', 'phone'));
      await cache.routes.unbind(route('u1', 'desktop'));
      assert.deepEqual(await cache.onlineStatus.get('u1'), offline('u1', hiddenAt));

      await cache.routes.bind(route('u1', 'phone'));
      await cache.onlineStatus.setStatus('u1', 'online');
      await log.settle(cache);
      assert.deepEqual(
        log.of('u1').map((c) => [c.type, c.status]),
        [
          ['online', 'online'],
          ['offline', 'offline'],
          ['online', 'online'],
        ],
      );
    });

    it('the chosen status shows when online, outlives logouts, changes are published', async () => {
      await cache.routes.bind(route('u1', 'phone'));
      await cache.onlineStatus.setStatus('u1', 'busy');
      assert.equal((await cache.onlineStatus.get('u1')).status, 'busy');

      await cache.routes.unbind(route('u1', 'phone'));
      assert.equal((await cache.onlineStatus.get('u1')).status, 'offline');
      assert.equal((await cache.onlineStatus.get('u1', { self: true })).status, 'busy');

      await cache.onlineStatus.setStatus('u1', 'away'); // offline: nothing others see changes
      await cache.routes.bind(route('u1', 'phone'));
      assert.equal((await cache.onlineStatus.get('u1')).status, 'away');
      await cache.onlineStatus.setStatus('u1', 'away'); // no change

      await log.settle(cache);
      assert.deepEqual(
        log.of('u1').map((c) => [c.type, c.status]),
        [
          ['online', 'online'],
          ['status', 'busy'],
          ['offline', 'offline'],
          ['online', 'away'],
        ],
      );
    });

    it('reports online once for a user binding 8 devices at once, and offline once', async () => {
      const devices = Array.from({ length: 8 }, (_, i) => route('u1', `d${i}`, `s${i % 2}`));
      await Promise.all(devices.map((r) => cache.routes.bind(r)));
      assert.equal((await cache.onlineStatus.get('u1')).devices.length, 8);
      await Promise.all(devices.map((r) => cache.routes.unbind(r)));

      await log.settle(cache);
      assert.deepEqual(
        log.of('u1').map((c) => c.type),
        ['online', 'offline'],
      );
    });

    it('getMany answers a 500-member group in order', async () => {
      const members = Array.from({ length: 500 }, (_, i) => `m${i}`);
      await Promise.all(
        members.filter((_, i) => i % 3 === 0).map((m) => cache.routes.bind(route(m, 'phone'))),
      );
      const statuses = await cache.onlineStatus.getMany(members);
      assert.equal(statuses.length, 500);
      statuses.forEach((status, i) => {
        assert.equal(status.userId, members[i]);
        assert.equal(status.online, i % 3 === 0);
      });
    });

    it(
      'every instance gets each change once',
      { skip: !backend.shared && 'instances of the memory driver share nothing' },
      async () => {
        const other = await f.instance();
        const otherLog = await ChangeLog.of(other);
        await cache.routes.bind(route('u1', 'phone'));
        await other.onlineStatus.setStatus('u1', 'away');
        await other.routes.unbind(route('u1', 'phone'));

        await log.settle(cache);
        await otherLog.settle(cache);
        const expected = [
          ['online', 'online'],
          ['status', 'away'],
          ['offline', 'offline'],
        ];
        assert.deepEqual(
          log.of('u1').map((c) => [c.type, c.status]),
          expected,
        );
        assert.deepEqual(
          otherLog.of('u1').map((c) => [c.type, c.status]),
          expected,
        );
      },
    );

    it('an unsubscribed listener hears nothing; a throwing one does not stop others', async () => {
      const heard: string[] = [];
      const subscription = cache.onlineStatus.onChange((c) => heard.push(c.userId));
      cache.onlineStatus.onChange(() => {
        throw new Error('listener bug');
      });
      await subscription.ready;
      await cache.routes.bind(route('u1', 'phone'));
      await log.settle(cache);
      subscription.unsubscribe();
      subscription.unsubscribe();
      await cache.routes.bind(route('u2', 'phone'));
      await log.settle(cache);
      assert.ok(heard.includes('u1'));
      assert.ok(!heard.includes('u2'));
    });

    it('rejects an unknown status and malformed arguments', async () => {
      await assert.rejects(cache.onlineStatus.setStatus('u1', 'dnd' as never), (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError);
        assert.equal(error.argument, 'status');
        assert.match(error.message, /'online', 'away', 'busy', 'invisible'/);
        return true;
      });
      await assert.rejects(cache.onlineStatus.get(''), InvalidArgumentError);
      await assert.rejects(cache.onlineStatus.getMany('u1' as never), InvalidArgumentError);
      assert.throws(() => cache.onlineStatus.onChange('x' as never), InvalidArgumentError);
    });
  });
}
