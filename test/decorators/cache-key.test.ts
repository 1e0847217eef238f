import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecoratorKeyError, InvalidOptionError } from '../../src';
import { compileKey, parameterNames, type AnyFunction } from '../../src/decorators/cache-key';

const site = (fn: AnyFunction = function (this: unknown) {}) => ({
  method: 'UserService.find',
  decorator: '@Cacheable',
  fn,
});

describe('cache key templates', () => {
  it('reads parameter names from the source, skipping defaults, comments and strings', () => {
    class Sample {
      plain(userId: string, chat = 'single', ...rest: unknown[]) {
        return [userId, chat, rest];
      }
      destructured({ id }: { id: string }, [first]: string[], last: number) {
        return [id, first, last];
      }
      tricky(a = '(,)' /* b, c */, b = [1, 2], c = { d: ')' }) {
        return [a, b, c];
      }
      none() {
        return 0;
      }
    }

    assert.deepEqual(parameterNames(Sample.prototype.plain), ['userId', 'chat', 'rest']);
    assert.deepEqual(parameterNames(Sample.prototype.destructured), [undefined, undefined, 'last']);
    assert.deepEqual(parameterNames(Sample.prototype.tricky), ['a', 'b', 'c']);
    assert.deepEqual(parameterNames(Sample.prototype.none), []);
    assert.deepEqual(
      parameterNames(async (x: number, y: number) => x + y),
      ['x', 'y'],
    );
  });

  it('fills positions, parameter names and property paths', () => {
    function find(userId: string, dto: { chat: { id: number } }) {
      return [userId, dto];
    }
    const args = ['u1', { chat: { id: 42 } }];

    assert.equal(compileKey('user:{0}', site(find))(args), 'user:u1');
    assert.equal(compileKey('user:{userId}', site(find))(args), 'user:u1');
    assert.equal(compileKey('{userId}:chat:{dto.chat.id}', site(find))(args), 'u1:chat:42');
    assert.equal(compileKey('{1.chat.id}', site(find))(args), '42');
    assert.equal(compileKey('settings:global', site(find))(args), 'settings:global');
  });

  it('accepts strings, finite numbers, bigints and booleans as placeholder values', () => {
    const key = compileKey('k:{0}', site());
    assert.equal(key([7]), 'k:7');
    assert.equal(key([2n ** 64n]), 'k:18446744073709551616');
    assert.equal(key([false]), 'k:false');
  });

  for (const [label, value] of [
    ['undefined', undefined],
    ['null', null],
    ['an empty string', ''],
    ['NaN', Number.NaN],
    ['an object', { id: 1 }],
  ] as const) {
    it(`rejects ${label} at call time, naming the method and the placeholder`, () => {
      assert.throws(
        () => compileKey('user:{0}', site())([value]),
        (error) =>
          error instanceof DecoratorKeyError &&
          error.code === 'E_DECORATOR_KEY' &&
          error.method === 'UserService.find' &&
          /@Cacheable on UserService\.find/.test(error.message) &&
          /placeholder \{0\}/.test(error.message),
      );
    });
  }

  it('rejects a key function that returns an empty or non-string key', () => {
    for (const bad of ['', 42, undefined]) {
      assert.throws(
        () => compileKey(() => bad, site())([]),
        (error) => error instanceof DecoratorKeyError && error.key === bad,
      );
    }
    assert.equal(compileKey((id: string) => `user:${id}`, site())(['7']), 'user:7');
  });

  it('rejects malformed templates when compiled', () => {
    function find(id: string) {
      return id;
    }
    for (const template of ['user:{', 'user:}{0}', 'user:{a-b}', 'user:{nope}', '']) {
      assert.throws(
        () => compileKey(template, site(find)),
        (error) => error instanceof InvalidOptionError && /UserService\.find/.test(error.message),
        template,
      );
    }
    assert.throws(() => compileKey('user:{nope}', site(find)), /parameters: id/);
  });
});
