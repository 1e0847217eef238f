import { closeRedisConnection, type RedisCommands } from '../distributed/redis/redis-connection';

/** What a transport reports to the bus. */
export interface BusTransportEvents {
  /** A message arrived on one of the channels. */
  message(channel: string, raw: string): void;
  /** Subscribed: from now on every message published on the channels arrives. */
  up(): void;
  /** Messages may be missed from now on, until the next `up`. */
  down(reason: string): void;
  /**
   * L2's connection now talks to another server than the one it read from so far (a
   * Sentinel fail-over): copies read from the old one may hold writes the new one never got.
   */
  moved(reason: string): void;
}

/** Publish/subscribe as the invalidation bus needs it. */
export interface BusTransport {
  /**
   * Whether publishes travel on the connection L2 writes use, in order: a message published
   * after a write was issued then reaches Redis after that write, so it need not wait for
   * the write's reply.
   */
  readonly orderedWithWrites: boolean;
  /** Subscribes to `channels`; resolves at the first `up` (it may never come). */
  start(channels: readonly string[], events: BusTransportEvents): Promise<void>;
  /** Publishes on the command connection; rejects within the command timeout. */
  publish(channel: string, message: string): Promise<void>;
  /** Drops the subscriber connection and opens a new one (after a silent loss). */
  reopen(): void;
  /** Closes the subscriber connection; the command connection belongs to L2. */
  close(): Promise<void>;
}

/**
 * Redis pub/sub: subscribes on a connection of its own (a subscribed connection can run no
 * other command) and publishes on L2's command connection.
 *
 * - A single-server client (standalone): node-redis reconnects it on its own and subscribes
 *   again before it reports `ready`, so `ready` after the first subscription means "up" and
 *   every error, end or reconnect in between means "down".
 * - A cluster client: plain `SUBSCRIBE` on one node (a message published on any node reaches
 *   every node); the connection of that node is watched like a standalone client. A
 *   Sentinel client: its events do not tell readiness, but they tell when it moves to a new
 *   master, taking the subscription along: that is an outage until the subscription is
 *   confirmed on the new master. In both, a loss the events miss is noticed by the bus's
 *   heartbeat, and a failed subscription is retried.
 * - On Sentinel, L2's own client moving to a new master is reported as `moved`.
 */
export class RedisBusTransport implements BusTransport {
  readonly orderedWithWrites: boolean;
  readonly #topology: 'standalone' | 'sentinel' | 'cluster';
  /** Whether the client reports `ready` once subscribed again (a single-server client). */
  readonly #reportsReadiness: boolean;
  readonly #open: () => RedisCommands;
  readonly #publisher: RedisCommands;
  #subscriber: RedisCommands | undefined;
  #channels: readonly string[] = [];
  #events: BusTransportEvents | undefined;
  #started: (() => void) | undefined;
  #closed = false;
  /** The master L2's Sentinel client talks to (`host:port`); undefined before it has one. */
  #publisherMaster: string | undefined;

  /**
   * @param open returns a new, unconnected subscriber client (e.g. `client.duplicate()`)
   * @param publisher L2's command client
   * @param topology of the connections: only standalone clients report their readiness
   */
  constructor(
    open: () => RedisCommands,
    publisher: RedisCommands,
    topology: 'standalone' | 'sentinel' | 'cluster' = 'standalone',
  ) {
    this.#open = open;
    this.#publisher = publisher;
    this.#topology = topology;
    this.#reportsReadiness = topology === 'standalone';
    // One connection carries both the writes and the publishes only on a single server.
    this.orderedWithWrites = topology === 'standalone';
  }

  start(channels: readonly string[], events: BusTransportEvents): Promise<void> {
    this.#channels = channels;
    this.#events = events;
    const started = new Promise<void>((resolve) => (this.#started = resolve));
    if (this.#topology === 'sentinel') this.#followPublisher();
    this.#connect();
    return started;
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.#publisher.publish(channel, message);
  }

  reopen(): void {
    if (this.#closed) return;
    const old = this.#subscriber;
    this.#connect();
    if (old) void closeRedisConnection(old).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#publisher.off?.('topology-change', this.#onPublisherTopology);
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (subscriber) await closeRedisConnection(subscriber).catch(() => subscriber.destroy?.());
  }

  #connect(): void {
    const client = this.#open();
    this.#subscriber = client;
    if (!this.#reportsReadiness) return this.#connectMultiNode(client);

    this.#watch(client);
    client.connect().catch(() => undefined); // errors are reported through 'error' events
  }

  #connectMultiNode(client: RedisCommands): void {
    const current = () => client === this.#subscriber && !this.#closed;
    client.on('error', () => undefined); // node failures show as missing heartbeats
    let subscribed = false;
    if (this.#topology === 'sentinel') {
      client.on('topology-change', (event: SentinelTopologyEvent) => {
        if (subscribed && current() && event.type === 'MASTER_CHANGE') {
          this.#subscriberMoved(client, current, describeNode(event.node));
        }
      });
    }

    client
      .connect()
      .then(() => client.subscribe(this.#channels, this.#listener))
      .then(
        () => {
          if (!current()) return;
          subscribed = true;
          this.#watchNode(client.pubSubNode?.client, current);
          this.#up();
        },
        (error: unknown) => current() && this.#subscribeFailed(error, current),
      );
  }

  #subscribeFailed(error: unknown, current: () => boolean): void {
    this.#down(`subscribe failed: ${reason(error)}`);
    setTimeout(() => current() && this.reopen(), RETRY_SUBSCRIBE).unref();
  }

  /**
   * The Sentinel client moves its subscription to the new master: by the time it says so,
   * the old subscription is gone and messages published meanwhile are missed. Subscribing
   * again resolves once the subscription on the new master is in place (the channels are
   * subscribed already, so no command is sent): then the bus is up again and empties L1.
   */
  #subscriberMoved(client: RedisCommands, current: () => boolean, master: string): void {
    this.#down(`Sentinel master changed to ${master}`);
    client.subscribe(this.#channels, this.#listener).then(
      () => current() && this.#up(),
      (error: unknown) => current() && this.#subscribeFailed(error, current),
    );
  }

  /** Reports L2's Sentinel client moving to another master, not its first master. */
  #followPublisher(): void {
    const master = this.#publisher.getMasterNode?.() as SentinelNode | undefined;
    this.#publisherMaster = master === undefined ? undefined : describeNode(master);
    this.#publisher.on('topology-change', this.#onPublisherTopology);
  }

  readonly #onPublisherTopology = (event: SentinelTopologyEvent) => {
    if (event.type !== 'MASTER_CHANGE' || this.#closed) return;
    const previous = this.#publisherMaster;
    const master = describeNode(event.node);
    this.#publisherMaster = master;
    if (previous !== undefined) {
      this.#events?.moved(`Redis Sentinel master is now ${master} (was ${previous})`);
    }
  };

  /**
   * Watches the connection of the cluster node the subscription lives on: it reconnects and
   * subscribes again on its own, like a standalone client. When the cluster moves the
   * subscription to another node, the heartbeat tells the bus it works again.
   */
  #watchNode(node: RedisCommands | undefined, current: () => boolean): void {
    if (node === undefined) return;
    node.on('error', (error: unknown) => {
      if (current() && !node.isReady) this.#down(reason(error));
    });
    node.on('end', () => current() && this.#down('connection closed'));
    node.on('ready', () => current() && this.#up());
  }

  readonly #listener = (message: string, channel: string) => {
    this.#events?.message(channel, message);
  };

  #watch(client: RedisCommands): void {
    const current = () => client === this.#subscriber && !this.#closed;
    const listener = this.#listener;
    let subscribed = false;

    client.on('ready', () => {
      if (!current()) return;
      if (subscribed) return this.#up();
      client.subscribe(this.#channels, listener).then(
        () => {
          subscribed = true;
          if (current()) this.#up();
        },
        (error: unknown) => current() && this.#down(`subscribe failed: ${reason(error)}`),
      );
    });
    client.on('error', (error: unknown) => {
      if (current() && !client.isReady) this.#down(reason(error));
    });
    client.on('end', () => current() && this.#down('connection closed'));
  }

  #up(): void {
    this.#events?.up();
    this.#started?.();
    this.#started = undefined;
  }

  #down(why: string): void {
    this.#events?.down(why);
  }
}

/** Delay before a cluster or Sentinel subscription that failed is tried again. */
const RETRY_SUBSCRIBE = 1000;

/** A server as node-redis's Sentinel client names it in its events. */
interface SentinelNode {
  host: string;
  port: number;
}

/** What node-redis's Sentinel client emits as `topology-change` (the fields used here). */
interface SentinelTopologyEvent {
  type: string;
  node?: SentinelNode;
}

function describeNode(node: SentinelNode | undefined): string {
  return node === undefined ? 'an unknown server' : `${node.host}:${node.port}`;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
