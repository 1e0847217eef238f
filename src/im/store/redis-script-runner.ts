import { createHash } from 'node:crypto';
import type { RedisCommands, RedisTopology } from '../../distributed/redis/redis-connection';
import { groupBySlot } from '../../distributed/redis/slots';
import { sendInTurns } from '../../distributed/requests-in-turns';

/** A Lua script, known to Redis by the SHA-1 of its source. */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

/**
 * Sends raw commands and Lua scripts through the L2 driver's node-redis client, whatever its
 * topology. Scripts run by `EVALSHA`; a server that does not know one yet (`NOSCRIPT`:
 * restarted, failed over, or a Cluster node seen for the first time) gets `EVAL` with the
 * source, which also caches it there.
 *
 * Raw `sendCommand` skips node-redis's per-command argument parsing, which matters on the
 * batch paths (hundreds of keys per call).
 */
export class RedisScriptRunner {
  /**
   * @param bound puts the command timeout on a reply when the client does not (a client
   *   handed in through `distributed.client`); by default replies are taken as bounded
   * @param batchSize most keys per `MGET` outside Cluster (`distributed.batchSize`)
   */
  constructor(
    readonly client: RedisCommands,
    readonly topology: RedisTopology,
    private readonly bound: <T>(reply: Promise<T>) => Promise<T> = (reply) => reply,
    readonly batchSize = 200,
  ) {}

  /** Runs `script` with `keys` (all in one hash slot on Cluster) and `args`. */
  async run<T>(script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<T> {
    const command = ['EVALSHA', script.sha, String(keys.length), ...keys, ...args];
    try {
      return await this.send<T>(keys[0], command);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      command[0] = 'EVAL';
      command[1] = script.source;
      return this.send<T>(keys[0], command);
    }
  }

  /** Sends one command; `firstKey` routes it on Cluster. */
  send<T>(firstKey: string | undefined, command: string[], readonly = false): Promise<T> {
    const client = this.client as any;
    if (this.topology === 'cluster') {
      return this.bound(client.sendCommand(firstKey, readonly, command));
    }
    if (this.topology === 'sentinel') return this.bound(client.sendCommand(readonly, command));
    return this.bound(client.sendCommand(command));
  }

  /**
   * Splits positions `0..keys.length-1` into groups a script may take together: by hash
   * slot on Cluster, else in runs of at most `chunk` (Lua never crosses slots, and a huge
   * script blocks Redis for everyone).
   */
  groups(keys: readonly string[], chunk: number): number[][] {
    const bySlot = this.topology === 'cluster' ? groupBySlot(keys) : [keys.map((_, i) => i)];
    const groups: number[][] = [];
    for (const group of bySlot) {
      for (let start = 0; start < group.length; start += chunk) {
        groups.push(group.length <= chunk ? group : group.slice(start, start + chunk));
      }
    }
    return groups;
  }

  /** `MGET` of `keys`: their values, in order (see {@link mgetEach}). */
  async mget(keys: readonly string[]): Promise<(string | null)[]> {
    if (this.topology === 'cluster') return this.#mgetBySlot(keys);
    if (keys.length <= this.batchSize) {
      return keys.length === 0 ? [] : this.send(keys[0], mgetCommand(keys, 0, keys.length), true);
    }
    const values = new Array<string | null>(keys.length);
    await this.mgetEach(keys, (i, value) => {
      values[i] = value;
    });
    return values;
  }

  /**
   * `MGET` of `keys`, handing each value to `found` with its position, in key order, as soon
   * as its reply is in.
   *
   * - Standalone or Sentinel: a batch of more than `batchSize` keys goes out as several MGETs
   *   of even size, each sent on its own turn of the event loop (its own socket write, which
   *   Redis answers on its own), so this process handles one reply while Redis serves the
   *   next. Once a request has failed, the rest are not sent.
   * - Cluster: one MGET per hash slot, all sent at once; the values are handed over once
   *   every reply is in.
   *
   * Rejects with the first failure; `found` may have been called for some keys by then.
   */
  async mgetEach(keys: readonly string[], found: FoundValue): Promise<void> {
    if (keys.length === 0) return;
    if (this.topology === 'cluster') {
      const values = await this.#mgetBySlot(keys);
      for (let i = 0; i < values.length; i++) found(i, values[i]);
      return;
    }
    await this.#mgetInTurns(keys, found);
  }

  /** {@link mgetEach} outside Cluster: requests of even size, each on its own turn. */
  async #mgetInTurns(keys: readonly string[], found: FoundValue): Promise<void> {
    let handled: Promise<void> = Promise.resolve();
    await sendInTurns(keys.length, this.batchSize, (start, end) => {
      const reply = this.send<(string | null)[]>(keys[start], mgetCommand(keys, start, end), true);
      // In key order: a reply is handed over once those of the requests before it are.
      handled = Promise.all([handled, reply]).then(([, values]) => {
        for (let j = 0; j < values.length; j++) found(start + j, values[j]);
      });
      return handled;
    });
  }

  /** One MGET per hash slot, all sent at once; the values in key order. */
  async #mgetBySlot(keys: readonly string[]): Promise<(string | null)[]> {
    const values = new Array<string | null>(keys.length);
    await Promise.all(
      groupBySlot(keys).map(async (group) => {
        const command = ['MGET'];
        for (const i of group) command.push(keys[i]);
        const found = await this.send<(string | null)[]>(command[1], command, true);
        for (let j = 0; j < group.length; j++) values[group[j]] = found[j];
      }),
    );
    return values;
  }
}

/** Receives a value of {@link RedisScriptRunner.mgetEach}: its key's position, and it. */
export type FoundValue = (index: number, value: string | null) => void;

function mgetCommand(keys: readonly string[], start: number, end: number): string[] {
  const command = new Array<string>(end - start + 1);
  command[0] = 'MGET';
  for (let i = start; i < end; i++) command[i - start + 1] = keys[i];
  return command;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
