import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionError } from '../../src';
import { toMilliseconds } from '../../src/options/duration';

describe('toMilliseconds', () => {
  it('reads numbers as milliseconds and strings with units', () => {
    assert.equal(toMilliseconds(250, 'ttl'), 250);
    assert.equal(toMilliseconds('250ms', 'ttl'), 250);
    assert.equal(toMilliseconds('30s', 'ttl'), 30_000);
    assert.equal(toMilliseconds('1.5m', 'ttl'), 90_000);
    assert.equal(toMilliseconds('2h', 'ttl'), 7_200_000);
    assert.equal(toMilliseconds('1d', 'ttl'), 86_400_000);
  });

  for (const bad of [-1, Number.NaN, Infinity, '10', '5 minutes', '', '-3s', null]) {
    it(`rejects ${String(bad)} naming the option`, () => {
      assert.throws(
        () => toMilliseconds(bad as never, 'local.ttl'),
        (error: unknown) =>
          error instanceof InvalidOptionError &&
          error.option === 'local.ttl' &&
          error.code === 'E_INVALID_OPTION',
      );
    });
  }
});
