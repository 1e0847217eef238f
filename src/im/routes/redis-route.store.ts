import type { ImKeys } from '../im-keys';
import type { ResolvedImOptions } from '../im-options';
import type { RedisScriptRunner } from '../store/redis-script-runner';
import { BIND, REMOVE_SERVER, RENEW, SET_STATUS, UNBIND } from './route.scripts';
import type { FoundRecord, RouteStore } from './route.store';
import type { Route, RouteRef, UserStatus } from './route.types';
import { STATUS_CODE } from './user-record';

/**
 * Bindings renewed per script call: large enough to amortize the call, small enough not to
 * hold Redis for long (a few milliseconds per call).
 */
const RENEW_CHUNK = 1000;
/**
 * Renew script calls in flight at once. Every call must be answered within the command
 * timeout, counted from when it is sent, so a huge batch is streamed through a window
 * rather than queued in Redis all at once: up to 4000 bindings are one round trip.
 */
const RENEW_WINDOW = 4;
/** Users checked per `removeServer` script call and index scan step. */
const REMOVE_CHUNK = 500;

/**
 * Presence records in Redis: one string per user (see user-record.ts), written only by the
 * Lua scripts of route.scripts.ts. Besides the records, a set per server names the users
 * that bound a device there, so `removeServer` needs no keyspace scan.
 */
export class RedisRouteStore implements RouteStore {
  readonly #recordTtl: string;

  constructor(
    private readonly redis: RedisScriptRunner,
    private readonly keys: ImKeys,
    private readonly options: ResolvedImOptions,
  ) {
    this.#recordTtl = String(options.routeTtl + options.lastSeenTtl);
  }

  read(userIds: readonly string[], found: FoundRecord): Promise<void> {
    const keys = new Array<string>(userIds.length);
    for (let i = 0; i < userIds.length; i++) keys[i] = this.keys.user(userIds[i]);
    return this.redis.mgetEach(keys, found);
  }

  async bind(route: Route, now: number): Promise<Route | null> {
    // The server index lives in another slot, so it cannot join the record's script. It is
    // added first (same round trip): the index may name users no longer there, never miss one.
    const serverKey = this.keys.server(route.serverId);
    const indexed = this.redis.send(serverKey, ['SADD', serverKey, route.userId]);
    const bound = this.redis.run<[string, string] | null>(
      BIND,
      [this.keys.user(route.userId)],
      [
        route.userId,
        route.deviceId,
        route.serverId,
        route.connectionId,
        String(now),
        String(this.options.routeTtl),
        this.#recordTtl,
        this.keys.presenceChannel,
      ],
    );
    const [, replaced] = await Promise.all([indexed, bound]);
    if (!replaced) return null;
    return { ...route, serverId: replaced[0], connectionId: replaced[1] };
  }

  async unbind(ref: RouteRef, now: number): Promise<boolean> {
    const removed = await this.redis.run<number>(
      UNBIND,
      [this.keys.user(ref.userId)],
      [
        ref.userId,
        ref.deviceId,
        ref.connectionId,
        String(now),
        this.#recordTtl,
        this.keys.presenceChannel,
      ],
    );
    return removed === 1;
  }

  async renew(refs: readonly RouteRef[], now: number): Promise<number[]> {
    const keys = refs.map((ref) => this.keys.user(ref.userId));
    const head = [
      String(now),
      String(now + this.options.routeTtl),
      this.#recordTtl,
      this.keys.presenceChannel,
    ];

    const renewGroup = async (group: number[]) => {
      const groupKeys = new Array<string>(group.length);
      const args = head.slice();
      for (let j = 0; j < group.length; j++) {
        const ref = refs[group[j]];
        groupKeys[j] = keys[group[j]];
        args.push(ref.userId, ref.deviceId, ref.connectionId);
      }
      const positions = await this.redis.run<number[]>(RENEW, groupKeys, args);
      return positions.map((p) => group[p - 1]);
    };

    const gone = await inWindow(this.redis.groups(keys, RENEW_CHUNK), RENEW_WINDOW, renewGroup);
    return gone.flat().sort((a, b) => a - b);
  }

  async setStatus(userId: string, status: UserStatus, now: number): Promise<void> {
    await this.redis.run(
      SET_STATUS,
      [this.keys.user(userId)],
      [userId, STATUS_CODE[status], String(now), this.#recordTtl, this.keys.presenceChannel],
    );
  }

  /**
   * Walks the server's index with `SSCAN` and runs the removal script on the named users,
   * slot by slot; each removes only bindings still held by that server, so stale members
   * cost a read and nothing else. The index is deleted at the end: a bind to this server
   * racing with its removal may be left out of both (its lease still ends it).
   */
  async removeServer(serverId: string, now: number): Promise<number> {
    const indexKey = this.keys.server(serverId);
    let cursor = '0';
    let removed = 0;
    do {
      const [next, members] = await this.redis.send<[string, string[]]>(indexKey, [
        'SSCAN',
        indexKey,
        cursor,
        'COUNT',
        String(REMOVE_CHUNK),
      ]);
      cursor = next;
      removed += await this.#removeFrom(serverId, members, now);
    } while (cursor !== '0');

    await this.redis.send(indexKey, ['DEL', indexKey]);
    return removed;
  }

  async #removeFrom(serverId: string, userIds: string[], now: number): Promise<number> {
    if (userIds.length === 0) return 0;
    const keys = userIds.map((userId) => this.keys.user(userId));
    const head = [serverId, String(now), this.#recordTtl, this.keys.presenceChannel];

    const counts = await Promise.all(
      this.redis.groups(keys, REMOVE_CHUNK).map((group) =>
        this.redis.run<number>(
          REMOVE_SERVER,
          group.map((i) => keys[i]),
          head.concat(group.map((i) => userIds[i])),
        ),
      ),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }
}

/**
 * Runs `task` on every item with at most `window` runs pending at once, each started as
 * soon as one finishes; resolves the results in item order. The first failure rejects.
 */
async function inWindow<T, R>(
  items: readonly T[],
  window: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const index = next++;
      try {
        results[index] = await task(items[index]);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, items.length) }, worker));
  return results;
}
