import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startRedisServer, type RedisServer } from '../../support/redis';

const run = promisify(execFile);

/** A throwaway Redis Cluster of three masters (no replicas) on this machine. */
export interface RedisCluster {
  /** Seed URLs, as `distributed.cluster.nodes` takes them. */
  nodes: string[];
  stop(): Promise<void>;
}

/**
 * Starts three `redis-server` processes in cluster mode and joins them with
 * `redis-cli --cluster create`, waiting until every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'im-cluster-'));
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      servers.push(
        await startRedisServer([
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${i}.conf`),
          '--cluster-node-timeout',
          '2000',
          '--dir',
          dir,
        ]),
      );
    }
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
    await run('redis-cli', [
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await waitUntilOk(servers);
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    nodes: servers.map((s) => s.url),
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitUntilOk(servers: RedisServer[]): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const states = await Promise.all(
      servers.map((s) => run('redis-cli', ['-p', String(s.port), 'cluster', 'info'])),
    );
    if (states.every((state) => state.stdout.includes('cluster_state:ok'))) return;
    await sleep(100);
  }
  throw new Error('the test Redis Cluster did not reach cluster_state:ok within 10 s');
}
