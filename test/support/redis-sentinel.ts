import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openRawRedis, type RawRedis } from './redis-client';
import { onFreePort, spawnRedis, startRedisServer, terminate, type RedisServer } from './redis';

/** The master name the test Sentinel monitors. */
export const SENTINEL_MASTER_NAME = 'mymaster';

/**
 * A throwaway Sentinel deployment on 127.0.0.1: a master, one replica of it, and one
 * `redis-server --sentinel` process (quorum 1) monitoring the master as
 * {@link SENTINEL_MASTER_NAME}. Every process is a child of this test process.
 */
export interface RedisSentinel {
  readonly name: string;
  /** Sentinel URLs, as `distributed.sentinel.nodes` takes them. */
  readonly nodes: string[];
  /** The two data servers; `servers[0]` is the master the deployment starts with. */
  readonly servers: RedisServer[];
  /** The data server Sentinel reports as master now (an index into `servers`). */
  currentMaster(): Promise<number>;
  /**
   * Forces a fail-over (`SENTINEL FAILOVER`) and resolves once Sentinel reports the other
   * server as master and that server has taken the role.
   */
  failover(): Promise<number>;
  /**
   * Resolves once the replica has acknowledged every write the master took so far (`WAIT`),
   * so a fail-over loses none of them (replication is asynchronous).
   */
  replicated(): Promise<void>;
  /** Kills every process and removes the temporary directory. */
  stop(): Promise<void>;
}

/** Sentinel timings; short so that the tests see outages and fail-overs in seconds. */
export interface RedisSentinelSettings {
  /** `down-after-milliseconds`: silence before Sentinel deems the master down. */
  downAfter?: number;
  /** `failover-timeout`. */
  failoverTimeout?: number;
  /**
   * One password for the data servers and the Sentinel (`requirepass`, `masterauth`,
   * `sentinel auth-pass`); every URL of the deployment then carries it.
   */
  password?: string;
}

/**
 * Starts a master, a replica, and a Sentinel monitoring them; waits until the Sentinel knows
 * the master (up, not subjectively down) and has discovered the replica.
 */
export async function startRedisSentinel(
  settings: RedisSentinelSettings = {},
): Promise<RedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'nest-im-cache-sentinel-'));
  const servers: RedisServer[] = [];
  let sentinel: ChildProcess | undefined;
  let admin: RawRedis | undefined;
  const stop = async () => {
    await admin?.close().catch(() => undefined);
    if (sentinel) await terminate(sentinel);
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // No delay before a full sync (Redis 7 waits 5 s by default for more replicas to join).
    const common = ['--repl-diskless-sync-delay', '0', ...authArgs(settings.password)];
    servers.push(withPassword(await startRedisServer(common), settings.password));
    const master = servers[0];
    const replicaOfMaster = ['--replicaof', '127.0.0.1', String(master.port)];
    servers.push(
      withPassword(await startRedisServer([...common, ...replicaOfMaster]), settings.password),
    );
    await waitUntilInSync(servers[1]);

    const launched = await launchSentinel(dir, master.port, settings);
    sentinel = launched.child;
    const port = launched.port;
    const url = authUrl(`redis://127.0.0.1:${port}`, settings.password);
    admin = await openRawRedis(url);
    await waitUntilKnown(admin);

    const sentinelAdmin = admin;
    const currentMaster = () => masterIndex(sentinelAdmin, servers);
    return {
      name: SENTINEL_MASTER_NAME,
      nodes: [url],
      servers,
      currentMaster,
      failover: () => failover(sentinelAdmin, servers),
      replicated: async () => replicated(servers[await currentMaster()]),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function authArgs(password: string | undefined): string[] {
  return password === undefined ? [] : ['--requirepass', password, '--masterauth', password];
}

function authUrl(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const parsed = new URL(url);
  parsed.password = password;
  return parsed.toString().replace(/\/$/, '');
}

/** `server`, its `url` carrying `password`. */
function withPassword(server: RedisServer, password: string | undefined): RedisServer {
  return password === undefined ? server : { ...server, url: authUrl(server.url, password) };
}

/** Starts the Sentinel on a free port; a port taken before its bind is traded for another. */
function launchSentinel(
  dir: string,
  masterPort: number,
  settings: RedisSentinelSettings,
): Promise<{ child: ChildProcess; port: number }> {
  return onFreePort(0, (port, mayRetry) => {
    const config = writeSentinelConfig(dir, port, masterPort, settings);
    return spawnRedis(port, [config, '--sentinel'], mayRetry);
  });
}

function writeSentinelConfig(
  dir: string,
  port: number,
  masterPort: number,
  settings: RedisSentinelSettings,
): string {
  // Sentinel rewrites its config file as it learns the topology: it must be its own file.
  const config = join(dir, `sentinel-${port}.conf`);
  const name = SENTINEL_MASTER_NAME;
  writeFileSync(
    config,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
      `sentinel down-after-milliseconds ${name} ${settings.downAfter ?? 1000}`,
      `sentinel failover-timeout ${name} ${settings.failoverTimeout ?? 5000}`,
      `sentinel parallel-syncs ${name} 1`,
      ...(settings.password === undefined
        ? []
        : [`requirepass ${settings.password}`, `sentinel auth-pass ${name} ${settings.password}`]),
      '',
    ].join('\n'),
  );
  return config;
}

/** Waits until the replica finished its first sync with the master (10 s at most). */
async function waitUntilInSync(replica: RedisServer): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await linkUp(replica)) return;
    await sleep(50);
  }
  throw new Error('the test replica did not sync with its master within 10 s');
}

/** Waits until Sentinel sees the master up, with its replica (10 s at most). */
async function waitUntilKnown(admin: RawRedis): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const master = await sentinelMaster(admin);
    const flags = String(master.flags ?? '');
    if (flags === 'master' && Number(master['num-slaves']) >= 1) return;
    await sleep(50);
  }
  throw new Error('the test Sentinel did not learn the master and its replica within 10 s');
}

async function sentinelMaster(admin: RawRedis): Promise<Record<string, string>> {
  const reply = (await admin.sendCommand(['SENTINEL', 'MASTER', SENTINEL_MASTER_NAME])) as
    string[] | Record<string, string>;
  if (!Array.isArray(reply)) return reply;
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) fields[reply[i]] = reply[i + 1];
  return fields;
}

async function masterIndex(admin: RawRedis, servers: RedisServer[]): Promise<number> {
  const reply = (await admin.sendCommand([
    'SENTINEL',
    'GET-MASTER-ADDR-BY-NAME',
    SENTINEL_MASTER_NAME,
  ])) as string[];
  return servers.findIndex((server) => server.port === Number(reply[1]));
}

async function failover(admin: RawRedis, servers: RedisServer[]): Promise<number> {
  const before = await masterIndex(admin, servers);
  await admin.sendCommand(['SENTINEL', 'FAILOVER', SENTINEL_MASTER_NAME]);

  // Done when Sentinel names the other server and that server is master.
  let now = -1;
  for (let attempt = 0; attempt < 300 && now === -1; attempt++) {
    const named = await masterIndex(admin, servers);
    if (named !== before && named !== -1 && (await roleOf(servers[named])) === 'master') {
      now = named;
    } else {
      await sleep(50);
    }
  }
  if (now === -1) throw new Error('the test Sentinel did not complete a fail-over within 15 s');

  // Sentinel turns the old master into a replica only when it next polls it (up to 10 s):
  // do now what it would do then, and wait for the sync, so that no write can land on the
  // old master any more and the next fail-over has an up-to-date replica.
  await replicaOf(servers[before], servers[now]);
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await linkUp(servers[before])) return now;
    await sleep(50);
  }
  throw new Error('the old master did not sync as a replica of the new one within 10 s');
}

async function replicated(master: RedisServer): Promise<void> {
  const raw = await openRawRedis(master.url);
  try {
    // WAIT counts the replicas that acknowledged this connection's writes: write a marker
    // first, and the replication stream (in order) covers every earlier write as well.
    await raw.set('test-support:replicated', String(Date.now()));
    for (let attempt = 0; attempt < 20; attempt++) {
      if (Number(await raw.sendCommand(['WAIT', '1', '500'])) >= 1) return;
    }
    throw new Error('the test replica did not acknowledge the writes within 10 s');
  } finally {
    await raw.close();
  }
}

async function replicaOf(replica: RedisServer, master: RedisServer): Promise<void> {
  const raw = await openRawRedis(replica.url);
  try {
    await raw.sendCommand(['REPLICAOF', '127.0.0.1', String(master.port)]);
  } finally {
    await raw.close();
  }
}

/** `master` or `slave`, as `ROLE` says. */
async function roleOf(server: RedisServer): Promise<string> {
  const raw = await openRawRedis(server.url);
  try {
    const role = (await raw.sendCommand(['ROLE'])) as unknown[];
    return String(role[0]);
  } finally {
    await raw.close();
  }
}

async function linkUp(replica: RedisServer): Promise<boolean> {
  const raw = await openRawRedis(replica.url);
  try {
    return (await raw.info('replication')).includes('master_link_status:up');
  } finally {
    await raw.close();
  }
}
