import type { Route, RouteRef, UserStatus } from './route.types';

/**
 * Storage of the presence records behind `RouteRepository` and `OnlineStatusRepository`.
 * Every write is one atomic step on one user's record (a Lua script on Redis), which also
 * publishes the presence change it causes. Arguments are validated by the repositories.
 */
export interface RouteStore {
  /**
   * The stored records of `userIds`, in order (`null` or `undefined` where none); one
   * round trip (one `MGET` per hash slot on Cluster, sent together).
   */
  read(userIds: readonly string[]): Promise<(string | null | undefined)[]>;

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
