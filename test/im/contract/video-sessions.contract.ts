import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  InvalidArgumentError,
  NotInSessionError,
  SessionExistsError,
  SessionNotFoundError,
  UsersBusyError,
  type ImCacheService,
  type StartSessionInput,
} from '../../../src';
import type { Backend, ImFixture } from '../support/fixture';

const call = (
  sessionId: string,
  initiatorId: string,
  participantIds: string[],
): StartSessionInput => ({
  sessionId,
  initiatorId,
  participantIds,
  media: 'video',
});

/** The contract of `VideoSessionRepository`, run against one backend. */
export function videoSessionsContract(backend: Backend): void {
  describe(`VideoSessionRepository on ${backend.name}`, () => {
    let f: ImFixture;
    let cache: ImCacheService;
    const busyIn = async (userId: string) =>
      (await cache.videoSessions.getByUser(userId))?.sessionId ?? null;

    beforeEach(async () => {
      f = await backend.create();
      cache = await f.instance();
    });

    afterEach(() => f.close());

    it('starts a call: initiator joined, others invited, all of them busy', async () => {
      const started = await cache.videoSessions.start({
        ...call('s1', 'a', ['b', 'c', 'b', 'a']),
        media: 'audio',
      });
      assert.deepEqual(started, {
        sessionId: 's1',
        initiatorId: 'a',
        media: 'audio',
        participants: [
          { userId: 'a', state: 'joined' },
          { userId: 'b', state: 'invited' },
          { userId: 'c', state: 'invited' },
        ],
        startedAt: f.clock.now(),
        expiresAt: f.clock.now() + f.sessionTtl,
      });
      assert.deepEqual(await cache.videoSessions.get('s1'), started);
      assert.deepEqual(await cache.videoSessions.getByUser('c'), started);
      assert.equal(await cache.videoSessions.getByUser('d'), null);
    });

    it('refuses a call with a busy user, names the busy users and claims nobody', async () => {
      await cache.videoSessions.start(call('s1', 'a', ['b']));
      await cache.videoSessions.start(call('s2', 'c', ['d']));

      await assert.rejects(
        cache.videoSessions.start(call('s3', 'e', ['b', 'f', 'd'])),
        (error: unknown) => {
          assert.ok(error instanceof UsersBusyError);
          assert.equal(error.code, 'E_USERS_BUSY');
          assert.deepEqual(
            [...error.busy].sort((x, y) => x.userId.localeCompare(y.userId)),
            [
              { userId: 'b', sessionId: 's1' },
              { userId: 'd', sessionId: 's2' },
            ],
          );
          assert.match(error.message, /"b" \(in session "s1"\)/);
          return true;
        },
      );
      assert.equal(await busyIn('e'), null);
      assert.equal(await busyIn('f'), null);
      assert.equal(await cache.videoSessions.get('s3'), null);
      await cache.videoSessions.start(call('s4', 'e', ['f']));
    });

    it('of 8 concurrent calls sharing a user, exactly one starts', async () => {
      const calls = Array.from({ length: 8 }, (_, i) =>
        call(`s${i}`, `caller${i}`, ['shared', `x${i}`]),
      );
      const outcomes = await Promise.allSettled(calls.map((c) => cache.videoSessions.start(c)));
      const started = outcomes.filter((o) => o.status === 'fulfilled');
      assert.equal(started.length, 1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') assert.ok(outcome.reason instanceof UsersBusyError);
      }

      const winner = (started[0] as PromiseFulfilledResult<{ sessionId: string }>).value.sessionId;
      assert.equal(await busyIn('shared'), winner);
      const i = Number(winner.slice(1));
      for (let j = 0; j < 8; j++) {
        assert.equal(await busyIn(`caller${j}`), j === i ? winner : null);
        assert.equal(await busyIn(`x${j}`), j === i ? winner : null);
      }
    });

    it('rejects a taken session ID', async () => {
      await cache.videoSessions.start(call('s1', 'a', ['b']));
      await assert.rejects(cache.videoSessions.start(call('s1', 'c', ['d'])), SessionExistsError);
      assert.equal(await busyIn('c'), null);
    });

    it('join, leave and end move participants and free their users', async () => {
      await cache.videoSessions.start(call('s1', 'a', ['b', 'c']));
      const joined = await cache.videoSessions.join('s1', 'b');
      assert.deepEqual(
        joined.participants.map((p) => p.state),
        ['joined', 'joined', 'invited'],
      );

      const declined = await cache.videoSessions.leave('s1', 'c');
      assert.deepEqual(
        declined?.participants.map((p) => p.state),
        ['joined', 'joined', 'left'],
      );
      assert.equal(await busyIn('c'), null, 'leaving frees the user');
      await cache.videoSessions.start(call('s2', 'c', ['d']));

      await assert.rejects(
        cache.videoSessions.join('s1', 'c'),
        UsersBusyError,
        'rejoining needs a free user',
      );
      await assert.rejects(cache.videoSessions.join('s1', 'z'), NotInSessionError);
      await assert.rejects(cache.videoSessions.leave('s1', 'z'), NotInSessionError);
      await assert.rejects(cache.videoSessions.join('nope', 'a'), SessionNotFoundError);

      const ended = await cache.videoSessions.end('s1');
      assert.equal(ended?.sessionId, 's1');
      assert.equal(await cache.videoSessions.get('s1'), null);
      assert.equal(await busyIn('a'), null);
      assert.equal(await busyIn('b'), null);
      assert.equal(await busyIn('c'), 's2', 'a user now in another call keeps that call');
      assert.equal(await cache.videoSessions.end('s1'), null);
    });

    it('a participant who left may rejoin while free, and the last to leave ends it', async () => {
      await cache.videoSessions.start(call('s1', 'a', ['b']));
      await cache.videoSessions.leave('s1', 'b');
      const back = await cache.videoSessions.join('s1', 'b');
      assert.deepEqual(
        back.participants.map((p) => p.state),
        ['joined', 'joined'],
      );
      assert.equal(await busyIn('b'), 's1');

      assert.notEqual(await cache.videoSessions.leave('s1', 'a'), null);
      assert.equal(await cache.videoSessions.leave('s1', 'b'), null, 'nobody left: ended');
      assert.equal(await cache.videoSessions.get('s1'), null);
      assert.equal(await busyIn('a'), null);
      assert.equal(await busyIn('b'), null);
    });

    it('a session nobody keeps alive expires and frees its users', async () => {
      await cache.videoSessions.start(call('s1', 'a', ['b']));
      await f.expireSessions();
      assert.equal(await cache.videoSessions.get('s1'), null);
      assert.equal(await cache.videoSessions.getByUser('a'), null);
      await assert.rejects(cache.videoSessions.keepAlive('s1'), SessionNotFoundError);
      await cache.videoSessions.start(call('s2', 'b', ['a']));
    });

    it('keepAlive extends the session and the busy flags', async () => {
      await cache.videoSessions.start(call('s1', 'a', ['b']));
      f.clock.advance(1000);
      const kept = await cache.videoSessions.keepAlive('s1');
      assert.equal(kept.expiresAt, f.clock.now() + f.sessionTtl);
      assert.deepEqual(await cache.videoSessions.get('s1'), kept);
      assert.equal(await busyIn('b'), 's1');
    });

    it('rejects malformed arguments naming them', async () => {
      const bad: [() => Promise<unknown>, string][] = [
        [() => cache.videoSessions.start(call('', 'a', ['b'])), 'input.sessionId'],
        [() => cache.videoSessions.start(call('s', 'a', [])), 'input.participantIds'],
        [() => cache.videoSessions.start(call('s', 'a', ['a'])), 'input.participantIds'],
        [() => cache.videoSessions.start(call('s', 'a', ['b', '\n'])), 'input.participantIds[1]'],
        [
          () => cache.videoSessions.start({ ...call('s', 'a', ['b']), media: 'screen' as never }),
          'input.media',
        ],
        [() => cache.videoSessions.join('s', ''), 'userId'],
        [() => cache.videoSessions.getByUser(42 as never), 'userId'],
      ];
      for (const [run, argument] of bad) {
        await assert.rejects(run, (error: unknown) => {
          assert.ok(error instanceof InvalidArgumentError, String(error));
          assert.equal(error.argument, argument);
          return true;
        });
      }
    });
  });
}
