import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorruptEntryError } from '../../src';
import {
  decodeJsonBatch,
  decodeValue,
  encodeNegative,
  encodeValue,
  expiryOf,
  NEGATIVE,
  separatorOf,
} from '../../src/two-level/entry-codec';

describe('entry codec', () => {
  it('round-trips a value and its expiry', () => {
    const raw = encodeValue(1_700_000_000_123, '{"a":[1,"|!"]}');
    const bar = separatorOf(raw);
    assert.equal(expiryOf(raw, bar), 1_700_000_000_123);
    assert.deepEqual(decodeValue(raw, bar, 'k'), { a: [1, '|!'] });
  });

  it('tells a negative entry from a value', () => {
    const raw = encodeNegative(42);
    assert.equal(decodeValue(raw, separatorOf(raw), 'k'), NEGATIVE);
    const text = encodeValue(42, '"!"');
    assert.equal(decodeValue(text, separatorOf(text), 'k'), '!');
  });

  it('finds no separator in strings this module did not write', () => {
    for (const raw of ['', '|1', 'abc|1', '{"a":1}', '12345678901234567890|1']) {
      assert.equal(separatorOf(raw), -1, raw);
    }
  });

  it('names the key of an entry that is not JSON', () => {
    const raw = '42|{nope';
    assert.throws(
      () => decodeValue(raw, separatorOf(raw), 'profile:1'),
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
