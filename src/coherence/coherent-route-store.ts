import { RepositoriesDisabledError } from '../errors';
import { ENTRY, FIELD } from '../im/routes/user-record';
import type { FoundRecord, RouteStore } from '../im/routes/route.store';
import type { Route, RouteRef, UserStatus } from '../im/routes/route.types';
import { ImStorageHandle } from '../im/store/im-storage.handle';
import { LruLocalCache } from '../local/lru.local-cache';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import { CoherentLocalCache } from './coherent-local-cache';
import type { InvalidationBus } from './invalidation-bus';

/** The bus scope of the presence records behind routes and online status (by user id). */
export const USER_RECORD_SCOPE = 'u';

/**
 * The presence records of `RouteRepository` and `OnlineStatusRepository`, read through an
 * L1 kept coherent by the invalidation bus: a lookup of users whose records did not change
 * is answered from memory, with no Redis round trip.
 *
 * What is cached is the stored record itself (a string), so a copy answers exactly what
 * Redis would: readers decide which leases are live from the record and the clock. A copy
 * is dropped:
 *
 * - on every instance, when `bind`, `unbind` or `setStatus` changes the record (announced
 *   once the script has run), and all copies when `removeServer` runs;
 * - by its own lifetime, which ends at the earliest lease end it holds (and within
 *   `local.ttl`): `renew` only pushes leases further, so a copy is right until that moment
 *   and is then read again, seeing the renewed lease. That spares the bus one message per
 *   renewed connection, which for a gateway renewing 100k connections a minute would be the
 *   bulk of its traffic.
 */
export class CoherentRouteStore implements RouteStore {
  readonly #inner: RouteStore;
  readonly #l1: CoherentLocalCache;
  readonly #bus: InvalidationBus;
  readonly #now: () => number;
  readonly #maxTtl: number;

  constructor(inner: RouteStore, bus: InvalidationBus, options: ResolvedCacheOptions) {
    const { maxEntries, maxBytes, ttl } = options.local;
    const lru = new LruLocalCache({ maxEntries, maxBytes, now: options.now });
    this.#inner = inner;
    this.#l1 = new CoherentLocalCache(lru, options.distributed.commandTimeout);
    this.#bus = bus;
    this.#now = options.now;
    this.#maxTtl = ttl;
    bus.register(USER_RECORD_SCOPE, this.#l1);
  }

  /** The L1 of the records (for tests and diagnostics). */
  get l1(): CoherentLocalCache {
    return this.#l1;
  }

  /**
   * Hands over the copies in L1 and reads the others from the inner store, keeping what it
   * reads; in the order given, each record as soon as it and those before it are in.
   */
  async read(userIds: readonly string[], found: FoundRecord): Promise<void> {
    // A record is a string once known (a user without one reads as ''), undefined until then.
    const records = new Array<string | undefined>(userIds.length);
    let missing: string[] | undefined;
    let positions: number[] | undefined;
    let next = 0;
    for (let i = 0; i < userIds.length; i++) {
      const cached = this.#l1.get(userIds[i]) as string | undefined;
      if (cached === undefined) {
        (missing ??= []).push(userIds[i]);
        (positions ??= []).push(i);
      } else if (next === i) {
        found(next++, cached);
      } else {
        records[i] = cached;
      }
    }
    if (missing === undefined || positions === undefined) return;

    const users = missing;
    const at = positions;
    let now: number | undefined;
    await this.#inner.read(users, (j, stored) => {
      const raw = stored ?? '';
      const ttl = Math.min(this.#maxTtl, lifetime(raw, (now ??= this.#now())));
      if (ttl > 0) this.#l1.set(users[j], raw, ttl, raw.length + 1);
      records[at[j]] = raw;
      while (next < records.length && records[next] !== undefined) {
        found(next, records[next]);
        next++;
      }
    });
  }

  bind(route: Route, now: number): Promise<Route | null> {
    return this.#changes(route.userId, this.#inner.bind(route, now));
  }

  unbind(ref: RouteRef, now: number): Promise<boolean> {
    return this.#changes(ref.userId, this.#inner.unbind(ref, now));
  }

  setStatus(userId: string, status: UserStatus, now: number): Promise<void> {
    return this.#changes(userId, this.#inner.setStatus(userId, status, now));
  }

  /** Only extends leases: copies expire at the old lease end and are read again. */
  renew(refs: readonly RouteRef[], now: number): Promise<number[]> {
    return this.#inner.renew(refs, now);
  }

  /**
   * The store does not say which users it touched (it walks the server's index in Redis), so
   * every instance drops all its copies: a dead gateway node is rare, and the copies come
   * back with the next lookups.
   */
  async removeServer(serverId: string, now: number): Promise<number> {
    try {
      return await this.#inner.removeServer(serverId, now);
    } finally {
      this.#l1.invalidateAll();
      this.#bus.publishClear(USER_RECORD_SCOPE);
    }
  }

  /**
   * Drops the local copy once the write has run (a read sent before it on the same
   * connection has answered by then) and tells the other instances. Announced after the
   * reply even where the connection keeps order: a script Redis does not know yet is sent
   * a second time, after the first reply.
   */
  #changes<T>(userId: string, write: Promise<T>): Promise<T> {
    const settled = () => {
      this.#l1.delete(userId);
      this.#bus.publish(USER_RECORD_SCOPE, userId);
    };
    write.then(settled, settled);
    return write;
  }
}

/**
 * Milliseconds a copy of `raw` stays exact: until its earliest lease end still ahead (a
 * renew may have pushed it), or without bound when no lease is ahead (only writes, which are
 * announced, change what it says).
 */
function lifetime(raw: string, now: number): number {
  let earliest = Infinity;
  let i = raw.indexOf(ENTRY);
  while (i >= 0) {
    const start = raw.indexOf(FIELD, i + 1) + 1;
    let expiresAt = 0;
    for (let k = start; k < raw.length; k++) {
      const code = raw.charCodeAt(k);
      if (code < 48 || code > 57) break;
      expiresAt = expiresAt * 10 + (code - 48);
    }
    if (expiresAt > now && expiresAt < earliest) earliest = expiresAt;
    i = raw.indexOf(ENTRY, start);
  }
  return earliest - now;
}

/**
 * The repositories' storage with its route store read through a coherent L1, when the bus
 * is on, the repositories run on Redis and L1 is not `'none'`; else `handle` unchanged.
 */
export function withCoherentRoutes(
  handle: ImStorageHandle,
  bus: InvalidationBus | null,
  options: ResolvedCacheOptions,
): ImStorageHandle {
  const storage = handle.storage;
  if (bus === null || storage === undefined || storage.backend !== 'redis') return handle;
  if (options.local.driver === 'none') return handle;

  const routes = new CoherentRouteStore(storage.routes, bus, options);
  return new ImStorageHandle(
    { ...storage, routes, close: () => storage.close() },
    (repository) => new RepositoriesDisabledError(repository),
  );
}
