import { Inject, Injectable } from '@nestjs/common';
import { RESOLVED_CACHE_OPTIONS } from '../../cache.constants';
import type { ResolvedCacheOptions } from '../../options/resolve-options';
import { checkArray, checkId, checkIds, checkObject } from '../ids';
import { IM_STORAGE, ImStorageHandle, storageStep } from '../store/im-storage.handle';
import type { RouteStore } from './route.store';
import type { Route, RouteRef, ServerGroups } from './route.types';
import { forEachLiveRoute } from './user-record';

const NAME = 'RouteRepository';

/**
 * Which IM server (gateway node) holds each device connection of a user: the routing table
 * a push fan-out reads. One record per user holds all of their bindings (and their
 * presence, which `OnlineStatusRepository` derives from the same record).
 *
 * Every write is one atomic step on that record. Bindings are leases of `im.routeTtl`:
 * a gateway renews the connections it holds (`renew`, in batches) and unbinds on
 * disconnect; a node that dies is cleared by `removeServer`, or by its leases running out.
 *
 * @example
 * const kicked = await routes.bind({ userId, deviceId, serverId: me, connectionId });
 * if (kicked) await gateway.kick(kicked); // the same device was connected elsewhere
 */
@Injectable()
export class RouteRepository {
  readonly #now: () => number;

  constructor(
    @Inject(IM_STORAGE) private readonly storage: ImStorageHandle,
    @Inject(RESOLVED_CACHE_OPTIONS) options: ResolvedCacheOptions,
  ) {
    this.#now = options.now;
  }

  /**
   * Binds a device connection to a server for `im.routeTtl`. Resolves the binding it
   * replaced, when the same device was bound to another connection (the caller closes that
   * one), else `null`. Of concurrent binds of one device, each replaces the one applied
   * before it, so every replaced connection is returned to exactly one caller.
   *
   * @throws InvalidArgumentError when an ID is missing or malformed
   * @throws DistributedCacheError when Redis fails
   */
  async bind(route: Route): Promise<Route | null> {
    const checked = checkRoute(route, 'route');
    const store = this.#store();
    return storageStep('routes.bind', `user "${checked.userId}"`, () =>
      store.bind(checked, this.#now()),
    );
  }

  /**
   * Removes a binding, only if the device is still bound to `connectionId`: a late
   * disconnect of an old connection never removes a newer login. Resolves whether a live
   * binding was removed.
   */
  async unbind(ref: RouteRef): Promise<boolean> {
    const checked = checkRef(ref, 'ref');
    const store = this.#store();
    return storageStep('routes.unbind', `user "${checked.userId}"`, () =>
      store.unbind(checked, this.#now()),
    );
  }

  /**
   * Extends the lease of each live binding by `im.routeTtl`: script calls of up to 1000
   * bindings each, four in flight at a time, so up to 4000 bindings are one round trip and
   * more stream through that window. Resolves the given routes that no longer exist
   * (expired, unbound, replaced or removed), as the same objects: the caller closes those
   * connections.
   */
  async renew<R extends RouteRef>(routes: readonly R[]): Promise<R[]> {
    checkArray(routes, 'routes');
    const refs = routes.map((ref, i) => checkRef(ref, `routes[${i}]`));
    const store = this.#store();
    if (refs.length === 0) return [];
    const gone = await storageStep('routes.renew', `${refs.length} routes`, () =>
      store.renew(refs, this.#now()),
    );
    return gone.map((i) => routes[i]);
  }

  /** The live bindings of a user (empty when none). */
  async get(userId: string): Promise<Route[]> {
    const [routes] = await this.getMany([checkId(userId, 'userId')]);
    return routes;
  }

  /** The live bindings of each user, in the order given; one round trip. */
  async getMany(userIds: readonly string[]): Promise<Route[][]> {
    checkIds(userIds, 'userIds');
    const result = new Array<Route[]>(userIds.length);
    await this.#read(userIds, (i, raw, now) => {
      const routes: Route[] = [];
      forEachLiveRoute(userIds[i], raw, now, (route) => routes.push(route));
      result[i] = routes;
    });
    return result;
  }

  /**
   * The push fan-out: for each server, the live bindings it holds of these users; one
   * round trip. Users without a live binding appear nowhere.
   */
  async groupByServer(userIds: readonly string[]): Promise<ServerGroups> {
    checkIds(userIds, 'userIds');
    const groups: ServerGroups = new Map();
    const add = (route: Route) => {
      const group = groups.get(route.serverId);
      if (group === undefined) groups.set(route.serverId, [route]);
      else group.push(route);
    };
    await this.#read(userIds, (i, raw, now) => forEachLiveRoute(userIds[i], raw, now, add));
    return groups;
  }

  /**
   * Drops every binding held by `serverId` (a gateway node died), without scanning the
   * keyspace: a per-server index names the users to check. Users left without a device go
   * offline. Resolves how many live bindings were removed.
   */
  async removeServer(serverId: string): Promise<number> {
    checkId(serverId, 'serverId');
    const store = this.#store();
    return storageStep('routes.removeServer', `server "${serverId}"`, () =>
      store.removeServer(serverId, this.#now()),
    );
  }

  /**
   * Reads the records of `userIds`, handing each to `found` in order as soon as it is in,
   * with one clock for the whole call (read when the first record is in).
   */
  #read(
    userIds: readonly string[],
    found: (index: number, raw: string | null | undefined, now: number) => void,
  ): Promise<void> {
    const store = this.#store();
    let now: number | undefined;
    return storageStep('routes.read', `${userIds.length} users`, () =>
      store.read(userIds, (i, raw) => found(i, raw, (now ??= this.#now()))),
    );
  }

  #store(): RouteStore {
    return this.storage.get(NAME).routes;
  }
}

function checkRoute(route: Route, argument: string): Route {
  const given = checkObject(route, argument);
  return {
    userId: checkId(given.userId, `${argument}.userId`),
    deviceId: checkId(given.deviceId, `${argument}.deviceId`),
    serverId: checkId(given.serverId, `${argument}.serverId`),
    connectionId: checkId(given.connectionId, `${argument}.connectionId`),
  };
}

function checkRef(ref: RouteRef, argument: string): RouteRef {
  const given = checkObject(ref, argument);
  return {
    userId: checkId(given.userId, `${argument}.userId`),
    deviceId: checkId(given.deviceId, `${argument}.deviceId`),
    connectionId: checkId(given.connectionId, `${argument}.connectionId`),
  };
}
