import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorruptEntryError } from '../../src';
import {
  decodeJsonBatch,
  decodeValue,
  encodeNegative,
  encodeValue,
  expiryOf,
  isEntry,
  liveMark,
  NEGATIVE,
} from '../../src/two-level/entry-codec';

describe('entry codec', () => {
  it('round-trips a value and its expiry', () => {
    const raw = encodeValue(1_700_000_000_123, '{"a":[1,"|!"]}');
    assert.ok(isEntry(raw));
    assert.equal(expiryOf(raw), 1_700_000_000_123);
    assert.deepEqual(decodeValue(raw, 'k'), { a: [1, '|!'] });
  });

  it('writes the expiry as 13 digits, zero-padded', () => {
    assert.equal(encodeNegative(42), '0000000000042|!');
    assert.equal(expiryOf(encodeNegative(42)), 42);
  });

  it('tells a negative entry from a value', () => {
    assert.equal(decodeValue(encodeNegative(42), 'k'), NEGATIVE);
    assert.equal(decodeValue(encodeValue(42, '"!"'), 'k'), '!');
  });

  it('orders live and expired entries around the live mark', () => {
    const now = 1_700_000_000_000;
    const mark = liveMark(now);
    assert.ok(encodeValue(now + 1, '1') > mark, 'expires after now: live');
    assert.ok(!(encodeValue(now, '1') > mark), 'expires now: expired');
    assert.ok(!(encodeValue(now - 5000, '1') > mark), 'expired');
    assert.ok(encodeNegative(now + 86_400_000) > mark);
    assert.ok(!(liveMark(99) < encodeValue(50, '{}')), 'padded stamps compare as numbers');
  });

  it('recognizes only strings this module wrote', () => {
    for (const raw of [
      '',
      '|1',
      'abc|1',
      '{"a":1}',
      '123|1',
      'x000000000000|1',
      '0000000000001|',
    ]) {
      assert.equal(isEntry(raw), false, raw);
    }
  });

  it('names the key of an entry that is not JSON', () => {
    assert.throws(
      () => decodeValue(encodeValue(42, '{nope'), 'profile:1'),
      (error: unknown) => error instanceof CorruptEntryError && error.key === 'profile:1',
    );
  });
});

describe('decodeJsonBatch', () => {
  it('parses many parts into one value each, in order', () => {
    const parts = ['1', '"a,b"', '{"x":[1,2]}', '[]', 'null', 'false', '"]"'];
    assert.deepEqual(decodeJsonBatch(parts, parts), [
      1,
      'a,b',
      { x: [1, 2] },
      [],
      null,
      false,
      ']',
    ]);
  });

  it('names the key of a corrupt part', () => {
    assert.throws(
      () => decodeJsonBatch(['1', '{bad', '2'], ['a', 'b', 'c']),
      (error: unknown) => error instanceof CorruptEntryError && error.key === 'b',
    );
  });

  it('never lets parts merge or split into other values', () => {
    const merging = ['[1', '2]', '3,4'];
    assert.throws(() => decodeJsonBatch(merging, ['a', 'b', 'c']), CorruptEntryError);
    const splitting = ['1', '2,3'];
    assert.throws(() => decodeJsonBatch(splitting, ['a', 'b']), CorruptEntryError);
  });
});
