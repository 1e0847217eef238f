import { performance } from 'node:perf_hooks';
import type { RedisCommands } from './redis-connection';

/**
 * Bounds the wait for replies on a standalone connection at no cost per command beyond a
 * counter.
 *
 * node-redis's own `timeout` only covers the wait to write a command; once written, a command
 * waits for its reply as long as the connection stays open, which is forever when the server
 * is frozen (SIGSTOP, a stalled VM, a path that drops packets without resetting). Rather than
 * wrapping every command in a promise with its own deadline (a measurable cost on the hot
 * path: about 1 µs per command), the watchdog counts the commands in flight and notes when a
 * reply last arrived. A timer, armed only while commands are in flight, checks that replies
 * keep coming: when none arrived for `timeout` milliseconds the connection is taken as dead,
 * destroyed (node-redis then rejects every command in flight with `DisconnectsClientError`)
 * and opened again in the background. Calls therefore fail within one to two `timeout`s.
 *
 * A single command that legitimately runs longer than `timeout` (a blocking command, a long
 * script) is treated the same way: the module issues none.
 */
export class ReplyWatchdog {
  readonly #client: RedisCommands;
  readonly #timeout: number;
  #inFlight = 0;
  #progressAt = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Connections torn down because replies stopped coming. */
  resets = 0;

  private constructor(client: RedisCommands, timeout: number) {
    this.#client = client;
    this.#timeout = timeout;
  }

  /**
   * Watches every command, transaction and pipeline sent through a standalone `client`,
   * whatever code sends it (node-redis funnels them into `sendCommand`, `_executeMulti` and
   * `_executePipeline` of the real client behind its proxies).
   */
  static install(client: RedisCommands, timeout: number): ReplyWatchdog {
    const watchdog = new ReplyWatchdog(client, timeout);
    const target = (client._self ?? client) as RedisCommands;
    for (const method of ['sendCommand', '_executeMulti', '_executePipeline']) {
      watchdog.#watch(target, method);
    }
    return watchdog;
  }

  /** Commands waiting for a reply. */
  get inFlight(): number {
    return this.#inFlight;
  }

  #watch(target: RedisCommands, method: string): void {
    const original = target[method] as (...args: unknown[]) => Promise<unknown>;
    if (typeof original !== 'function') {
      throw new TypeError(`node-redis client has no ${method}(): cannot watch its replies`);
    }
    const track = (reply: Promise<unknown>) => this.#track(reply);
    target[method] = function watched(this: unknown, a: unknown, b: unknown, c: unknown) {
      return track(original.call(this, a, b, c));
    };
  }

  #track(reply: Promise<unknown>): Promise<unknown> {
    if (this.#inFlight++ === 0) this.#progressAt = performance.now();
    reply.then(this.#settled, this.#settled);
    if (this.#timer === undefined) this.#arm(this.#timeout);
    return reply;
  }

  readonly #settled = (): void => {
    this.#inFlight--;
    this.#progressAt = performance.now();
  };

  #arm(delay: number): void {
    this.#timer = setTimeout(this.#check, Math.max(1, Math.ceil(delay)));
    this.#timer.unref();
  }

  readonly #check = (): void => {
    this.#timer = undefined;
    if (this.#inFlight === 0) return;

    const quiet = performance.now() - this.#progressAt;
    if (quiet < this.#timeout) {
      this.#arm(this.#timeout - quiet);
      return;
    }
    this.#reset();
  };

  /** Tears the silent connection down (failing what is in flight) and reconnects. */
  #reset(): void {
    const client = this.#client;
    if (!client.isOpen) return;
    this.resets++;
    this.#progressAt = performance.now();
    client.destroy?.();
    client.connect().catch(() => undefined);
  }
}
