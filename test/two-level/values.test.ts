import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvalidKeyError, InvalidValueError, type ImCacheService } from '../../src';
import { COMBOS, startCombo, type ComboCache } from './matrix';

const JSON_VALUES: [string, unknown][] = [
  ['zero', 0],
  ['empty string', ''],
  ['false', false],
  ['null', null],
  ['true', true],
  ['negative fraction', -12.625],
  ['largest safe integer', Number.MAX_SAFE_INTEGER],
  ['string', 'hello'],
  ['unicode', '用户 🙂 é \u0000 \u2028 "quoted" \\ |!'],
  ['empty array', []],
  ['empty object', {}],
  [
    'nested arrays',
    [
      [1, [2, [3, []]]],
      ['a', null, false, 0],
    ],
  ],
  ['nested objects', { a: { b: { c: [1, 'x', null, { d: '' }] } }, 'key with space': 0 }],
  ['entry-like string', '1700000000000|!'],
];

const INVALID_VALUES: [string, unknown][] = [
  ['undefined', undefined],
  ['a function', () => 1],
  ['a BigInt', 10n],
  ['an object holding a BigInt', { id: 2n ** 64n }],
  ['a symbol', Symbol('s')],
  ['a cycle', cyclic()],
];

const INVALID_KEYS: [string, unknown][] = [
  ['empty string', ''],
  ['number', 42],
  ['null', null],
  ['undefined', undefined],
  ['object', { key: 'a' }],
];

for (const combo of COMBOS) {
  describe(`ImCacheService values: ${combo.label}`, () => {
    let c: ComboCache;
    let cache: ImCacheService;

    before(async () => {
      c = await startCombo(combo);
      cache = c.cache;
    });

    after(() => c.close());

    it('round-trips JSON data exactly, from L1 and from L2', async () => {
      for (const [name, value] of JSON_VALUES) {
        await cache.set(`rt:${name}`, value);

        assert.deepEqual(await cache.get(`rt:${name}`), value, `${name} after set`);
        c.l1.delete(`rt:${name}`);
        assert.deepEqual(await cache.get(`rt:${name}`), value, `${name} read from L2`);
        assert.deepEqual(await cache.get(`rt:${name}`), value, `${name} read again`);
      }
    });

    it('getMany tells a stored null from a missing key', async () => {
      await cache.set('gm:null', null);
      await cache.set('gm:zero', 0);

      assert.deepEqual(await cache.getMany(['gm:null', 'gm:missing', 'gm:zero']), [
        null,
        undefined,
        0,
      ]);
    });

    for (const [name, value] of INVALID_VALUES) {
      it(`rejects storing ${name} with InvalidValueError and keeps the old value`, async () => {
        await cache.set('bad-value', 'kept');

        await assert.rejects(cache.set('bad-value', value), (error: unknown) => {
          assert.ok(error instanceof InvalidValueError, String(error));
          assert.equal(error.code, 'E_INVALID_VALUE');
          assert.equal(error.key, 'bad-value');
          return true;
        });
        assert.equal(await cache.get('bad-value'), 'kept');
      });
    }

    it('rejects a loader result that is not JSON data with InvalidValueError', async () => {
      await assert.rejects(
        cache.getOrLoad('bad-loaded', () => 5n as never),
        InvalidValueError,
      );
      await assert.rejects(cache.getOrLoad('bad-loaded', 'nope' as never), InvalidValueError);
    });

    for (const [name, key] of INVALID_KEYS) {
      it(`rejects a key that is ${name} with InvalidKeyError on every method`, async () => {
        const k = key as string;
        const calls: [string, () => Promise<unknown>][] = [
          ['get', () => cache.get(k)],
          ['set', () => cache.set(k, 1)],
          ['delete', () => cache.delete(k)],
          ['delete many', () => cache.delete(['fine', k])],
          ['getMany', () => cache.getMany(['fine', k])],
          ['getOrLoad', () => cache.getOrLoad(k, () => 1)],
        ];
        for (const [method, call] of calls) {
          await assert.rejects(call(), InvalidKeyError, method);
        }
      });
    }

    it('rejects a getMany or delete argument that is not an array of keys', async () => {
      await assert.rejects(cache.getMany('abc' as never), InvalidKeyError);
      await assert.rejects(cache.delete(42 as never), InvalidKeyError);
    });

    it('hands out values whose mutation changes nothing for the next reader', async () => {
      await cache.set('frozen', { name: 'ann', tags: ['a'], nested: { n: 1 } });

      for (const source of ['first read', 'read from L2']) {
        if (source === 'read from L2') c.l1.delete('frozen');
        const read = (await cache.get('frozen')) as any;
        if (combo.local === 'none') {
          // No L1: every read is the caller's own fresh copy, free to change.
          read.tags.push('b');
          read.nested.n = 2;
          assert.deepEqual(await cache.get('frozen'), {
            name: 'ann',
            tags: ['a'],
            nested: { n: 1 },
          });
          continue;
        }

        assert.ok(Object.isFrozen(read) && Object.isFrozen(read.tags), source);
        assert.throws(() => (read.name = 'bob'), TypeError, source);
        assert.throws(() => read.tags.push('b'), TypeError, source);
        assert.throws(() => (read.nested.n = 2), TypeError, source);
        assert.throws(() => delete read.name, TypeError, source);
        assert.deepEqual(await cache.get('frozen'), {
          name: 'ann',
          tags: ['a'],
          nested: { n: 1 },
        });
      }
    });

    it('freezes what getMany (from L1) and getOrLoad (shared by a flight) return', async () => {
      await cache.set('frozen-many', { list: [1] });
      const [fromMany] = (await cache.getMany(['frozen-many'])) as any[];
      const loaded = (await cache.getOrLoad('frozen-loaded', () => ({ list: [1] }))) as any;

      if (combo.local === 'lru') assert.throws(() => fromMany.list.push(2), TypeError);
      assert.throws(() => loaded.list.push(2), TypeError);
      assert.deepEqual(await cache.get('frozen-many'), { list: [1] });
      assert.deepEqual(await cache.get('frozen-loaded'), { list: [1] });
    });

    it("does not freeze or keep the caller's own object", async () => {
      const mine = { profile: { name: 'ann' }, tags: ['a'] };
      await cache.set('mine', mine);

      assert.equal(Object.isFrozen(mine), false);
      assert.equal(Object.isFrozen(mine.profile), false);
      mine.profile.name = 'changed';
      mine.tags.push('b');

      assert.deepEqual(await cache.get('mine'), { profile: { name: 'ann' }, tags: ['a'] });
    });
  });
}

function cyclic(): unknown {
  const node: Record<string, unknown> = { name: 'loop' };
  node.self = node;
  return node;
}
