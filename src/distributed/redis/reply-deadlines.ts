import { performance } from 'node:perf_hooks';
import type { RedisCommands, RedisTopology } from './redis-connection';

/** A Redis command got no reply within the command timeout. */
export class ReplyTimeoutError extends Error {
  constructor(readonly timeout: number) {
    super(`no reply from Redis within ${timeout} ms`);
    this.name = 'ReplyTimeoutError';
  }
}

interface Pending {
  deadline: number;
  reject: (error: Error) => void;
  previous: Pending | undefined;
  next: Pending | undefined;
  live: boolean;
}

/**
 * Bounds the wait for Redis replies.
 *
 * node-redis's own `timeout` command option only covers the time a command waits to be
 * written: once written, a command waits for its reply for as long as the connection stays
 * open, which is forever when the server is frozen (SIGSTOP, a stalled VM, a network path
 * that drops packets without resetting). This puts a deadline on the reply itself.
 *
 * Every command shares one timeout, so deadlines expire in the order they were set: a list
 * in that order and a single timer armed for its head do the job, with no timer per command.
 * A command past its deadline is rejected for its caller; its reply, if it ever comes, is
 * still consumed by node-redis in order, so later replies are not mixed up.
 */
export class ReplyDeadlines {
  readonly #timeout: number;
  #head: Pending | undefined;
  #tail: Pending | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeout: number) {
    this.#timeout = timeout;
  }

  /** Commands waiting for a reply. */
  get size(): number {
    let count = 0;
    for (let entry = this.#head; entry !== undefined; entry = entry.next) count++;
    return count;
  }

  /** `reply`, or a {@link ReplyTimeoutError} when it has not settled within the timeout. */
  bound<T>(reply: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = this.#push(reject);
      reply.then(
        (value) => {
          this.#remove(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.#remove(entry);
          reject(error);
        },
      );
    });
  }

  /**
   * Puts a deadline on every command, script, transaction and pipeline sent through
   * `client`, whatever code sends it (the driver, the IM repositories, a user holding
   * `RedisDistributedCache.client`). One deadline covers a whole call: on Cluster that
   * includes following `MOVED`/`ASK` and connecting to the node; on Sentinel, waiting for a
   * master. Connection leases (`sentinel.use`, `sentinel.acquire`) and pub/sub are not
   * covered.
   *
   * node-redis hands out thin proxies of the real client (`_self`) whose methods all funnel
   * into a few methods of the real one, so the deadline wraps those:
   * - standalone: `sendCommand`, `_executeMulti`, `_executePipeline`;
   * - Sentinel: `_execute` (commands, `sendCommand`, `MULTI` and pipelines all go through it);
   * - Cluster: `_execute` (commands, scripts, `sendCommand`), and the `exec` and
   *   `execAsPipeline` of every `MULTI` it creates (those go to a node client directly).
   */
  static install(
    client: RedisCommands,
    timeout: number,
    topology: RedisTopology = 'standalone',
  ): ReplyDeadlines {
    const deadlines = new ReplyDeadlines(timeout);
    const target = (client._self ?? client) as RedisCommands;
    if (topology === 'standalone') {
      deadlines.#wrap(target, 'sendCommand');
      deadlines.#wrap(target, '_executeMulti');
      deadlines.#wrap(target, '_executePipeline');
    } else {
      deadlines.#wrap(target, '_execute');
      if (topology === 'cluster') deadlines.#wrapMulti(target);
    }
    return deadlines;
  }

  /** Replaces `target[method]` by the same method with its reply bounded. */
  #wrap(target: RedisCommands, method: string): void {
    const original = target[method] as (...args: unknown[]) => Promise<unknown>;
    if (typeof original !== 'function') {
      throw new TypeError(`node-redis client has no ${method}(): cannot bound its replies`);
    }
    const bound = <T>(reply: Promise<T>) => this.bound(reply);
    target[method] = function withReplyDeadline(this: unknown, ...args: unknown[]) {
      return bound(original.apply(this, args));
    };
  }

  /** Bounds `exec` and `execAsPipeline` of every `MULTI` a cluster client creates. */
  #wrapMulti(target: RedisCommands): void {
    const create = target.MULTI as (...args: unknown[]) => RedisCommands;
    const wrap = (multi: RedisCommands) => {
      const exec = multi.exec as (asPipeline?: boolean) => Promise<unknown>;
      const pipeline = multi.execAsPipeline as () => Promise<unknown>;
      multi.execAsPipeline = () => this.bound(pipeline.call(multi));
      multi.exec = multi.EXEC = (asPipeline = false) =>
        asPipeline ? multi.execAsPipeline() : this.bound(exec.call(multi, false));
      return multi;
    };
    target.MULTI = target.multi = function multiWithReplyDeadline(
      this: unknown,
      ...args: unknown[]
    ) {
      return wrap(create.apply(this, args));
    };
  }

  #push(reject: (error: Error) => void): Pending {
    const entry: Pending = {
      deadline: performance.now() + this.#timeout,
      reject,
      previous: this.#tail,
      next: undefined,
      live: true,
    };
    if (this.#tail === undefined) this.#head = entry;
    else this.#tail.next = entry;
    this.#tail = entry;

    // An armed timer fires no later than this deadline (all deadlines are in order).
    if (this.#timer === undefined) this.#arm(this.#timeout);
    return entry;
  }

  #remove(entry: Pending): void {
    if (!entry.live) return;
    entry.live = false;
    if (entry.previous === undefined) this.#head = entry.next;
    else entry.previous.next = entry.next;
    if (entry.next === undefined) this.#tail = entry.previous;
    else entry.next.previous = entry.previous;

    // Nothing left to watch: no timer either, so an idle client holds no timer.
    if (this.#head === undefined && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(this.#expire, Math.max(1, Math.ceil(delay)));
  }

  readonly #expire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    while (this.#head !== undefined && this.#head.deadline <= now) {
      const expired = this.#head;
      this.#remove(expired);
      expired.reject(new ReplyTimeoutError(this.#timeout));
    }
    if (this.#head !== undefined) this.#arm(this.#head.deadline - now);
  };
}
