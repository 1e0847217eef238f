import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CircuitOpenError, DistributedCacheError } from '../../src';
import { MemoryLogger, startCache, type TestCache } from '../support/app';
import { ManualClock } from '../support/clock';
import { FaultyL2 } from './support';

function isOpenCircuit(error: unknown): boolean {
  return error instanceof DistributedCacheError && error.cause instanceof CircuitOpenError;
}

describe('L2 circuit breaker', () => {
  let clock: ManualClock;
  let l2: FaultyL2;
  let logger: MemoryLogger;
  let c: TestCache;

  beforeEach(async () => {
    clock = new ManualClock();
    l2 = new FaultyL2(clock.now);
    logger = new MemoryLogger();
    c = await startCache({
      now: clock.now,
      logger,
      local: { driver: 'none' },
      distributed: { driver: l2 },
      breaker: { failures: 3, openFor: 1000 },
    });
  });

  afterEach(() => c.close());

  const fail = async (times: number) => {
    for (let i = 0; i < times; i++) await c.cache.get(`k${i}`).catch(() => undefined);
  };
  const linesLike = (pattern: RegExp) => logger.lines.filter((l) => pattern.test(l.message));

  it('opens after consecutive failures, then skips L2 with a typed error', async () => {
    l2.failing = true;
    await fail(3);
    assert.equal(l2.calls, 3);

    await assert.rejects(c.cache.get('skipped'), isOpenCircuit);
    assert.equal(l2.calls, 3, 'L2 not called while open');
    const stats = c.cache.stats();
    assert.deepEqual(stats.breaker, { state: 'open', opened: 1, halfOpened: 0, closed: 0 });
    assert.equal(stats.l2.skipped, 1);
    assert.equal(stats.l2.errors, 3);
    assert.equal(linesLike(/breaker open after 3 consecutive failures/).length, 1);
  });

  it('does not open on failures that are not consecutive', async () => {
    l2.failing = true;
    await fail(2);
    l2.failing = false;
    await c.cache.get('ok');
    l2.failing = true;
    await fail(2);

    assert.equal(c.cache.stats().breaker.state, 'closed');
  });

  it('keeps loads working while open, without touching L2', async () => {
    l2.failing = true;
    await fail(3);
    const calls = l2.calls;

    assert.equal(await c.cache.getOrLoad('user:1', () => 'loaded'), 'loaded');
    assert.equal(l2.calls, calls);
  });

  it('lets one probe through after openFor; its success closes the breaker', async () => {
    l2.failing = true;
    await fail(3);
    l2.failing = false;

    clock.advance(999);
    await assert.rejects(c.cache.get('still-open'), isOpenCircuit);
    clock.advance(1);
    assert.equal(await c.cache.get('probe'), undefined);

    assert.deepEqual(c.cache.stats().breaker, {
      state: 'closed',
      opened: 1,
      halfOpened: 1,
      closed: 1,
    });
    assert.equal(linesLike(/breaker closed/).length, 1);
    assert.equal(linesLike(/half-open/).length, 1);
  });

  it('opens again when the probe fails', async () => {
    l2.failing = true;
    await fail(3);
    clock.advance(1000);
    await fail(1);

    assert.deepEqual(c.cache.stats().breaker, {
      state: 'open',
      opened: 2,
      halfOpened: 1,
      closed: 0,
    });
    await assert.rejects(c.cache.get('after-probe'), isOpenCircuit);
    assert.equal(linesLike(/breaker open after/).length, 1, 'the outage is warned about once');
  });

  it('closes at once when a write succeeds', async () => {
    l2.failing = true;
    await fail(3);
    l2.failing = false;

    await c.cache.set('written', 1);

    assert.equal(c.cache.stats().breaker.state, 'closed');
    assert.equal(await c.cache.get('written'), 1);
  });

  it('can be turned off', async () => {
    const unguarded = await startCache({
      now: clock.now,
      logger: new MemoryLogger(),
      distributed: { driver: l2 },
      breaker: false,
    });
    l2.failing = true;
    for (let i = 0; i < 10; i++) await unguarded.cache.get(`k${i}`).catch(() => undefined);

    assert.equal(l2.calls, 10);
    assert.equal(unguarded.cache.stats().breaker.state, 'closed');
    await unguarded.close();
  });
});
