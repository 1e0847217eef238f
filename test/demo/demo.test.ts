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
});
