import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidMessageIdError } from '../../src';
import { compareMessageIds, normalizeMessageId } from '../../src/im/read-cursors/message-id';

describe('message IDs', () => {
  it('normalizes strings, bigints and safe numbers to canonical decimals', () => {
    assert.equal(normalizeMessageId('0'), '0');
    assert.equal(normalizeMessageId('000'), '0');
    assert.equal(normalizeMessageId('00042'), '42');
    assert.equal(normalizeMessageId(42), '42');
    assert.equal(normalizeMessageId(0), '0');
    assert.equal(normalizeMessageId(-0), '0');
    assert.equal(normalizeMessageId(2n ** 53n + 1n), '9007199254740993');
    assert.equal(normalizeMessageId('18446744073709551615'), '18446744073709551615');
    assert.equal(normalizeMessageId('0018446744073709551615'), '18446744073709551615');
  });

  it('says what is wrong with a bad ID', () => {
    const cases: [unknown, RegExp][] = [
      ['-5', /negative/],
      [-5n, /negative/],
      [-5, /negative/],
      ['18446744073709551616', /larger than 64 bits/],
      [2n ** 64n, /larger than 64 bits/],
      [2 ** 53, /above 2\^53 - 1.*string or bigint/],
      [0.5, /not an integer/],
      ['0x10', /not a decimal integer/],
      ['1_000', /not a decimal integer/],
      [Symbol('id'), /symbol is not a message ID/],
    ];
    for (const [id, says] of cases) {
      assert.throws(
        () => normalizeMessageId(id),
        (error: unknown) => {
          assert.ok(error instanceof InvalidMessageIdError);
          assert.match(error.message, says);
          assert.match(error.message, /2\^64 - 1/);
          return true;
        },
      );
    }
  });

  it('compares exactly, as BigInt would, across the whole range', () => {
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647);
    const random = () => {
      const digits = 1 + (next() % 20);
      let text = String(1 + (next() % 9));
      for (let i = 1; i < digits; i++) text += String(next() % 10);
      return BigInt(text) > 2n ** 64n - 1n ? 2n ** 64n - 1n - BigInt(next()) : BigInt(text);
    };
    for (let i = 0; i < 5000; i++) {
      const a = random();
      const b = i % 10 === 0 ? a : random();
      const expected = a < b ? -1 : a > b ? 1 : 0;
      const actual = Math.sign(compareMessageIds(a.toString(), b.toString()));
      assert.equal(actual, expected, `${a} vs ${b}`);
    }
  });
});
