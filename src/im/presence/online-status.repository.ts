import { Inject, Injectable } from '@nestjs/common';
import { RESOLVED_CACHE_OPTIONS } from '../../cache.constants';
import { InvalidArgumentError } from '../../errors';
import type { ResolvedCacheOptions } from '../../options/resolve-options';
import { checkId, checkIds, checkOneOf } from '../ids';
import type { OnlineStatus, PresenceReadOptions, UserStatus } from '../routes/route.types';
import { USER_STATUSES } from '../routes/route.types';
import { readPresence } from '../routes/user-record';
import { IM_STORAGE, ImStorageHandle, storageStep } from '../store/im-storage.handle';
import type { PresenceListener, PresenceSubscription } from './presence-feed';

const NAME = 'OnlineStatusRepository';

/**
 * Who is online, on which devices, with which chosen status, and when they were last seen.
 *
 * Presence is derived from the live route bindings of `RouteRepository` (the same record,
 * read in the same step), so routing and presence never disagree: a user is online while
 * they have a live binding. The status is the user's choice; `invisible` reads as offline
 * to everyone but the user (`{ self: true }`).
 *
 * @example
 * const members = await presence.getMany(group.memberIds); // one round trip for 500
 * const off = presence.onChange((change) => notifyContacts(change));
 */
@Injectable()
export class OnlineStatusRepository {
  readonly #now: () => number;

  constructor(
    @Inject(IM_STORAGE) private readonly storage: ImStorageHandle,
    @Inject(RESOLVED_CACHE_OPTIONS) options: ResolvedCacheOptions,
  ) {
    this.#now = options.now;
  }

  /** The presence of one user, as others see it (or as the user, with `{ self: true }`). */
  async get(userId: string, options?: PresenceReadOptions): Promise<OnlineStatus> {
    const [status] = await this.getMany([checkId(userId, 'userId')], options);
    return status;
  }

  /**
   * The presence of each user, in the order given; one round trip, so a 500-member group
   * costs one call. On Redis, one `MGET` per `distributed.batchSize` users (split evenly),
   * sent one after the other without waiting, each reply decoded as soon as it is in (one
   * `MGET` per hash slot, sent together, on Cluster).
   */
  async getMany(
    userIds: readonly string[],
    options?: PresenceReadOptions,
  ): Promise<OnlineStatus[]> {
    checkIds(userIds, 'userIds');
    const self = readSelf(options);
    const routes = this.storage.get(NAME).routes;
    const result = new Array<OnlineStatus>(userIds.length);
    // One clock for the whole call, read when the first record is in.
    let now: number | undefined;
    await storageStep('onlineStatus.getMany', `${userIds.length} users`, () =>
      routes.read(userIds, (i, raw) => {
        result[i] = readPresence(userIds[i], raw, (now ??= this.#now()), self);
      }),
    );
    return result;
  }

  /**
   * Records the status the user chose. It outlives their devices (for `im.lastSeenTtl`
   * after the last one goes), so a user who chose `invisible` stays invisible on the next
   * login. Publishes the change others see, if any: switching to `invisible` reads as going
   * offline, and back as coming online.
   *
   * @throws InvalidArgumentError for an unknown status
   */
  async setStatus(userId: string, status: UserStatus): Promise<void> {
    checkId(userId, 'userId');
    checkOneOf(status, USER_STATUSES, 'status');
    const routes = this.storage.get(NAME).routes;
    await storageStep('onlineStatus.setStatus', `user "${userId}"`, () =>
      routes.setStatus(userId, status, this.#now()),
    );
  }

  /**
   * Calls `listener` with every change of what others see of a user (online, offline,
   * status), made by any instance; each instance gets each change once. On Redis this is
   * pub/sub: the first call opens one subscription for the instance, and `ready` resolves
   * once it is confirmed. Changes made while the subscription is down are not replayed.
   *
   * An ended lease is noticed, and reported, by the next write to that user's record (a
   * bind, an unbind, a renew, a status or a server removal), with `at` set to when it
   * ended; until then, reads already show the user offline.
   *
   * @returns the subscription: `unsubscribe()` stops the deliveries
   */
  onChange(listener: PresenceListener): PresenceSubscription {
    if (typeof listener !== 'function') {
      throw new InvalidArgumentError('listener', 'expected a function');
    }
    return this.storage.get(NAME).presence.subscribe(listener);
  }
}

function readSelf(options: PresenceReadOptions | undefined): boolean {
  if (options === undefined) return false;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'expected an object such as { self: true }');
  }
  return options.self === true;
}
