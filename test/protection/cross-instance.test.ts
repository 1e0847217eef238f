import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deleteKeys, globEscape, openRawRedis, type RawRedis } from '../support/redis-client';
import { testRedisUrl, uniqueNamespace } from '../support/redis';
import { WorkerProcess } from './workers/worker-process';

const PROCESSES = 4;
const CALLERS = 250;

describe('one load across instances (real processes, real Redis)', () => {
  let redisUrl: string;
  let raw: RawRedis;
  const namespace = uniqueNamespace('xproc');
  const workers: WorkerProcess[] = [];

  before(async () => {
    redisUrl = await testRedisUrl();
    raw = await openRawRedis(redisUrl);
  });

  after(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await deleteKeys(raw, `${globEscape(namespace)}:*`);
    await raw.close();
  });

  it(`${PROCESSES} processes x ${CALLERS} callers on one cold key: one loader run`, async () => {
    const started = await Promise.all(
      Array.from({ length: PROCESSES }, () => WorkerProcess.start({ redisUrl, namespace })),
    );
    workers.push(...started);
    const counter = `${namespace}:count:stampede`;

    for (const worker of started) {
      worker.send({ cmd: 'stampede', key: 'hot', counter, callers: CALLERS, delay: 200 });
    }
    const results = await Promise.all(started.map((worker) => worker.next('done')));

    assert.equal(await raw.get(counter), '1', 'loader runs counted in Redis');
    const values = results.flatMap((result) => result.values);
    assert.equal(values.length, PROCESSES * CALLERS);
    assert.deepEqual(
      results.flatMap((result) => result.errors),
      [],
    );
    const loadedBy = new Set(values.map((value) => value.loadedBy));
    assert.equal(loadedBy.size, 1, 'every caller got the one loaded value');
    const loads = results.map((result) => result.stats.loads);
    assert.deepEqual([...loads].sort(), [0, 0, 0, 1]);
    assert.equal(await raw.exists(`${namespace}:lock:hot`), 0, 'the lock was released');
  });

  it('a lock owner that crashes mid-load delays the others by at most the lease', async () => {
    const lock = { lease: '2s', wait: '10s' };
    const owner = await WorkerProcess.start({ redisUrl, namespace, lock });
    const other = await WorkerProcess.start({ redisUrl, namespace, lock });
    workers.push(owner, other);
    const counter = `${namespace}:count:crash`;

    owner.send({ cmd: 'hang', key: 'crash', counter });
    await owner.next('loading');
    assert.equal(await raw.exists(`${namespace}:lock:crash`), 1, 'the owner holds the lock');
    other.send({ cmd: 'load', key: 'crash', counter });
    await other.next('calling');
    await owner.kill();
    const result = await other.next('done');

    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.values, [{ loadedBy: result.label }], 'the survivor loaded it');
    assert.equal(result.stats.lock.waits, 1, 'it waited for the crashed owner first');
    assert.equal(result.stats.lock.timeouts, 0, 'and took the lock when the lease ran out');
    assert.equal(await raw.get(counter), '2', 'one load each: the crashed one and the survivor');
  });
});
