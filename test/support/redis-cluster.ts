import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import { openRawRedis } from './redis-client';
import { startRedisServer, type RedisServer } from './redis';

const run = promisify(execFile);

/**
 * A throwaway Redis Cluster of three masters (no replicas) on 127.0.0.1, each master a
 * `redis-server` child of this process on a free port, its state in a temporary directory.
 */
export interface RedisCluster {
  /** Seed URLs, as `distributed.cluster.nodes` takes them; one per master. */
  readonly nodes: string[];
  readonly ports: number[];
  /** Which master (an index into `nodes`) serves the hash slot of `key`. */
  masterOf(key: string): number;
  /** Freezes master `index` (SIGSTOP): its connections stay open, nothing answers. */
  pause(index: number): void;
  resume(index: number): void;
  /**
   * Kills master `index` and resolves once it is gone; `start` brings it back on the same
   * port with the same cluster config file, so it rejoins with its slots (not its data).
   */
  kill(index: number): Promise<void>;
  start(index: number): Promise<void>;
  /** Kills every node and removes the temporary directory. */
  stop(): Promise<void>;
}

/** What a node is told on top of the throwaway-server flags of `startRedisServer`. */
export interface RedisClusterSettings {
  /**
   * `cluster-node-timeout` in ms: how long a node may stay silent before the others mark it
   * failed (and, with no replicas, the cluster stops serving). Pauses in tests stay shorter.
   */
  nodeTimeout?: number;
  /** `requirepass` of every node; the seed URLs then carry it (`redis://:password@...`). */
  password?: string;
}

/**
 * Starts three cluster-enabled `redis-server` processes, joins them with
 * `redis-cli --cluster create` and waits until every node reports `cluster_state:ok`.
 * The processes are killed by `stop()`, and by `test/support/redis.ts` when the test process
 * exits.
 */
export async function startRedisCluster(
  settings: RedisClusterSettings = {},
): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'nest-im-cache-cluster-'));
  const servers: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const started = await Promise.allSettled(
      [0, 1, 2].map(() => startRedisServer(nodeArgs(dir, settings))),
    );
    for (const outcome of started) if (outcome.status === 'fulfilled') servers.push(outcome.value);
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;

    const auth =
      settings.password === undefined ? [] : ['--no-auth-warning', '-a', settings.password];
    const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
    await run('redis-cli', [...auth, '--cluster', 'create', ...addresses, '--cluster-yes']);
    await waitUntilOk(servers, auth);
    const urls = servers.map((server) => withPassword(server.url, settings.password));
    const slots = await slotOwners(servers, urls[0]);

    return {
      nodes: urls,
      ports: servers.map((server) => server.port),
      masterOf: (key) => slots[calculateSlot(key)],
      pause: (index) => servers[index].pause(),
      resume: (index) => servers[index].resume(),
      kill: (index) => servers[index].stop(),
      start: (index) => servers[index].restart(),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function nodeArgs(dir: string, settings: RedisClusterSettings): string[] {
  // Each node names its own config file after its port, which it only learns at start:
  // `redis-server` resolves a relative path against `--dir`, so a unique name per node does.
  const name = `nodes-${Math.random().toString(36).slice(2, 10)}.conf`;
  return [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    name,
    '--cluster-node-timeout',
    String(settings.nodeTimeout ?? 5000),
    '--dir',
    dir,
    ...(settings.password === undefined
      ? []
      : ['--requirepass', settings.password, '--masterauth', settings.password]),
  ];
}

function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const parsed = new URL(url);
  parsed.password = password;
  return parsed.toString().replace(/\/$/, '');
}

/** Polls `CLUSTER INFO` on every node until all say `cluster_state:ok` (30 s at most). */
async function waitUntilOk(servers: RedisServer[], auth: string[]): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const infos = await Promise.all(
      servers.map((server) =>
        run('redis-cli', [...auth, '-p', String(server.port), 'cluster', 'info']),
      ),
    );
    if (infos.every((info) => info.stdout.includes('cluster_state:ok'))) return;
    await sleep(100);
  }
  throw new Error('the test Redis Cluster did not reach cluster_state:ok within 30 s');
}

/** For every hash slot, the index of the master serving it (read from `CLUSTER SLOTS`). */
async function slotOwners(servers: RedisServer[], url: string): Promise<number[]> {
  const raw = await openRawRedis(url);
  try {
    const owners = new Array<number>(16384).fill(-1);
    for (const range of await raw.clusterSlots()) {
      const owner = servers.findIndex((server) => server.port === range.master.port);
      owners.fill(owner, range.from, range.to + 1);
    }
    if (owners.includes(-1)) throw new Error('the test Redis Cluster left slots unassigned');
    return owners;
  } finally {
    await raw.close();
  }
}
