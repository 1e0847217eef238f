/** One device connection of a user, held by one IM server (gateway node). */
export interface Route {
  userId: string;
  deviceId: string;
  /** The IM server (gateway node) that holds the connection. */
  serverId: string;
  /** The connection's own ID, unique per connection (a new login gets a new one). */
  connectionId: string;
}

/** What identifies a binding for `unbind` and `renew`: the connection of a user's device. */
export type RouteRef = Pick<Route, 'userId' | 'deviceId' | 'connectionId'>;

/** The devices of some users that one server holds, as `groupByServer` returns them. */
export type ServerGroups = Map<string, Route[]>;

/** The status a user chooses. `invisible` reads as offline to everyone else. */
export type UserStatus = 'online' | 'away' | 'busy' | 'invisible';

/** Every status a user may choose, in a fixed order. */
export const USER_STATUSES: readonly UserStatus[] = ['online', 'away', 'busy', 'invisible'];

/** A user's presence as `OnlineStatusRepository` reports it. */
export interface OnlineStatus {
  userId: string;
  /** Whether the user has a live device and, for other readers, is not invisible. */
  online: boolean;
  /**
   * The chosen status while online; `'offline'` when not online. With `{ self: true }`
   * the chosen status always, `invisible` included.
   */
  status: UserStatus | 'offline';
  /** IDs of the user's live devices; empty when not online. */
  devices: string[];
  /**
   * When others last saw the user go offline (last device gone while visible, or a switch
   * to `invisible`), in milliseconds since the epoch; `null` if never (within `lastSeenTtl`).
   */
  lastSeenAt: number | null;
}

/** A change of what others see of a user's presence, delivered to every instance once. */
export interface PresenceChange {
  /** `online`: became visible; `offline`: stopped being visible; `status`: chose another. */
  type: 'online' | 'offline' | 'status';
  userId: string;
  /** The status others now see (`'offline'` for an `offline` change). */
  status: UserStatus | 'offline';
  /**
   * When the change happened, in milliseconds. A lease that ran out is reported when a
   * later write notices it, with `at` set to the end of the lease.
   */
  at: number;
}

/** Options of a presence read. */
export interface PresenceReadOptions {
  /**
   * Read as the user themself: the true online state, the chosen status (`invisible`
   * included) and the devices, even when invisible to others.
   * @default false
   */
  self?: boolean;
}
