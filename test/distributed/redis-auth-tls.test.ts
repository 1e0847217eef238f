import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DISTRIBUTED_CACHE, DistributedCacheError, InvalidOptionError } from '../../src';
import { RedisDistributedCache } from '../../src/distributed/redis/redis.distributed-cache';
import { MemoryLogger, startCache, type TestCache } from '../support/app';
import { openRawRedis } from '../support/redis-client';
import { freePort, startRedisServer, uniqueNamespace, type RedisServer } from '../support/redis';
import { settleWithin } from '../support/timing';
import { failOnUnhandledRejections } from '../support/unhandled';

failOnUnhandledRejections();

const ADMIN_PASSWORD = 'admin-pw';
const ODD_PASSWORD = 'p@ss:w/rd %';

/** Writes one key through a module on `url` and returns the key it landed under. */
async function writeThrough(url: string, extra: object = {}): Promise<string> {
  const namespace = uniqueNamespace('auth');
  const started = await startCache({
    namespace,
    distributed: { url, connectTimeout: 1000 },
    logger: new MemoryLogger(),
    ...extra,
  });
  try {
    await started.cache.set('k', { written: true });
  } finally {
    await started.close();
  }
  return `${namespace}:c:k`;
}

describe('Redis URL with user, password and database', () => {
  let server: RedisServer;
  let port: number;

  before(async () => {
    server = await startRedisServer([
      '--requirepass',
      ADMIN_PASSWORD,
      '--user',
      'alice',
      'on',
      '>secret',
      '~*',
      '&*',
      '+@all',
      '--user',
      'bob',
      'on',
      `>${ODD_PASSWORD}`,
      '~*',
      '&*',
      '+@all',
    ]);
    port = server.port;
  });

  after(() => server.stop());

  it("authenticates as the URL's user and writes to the URL's database", async () => {
    const key = await writeThrough(`redis://alice:secret@127.0.0.1:${port}/3`);

    const db3 = await openRawRedis(`redis://:${ADMIN_PASSWORD}@127.0.0.1:${port}/3`);
    const db0 = await openRawRedis(`redis://:${ADMIN_PASSWORD}@127.0.0.1:${port}/0`);
    try {
      assert.match(String(await db3.get(key)), /^\d+\|\{"written":true\}$/);
      assert.equal(await db0.get(key), null, 'nothing in database 0');
    } finally {
      await db3.close();
      await db0.close();
    }
  });

  it('runs its commands as that user', async () => {
    const started = await startCache({
      distributed: { url: `redis://alice:secret@127.0.0.1:${port}/3` },
      logger: new MemoryLogger(),
    });
    const l2 = started.app.get(DISTRIBUTED_CACHE) as RedisDistributedCache;

    assert.equal(await l2.client.aclWhoAmI(), 'alice');
    await started.close();
  });

  it('takes a password alone (the default user) and a percent-encoded password', async () => {
    const encoded = encodeURIComponent(ODD_PASSWORD);
    const keyDefault = await writeThrough(`redis://:${ADMIN_PASSWORD}@127.0.0.1:${port}/2`);
    const keyBob = await writeThrough(`redis://bob:${encoded}@127.0.0.1:${port}/2`);

    const db2 = await openRawRedis(`redis://:${ADMIN_PASSWORD}@127.0.0.1:${port}/2`);
    try {
      assert.equal(await db2.exists([keyDefault, keyBob]), 2);
    } finally {
      await db2.close();
    }
  });

  it('with a wrong password it starts, fails calls (DistributedCacheError), closes', async () => {
    const logger = new MemoryLogger();
    const started = await settleWithin(
      startCache({
        distributed: { url: `redis://alice:wrong@127.0.0.1:${port}`, connectTimeout: 300 },
        logger,
      }),
      5000,
    );
    assert.equal(started.status, 'fulfilled', String(started.reason));
    const c = started.value as TestCache;

    const call = await settleWithin(c.cache.get('k'), 2000);
    assert.ok(call.reason instanceof DistributedCacheError, String(call.reason));
    assert.ok(
      logger.lines.some((line) => line.level === 'error'),
      'the failure was logged',
    );
    assert.ok(!logger.lines.some((line) => line.message.includes('wrong')), 'no password in logs');
    assert.equal((await settleWithin(c.close(), 5000)).status, 'fulfilled');
  });
});

/** Why TLS cannot be tested here, or undefined when it can. */
function tlsUnavailable(): string | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    return 'openssl is not installed, so no test certificate can be made';
  }
  return undefined;
}

/** A private CA and a server certificate for 127.0.0.1 / localhost, signed by it. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  writeFileSync(path('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');

  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.crt'),
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    path('server.key'),
    '-out',
    path('server.csr'),
  );
  openssl(
    'x509',
    '-req',
    '-days',
    '1',
    '-in',
    path('server.csr'),
    '-CA',
    path('ca.crt'),
    '-CAkey',
    path('ca.key'),
    '-CAcreateserial',
    '-extfile',
    path('san.ext'),
    '-out',
    path('server.crt'),
  );
  return { ca: path('ca.crt'), cert: path('server.crt'), key: path('server.key') };
}

describe('rediss:// (TLS)', () => {
  let skip = tlsUnavailable();
  let dir: string | undefined;
  let server: RedisServer | undefined;
  let tlsUrl = '';
  let ca: Buffer;

  before(async () => {
    if (skip) return;
    dir = mkdtempSync(join(tmpdir(), 'im-cache-tls-'));
    const files = makeCertificates(dir);
    ca = readFileSync(files.ca);
    const tlsPort = await freePort();
    try {
      server = await startRedisServer([
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        files.cert,
        '--tls-key-file',
        files.key,
        '--tls-ca-cert-file',
        files.ca,
        '--tls-auth-clients',
        'no',
      ]);
      tlsUrl = `rediss://127.0.0.1:${tlsPort}/1`;
    } catch (error) {
      skip = `redis-server here cannot serve TLS (${(error as Error).message})`;
    }
  });

  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('connects over TLS trusting a private CA given as distributed.tls', async (t) => {
    if (skip) return t.skip(skip);
    const namespace = uniqueNamespace('tls');
    const started = await startCache({
      namespace,
      distributed: { url: tlsUrl, tls: { ca } },
      logger: new MemoryLogger(),
    });

    await started.cache.set('over-tls', 'yes');
    await started.close();

    const plain = await openRawRedis(`${server!.url}/1`);
    try {
      assert.match(String(await plain.get(`${namespace}:c:over-tls`)), /^\d+\|"yes"$/);
    } finally {
      await plain.close();
    }
  });

  it('refuses an untrusted certificate: calls fail (DistributedCacheError), no hang', async (t) => {
    if (skip) return t.skip(skip);
    const logger = new MemoryLogger();
    const started = await startCache({
      distributed: { url: tlsUrl, connectTimeout: 500 },
      logger,
    });

    const call = await settleWithin(started.cache.get('k'), 2000);
    assert.ok(call.reason instanceof DistributedCacheError, String(call.reason));
    assert.ok(
      logger.lines.some((line) => /certificate/i.test(line.message)),
      'reason logged',
    );
    await started.close();
  });

  it('rejects TLS settings with a redis:// URL, naming distributed.tls', async () => {
    await assert.rejects(
      startCache({ distributed: { url: 'redis://127.0.0.1:6379', tls: { ca: 'x' } } }),
      (error: unknown) => error instanceof InvalidOptionError && error.option === 'distributed.tls',
    );
  });
});
