import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../../demo/app.module';

interface DemoStats {
  databaseReads: number;
  cache: { l1: { hits: number }; negativeHits: number };
}

describe('demo application (embedded memory L2)', () => {
  let app: INestApplication;
  let base: string;

  before(async () => {
    delete process.env.REDIS_URL;
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  after(() => app.close());

  it('serves a profile from the database once, then from the cache', async () => {
    const first = await fetch(`${base}/profiles/u7`);
    const second = await fetch(`${base}/profiles/u7`);
    assert.equal(first.status, 200);
    assert.deepEqual(await second.json(), await first.json());

    const stats = (await (await fetch(`${base}/profiles`)).json()) as DemoStats;
    assert.equal(stats.databaseReads, 1);
    assert.equal(stats.cache.l1.hits, 1);
  });

  it('answers 404 for a missing profile and caches the miss', async () => {
    assert.equal((await fetch(`${base}/profiles/nobody`)).status, 404);
    assert.equal((await fetch(`${base}/profiles/nobody`)).status, 404);
    const stats = (await (await fetch(`${base}/profiles`)).json()) as DemoStats;
    assert.equal(stats.databaseReads, 2);
    assert.ok(stats.cache.negativeHits >= 1);
  });

  it('serves an updated profile after PUT', async () => {
    await fetch(`${base}/profiles/u8`);
    const put = await fetch(`${base}/profiles/u8`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nickname: 'renamed' }),
    });
    assert.equal(put.status, 200);
    const read = (await (await fetch(`${base}/profiles/u8`)).json()) as { nickname: string };
    assert.equal(read.nickname, 'renamed');
  });

  it('evicts a profile on DELETE (decorator) and then answers 404', async () => {
    await fetch(`${base}/profiles/u9`);
    assert.equal((await fetch(`${base}/profiles/u9`, { method: 'DELETE' })).status, 200);
    assert.equal((await fetch(`${base}/profiles/u9`)).status, 404);
  });

  it('binds a device, reports it online, fans out by server, and unbinds it', async () => {
    const body = { userId: 'alice', deviceId: 'phone', serverId: 'gw-1', connectionId: 'c1' };
    assert.equal((await post('/im/connect', body)).status, 201);

    const online = (await (await fetch(`${base}/im/online?users=alice,bob`)).json()) as any[];
    assert.deepEqual(
      online.map((s) => [s.userId, s.online]),
      [
        ['alice', true],
        ['bob', false],
      ],
    );
    const fanOut = (await (await fetch(`${base}/im/routes?users=alice`)).json()) as any;
    assert.ok(Array.isArray(fanOut['gw-1']) && fanOut['gw-1'].length === 1);

    await post('/im/disconnect', { userId: 'alice', deviceId: 'phone', connectionId: 'c1' });
    const after = (await (await fetch(`${base}/im/online?users=alice`)).json()) as any[];
    assert.equal(after[0].online, false);
  });

  it('moves a read cursor forward only, with 64-bit IDs as strings', async () => {
    const mark = (messageId: string) =>
      post('/im/read', { userId: 'ann', chat: 'group', conversationId: 'g1', messageId });
    await mark('9007199254740993');
    await mark('12');
    const read = await fetch(`${base}/im/read/ann?conversations=group:g1`);
    assert.match(await read.text(), /9007199254740993/);
  });

  it('refuses a second call for a busy user with 409', async () => {
    const call = { initiatorId: 'kim', participantIds: ['lee'], media: 'video' };
    assert.equal((await post('/im/calls', { ...call, sessionId: 's1' })).status, 201);
    const second = await post('/im/calls', { ...call, sessionId: 's2', initiatorId: 'max' });
    assert.equal(second.status, 409);
  });

  function post(path: string, body: unknown) {
    return fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }
});
