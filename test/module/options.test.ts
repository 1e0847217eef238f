import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheModule, InvalidOptionError, type CacheModuleOptions } from '../../src';
import { resolveOptions } from '../../src/options/resolve-options';
import { MemoryLogger } from '../support/app';

interface BadCase {
  name: string;
  options: unknown;
  option: string;
  /** What the message must say besides the option's name. */
  says?: RegExp;
}

const MINIMAL_L2 = {
  name: 'partial',
  get: async () => null,
  getMany: async () => [],
  set: async () => undefined,
};

const CASES: BadCase[] = [
  {
    name: 'an unknown local driver',
    options: { local: { driver: 'redis' } },
    option: 'local.driver',
    says: /unknown driver "redis".*'lru', 'none'/,
  },
  {
    name: 'an unknown distributed driver',
    options: { distributed: { driver: 'mongo' } },
    option: 'distributed.driver',
    says: /unknown driver "mongo".*'redis', 'memory', 'keyv', 'none'/,
  },
  { name: 'a negative ttl', options: { ttl: -1 }, option: 'ttl', says: />= 0/ },
  { name: 'a NaN ttl', options: { ttl: Number.NaN }, option: 'ttl' },
  { name: "a '10 minutes' ttl", options: { ttl: '10 minutes' }, option: 'ttl', says: /'30s'/ },
  { name: 'a ttl of 0', options: { ttl: 0 }, option: 'ttl', says: /greater than 0/ },
  { name: 'a bare-number string ttl', options: { ttl: '10' }, option: 'ttl' },
  { name: 'a boolean ttl', options: { ttl: true }, option: 'ttl' },
  { name: 'a negative local.ttl', options: { local: { ttl: -5 } }, option: 'local.ttl' },
  { name: 'a bad negativeTtl', options: { negativeTtl: 'soon' }, option: 'negativeTtl' },
  {
    name: 'a negative commandTimeout',
    options: { distributed: { commandTimeout: -1 } },
    option: 'distributed.commandTimeout',
  },
  {
    name: 'a batchSize of 0',
    options: { distributed: { batchSize: 0 } },
    option: 'distributed.batchSize',
    says: />= 1/,
  },
  {
    name: "a coalesceReads of 'yes'",
    options: { distributed: { coalesceReads: 'yes' } },
    option: 'distributed.coalesceReads',
    says: /true or false/,
  },
  {
    name: 'a fractional batchSize',
    options: { distributed: { batchSize: 2.5 } },
    option: 'distributed.batchSize',
  },
  {
    name: 'an http:// Redis URL',
    options: { distributed: { url: 'http://127.0.0.1:6379' } },
    option: 'distributed.url',
    says: /redis\[s\]:\/\//,
  },
  {
    name: 'a Redis URL without a host',
    options: { distributed: { url: 'redis://' } },
    option: 'distributed.url',
    says: /host/,
  },
  {
    name: 'a Redis URL with a non-numeric database',
    options: { distributed: { url: 'redis://127.0.0.1:6379/abc' } },
    option: 'distributed.url',
    says: /database/,
  },
  {
    name: 'a Redis URL that is not a URL',
    options: { distributed: { url: 'localhost:6379' } },
    option: 'distributed.url',
  },
  {
    name: 'a bad cluster node URL',
    options: { distributed: { cluster: { nodes: ['redis://a:1', 'http://b:2'] } } },
    option: 'distributed.cluster.nodes[1]',
  },
  {
    name: 'maxEntries 0',
    options: { local: { maxEntries: 0 } },
    option: 'local.maxEntries',
    says: />= 1/,
  },
  {
    name: 'a fractional maxEntries',
    options: { local: { maxEntries: 1.5 } },
    option: 'local.maxEntries',
  },
  { name: 'a negative maxBytes', options: { local: { maxBytes: -1 } }, option: 'local.maxBytes' },
  { name: 'jitter 1.5', options: { jitter: 1.5 }, option: 'jitter', says: /fraction/ },
  { name: 'a negative jitter', options: { jitter: -0.1 }, option: 'jitter' },
  {
    name: 'an unknown top-level option',
    options: { tll: '5m' },
    option: 'tll',
    says: /unknown option; valid ones are .*namespace.*ttl/,
  },
  { name: 'an unknown local option', options: { local: { maxSize: 10 } }, option: 'local.maxSize' },
  { name: 'a namespace with a colon', options: { namespace: 'a:b' }, option: 'namespace' },
  { name: 'an empty namespace', options: { namespace: '' }, option: 'namespace' },
  {
    name: "'keyv' without a store",
    options: { distributed: { driver: 'keyv' } },
    option: 'distributed.store',
  },
  {
    name: 'a custom L2 instance missing add and delete',
    options: { distributed: { driver: MINIMAL_L2 } },
    option: 'distributed.driver',
    says: /add, delete/,
  },
  {
    name: 'a custom L1 instance missing methods',
    options: { local: { driver: { name: 'x', get: () => undefined } } },
    option: 'local.driver',
    says: /missing .*set/,
  },
  { name: 'a now that is not a function', options: { now: 5 }, option: 'now' },
];

function isInvalidOption(option: string, says?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof InvalidOptionError, `not an InvalidOptionError: ${String(error)}`);
    assert.equal(error.code, 'E_INVALID_OPTION');
    assert.equal(error.option, option);
    assert.ok(error.message.includes(`"${option}"`), error.message);
    if (says) assert.match(error.message, says);
    return true;
  };
}

async function start(module: unknown): Promise<void> {
  const moduleRef = await Test.createTestingModule({ imports: [module as never] })
    .setLogger(new MemoryLogger())
    .compile();
  await moduleRef.close();
}

describe('CacheModule option validation at start-up', () => {
  for (const bad of CASES) {
    it(`forRoot fails on ${bad.name}, naming ${bad.option}`, async () => {
      await assert.rejects(
        start(CacheModule.forRoot(bad.options as CacheModuleOptions)),
        isInvalidOption(bad.option, bad.says),
      );
    });
  }

  it('forRootAsync fails the same way when its factory returns a bad option', async () => {
    await assert.rejects(
      start(CacheModule.forRootAsync({ useFactory: async () => ({ jitter: 1.5 }) })),
      isInvalidOption('jitter'),
    );
  });

  it('accepts every documented duration form and the database in a URL', async () => {
    await start(
      CacheModule.forRoot({
        ttl: '1.5m',
        negativeTtl: 250,
        local: { ttl: '30s', maxEntries: 1, maxBytes: 0 },
        distributed: { driver: 'memory', url: 'redis://user:pw@127.0.0.1:6379/3' },
        jitter: 0,
        logger: new MemoryLogger(),
      }),
    );
  });

  it('coalesces single-key reads by default on Redis, but not on Cluster or other drivers', () => {
    const coalesces = (distributed: CacheModuleOptions['distributed']) =>
      resolveOptions({ distributed }).distributed.coalesceReads;
    assert.equal(coalesces({ url: 'redis://127.0.0.1:6379' }), true);
    assert.equal(coalesces({ sentinel: { name: 'm', nodes: ['redis://127.0.0.1:26379'] } }), true);
    assert.equal(coalesces({ cluster: { nodes: ['redis://127.0.0.1:7000'] } }), false);
    assert.equal(coalesces({ driver: 'memory' }), false);
    assert.equal(
      coalesces({ cluster: { nodes: ['redis://127.0.0.1:7000'] }, coalesceReads: true }),
      true,
    );
  });
});
