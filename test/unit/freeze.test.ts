import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze, frozenJsonCopy, NOT_PLAIN } from '../../src/two-level/freeze';

const PLAIN: unknown[] = [
  0,
  -12.5,
  '',
  'text',
  true,
  null,
  [],
  {},
  [1, 'a', null, [false, { b: [] }]],
  { a: { b: { c: [1, 'x', null, { d: '' }] } }, 2: 'two', 'key with space': 0 },
  { constructor: 'not a class', toString: 'shadowed' },
];

const NOT_PLAIN_VALUES: [string, unknown][] = [
  ['a Date', { at: new Date(0) }],
  ['an undefined property', { a: undefined }],
  ['NaN', [Number.NaN]],
  ['Infinity', { n: Infinity }],
  ['negative zero', -0],
  ['a sparse array', [1, , 3]], // eslint-disable-line no-sparse-arrays
  ['a class instance', new (class Point { x = 1 })()],
  ['a __proto__ key', JSON.parse('{"__proto__": {"polluted": true}}')],
  ['a function', { f: () => 1 }],
  ['an object with toJSON', { toJSON: () => 'x' }],
  ['a Map', new Map([[1, 2]])],
];

describe('frozenJsonCopy', () => {
  for (const value of PLAIN) {
    it(`copies ${JSON.stringify(value)} as a JSON round trip would, deeply frozen`, () => {
      const copy = frozenJsonCopy(value);
      assert.deepStrictEqual(copy, JSON.parse(JSON.stringify(value)));
      if (typeof value === 'object' && value !== null) {
        assert.notEqual(copy, value);
        assert.ok(Object.isFrozen(copy));
        assert.equal(Object.isFrozen(value), false, "the caller's value stays unfrozen");
      }
    });
  }

  for (const [label, value] of NOT_PLAIN_VALUES) {
    it(`answers NOT_PLAIN for ${label}`, () => {
      assert.equal(frozenJsonCopy(value), NOT_PLAIN);
    });
  }

  it('answers NOT_PLAIN past 64 levels of nesting instead of overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    assert.equal(frozenJsonCopy(deep), NOT_PLAIN);
  });
});

describe('deepFreeze', () => {
  it('freezes nested objects and arrays and returns the same value', () => {
    const value = { a: [{ b: 1 }], c: { d: [2] } };
    assert.equal(deepFreeze(value), value);
    assert.ok(Object.isFrozen(value.a[0]) && Object.isFrozen(value.c.d));
  });
});
