import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  InvalidArgumentError,
  InvalidMessageIdError,
  type ImCacheService,
  type MessageId,
} from '../../../src';
import type { Backend, ImFixture } from '../support/fixture';

const TWO_53 = 2n ** 53n;
const MAX_64 = 2n ** 64n - 1n;

/** The contract of `ReadCursorRepository`, run against one backend. */
export function readCursorsContract(backend: Backend): void {
  describe(`ReadCursorRepository on ${backend.name}`, () => {
    let f: ImFixture;
    let cache: ImCacheService;
    const mark = (messageId: MessageId, conversationId = 'g1', userId = 'u1') =>
      cache.readCursors.markRead({ userId, chat: 'group', conversationId, messageId });
    const cursor = (conversationId = 'g1', userId = 'u1') =>
      cache.readCursors.get({ userId, chat: 'group', conversationId });

    beforeEach(async () => {
      f = await backend.create();
      cache = await f.instance();
    });

    afterEach(() => f.close());

    it('moves forward only and returns the stored cursor', async () => {
      assert.equal(await cursor(), null);
      assert.equal(await mark('100'), '100');
      assert.equal(await mark('99'), '100');
      assert.equal(await mark('100'), '100');
      assert.equal(await mark('101'), '101');
      assert.equal(await cursor(), '101');
    });

    it('compares as integers, not as text: "10" is after "9"', async () => {
      assert.equal(await mark('9'), '9');
      assert.equal(await mark('10'), '10');
      assert.equal(await mark('9'), '10');
    });

    it('keeps 64-bit IDs exact: 2^53 + 1 stays 2^53 + 1', async () => {
      assert.equal(await mark(TWO_53 + 1n), '9007199254740993');
      assert.equal(await mark('9007199254740992'), '9007199254740993', '2^53 is behind 2^53 + 1');
      assert.equal(await mark(TWO_53 + 2n), '9007199254740994');
      assert.equal(await cursor(), '9007199254740994');
    });

    it('takes the extremes of the range and compares them exactly', async () => {
      assert.equal(await mark(0), '0');
      assert.equal(await mark(Number.MAX_SAFE_INTEGER), '9007199254740991');
      assert.equal(await mark(MAX_64 - 1n), '18446744073709551614');
      assert.equal(await mark(MAX_64 - 2n), '18446744073709551614');
      assert.equal(await mark('18446744073709551615'), '18446744073709551615');
      // Same length, same top digits: only the last ten differ (and the reverse).
      assert.equal(await mark('12345678901234567890', 'g2'), '12345678901234567890');
      assert.equal(await mark('12345678901234567889', 'g2'), '12345678901234567890');
      assert.equal(await mark('12345678911234567889', 'g2'), '12345678911234567889');
    });

    it('accepts strings, bigints and safe integers alike, and leading zeros', async () => {
      assert.equal(await mark(5), '5');
      assert.equal(await mark(6n), '6');
      assert.equal(await mark('0007'), '7');
      assert.equal(await mark('0000'), '7');
    });

    it('rejects IDs that are not integers from 0 to 2^64 - 1', async () => {
      const bad: unknown[] = [
        -1,
        '-1',
        -1n,
        1.5,
        '1.5',
        '1e3',
        'abc',
        '',
        ' 1',
        NaN,
        Infinity,
        Number.MAX_SAFE_INTEGER + 1,
        MAX_64 + 1n,
        '18446744073709551616',
        '99999999999999999999',
        null,
        undefined,
        {},
        true,
      ];
      for (const messageId of bad) {
        await assert.rejects(mark(messageId as MessageId), (error: unknown) => {
          assert.ok(error instanceof InvalidMessageIdError, `${String(messageId)}: ${error}`);
          assert.equal(error.code, 'E_INVALID_MESSAGE_ID');
          return true;
        });
      }
      assert.equal(await cursor(), null, 'nothing was stored');
    });

    it('under 8 concurrent writers per conversation, ends at the largest ID', async () => {
      // Several "devices" acknowledge receipts out of order, some of them twice.
      const ids = Array.from({ length: 64 }, (_, i) => TWO_53 + BigInt((i * 37) % 64));
      const writers = Array.from({ length: 8 }, (_, w) =>
        (async () => {
          const seen: string[] = [];
          for (let i = w; i < ids.length; i += 8) seen.push(await mark(ids[i]));
          return seen;
        })(),
      );
      const results = await Promise.all(writers);
      const max = ids.reduce((a, b) => (a > b ? a : b));
      assert.equal(await cursor(), max.toString());

      // What each writer was told never goes backwards and never lies below its own ID.
      for (const seen of results) {
        for (let i = 1; i < seen.length; i++) assert.ok(BigInt(seen[i]) >= BigInt(seen[i - 1]));
      }
    });

    it('under concurrent writers on several instances, each answer is >= its own ID', async () => {
      const others = backend.shared ? [await f.instance(), await f.instance()] : [];
      const all = [cache, ...others];
      const ids = Array.from({ length: 96 }, (_, i) => BigInt(1_000_000 + ((i * 53) % 96)));
      const answers = await Promise.all(
        ids.map((id, i) =>
          all[i % all.length].readCursors.markRead({
            userId: 'u1',
            chat: 'single',
            conversationId: 'peer',
            messageId: id,
          }),
        ),
      );
      answers.forEach((answer, i) => assert.ok(BigInt(answer) >= ids[i]));
      const last = await cache.readCursors.get({
        userId: 'u1',
        chat: 'single',
        conversationId: 'peer',
      });
      assert.equal(last, '1000095');
    });

    it('keeps single and group chats apart, and getMany answers in order', async () => {
      await cache.readCursors.markRead({
        userId: 'u1',
        chat: 'single',
        conversationId: 'x',
        messageId: 5,
      });
      await cache.readCursors.markRead({
        userId: 'u1',
        chat: 'group',
        conversationId: 'x',
        messageId: 9,
      });
      await cache.readCursors.markRead({
        userId: 'u2',
        chat: 'group',
        conversationId: 'x',
        messageId: 11,
      });
      assert.deepEqual(
        await cache.readCursors.getMany('u1', [
          { chat: 'group', conversationId: 'x' },
          { chat: 'single', conversationId: 'nope' },
          { chat: 'single', conversationId: 'x' },
        ]),
        ['9', null, '5'],
      );
      assert.deepEqual(await cache.readCursors.getMany('u1', []), []);
    });

    it('rejects malformed arguments naming them', async () => {
      const bad: [() => Promise<unknown>, string][] = [
        [
          () =>
            cache.readCursors.markRead({
              userId: 'u',
              chat: 'channel',
              conversationId: 'x',
              messageId: 1,
            } as never),
          'input.chat',
        ],
        [
          () =>
            cache.readCursors.markRead({
              userId: 'u',
              chat: 'group',
              conversationId: '',
              messageId: 1,
            }),
          'input.conversationId',
        ],
        [
          () => cache.readCursors.get({ userId: 'u', chat: 'group' } as never),
          'key.conversationId',
        ],
        [
          () =>
            cache.readCursors.getMany('u', [{ chat: 'group', conversationId: 'x' }, null as never]),
          'targets[1]',
        ],
        [() => cache.readCursors.getMany('', []), 'userId'],
      ];
      for (const [call, argument] of bad) {
        await assert.rejects(call, (error: unknown) => {
          assert.ok(error instanceof InvalidArgumentError, String(error));
          assert.equal(error.argument, argument);
          return true;
        });
      }
    });
  });
}
