import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryDistributedCache } from '../../src/distributed/memory.distributed-cache';
import { ReadCoalescer } from '../../src/two-level/read-coalescer';
import { failOnUnhandledRejections } from '../support/unhandled';

failOnUnhandledRejections();

/** The memory driver, recording the batches that reach it. */
class RecordingL2 extends MemoryDistributedCache {
  readonly batches: string[][] = [];

  constructor() {
    super({ maxEntries: 100 });
  }

  override get(key: string) {
    this.batches.push([key]);
    return super.get(key);
  }

  override getMany(keys: readonly string[]) {
    this.batches.push([...keys]);
    return super.getMany(keys);
  }
}

describe('ReadCoalescer', () => {
  it('sends the reads of one turn together, at most maxBatch keys per request', async () => {
    const l2 = new RecordingL2();
    await l2.set('a', 'A', 60_000);
    await l2.set('c', 'C', 60_000);
    const reads = new ReadCoalescer(l2, 2);

    const values = await Promise.all(['a', 'b', 'c', 'a', 'd'].map((key) => reads.get(key)));

    assert.deepEqual(
      values.map((value) => value ?? null),
      ['A', null, 'C', 'A', null],
    );
    assert.deepEqual(l2.batches, [['a', 'b'], ['c', 'a'], ['d']]);
  });

  it('reads of a later turn form a new batch', async () => {
    const l2 = new RecordingL2();
    const reads = new ReadCoalescer(l2, 100);
    await reads.get('x');
    await Promise.all([reads.get('y'), reads.get('z')]);
    assert.deepEqual(l2.batches, [['x'], ['y', 'z']]);
  });

  it('a driver that throws instead of rejecting fails every read of the batch', async () => {
    const broken = new RecordingL2();
    broken.getMany = () => {
      throw new Error('driver broke');
    };
    const reads = new ReadCoalescer(broken, 100);
    const outcomes = await Promise.allSettled([reads.get('a'), reads.get('b')]);
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected');
      assert.match(String(outcome.reason), /driver broke/);
    }
  });
});
