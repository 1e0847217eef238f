import type { Logger } from '@nestjs/common';
import type { ResolvedDistributedOptions } from '../../options/resolve-options';
import type { DistributedCache } from '../distributed-cache.interface';
import {
  closeRedisConnection,
  createRedisConnection,
  type RedisCommands,
  type RedisConnection,
  type RedisTopology,
} from './redis-connection';
import { ReplyDeadlines } from './reply-deadlines';
import { groupBySlot } from './slots';

/**
 * `distributed.driver: 'redis'`: Redis standalone, Sentinel or Cluster through the node-redis
 * client of `@keyv/redis`, talked to directly (no Keyv envelope on the hot path).
 *
 * The connection is opened in {@link connect}; while Redis is unreachable commands fail within
 * `commandTimeout` (or at once, without the offline queue) and the client keeps reconnecting.
 */
export class RedisDistributedCache implements DistributedCache {
  readonly name = 'redis';
  readonly #connection: RedisConnection;
  readonly #options: ResolvedDistributedOptions;
  readonly #logger: Pick<Logger, 'warn' | 'error' | 'log'> | undefined;
  /** Reply deadlines of this driver's calls, when the client does not bound them itself. */
  readonly #deadlines: ReplyDeadlines | undefined;
  #down = false;
  #sentinelLoggedAt = -Infinity;
  #sentinelSkipped = 0;

  constructor(
    options: ResolvedDistributedOptions,
    logger?: Pick<Logger, 'warn' | 'error' | 'log'>,
  ) {
    this.#options = options;
    this.#logger = logger;
    this.#connection = createRedisConnection(options);
    if (!this.#connection.repliesBounded) {
      this.#deadlines = new ReplyDeadlines(options.commandTimeout);
    }
    this.#watch(this.#connection.client);
  }

  /** The node-redis client, for pipelines, Lua scripts and pub/sub. */
  get client(): RedisCommands {
    return this.#connection.client;
  }

  /**
   * `reply` (of a command sent on {@link client}), bounded by `commandTimeout` when the client
   * does not bound replies itself: a client handed in through `distributed.client`.
   */
  bound<T>(reply: Promise<T>): Promise<T> {
    return this.#bound(reply);
  }

  /** Standalone, Sentinel or Cluster. */
  get topology(): RedisTopology {
    return this.#connection.topology;
  }

  async connect(): Promise<void> {
    const client = this.#connection.client;
    if (client.isOpen) return;
    const connecting = client.connect();
    const timeout = new Promise<'timeout'>((resolve) => {
      setTimeout(resolve, this.#options.connectTimeout, 'timeout').unref();
    });
    const outcome = await Promise.race([connecting.then(() => 'ok'), timeout]).catch((e) => e);
    connecting.catch(() => undefined);
    if (outcome !== 'ok') {
      this.#logger?.error(
        `redis not reachable at start-up (${describeTarget(this.#options)}): ` +
          `${outcome === 'timeout' ? 'connect timed out' : String(outcome)}; ` +
          'starting anyway, calls fail fast until it is back',
      );
    }
  }

  get(key: string): Promise<string | null> {
    return this.#bound(this.#connection.client.get(key));
  }

  getMany(keys: readonly string[]): Promise<(string | null | undefined)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    if (this.#connection.topology !== 'cluster') {
      return this.#bound(this.#connection.client.mGet(keys as string[]));
    }
    return this.#getManyBySlot(keys);
  }

  async set(key: string, value: string, ttl: number): Promise<void> {
    const options = { expiration: { type: 'PX', value: ttl } };
    await this.#bound(this.#connection.client.set(key, value, options));
  }

  async add(key: string, value: string, ttl: number): Promise<boolean> {
    const options = { expiration: { type: 'PX', value: ttl }, condition: 'NX' };
    const reply = await this.#bound(this.#connection.client.set(key, value, options));
    return reply === 'OK';
  }

  async delete(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    if (this.#connection.topology !== 'cluster') {
      return this.#bound(this.#connection.client.unlink(keys as string[]));
    }
    const groups = groupBySlot(keys);
    const unlink = (group: number[]) =>
      this.#bound<number>(this.#connection.client.unlink(group.map((i) => keys[i])));
    const counts = await Promise.all(groups.map(unlink));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async acquireLock(key: string, token: string, lease: number): Promise<boolean> {
    return this.add(key, token, lease);
  }

  async releaseLock(key: string, token: string): Promise<boolean> {
    const released = await this.#bound(
      this.#connection.client.eval(RELEASE_LOCK, { keys: [key], arguments: [token] }),
    );
    return released === 1;
  }

  /** One key, so one script on its node: standalone, Sentinel and Cluster alike. */
  async renewLock(key: string, token: string, lease: number): Promise<boolean> {
    const renewed = await this.#bound(
      this.#connection.client.eval(RENEW_LOCK, {
        keys: [key],
        arguments: [token, String(Math.ceil(lease))],
      }),
    );
    return renewed === 1;
  }

  async close(): Promise<void> {
    if (this.#connection.owned) await closeRedisConnection(this.#connection.client);
  }

  async #getManyBySlot(keys: readonly string[]): Promise<(string | undefined)[]> {
    const result = new Array<string | undefined>(keys.length);
    await Promise.all(
      groupBySlot(keys).map(async (group) => {
        const values = await this.#bound(this.#connection.client.mGet(group.map((i) => keys[i])));
        for (let j = 0; j < group.length; j++) result[group[j]] = values[j] ?? undefined;
      }),
    );
    return result;
  }

  /** A reply, bounded by `commandTimeout` unless the client already bounds it. */
  #bound<T>(reply: Promise<T>): Promise<T> {
    return this.#deadlines === undefined ? reply : this.#deadlines.bound(reply);
  }

  /** Logs the first error of an outage and the recovery, not every reconnect attempt. */
  #watch(client: RedisCommands): void {
    client.on('error', (error: unknown) => {
      if (this.#connection.topology === 'sentinel') return this.#sentinelError(error);
      if (this.#down) return;
      this.#down = true;
      this.#logger?.warn(`redis connection error: ${describeError(error)}; reconnecting`);
    });
    client.on('ready', () => {
      if (!this.#down) return;
      this.#down = false;
      this.#logger?.log('redis connection restored');
    });
    if (this.#connection.topology === 'cluster') this.#watchClusterNodes(client);
  }

  /**
   * A cluster reports each node's connection errors apart, but the recovery of a node only
   * on its first connection: the node's own client tells when it is back.
   */
  #watchClusterNodes(client: RedisCommands): void {
    const down = new Set<string>();
    const restored = (address: string) => {
      if (down.delete(address)) this.#logger?.log(`redis cluster node ${address} restored`);
    };
    client.on('node-error', (error: unknown, node: { host: string; port: number }) => {
      const address = `${node.host}:${node.port}`;
      if (down.has(address)) return;
      down.add(address);
      this.#logger?.warn(
        `redis cluster node ${address} error: ${describeError(error)}; reconnecting`,
      );
      client.nodeByAddress?.get(address)?.client?.once('ready', () => restored(address));
    });
    client.on('node-ready', (node: { host: string; port: number }) => {
      restored(`${node.host}:${node.port}`);
    });
  }

  /**
   * Sentinel passes on its connections' errors but not their recoveries: at most one line
   * per `SENTINEL_LOG_INTERVAL`, with the count of the errors left out.
   */
  #sentinelError(error: unknown): void {
    const now = Date.now();
    if (now - this.#sentinelLoggedAt < SENTINEL_LOG_INTERVAL) {
      this.#sentinelSkipped++;
      return;
    }
    const skipped = this.#sentinelSkipped > 0 ? ` (${this.#sentinelSkipped} more since)` : '';
    this.#sentinelLoggedAt = now;
    this.#sentinelSkipped = 0;
    this.#logger?.warn(`redis sentinel error: ${describeError(error)}; reconnecting${skipped}`);
  }
}

/** Errors of Sentinel connections are logged at most this often (ms). */
const SENTINEL_LOG_INTERVAL = 10_000;

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Deletes a lock only while it still holds the caller's token. */
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** Sets a lock's expiry only while it still holds the caller's token. */
const RENEW_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

function describeTarget(options: ResolvedDistributedOptions): string {
  if (options.cluster) return `cluster ${options.cluster.nodes.map(redactUrl).join(', ')}`;
  if (options.sentinel) return `sentinel ${options.sentinel.name}`;
  return redactUrl(options.url ?? '');
}

/** A URL fit for a log line: the password replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}
