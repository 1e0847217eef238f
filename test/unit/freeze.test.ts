import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../../src/two-level/freeze';

describe('deepFreeze', () => {
  it('freezes nested objects and arrays and returns the same value', () => {
    const value = { a: [{ b: 1 }], c: { d: [2] } };
    assert.equal(deepFreeze(value), value);
    assert.ok(Object.isFrozen(value.a[0]) && Object.isFrozen(value.c.d));
  });
});
