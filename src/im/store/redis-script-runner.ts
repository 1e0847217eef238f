import { createHash } from 'node:crypto';
import type { RedisCommands, RedisTopology } from '../../distributed/redis/redis-connection';
import { groupBySlot } from '../../distributed/redis/slots';

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
   */
  constructor(
    readonly client: RedisCommands,
    readonly topology: RedisTopology,
    private readonly bound: <T>(reply: Promise<T>) => Promise<T> = (reply) => reply,
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

  /** `MGET` of `keys`, one command per hash slot on Cluster, all sent at once. */
  async mget(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return [];
    if (this.topology !== 'cluster') return this.send(keys[0], ['MGET', ...keys], true);

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

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
