import { performance } from 'node:perf_hooks';
import type { RedisCommands } from './redis-connection';

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
   * Puts a deadline on every command sent through `client.sendCommand`, which node-redis's
   * command methods (`get`, `set`, `eval`, ...) all go through on a standalone client.
   * `MULTI` and pipelines are queued by node-redis directly and stay unbounded.
   */
  static install(client: RedisCommands, timeout: number): ReplyDeadlines {
    const deadlines = new ReplyDeadlines(timeout);
    // node-redis hands out a thin proxy of the real client; its commands call
    // `sendCommand` on the real one (`_self`), so the bound goes there.
    const target = (client._self ?? client) as RedisCommands;
    const send = target.sendCommand as (...args: unknown[]) => Promise<unknown>;
    target.sendCommand = function sendCommandWithDeadline(this: unknown, ...args: unknown[]) {
      return deadlines.bound(send.apply(this, args));
    };
    return deadlines;
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
