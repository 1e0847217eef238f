import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@keyv/redis';
import { ReplyWatchdog } from '../../src/distributed/redis/reply-watchdog';
import type { RedisCommands } from '../../src/distributed/redis/redis-connection';
import { startRedisServer, type RedisServer } from '../support/redis';
import { eventually, settleWithin } from '../support/timing';
import { failOnUnhandledRejections } from '../support/unhandled';

failOnUnhandledRejections();

describe('ReplyWatchdog on a standalone client', () => {
  let server: RedisServer;
  let client: RedisCommands;
  let watchdog: ReplyWatchdog;

  before(async () => {
    server = await startRedisServer();
    client = createClient({
      url: server.url,
      disableOfflineQueue: true,
      commandOptions: { timeout: 150 },
      socket: { reconnectStrategy: () => 50 },
    } as any) as unknown as RedisCommands;
    client.on('error', () => undefined);
    watchdog = ReplyWatchdog.install(client, 150);
    await client.connect();
  });

  after(async () => {
    server.resume();
    await client.close?.();
    await server.stop();
  });

  it('keeps a healthy connection that is busy for longer than the timeout', async () => {
    const until = Date.now() + 400;
    let sent = 0;
    while (Date.now() < until) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => client.set(`w:${i}`, String(sent))));
      sent += 50;
    }
    assert.equal(watchdog.resets, 0);
    assert.equal(watchdog.inFlight, 0);
  });

  it('fails every call in flight on a frozen server, then reconnects when it is back', async () => {
    server.pause();
    try {
      const calls = Array.from({ length: 20 }, (_, i) => settleWithin(client.get(`w:${i}`), 2000));
      const settled = await Promise.all(calls);
      for (const outcome of settled) assert.equal(outcome.status, 'rejected');
      assert.ok(watchdog.resets >= 1);
    } finally {
      server.resume();
    }

    const back = await eventually(
      async () => (await client.ping().catch(() => '')) === 'PONG',
      5000,
    );
    assert.ok(back, 'the client reconnected');
    assert.equal((await client.get('w:0')) === null, false);
  });
});
