import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openRawRedis, type RawRedis } from '../support/redis-client';
import { testRedisUrl, uniqueNamespace } from '../support/redis';
import { eventually, quiesce, startWorker, type Worker } from './support/workers';

/**
 * Two application instances in two processes on one Redis: what one writes, the other stops
 * serving from its L1.
 */
describe('coherence: propagation between processes', () => {
  let url: string;
  let namespace: string;
  let writer: Worker;
  let reader: Worker;
  let raw: RawRedis;

  before(async () => {
    url = await testRedisUrl();
    namespace = uniqueNamespace('coh');
    const options = { namespace, distributed: { url } };
    [writer, reader] = await Promise.all([startWorker(options), startWorker(options)]);
    raw = await openRawRedis(url);
  });

  after(async () => {
    await Promise.all([writer?.close(), reader?.close()]);
    await raw?.close();
  });

  it('both instances are subscribed, with different instance ids', async () => {
    const [w, r] = await Promise.all([writer.stats(), reader.stats()]);
    assert.equal(w.coherence?.connected, true);
    assert.equal(r.coherence?.connected, true);
    assert.notEqual(w.coherence?.instanceId, r.coherence?.instanceId);
  });

  it('a set on one instance replaces the old value held in the L1 of another', async () => {
    await writer.call('set', 'profile:1', { name: 'old' });
    await quiesce([writer, reader]);
    assert.deepEqual(await reader.call('get', 'profile:1'), { name: 'old' });
    assert.deepEqual(await reader.call('peekRaw', 'profile:1'), { name: 'old' });

    await writer.call('set', 'profile:1', { name: 'new' });

    await reader.call('waitFor', 'profile:1', { name: 'new' }, 5000);
    const stats = await reader.stats();
    assert.ok(stats.coherence!.received >= 1);
    assert.ok(stats.coherence!.invalidatedKeys >= 1);
  });

  it('a delete on one instance removes the copy held by another', async () => {
    await writer.call('set', 'profile:2', 'here');
    await quiesce([writer, reader]);
    assert.equal(await reader.call('get', 'profile:2'), 'here');
    assert.equal(await reader.call('peekRaw', 'profile:2'), 'here');

    await writer.call('delete', 'profile:2');

    await reader.call('waitFor', 'profile:2', undefined, 5000);
    assert.equal(await reader.call('peekRaw', 'profile:2'), undefined);
  });

  it('the value getOrLoad stores after a load reaches the other instances', async () => {
    // The reader writes v1 itself, so only it holds a copy.
    await reader.call('set', 'profile:3', 'v1');
    await quiesce([writer, reader]);
    // Gone from L2 behind the module's back: no message, the reader's L1 keeps v1.
    await raw.del(`${namespace}:c:profile:3`);
    await writer.call('delete', 'unrelated');
    await quiesce([writer, reader]);
    assert.equal(await reader.call('peekRaw', 'profile:3'), 'v1');

    assert.equal(await writer.call('load', 'profile:3', 'v2'), 'v2');

    await reader.call('waitFor', 'profile:3', 'v2', 5000);
  });

  it('an instance keeps its own write: it skips its own messages', async () => {
    const before = (await writer.stats()).coherence!;
    await writer.call('set', 'own', 1);
    await reader.call('waitFor', 'own', 1, 5000);
    await writer.call('set', 'own', 2);
    await reader.call('waitFor', 'own', 2, 5000);

    assert.equal(await writer.call('peekRaw', 'own'), 2);
    const stats = (await writer.stats()).coherence!;
    assert.equal(stats.received, before.received);
    assert.equal(stats.invalidatedKeys, before.invalidatedKeys);
  });

  it('many keys changed at once all propagate, in few messages', async () => {
    const keys = Array.from({ length: 500 }, (_, i) => `bulk:${i}`);
    await writer.call(
      'setMany',
      keys.map((key) => [key, 'old']),
    );
    await quiesce([writer, reader]);
    assert.deepEqual(
      await reader.call('getMany', keys),
      keys.map(() => 'old'),
    );
    const held = await reader.call<unknown[]>('peekRawMany', keys);
    assert.ok(held.every((value) => value === 'old'));

    const sentBefore = (await writer.stats()).coherence!.published;
    await writer.call(
      'setMany',
      keys.map((key) => [key, 'new']),
    );
    await writer.call('flush');

    await eventually(
      async () => (await reader.call<unknown[]>('peekRawMany', keys)).every((v) => v !== 'old'),
      5000,
      'the reader to drop 500 copies',
    );
    assert.deepEqual(
      await reader.call('getMany', keys),
      keys.map(() => 'new'),
    );
    const sent = (await writer.stats()).coherence!.published - sentBefore;
    assert.ok(sent >= 1 && sent < 50, `500 writes of one tick went out in ${sent} messages`);
  });

  it('a delete of many keys is one message', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `gone:${i}`);
    await writer.call(
      'setMany',
      keys.map((key) => [key, i(key)]),
    );
    await quiesce([writer, reader]);
    await reader.call('getMany', keys);
    const sentBefore = (await writer.stats()).coherence!.published;

    await writer.call('delete', keys);

    await eventually(
      async () => (await reader.call<unknown[]>('peekRawMany', keys)).every((v) => v === undefined),
      5000,
      'the reader to drop 300 copies',
    );
    await writer.call('flush');
    assert.equal((await writer.stats()).coherence!.published - sentBefore, 1);
  });

  it('propagates both ways', async () => {
    await reader.call('set', 'both', 'from-reader');
    await writer.call('waitFor', 'both', 'from-reader', 5000);
    await writer.call('set', 'both', 'from-writer');
    await reader.call('waitFor', 'both', 'from-writer', 5000);
  });
});

function i(key: string): number {
  return Number(key.slice(key.indexOf(':') + 1));
}
