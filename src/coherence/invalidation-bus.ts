import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { LoggerService } from '@nestjs/common';
import { RateLimitedLog } from '../logging/rate-limited-log';
import type { BusTransport } from './bus-transport';
import type { CoherenceDisconnectMode, ResolvedCoherenceOptions } from './coherence-options';
import type { CoherenceSink } from './coherence-sink';
import {
  decodeInvalidation,
  encodeInvalidation,
  type InvalidationMessage,
} from './invalidation-message';

/** The counters of the bus, as `stats().coherence`. */
export interface CoherenceStats {
  /** This instance's id in the messages it sends. */
  instanceId: string;
  /** Whether the subscription is up, i.e. L1 is trusted. */
  connected: boolean;
  onDisconnect: CoherenceDisconnectMode;
  /** Messages sent, and the keys they named. */
  published: number;
  publishedKeys: number;
  /** Failed publish attempts (their keys are sent again later). */
  publishErrors: number;
  /** Keys given up after too many were waiting to be sent (see `maxPendingKeys`). */
  droppedKeys: number;
  /** Messages received from other instances (own and malformed ones not counted). */
  received: number;
  /** L1 copies dropped on those messages. */
  invalidatedKeys: number;
  /** Keys of a message skipped because a later write of the same origin was applied. */
  ignoredKeys: number;
  /** L1 fills refused while the bus was down or the key had just changed. */
  refusedFills: number;
  /** Times the subscription was lost after being up. */
  outages: number;
  /**
   * Times L2's Sentinel client moved to another master (or reopened its master connections
   * after losing them all), each of which emptied L1: a copy read from the old master may
   * hold a write the new one never got.
   */
  masterChanges: number;
  /** Milliseconds since the current outage began; 0 while connected. */
  downFor: number;
}

/** Something that publishes invalidations: what the write paths call. */
export interface InvalidationPublisher {
  /** Announces that `key` of `scope` changed; sent with others of the same tick. */
  publish(scope: string, key: string): void;
  /** Announces that `keys` of `scope` changed. */
  publishMany(scope: string, keys: readonly string[]): void;
  /**
   * Announces that `keys` of `scope` change with `write`, an L2 write already issued: the
   * message reaches Redis after the write (right behind it on the same connection when the
   * transport allows, else once it settled), whether it succeeds or fails.
   */
  publishAfter(scope: string, keys: string | readonly string[], write: Promise<unknown>): void;
}

/** Bounds of the bus; the defaults suit every deployment this module targets. */
export interface InvalidationBusLimits {
  /** Most keys in one message; larger batches are split. */
  maxKeysPerMessage: number;
  /** Most keys waiting to be sent while publishing fails; beyond it, keys are dropped. */
  maxPendingKeys: number;
}

const DEFAULT_LIMITS: InvalidationBusLimits = { maxKeysPerMessage: 1000, maxPendingKeys: 100_000 };
const RETRY_DELAY = 100;
const MAX_RETRY_DELAY = 2000;
/** Longest wait of `flush()`, so closing the application never hangs on the bus. */
const FLUSH_TIMEOUT = 5000;

/**
 * Keeps the L1 copies of every instance coherent: writes announce the keys they changed (one
 * message for the keys of one run of code), and messages from other instances drop the
 * local copies. While the subscription is down the registered sinks are suspended, and
 * resumed (emptied) when it is back.
 */
export class InvalidationBus implements InvalidationPublisher {
  /** This instance's id in the messages it sends; its own messages are skipped. */
  readonly instanceId: string;
  readonly #options: ResolvedCoherenceOptions;
  readonly #transport: BusTransport;
  readonly #logger: LoggerService;
  readonly #log: RateLimitedLog;
  readonly #limits: InvalidationBusLimits;
  readonly #sinks = new Map<string, CoherenceSink>();
  readonly #heartbeatChannel: string;

  #state: 'starting' | 'up' | 'down' | 'closed' = 'starting';
  #downSince = performance.now();
  #pending = new Map<string, Set<string>>();
  #pendingKeys = 0;
  #flushScheduled = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelay = RETRY_DELAY;
  #inFlight = new Set<Promise<void>>();
  #seq = 0;
  /** Writes whose announcement waits for their reply (transports not ordered with writes). */
  readonly #writesAwaited = new Set<Promise<void>>();
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #beat: { seq: number; published: boolean } | undefined;
  #beatSeq = 0;
  /** The last heartbeat sent before the current outage began. */
  #beatSeqAtDown = 0;

  readonly #counters = {
    published: 0,
    publishedKeys: 0,
    publishErrors: 0,
    droppedKeys: 0,
    received: 0,
    outages: 0,
    masterChanges: 0,
  };

  constructor(
    options: ResolvedCoherenceOptions,
    transport: BusTransport,
    logger: LoggerService,
    limits: Partial<InvalidationBusLimits> = {},
    instanceId = newInstanceId(),
  ) {
    this.instanceId = instanceId;
    this.#options = options;
    this.#transport = transport;
    this.#logger = logger;
    this.#log = new RateLimitedLog(logger);
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
    this.#heartbeatChannel = `${options.channel}:hb:${this.instanceId}`;
  }

  /** Whether the subscription is up and L1 copies are trusted. */
  get connected(): boolean {
    return this.#state === 'up';
  }

  /**
   * Puts a key space under the bus: its copies are dropped on messages naming `scope`, and
   * it is suspended at once unless the bus is already up.
   */
  register(scope: string, sink: CoherenceSink): void {
    this.#sinks.set(scope, sink);
    if (this.#state !== 'up') sink.suspend(this.#options.onDisconnect);
  }

  /**
   * Subscribes, waiting at most `timeout` ms. When that passes the module starts anyway:
   * L1 stays suspended until the subscription succeeds in the background.
   */
  async start(timeout: number): Promise<void> {
    const subscribed = this.#transport.start([this.#options.channel, this.#heartbeatChannel], {
      message: (channel, raw) => this.#onMessage(channel, raw),
      up: () => this.#onUp(),
      down: (reason) => this.#onDown(reason),
      moved: (reason) => this.#onMoved(reason),
    });
    this.#startHeartbeat();

    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, timeout, 'timeout');
    });
    const outcome = await Promise.race([subscribed, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout' && this.#state !== 'up') {
      this.#logger.warn(
        `coherence: not subscribed to "${this.#options.channel}" after ${timeout}ms; ` +
          'L1 stays suspended until the subscription succeeds',
      );
    }
  }

  publish(scope: string, key: string): void {
    this.#enqueue(scope, key);
    this.#scheduleFlush();
  }

  publishMany(scope: string, keys: readonly string[]): void {
    for (const key of keys) this.#enqueue(scope, key);
    this.#scheduleFlush();
  }

  /**
   * Announces that every key of `scope` may have changed: each instance drops all its
   * copies of the scope. Sent at once, on its own.
   */
  publishClear(scope: string): void {
    this.#send(this.#message({}, [scope]));
  }

  publishAfter(scope: string, keys: string | readonly string[], write: Promise<unknown>): void {
    const announce = () =>
      typeof keys === 'string' ? this.publish(scope, keys) : this.publishMany(scope, keys);
    if (this.#transport.orderedWithWrites) return announce();

    const settled: Promise<void> = write.then(
      () => this.#settled(settled, announce),
      () => this.#settled(settled, announce),
    );
    this.#writesAwaited.add(settled);
  }

  /**
   * Sends what is waiting now and waits for every publish in flight, and for the writes
   * whose announcement waits for their reply; at most `timeout` ms in all (each is bounded
   * by the command timeout already; this bound holds for any client).
   */
  async flush(timeout = FLUSH_TIMEOUT): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeout);
    });
    try {
      await Promise.race([this.#drain(), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #drain(): Promise<void> {
    while (this.#writesAwaited.size > 0) await Promise.allSettled([...this.#writesAwaited]);
    this.#flushNow();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Sends what is waiting, stops heartbeats and retries, and closes the subscription. Keys
   * published later (by a write still in flight) are sent while L2's connection lasts.
   */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    clearInterval(this.#heartbeatTimer);
    clearTimeout(this.#retryTimer);
    await this.flush();
    this.#state = 'closed';
    clearTimeout(this.#retryTimer);
    await this.#transport.close();
  }

  stats(): CoherenceStats {
    const sinks = [...this.#sinks.values()];
    const sum = (pick: (sink: CoherenceSink) => number) =>
      sinks.reduce((total, sink) => total + pick(sink), 0);

    return {
      instanceId: this.instanceId,
      connected: this.connected,
      onDisconnect: this.#options.onDisconnect,
      ...this.#counters,
      invalidatedKeys: sum((sink) => sink.counters.invalidated),
      ignoredKeys: sum((sink) => sink.counters.ignored),
      refusedFills: sum((sink) => sink.counters.refusedFills),
      downFor: this.connected ? 0 : Math.round(performance.now() - this.#downSince),
    };
  }

  #settled(write: Promise<void>, announce: () => void): void {
    this.#writesAwaited.delete(write);
    announce();
  }

  #enqueue(scope: string, key: string): void {
    let keys = this.#pending.get(scope);
    if (keys === undefined) {
      keys = new Set();
      this.#pending.set(scope, keys);
    }
    if (keys.has(key)) return;

    if (this.#pendingKeys >= this.#limits.maxPendingKeys) {
      this.#counters.droppedKeys++;
      return;
    }
    keys.add(key);
    this.#pendingKeys++;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#retryTimer !== undefined) return;
    this.#flushScheduled = true;
    // A microtask: every write issued (or answered) in the same run of code joins the batch,
    // and the message leaves without waiting for the rest of the event-loop turn.
    queueMicrotask(() => this.#flushNow());
  }

  /** Turns the waiting keys into messages and publishes them. */
  #flushNow(): void {
    this.#flushScheduled = false;
    if (this.#pendingKeys === 0) return;

    const batch = this.#pending;
    this.#pending = new Map();
    this.#pendingKeys = 0;
    for (const message of this.#split(batch)) this.#send(message);
  }

  #split(batch: Map<string, Set<string>>): InvalidationMessage[] {
    const messages: InvalidationMessage[] = [];
    const max = this.#limits.maxKeysPerMessage;
    let current: Record<string, string[]> = {};
    let count = 0;

    for (const [scope, keys] of batch) {
      for (const key of keys) {
        if (count === max) {
          messages.push(this.#message(current));
          current = {};
          count = 0;
        }
        (current[scope] ??= []).push(key);
        count++;
      }
    }
    if (count > 0) messages.push(this.#message(current));
    return messages;
  }

  #message(keys: Record<string, string[]>, cleared?: string[]): InvalidationMessage {
    const message: InvalidationMessage = {
      origin: this.instanceId,
      seq: ++this.#seq,
      at: Date.now(),
      keys,
    };
    if (cleared !== undefined) message.cleared = cleared;
    return message;
  }

  #send(message: InvalidationMessage): void {
    const keyCount = countKeys(message.keys);
    const encoded = encodeInvalidation(message);
    const sending = this.#transport.publish(this.#options.channel, encoded).then(
      () => {
        this.#counters.published++;
        this.#counters.publishedKeys += keyCount;
        this.#retryDelay = RETRY_DELAY;
      },
      (error: unknown) => this.#onPublishFailed(message, keyCount, error),
    );
    this.#inFlight.add(sending);
    void sending.finally(() => this.#inFlight.delete(sending));
  }

  /** Puts the keys back and retries later, with a growing delay while it keeps failing. */
  #onPublishFailed(message: InvalidationMessage, keyCount: number, error: unknown): void {
    this.#counters.publishErrors++;
    const why = error instanceof Error ? error.message : String(error);
    this.#log.warn(
      'coherence:publish',
      `coherence: could not publish ${keyCount} invalidation(s): ${why}; sent again later`,
    );
    if (this.#state === 'closed') {
      this.#counters.droppedKeys += keyCount;
      return;
    }
    for (const [scope, keys] of Object.entries(message.keys)) {
      for (const key of keys) this.#enqueue(scope, key);
    }
    if (message.cleared !== undefined) return this.#retryClear(message);
    if (this.#retryTimer !== undefined) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#flushNow();
    }, this.#retryDelay);
    this.#retryTimer.unref();
    this.#retryDelay = Math.min(this.#retryDelay * 2, MAX_RETRY_DELAY);
  }

  /** A "drop everything" message is sent again as it was, after the retry delay. */
  #retryClear(message: InvalidationMessage): void {
    const retry = setTimeout(() => {
      if (this.#state !== 'closed') this.#send(this.#message(message.keys, message.cleared));
    }, this.#retryDelay);
    retry.unref();
  }

  #onMessage(channel: string, raw: string): void {
    if (channel === this.#heartbeatChannel) return this.#onBeat(raw);

    const message = decodeInvalidation(raw);
    if (message === undefined) {
      const skipped = `coherence: skipped a malformed message on "${channel}"`;
      this.#log.warn('coherence:malformed', skipped);
      return;
    }
    if (message.origin === this.instanceId) return;

    this.#counters.received++;
    for (const scope in message.keys) {
      this.#sinks.get(scope)?.invalidate(message.keys[scope], message);
    }
    for (const scope of message.cleared ?? []) this.#sinks.get(scope)?.invalidateAll();
  }

  #onUp(): void {
    if (this.#state === 'up' || this.#state === 'closed') return;
    const wasDown = this.#state === 'down';
    const outage = Math.round(performance.now() - this.#downSince);
    this.#state = 'up';
    this.#beat = undefined;
    for (const sink of this.#sinks.values()) sink.resume();

    if (wasDown) {
      this.#logger.log(`coherence: subscription restored after ${outage}ms; L1 emptied`);
    }
  }

  #onDown(reason: string): void {
    if (this.#state !== 'up') return;
    this.#state = 'down';
    this.#downSince = performance.now();
    this.#beatSeqAtDown = this.#beatSeq;
    this.#counters.outages++;
    for (const sink of this.#sinks.values()) sink.suspend(this.#options.onDisconnect);

    const effect =
      this.#options.onDisconnect === 'bypass'
        ? 'L1 bypassed until it is back'
        : 'L1 emptied, emptied again when it is back';
    this.#logger.warn(`coherence: lost the invalidation subscription (${reason}); ${effect}`);
  }

  /**
   * L2 now reads from another master. A write that reached the old master just before it
   * was demoted is lost when it resynchronizes from the new one, yet its message went out,
   * and a copy read from the old master may hold it: no later message would drop that copy.
   * So every copy is dropped, and fills are refused for one command timeout (reads still in
   * flight may answer from the old master). The subscription's own move is an outage.
   */
  #onMoved(reason: string): void {
    if (this.#state === 'closed') return;
    this.#counters.masterChanges++;
    for (const sink of this.#sinks.values()) sink.invalidateAll();
    this.#logger.warn(`coherence: ${reason}; L1 emptied`);
  }

  /**
   * Every interval: if the previous heartbeat was published but has not come back, the
   * subscription is silently gone; reopen it. Then publish the next one. A heartbeat that
   * cannot be published says nothing about the subscription and is not held against it.
   */
  #startHeartbeat(): void {
    const interval = this.#options.heartbeat;
    if (interval === 0) return;

    this.#heartbeatTimer = setInterval(() => {
      // Checked after this turn's I/O, so a busy event loop is not taken for a lost
      // subscription: a heartbeat already in the socket is read first.
      setImmediate(() => this.#heartbeat(interval));
    }, interval);
    this.#heartbeatTimer.unref();
  }

  #heartbeat(interval: number): void {
    if (this.#state === 'closed') return;
    if (this.#beat?.published && this.#state === 'up') {
      this.#onDown(`no heartbeat back within ${interval}ms`);
      this.#transport.reopen();
    }

    const beat = { seq: ++this.#beatSeq, published: false };
    this.#beat = beat;
    this.#transport.publish(this.#heartbeatChannel, String(beat.seq)).then(
      () => (beat.published = this.#beat === beat),
      () => undefined,
    );
  }

  /**
   * A heartbeat back proves the subscription works. One sent after the bus went down ends
   * the outage (and empties L1, like any recovery): that is how a subscription the client
   * restored on its own, e.g. on another cluster node, is noticed.
   */
  #onBeat(raw: string): void {
    const seq = Number(raw);
    if (this.#beat !== undefined && seq === this.#beat.seq) this.#beat = undefined;
    if (this.#state === 'down' && seq > this.#beatSeqAtDown) this.#onUp();
  }
}

/** A random id for one instance of the bus. */
export function newInstanceId(): string {
  return randomBytes(8).toString('hex');
}

function countKeys(keys: Record<string, string[]>): number {
  let count = 0;
  for (const scope in keys) count += keys[scope].length;
  return count;
}
