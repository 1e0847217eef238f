import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ImDemoController } from '../../demo/im.controller';
import { CacheModule } from '../../src';

@Module({
  imports: [CacheModule.forRoot({ distributed: { driver: 'memory' } })],
  controllers: [ImDemoController],
})
class ImDemoModule {}

describe('ImDemoController over HTTP (embedded memory L2)', () => {
  let app: INestApplication;
  let base: string;
  const send = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  before(async () => {
    app = await NestFactory.create(ImDemoModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  after(() => app.close());

  it('connects, reports presence and fan-out, heartbeats and disconnects', async () => {
    const first = await send('POST', '/im/connect', {
      userId: 'ann',
      deviceId: 'phone',
      serverId: 'gw-1',
      connectionId: 'c1',
    });
    assert.equal(first.status, 201);
    assert.equal(first.body.replaced, null);
    const second = await send('POST', '/im/connect', {
      userId: 'ann',
      deviceId: 'phone',
      serverId: 'gw-2',
    });
    assert.equal(second.body.replaced.connectionId, 'c1');

    const online = await send('GET', '/im/online?users=ann,bob');
    assert.deepEqual(
      online.body.map((s: { online: boolean }) => s.online),
      [true, false],
    );
    const routes = await send('GET', '/im/routes?users=ann,bob');
    assert.deepEqual(Object.keys(routes.body), ['gw-2']);

    const stale = { userId: 'ann', deviceId: 'phone', connectionId: 'c1' };
    const beat = await send('POST', '/im/heartbeat', { routes: [second.body.route, stale] });
    assert.deepEqual(beat.body.gone, [stale]);

    const status = await send('PUT', '/im/status', { userId: 'ann', status: 'invisible' });
    assert.equal(status.body.status, 'invisible');
    assert.equal((await send('GET', '/im/online?users=ann')).body[0].online, false);

    assert.deepEqual((await send('POST', '/im/disconnect', stale)).body, { removed: false });
    const { connectionId } = second.body.route;
    assert.deepEqual((await send('POST', '/im/disconnect', { ...stale, connectionId })).body, {
      removed: true,
    });
  });

  it('marks read with exact 64-bit IDs and answers 400 for a bad one', async () => {
    const read = {
      userId: 'ann',
      chat: 'group',
      conversationId: 'g1',
      messageId: '9007199254740993',
    };
    assert.deepEqual((await send('POST', '/im/read', read)).body, { cursor: '9007199254740993' });
    assert.deepEqual((await send('POST', '/im/read', { ...read, messageId: '5' })).body, {
      cursor: '9007199254740993',
    });
    const cursors = await send('GET', '/im/read/ann?conversations=group:g1,single:bob');
    assert.deepEqual(
      cursors.body.map((c: { cursor: string | null }) => c.cursor),
      ['9007199254740993', null],
    );

    const bad = await send('POST', '/im/read', { ...read, messageId: '-1' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'E_INVALID_MESSAGE_ID');
  });

  it('starts a call, refuses a busy user with 409, and ends it', async () => {
    const call = await send('POST', '/im/calls', {
      sessionId: 'call-1',
      initiatorId: 'ann',
      participantIds: ['bob'],
      media: 'video',
    });
    assert.equal(call.status, 201);
    const busy = await send('POST', '/im/calls', {
      initiatorId: 'cid',
      participantIds: ['bob'],
      media: 'audio',
    });
    assert.equal(busy.status, 409);
    assert.deepEqual(busy.body.busy, [{ userId: 'bob', sessionId: 'call-1' }]);

    assert.equal(
      (await send('POST', '/im/calls/call-1/join', { userId: 'bob' })).body.participants[1].state,
      'joined',
    );
    assert.equal((await send('POST', '/im/calls/call-1/keepalive')).status, 200);
    assert.equal((await send('POST', '/im/calls/call-1/end')).body.ended.sessionId, 'call-1');
    assert.equal((await send('GET', '/im/calls/call-1')).status, 404);
  });
});
