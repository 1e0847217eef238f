import { createClient, createCluster, createSentinel } from '@keyv/redis';
import type { ResolvedDistributedOptions } from '../../options/resolve-options';
import { ReplyDeadlines } from './reply-deadlines';
import { ReplyWatchdog } from './reply-watchdog';

/**
 * The node-redis commands this module uses. Standalone clients, cluster clients and sentinel
 * clients all provide them, so drivers and repositories are written once.
 */
export interface RedisCommands {
  get(key: string): Promise<string | null>;
  mGet(keys: string[]): Promise<(string | null)[]>;
  sendCommand?: unknown;
  isReady: boolean;
  isOpen: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  connect(): Promise<unknown>;
  close?(): Promise<void>;
  destroy?(): void;
  [command: string]: any;
}

/** Which kind of Redis deployment a connection talks to. */
export type RedisTopology = 'standalone' | 'cluster' | 'sentinel';

/** A connection the module opened (or was handed) and how to treat it. */
export interface RedisConnection {
  client: RedisCommands;
  topology: RedisTopology;
  /** Whether the module opened it, and so closes it on shutdown. */
  owned: boolean;
  /**
   * Whether every command sent through `client` already has a deadline on its reply
   * (`commandTimeout`); when not, callers bound their own calls with {@link ReplyDeadlines}.
   */
  repliesBounded: boolean;
}

/**
 * Delay before the next reconnection attempt: exponential from 50 ms, capped at 2 s, with
 * jitter so that many instances do not reconnect in lockstep after an outage.
 */
export function reconnectDelay(retries: number): number {
  const base = Math.min(2000, 50 * 2 ** Math.min(retries, 6));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/**
 * Opens (but does not connect) a node-redis client through `@keyv/redis`, configured so that
 * no command waits forever: a per-command timeout, no offline queue unless asked, a bounded
 * connect timeout and jittered reconnects.
 *
 * node-redis's `timeout` stops at the write: once written, a command waits for its reply as
 * long as the socket stays open. So every client the module opens bounds the wait for the
 * replies of all it sends, whoever sends it: a standalone client through a
 * {@link ReplyWatchdog} (no cost per command), Cluster and Sentinel clients, whose node
 * connections the module does not see, through {@link ReplyDeadlines}.
 */
export function createRedisConnection(options: ResolvedDistributedOptions): RedisConnection {
  if (options.client !== undefined) {
    return {
      client: options.client as RedisCommands,
      topology: guessTopology(options),
      owned: false,
      repliesBounded: false,
    };
  }

  const clientOptions = {
    disableOfflineQueue: !options.offlineQueue,
    commandOptions: { timeout: options.commandTimeout },
    socket: {
      connectTimeout: options.connectTimeout,
      reconnectStrategy: reconnectDelay,
      // CA, client certificate: node-redis reads them next to the `tls` flag of rediss://.
      ...options.tls,
    },
  };

  if (options.cluster) {
    const client = createCluster({
      rootNodes: options.cluster.nodes.map((url) => ({ url })),
      // node-redis applies a seed URL's user, password and TLS to that seed only and opens
      // the nodes it discovers with `defaults`: every node of a cluster shares them.
      defaults: withSeedAuth(options.cluster.nodes[0], clientOptions),
      commandOptions: { timeout: options.commandTimeout },
    } as any) as unknown as RedisCommands;
    ReplyDeadlines.install(client, options.commandTimeout, 'cluster');
    return { client, topology: 'cluster', owned: true, repliesBounded: true };
  }

  if (options.sentinel) {
    const client = createSentinel({
      name: options.sentinel.name,
      sentinelRootNodes: options.sentinel.nodes.map(hostAndPort),
      // The sentinels' URLs are the only place for credentials and TLS: they serve the
      // sentinels and the master alike (one password for both, as is usual).
      nodeClientOptions: withSeedAuth(options.sentinel.nodes[0], clientOptions),
      sentinelClientOptions: withSeedAuth(options.sentinel.nodes[0], {
        socket: { connectTimeout: options.connectTimeout, ...options.tls },
      }),
      commandOptions: { timeout: options.commandTimeout },
      // Without a reserved master connection, node-redis leases one per burst and calls
      // that start together while none is leased each wait for their own lease: they run
      // one round trip at a time, and a call given up on (reply deadline) runs after later
      // ones. Reserved, every call is pipelined on one connection, in order. The second
      // pooled connection keeps `use()`/`acquire()` from waiting forever on the reserved one.
      reserveClient: true,
      masterPoolSize: 2,
      // Errors of the master and sentinel connections, so that an outage is logged.
      passthroughClientErrorEvents: true,
    } as any) as unknown as RedisCommands;
    ReplyDeadlines.install(client, options.commandTimeout, 'sentinel');
    return { client, topology: 'sentinel', owned: true, repliesBounded: true };
  }

  // node-redis's timeout bounds only the wait to be written: without the offline queue a
  // command is written at once or refused, and the watchdog bounds the rest, so the cost of a
  // deadline per command is saved.
  const standaloneOptions = options.offlineQueue
    ? clientOptions
    : { ...clientOptions, commandOptions: undefined };
  const client = createClient({ url: options.url, ...standaloneOptions } as any) as RedisCommands;
  ReplyWatchdog.install(client, options.commandTimeout);
  return { client, topology: 'standalone', owned: true, repliesBounded: true };
}

/** `clientOptions` with the user, password and `rediss://` TLS of the URL `seed`. */
function withSeedAuth<T extends { socket: object }>(seed: string, clientOptions: T) {
  const url = new URL(seed);
  return {
    ...clientOptions,
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
    socket: { ...clientOptions.socket, ...(url.protocol === 'rediss:' ? { tls: true } : {}) },
  };
}

function guessTopology(options: ResolvedDistributedOptions): RedisTopology {
  if (options.cluster) return 'cluster';
  return options.sentinel ? 'sentinel' : 'standalone';
}

function hostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 26379) };
}

/** Closes a connection, ending it at once if a graceful close does not finish quickly. */
export async function closeRedisConnection(client: RedisCommands): Promise<void> {
  if (!client.isOpen) return;
  const graceful = client.close ? client.close() : client.quit();
  const timer = setTimeout(() => client.destroy?.(), 1000);
  try {
    await graceful;
  } catch {
    client.destroy?.();
  } finally {
    clearTimeout(timer);
  }
}
