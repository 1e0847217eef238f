import type { RedisCommands } from './redis-connection';

/**
 * Bounds the wait for replies on a standalone connection at no cost per command beyond a
 * counter.
 *
 * node-redis's own `timeout` only covers the wait to write a command; once written, a command
 * waits for its reply as long as the connection stays open, which is forever when the server
 * is frozen (SIGSTOP, a stalled VM, a path that drops packets without resetting). Rather than
 * wrapping every command in a promise with its own deadline (a measurable cost on the hot
 * path: about 1 µs per command), the watchdog counts the commands in flight and the replies
 * that came back. A timer, armed only while commands are in flight, samples the reply count
 * every half `timeout`: two samples in a row with no new reply (a whole `timeout` of silence)
 * take the connection as dead. It is destroyed (node-redis then rejects every command in
 * flight with `DisconnectsClientError`) and opened again in the background. Calls therefore
 * fail within one to two `timeout`s.
 *
 * A single command that legitimately runs longer than `timeout` (a blocking command, a long
 * script) is treated the same way: the module issues none.
 */
export class ReplyWatchdog {
  readonly #client: RedisCommands;
  readonly #timeout: number;
  #inFlight = 0;
  /** Replies (and failures) seen so far: the check compares it with its last sample. */
  #settledCount = 0;
  #sampled = -1;
  /** Samples in a row that found no new reply. */
  #quietChecks = 0;
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
    this.#inFlight++;
    reply.then(this.#settled, this.#settled);
    if (this.#timer === undefined) this.#arm();
    return reply;
  }

  readonly #settled = (): void => {
    this.#inFlight--;
    this.#settledCount++;
  };

  /** Samples progress every half `timeout`: a stall is caught within one to two timeouts. */
  #arm(): void {
    this.#sampled = this.#settledCount;
    this.#timer = setTimeout(this.#check, Math.max(1, Math.ceil(this.#timeout / 2)));
    this.#timer.unref();
  }

  readonly #check = (): void => {
    this.#timer = undefined;
    if (this.#inFlight === 0) {
      this.#quietChecks = 0;
      return;
    }
    this.#quietChecks = this.#settledCount === this.#sampled ? this.#quietChecks + 1 : 0;
    // Two quiet samples in a row: no reply for at least one whole `timeout`.
    if (this.#quietChecks < 2) {
      this.#arm();
      return;
    }
    this.#quietChecks = 0;
    this.#reset();
  };

  /** Tears the silent connection down (failing what is in flight) and reconnects. */
  #reset(): void {
    const client = this.#client;
    if (!client.isOpen) return;
    this.resets++;
    client.destroy?.();
    client.connect().catch(() => undefined);
  }
}
