import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { coarseClock } from '../../src/local/coarse-clock';

describe('coarseClock', () => {
  it('reuses one reading within a turn of the event loop and reads again later', async () => {
    const now = coarseClock(1);
    const before = Date.now();
    const first = now();
    assert.ok(first >= before && first <= Date.now(), 'a real reading of Date.now()');

    const spin = Date.now() + 5;
    while (Date.now() < spin) {
      // Busy wait: no timer can fire, so the reading must stay the same.
    }
    assert.equal(now(), first);

    await sleep(10);
    assert.ok(now() >= first + 5, 'a fresh reading after the timer fired');
  });
});
