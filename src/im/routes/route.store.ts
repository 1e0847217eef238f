import type { Route, RouteRef, UserStatus } from './route.types';

/**
 * Storage of the presence records behind `RouteRepository` and `OnlineStatusRepository`.
 * Every write is one atomic step on one user's record (a Lua script on Redis), which also
 * publishes the presence change it causes. Arguments are validated by the repositories.
 */
export interface RouteStore {
  /**
   * Reads the stored records of `userIds` and hands each to `found` with its position
   * (`null` or `undefined` where none), in the order given, as soon as it is in, so the
   * caller decodes one part of a large batch while the next is on its way. Resolves once
   * every record has been handed over. On Redis: one `MGET` per `distributed.batchSize`
   * users, sent one after the other without waiting for replies (one per hash slot on
   * Cluster, sent together).
   */
  read(userIds: readonly string[], found: FoundRecord): Promise<void>;

  /** Binds a device; resolves the binding it replaced (another connection of the device). */
  bind(route: Route, now: number): Promise<Route | null>;

  /** Removes a binding if the device is still bound to that connection. */
  unbind(ref: RouteRef, now: number): Promise<boolean>;

  /** Extends the leases of live bindings; resolves the positions of those that are gone. */
  renew(refs: readonly RouteRef[], now: number): Promise<number[]>;

  /** Records the status a user chose. */
  setStatus(userId: string, status: UserStatus, now: number): Promise<void>;

  /** Removes every binding held by `serverId`; resolves how many live bindings went. */
  removeServer(serverId: string, now: number): Promise<number>;
}

/** Receives a record of {@link RouteStore.read}: the user's position, and the stored record. */
export type FoundRecord = (index: number, raw: string | null | undefined) => void;
