import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionError } from '../../src';
import { resolveOptions } from '../../src/options/resolve-options';

function invalid(option: string) {
  return (error: unknown) => error instanceof InvalidOptionError && error.option === option;
}

describe('coherence options', () => {
  it('is on with Redis, off with the embedded drivers, auto with a custom one', () => {
    assert.equal(resolveOptions({ distributed: { url: 'redis://h' } }).coherence.enabled, true);
    assert.equal(resolveOptions({}).coherence.enabled, false);
    assert.equal(resolveOptions({ coherence: true }).coherence.enabled, false, 'memory');
    assert.equal(
      resolveOptions({ distributed: { driver: 'none' }, coherence: {} }).coherence.enabled,
      false,
    );
    const custom = { name: 'x', get() {}, getMany() {}, set() {}, add() {}, delete() {} } as never;
    assert.equal(resolveOptions({ distributed: { driver: custom } }).coherence.enabled, 'auto');
  });

  it('coherence: false turns it off', () => {
    const resolved = resolveOptions({ distributed: { url: 'redis://h' }, coherence: false });
    assert.equal(resolved.coherence.enabled, false);
  });

  it('has defaults: bypass, a 1 s heartbeat, a channel in the namespace', () => {
    const { coherence } = resolveOptions({ namespace: 'chat', distributed: { url: 'redis://h' } });
    assert.deepEqual(coherence, {
      enabled: true,
      onDisconnect: 'bypass',
      heartbeat: 1000,
      channel: 'chat:coherence',
    });
  });

  it('takes durations and false for the heartbeat', () => {
    const url = 'redis://h';
    const heartbeat = (value: unknown) =>
      resolveOptions({ distributed: { url }, coherence: { heartbeat: value as never } }).coherence
        .heartbeat;
    assert.equal(heartbeat('250ms'), 250);
    assert.equal(heartbeat(false), 0);
    assert.throws(() => heartbeat('5ms'), invalid('coherence.heartbeat'));
    assert.throws(() => heartbeat('soon'), invalid('coherence.heartbeat'));
  });

  it('names the option at fault', () => {
    const url = 'redis://h';
    const bad = (coherence: unknown) => () =>
      resolveOptions({ distributed: { url }, coherence: coherence as never });
    assert.throws(bad('yes'), invalid('coherence'));
    assert.throws(bad([]), invalid('coherence'));
    assert.throws(bad({ onDisconnect: 'drop' }), invalid('coherence.onDisconnect'));
    assert.throws(bad({ channel: 'has space' }), invalid('coherence.channel'));
    assert.throws(bad({ onDisconect: 'clear' }), invalid('coherence.onDisconect'));
  });

  it("refuses to be turned on over the 'keyv' driver, which has no pub/sub", () => {
    const store = new Map();
    assert.equal(
      resolveOptions({ distributed: { driver: 'keyv', store } }).coherence.enabled,
      false,
    );
    assert.throws(
      () => resolveOptions({ distributed: { driver: 'keyv', store }, coherence: true }),
      invalid('coherence'),
    );
  });
});
