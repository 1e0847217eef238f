import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { LocalCache, LocalCacheSettings } from '../../src';
import { ManualClock } from '../support/clock';

/** Builds the driver under test from the settings the module would give it. */
export type LocalCacheFactory = (settings: LocalCacheSettings) => LocalCache;

/** How the driver is expected to behave. */
export interface LocalContractOptions {
  /**
   * The driver keeps nothing (`'none'`): every read misses, every write and delete is
   * accepted, and nothing throws.
   */
  storesNothing?: boolean;
}

const MINUTE = 60_000;

/**
 * Registers the conformance tests every L1 driver passes. Time is a {@link ManualClock}
 * given as `now`, so TTL cases move time by hand instead of sleeping.
 */
export function localCacheContract(
  label: string,
  factory: LocalCacheFactory,
  contract: LocalContractOptions = {},
): void {
  describe(`LocalCache contract: ${label}`, () => {
    let clock: ManualClock;
    const make = (overrides: Partial<LocalCacheSettings> = {}) =>
      factory({ maxEntries: 1000, maxBytes: 0, now: clock.now, ...overrides });

    beforeEach(() => {
      clock = new ManualClock();
    });

    it('has a name', () => {
      const cache = make();
      assert.equal(typeof cache.name, 'string');
      assert.notEqual(cache.name, '');
    });

    if (contract.storesNothing) {
      registerStoresNothing(() => make());
      return;
    }

    registerBasics(() => make());
    registerTtl(
      () => make(),
      () => clock,
    );
    registerBounds(make);
  });
}

function registerStoresNothing(make: () => LocalCache): void {
  it('keeps nothing and accepts every call', () => {
    const cache = make();
    cache.set('a', { v: 1 }, MINUTE, 10);

    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.getStale('a', MINUTE), undefined);
    assert.equal(cache.remainingTtl('a'), 0);
    assert.equal(cache.size, 0);

    cache.delete('a');
    cache.delete('never-set');
    cache.clear();
    assert.equal(cache.size, 0);
  });
}

function registerBasics(make: () => LocalCache): void {
  it('gets what was set, the same object, and undefined for a missing key', () => {
    const cache = make();
    const value = Object.freeze({ user: 'u1', devices: ['ios'] });
    cache.set('a', value, MINUTE, 32);

    assert.equal(cache.get('a'), value);
    assert.equal(cache.get('missing'), undefined);
    assert.equal(cache.size, 1);
  });

  it('keeps falsy values and symbols as given', () => {
    const cache = make();
    const marker = Symbol('negative');
    const values: [string, unknown][] = [
      ['zero', 0],
      ['empty', ''],
      ['false', false],
      ['null', null],
      ['symbol', marker],
    ];
    for (const [key, value] of values) cache.set(key, value, MINUTE, 1);

    for (const [key, value] of values) assert.equal(cache.get(key), value, key);
  });

  it('replaces a value on set', () => {
    const cache = make();
    cache.set('a', 'first', MINUTE, 5);
    cache.set('a', 'second', MINUTE, 6);

    assert.equal(cache.get('a'), 'second');
    assert.equal(cache.size, 1);
  });

  it('deletes one key and leaves the others', () => {
    const cache = make();
    cache.set('a', 1, MINUTE, 1);
    cache.set('b', 2, MINUTE, 1);
    cache.delete('a');
    cache.delete('never-set');

    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('b'), 2);
    assert.equal(cache.size, 1);
  });

  it('clears every entry', () => {
    const cache = make();
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, i, MINUTE, 1);
    cache.clear();

    assert.equal(cache.size, 0);
    for (let i = 0; i < 10; i++) assert.equal(cache.get(`k${i}`), undefined);
  });

  it('treats unicode and punctuation keys as distinct plain strings', () => {
    const cache = make();
    const keys = ['用户:1', 'user:1', '*', 'a:b:c', '..', ' ', '🙂'];
    keys.forEach((key, i) => cache.set(key, i, MINUTE, 1));

    keys.forEach((key, i) => assert.equal(cache.get(key), i, key));
  });
}

function registerTtl(make: () => LocalCache, clock: () => ManualClock): void {
  it('expires an entry after its own TTL', () => {
    const cache = make();
    cache.set('short', 's', 1000, 1);
    cache.set('long', 'l', 5000, 1);

    clock().advance(999);
    assert.equal(cache.get('short'), 's');

    clock().advance(2);
    assert.equal(cache.get('short'), undefined);
    assert.equal(cache.get('long'), 'l');

    clock().advance(4000);
    assert.equal(cache.get('long'), undefined);
  });

  it('reports the remaining TTL, and 0 when absent or expired', () => {
    const cache = make();
    cache.set('a', 1, 10_000, 1);
    assert.equal(cache.remainingTtl('a'), 10_000);

    clock().advance(2500);
    assert.equal(cache.remainingTtl('a'), 7500);

    clock().advance(7501);
    assert.equal(cache.remainingTtl('a'), 0);
    assert.equal(cache.remainingTtl('missing'), 0);
  });

  it('renews the TTL when a key is set again', () => {
    const cache = make();
    cache.set('a', 1, 1000, 1);
    clock().advance(900);
    cache.set('a', 2, 1000, 1);
    clock().advance(900);

    assert.equal(cache.get('a'), 2);
    assert.equal(cache.remainingTtl('a'), 100);
  });

  it('serves a stale entry within maxStaleness and not after', () => {
    const cache = make();
    cache.set('a', 'v', 1000, 1);

    assert.equal(cache.getStale('a', 5000), 'v', 'a live entry is served too');

    clock().advance(1000 + 4000);
    assert.equal(cache.get('a'), undefined, 'expired for a normal read');
    assert.equal(cache.getStale('a', 5000), 'v', 'within the staleness window');

    clock().advance(1001);
    assert.equal(cache.getStale('a', 5000), undefined, 'past the staleness window');
    assert.equal(cache.getStale('missing', 5000), undefined);
  });

  it('forgets a stale copy once the key is deleted', () => {
    const cache = make();
    cache.set('a', 'v', 1000, 1);
    clock().advance(1500);
    cache.delete('a');

    assert.equal(cache.getStale('a', MINUTE), undefined);
  });
}

function registerBounds(make: (overrides?: Partial<LocalCacheSettings>) => LocalCache): void {
  it('holds at most maxEntries, evicting the least recently used', () => {
    const cache = make({ maxEntries: 3 });
    cache.set('a', 1, MINUTE, 1);
    cache.set('b', 2, MINUTE, 1);
    cache.set('c', 3, MINUTE, 1);
    cache.get('a'); // 'b' is now the least recently used

    cache.set('d', 4, MINUTE, 1);

    assert.equal(cache.size, 3);
    assert.equal(cache.get('b'), undefined);
    assert.deepEqual(
      ['a', 'c', 'd'].map((key) => cache.get(key)),
      [1, 3, 4],
    );
  });

  it('holds at most maxBytes, evicting the least recently used', () => {
    const cache = make({ maxEntries: 100, maxBytes: 1000 });
    for (let i = 0; i < 4; i++) cache.set(`k${i}`, i, MINUTE, 250);
    cache.get('k0'); // 'k1' is now the least recently used

    cache.set('big', 'b', MINUTE, 300);

    assert.equal(cache.get('big'), 'b');
    assert.equal(cache.get('k1'), undefined);
    assert.equal(cache.get('k0'), 0);
    assert.ok(cache.size <= 4, `size ${cache.size}`);
  });

  it('does not keep an entry larger than maxBytes, and drops the old value of its key', () => {
    const cache = make({ maxEntries: 100, maxBytes: 1000 });
    cache.set('small', 's', MINUTE, 10);
    cache.set('huge', 'old', MINUTE, 10);

    cache.set('huge', 'new', MINUTE, 5000);

    assert.equal(cache.get('huge'), undefined);
    assert.equal(cache.get('small'), 's');
  });

  it('ignores sizes when maxBytes is 0', () => {
    const cache = make({ maxEntries: 10, maxBytes: 0 });
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, i, MINUTE, 10_000_000);

    assert.equal(cache.size, 10);
    assert.equal(cache.get('k0'), 0);
  });
}
