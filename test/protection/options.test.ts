import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionError, type CacheModuleOptions } from '../../src';
import { resolveOptions } from '../../src/options/resolve-options';

describe('protection options', () => {
  it('has documented defaults', () => {
    const resolved = resolveOptions({});

    assert.deepEqual(resolved.lock, { lease: 10_000, wait: 5000, onTimeout: 'load' });
    assert.deepEqual(resolved.failSafe, { grace: 0, backoff: 5000 });
    assert.deepEqual(resolved.loaderTimeout, { soft: 0, hard: 0 });
    assert.deepEqual(resolved.breaker, { failures: 5, openFor: 1000 });
    assert.equal(resolved.refreshAhead, 0);
    assert.equal(resolved.existenceFilter, undefined);
  });

  it('takes durations as strings, and false to turn the lock and the breaker off', () => {
    const resolved = resolveOptions({
      lock: false,
      breaker: false,
      failSafe: { grace: '10m', backoff: '1s' },
      loaderTimeout: { soft: '100ms', hard: '2s' },
    });

    assert.equal(resolved.lock, false);
    assert.equal(resolved.breaker, false);
    assert.deepEqual(resolved.failSafe, { grace: 600_000, backoff: 1000 });
    assert.deepEqual(resolved.loaderTimeout, { soft: 100, hard: 2000 });
  });

  const bad: [string, unknown][] = [
    ['lock.onTimeout', { lock: { onTimeout: 'wait' } }],
    ['lock.lease', { lock: { lease: 0 } }],
    ['lock.wait', { lock: { wait: '5 seconds' } }],
    ['lock.retries', { lock: { retries: 3 } }],
    ['lock', { lock: 'yes' }],
    ['failSafe.grace', { failSafe: { grace: -1 } }],
    ['failSafe.ttl', { failSafe: { ttl: 1 } }],
    ['loaderTimeout.hard', { loaderTimeout: { hard: 'soon' } }],
    ['breaker.failures', { breaker: { failures: 0 } }],
    ['breaker.openFor', { breaker: { openFor: 0 } }],
    ['refreshAhead', { refreshAhead: 1 }],
    ['existenceFilter', { existenceFilter: new Set(['user:1']) }],
  ];
  for (const [option, raw] of bad) {
    it(`rejects a bad ${option} naming it`, () => {
      assert.throws(
        () => resolveOptions(raw as CacheModuleOptions),
        (error) => error instanceof InvalidOptionError && error.option === option,
      );
    });
  }
});
