import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionError } from '../../src/errors';
import { resolveOptions } from '../../src/options/resolve-options';
import { LoadPolicies } from '../../src/two-level/load-policy';

describe('LoadPolicies', () => {
  const module = resolveOptions({ ttl: '1m', negativeTtl: '5s', refreshAhead: 0.2 });

  it('a call without options loads with the module policy', () => {
    const policies = new LoadPolicies(module, true);
    const policy = policies.of(undefined);
    assert.equal(policy, policies.defaults);
    assert.deepEqual(
      [policy.ttl, policy.negativeTtl, policy.refreshAhead, policy.lock],
      [60_000, 5_000, 0.2, true],
    );
  });

  it('per-call options override the module, in milliseconds; the rest is inherited', () => {
    const policy = new LoadPolicies(module, true).of({ ttl: '2s', refreshAhead: 0, lock: false });
    assert.deepEqual(
      [policy.ttl, policy.negativeTtl, policy.refreshAhead, policy.lock],
      [2_000, 5_000, 0, false],
    );
  });

  it('no lock when the module has none, whatever the call asks', () => {
    assert.equal(new LoadPolicies(module, false).of({ lock: true }).lock, false);
  });

  it('a frozen options object is resolved once; a plain one on every call', () => {
    const policies = new LoadPolicies(module, true);
    const frozen = Object.freeze({ ttl: 500 });
    assert.equal(policies.of(frozen), policies.of(frozen));
    const plain = { ttl: 500 };
    const first = policies.of(plain);
    plain.ttl = 900;
    assert.equal(first.ttl, 500);
    assert.equal(policies.of(plain).ttl, 900);
  });

  it('a bad duration or fraction is an InvalidOptionError naming the option', () => {
    const policies = new LoadPolicies(module, true);
    const cases: [object, string][] = [
      [{ ttl: 0 }, 'ttl'],
      [{ negativeTtl: -1 }, 'negativeTtl'],
      [{ grace: 'soon' }, 'grace'],
      [{ loaderTimeout: { hard: Number.NaN } }, 'loaderTimeout.hard'],
      [{ refreshAhead: 1 }, 'refreshAhead'],
    ];
    for (const [options, option] of cases) {
      assert.throws(
        () => policies.of(options),
        (error: unknown) => error instanceof InvalidOptionError && error.message.includes(option),
        option,
      );
    }
  });
});
