import 'reflect-metadata';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DISTRIBUTED_CACHE, ImCacheService } from '../../src';
import { RedisDistributedCache } from '../../src/distributed/redis/redis.distributed-cache';
import { MemoryLogger, startCache } from '../support/app';
import { deleteKeys, openRawRedis, type RawRedis } from '../support/redis-client';
import { freePort, testRedisUrl, uniqueNamespace } from '../support/redis';

const FIXTURE = join(__dirname, 'fixtures', 'use-and-close.js');
/** Generous: the point is "exits by itself", not how fast. */
const EXIT_WITHIN_MS = 5000;

interface ChildOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the child's "closed" line to its exit. */
  exitAfterClose: number;
}

function runFixture(env: Record<string, string>): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let closedAt: number | undefined;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      closedAt ??= Date.now();
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const killer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not exit on its own; stdout: ${stdout} stderr: ${stderr}`));
    }, 20_000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      const exitAfterClose = closedAt === undefined ? Infinity : Date.now() - closedAt;
      resolve({ code, stdout, stderr, exitAfterClose });
    });
  });
}

let raw: RawRedis;
let url: string;
const namespaces: string[] = [];

before(async () => {
  url = await testRedisUrl();
  raw = await openRawRedis(url);
});

after(async () => {
  for (const ns of namespaces) await deleteKeys(raw, `${ns}:*`);
  await raw.close();
});

describe('CacheModule lifecycle', () => {
  it('app.close() closes the Redis connection the module opened', async () => {
    const namespace = uniqueNamespace('life');
    namespaces.push(namespace);
    const started = await startCache({
      namespace,
      distributed: { url },
      logger: new MemoryLogger(),
    });
    const l2 = started.app.get(DISTRIBUTED_CACHE) as RedisDistributedCache;
    await started.app.get(ImCacheService).set('k', 1);
    assert.equal(l2.client.isOpen, true);

    await started.close();

    assert.equal(l2.client.isOpen, false);
  });

  it('a process that used the module with Redis exits on its own after app.close()', async () => {
    const namespace = uniqueNamespace('child');
    namespaces.push(namespace);

    const outcome = await runFixture({ CACHE_URL: url, CACHE_NAMESPACE: namespace });

    assert.equal(outcome.code, 0, outcome.stderr);
    const report = JSON.parse(outcome.stdout);
    assert.deepEqual(report.read, { v: 1 });
    assert.equal(report.loaded, 'from loader');
    assert.ok(outcome.exitAfterClose < EXIT_WITHIN_MS, `exited ${outcome.exitAfterClose} ms late`);
    assert.equal(await raw.exists(`${namespace}:c:loaded`), 1, 'it really wrote to Redis');
  });

  it('so does a process whose Redis was never reachable', async () => {
    const port = await freePort();

    const outcome = await runFixture({
      CACHE_URL: `redis://127.0.0.1:${port}`,
      CACHE_NAMESPACE: uniqueNamespace('child-down'),
      CACHE_CONNECT_TIMEOUT: '200',
    });

    assert.equal(outcome.code, 0, outcome.stderr);
    const report = JSON.parse(outcome.stdout);
    assert.equal(report.error, 'E_L2_FAILURE');
    assert.equal(report.loaded, 'from loader');
    assert.ok(outcome.exitAfterClose < EXIT_WITHIN_MS, `exited ${outcome.exitAfterClose} ms late`);
  });
});
