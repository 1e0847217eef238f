import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DistributedCache } from '../../src';

/** A driver under test, the prefix its keys must start with, and how to clean up after it. */
export interface DistributedCacheFixture {
  cache: DistributedCache;
  /** Every key the suite uses starts with this, so a run never touches other data. */
  prefix: string;
  /** Removes what the suite wrote; called after `close()`. */
  cleanup?(): Promise<void>;
}

/** How the driver is expected to behave. */
export interface DistributedContractOptions {
  /** The driver keeps nothing (`'none'`): reads miss, writes are accepted, nothing throws. */
  storesNothing?: boolean;
}

/** Short real TTLs: every driver, Redis included, is exercised in tens of milliseconds. */
const SHORT_TTL = 40;
const PAST_SHORT_TTL = 120;
const LONG_TTL = 60_000;

/**
 * Registers the conformance tests every L2 driver passes. Drivers move opaque strings, so
 * the values here are strings in the service's own shape (`<expiresAt>|<json>`) and odd
 * ones a driver might be tempted to interpret.
 */
export function distributedCacheContract(
  label: string,
  setup: () => Promise<DistributedCacheFixture>,
  contract: DistributedContractOptions = {},
): void {
  describe(`DistributedCache contract: ${label}`, () => {
    let fixture: DistributedCacheFixture;
    const key = (name: string) => `${fixture.prefix}${name}`;
    const cache = () => fixture.cache;

    before(async () => {
      fixture = await setup();
      await fixture.cache.connect?.();
    });

    after(async () => {
      await fixture.cleanup?.();
    });

    it('has a name', () => {
      assert.equal(typeof cache().name, 'string');
      assert.notEqual(cache().name, '');
    });

    if (contract.storesNothing) registerStoresNothing(cache, key);
    else registerStoring(cache, key);

    it('closes without error', async () => {
      await cache().close?.();
    });
  });
}

type CacheRef = () => DistributedCache;
type KeyOf = (name: string) => string;

function registerStoresNothing(cache: CacheRef, key: KeyOf): void {
  it('keeps nothing and accepts every call', async () => {
    await cache().set(key('a'), '1|"x"', LONG_TTL);
    assert.equal(typeof (await cache().add(key('b'), '1|!', LONG_TTL)), 'boolean');

    assert.equal(await cache().get(key('a')), undefined);
    assert.deepEqual(await cache().getMany([key('a'), key('b'), key('c')]), [
      undefined,
      undefined,
      undefined,
    ]);
    assert.deepEqual(await cache().getMany([]), []);
    assert.equal(await cache().delete([key('a'), key('b')]), 0);
  });
}

function registerStoring(cache: CacheRef, key: KeyOf): void {
  registerReadWrite(cache, key);
  registerExpiry(cache, key);
  registerAddAndDelete(cache, key);
  registerOddInput(cache, key);
}

function registerReadWrite(cache: CacheRef, key: KeyOf): void {
  it('gets what was set and nothing for a missing key', async () => {
    await cache().set(key('rw'), '1700000060000|{"a":1}', LONG_TTL);

    assert.equal(await cache().get(key('rw')), '1700000060000|{"a":1}');
    assertAbsent(await cache().get(key('rw-missing')));
  });

  it('replaces a value on set', async () => {
    await cache().set(key('replace'), 'first', LONG_TTL);
    await cache().set(key('replace'), 'second', LONG_TTL);

    assert.equal(await cache().get(key('replace')), 'second');
  });

  it('getMany answers in the order asked, with nothing where a key is missing', async () => {
    await cache().set(key('m1'), 'one', LONG_TTL);
    await cache().set(key('m2'), 'two', LONG_TTL);

    const values = await cache().getMany([key('m2'), key('m-missing'), key('m1'), key('m2')]);

    assert.equal(values.length, 4);
    assert.equal(values[0], 'two');
    assertAbsent(values[1]);
    assert.equal(values[2], 'one');
    assert.equal(values[3], 'two');
    assert.deepEqual(await cache().getMany([]), []);
  });
}

function registerExpiry(cache: CacheRef, key: KeyOf): void {
  it('expires an entry after its TTL, and not one with a longer TTL', async () => {
    await cache().set(key('ttl-short'), 'short', SHORT_TTL);
    await cache().set(key('ttl-long'), 'long', LONG_TTL);
    assert.equal(await cache().get(key('ttl-short')), 'short');

    await sleep(PAST_SHORT_TTL);

    assertAbsent(await cache().get(key('ttl-short')));
    const [short, long] = await cache().getMany([key('ttl-short'), key('ttl-long')]);
    assertAbsent(short);
    assert.equal(long, 'long');
  });

  it('a later set gives the key its new TTL', async () => {
    await cache().set(key('ttl-renew'), 'v1', SHORT_TTL);
    await cache().set(key('ttl-renew'), 'v2', LONG_TTL);

    await sleep(PAST_SHORT_TTL);

    assert.equal(await cache().get(key('ttl-renew')), 'v2');
  });
}

function registerAddAndDelete(cache: CacheRef, key: KeyOf): void {
  it('add stores only when the key is absent', async () => {
    assert.equal(await cache().add(key('add'), 'first', LONG_TTL), true);
    assert.equal(await cache().add(key('add'), 'second', LONG_TTL), false);
    assert.equal(await cache().get(key('add')), 'first');

    await cache().set(key('add-over-set'), 'real', LONG_TTL);
    assert.equal(await cache().add(key('add-over-set'), 'negative', LONG_TTL), false);
    assert.equal(await cache().get(key('add-over-set')), 'real');
  });

  it('add stores again once the entry expired, and what it adds expires', async () => {
    await cache().set(key('add-expired'), 'old', SHORT_TTL);
    await cache().add(key('add-ttl'), 'temporary', SHORT_TTL);
    await sleep(PAST_SHORT_TTL);

    assertAbsent(await cache().get(key('add-ttl')));
    assert.equal(await cache().add(key('add-expired'), 'new', LONG_TTL), true);
    assert.equal(await cache().get(key('add-expired')), 'new');
  });

  it('delete removes keys and counts those that existed', async () => {
    await cache().set(key('d1'), 'x', LONG_TTL);
    await cache().set(key('d2'), 'y', LONG_TTL);
    await cache().set(key('d3'), 'z', LONG_TTL);

    assert.equal(await cache().delete([key('d1'), key('d2'), key('d-missing')]), 2);

    assertAbsent(await cache().get(key('d1')));
    assertAbsent(await cache().get(key('d2')));
    assert.equal(await cache().get(key('d3')), 'z');
    assert.equal(await cache().delete([key('d1')]), 0);
    assert.equal(await cache().delete([]), 0);
  });
}

function registerOddInput(cache: CacheRef, key: KeyOf): void {
  const oddKeys = [
    '用户:42',
    '*',
    '?[a-z]',
    'a b\tc',
    '{tag}x',
    '..',
    '../..',
    '🙂',
    'x'.repeat(300),
  ];
  const oddValues = [
    '',
    '1|!',
    '1|"αβγ 🙂 \\u0000"',
    ':base64:aGVsbG8=',
    '::colon',
    '{"value":"v","expires":1}',
    'line\nbreak\r\n',
  ];

  it('keeps unicode and punctuation keys apart', async () => {
    for (const [i, name] of oddKeys.entries()) await cache().set(key(name), `v${i}`, LONG_TTL);

    for (const [i, name] of oddKeys.entries()) {
      assert.equal(await cache().get(key(name)), `v${i}`, name);
    }
    const many = await cache().getMany(oddKeys.map(key));
    assert.deepEqual(
      many,
      oddKeys.map((_, i) => `v${i}`),
    );
    assert.equal(await cache().delete(oddKeys.map(key)), oddKeys.length);
  });

  it('returns stored strings byte for byte, whatever they look like', async () => {
    for (const [i, value] of oddValues.entries())
      await cache().set(key(`val${i}`), value, LONG_TTL);

    for (const [i, value] of oddValues.entries()) {
      assert.equal(await cache().get(key(`val${i}`)), value, JSON.stringify(value));
    }
  });

  it('stores and reads large values (about 1 MB)', async () => {
    const big = `1700000000000|${JSON.stringify({ blob: 'é'.repeat(500_000), n: 1 })}`;
    await cache().set(key('big'), big, LONG_TTL);

    assert.equal(await cache().get(key('big')), big);
    const [many] = await cache().getMany([key('big')]);
    assert.equal(many, big);
  });
}

/** Absent is `undefined` or `null`, whichever the driver uses. */
function assertAbsent(value: unknown): void {
  assert.ok(value === undefined || value === null, `expected nothing, got ${String(value)}`);
}
