import type { ResolvedImOptions } from '../im-options';
import type { MemoryPresenceFeed } from '../presence/memory-presence.feed';
import type { FoundRecord, RouteStore } from './route.store';
import type { PresenceChange, Route, RouteRef, UserStatus } from './route.types';
import { decodeRecord, encodeRecord, type UserRecord } from './user-record';

interface StoredRecord {
  raw: string;
  expiresAt: number;
}

/**
 * Presence records inside one process, for the embedded `memory` driver. It keeps the same
 * encoded records as Redis and applies the same rules as the Lua scripts (route.scripts.ts);
 * JavaScript runs one call at a time, so each write is atomic without more care.
 */
export class MemoryRouteStore implements RouteStore {
  readonly #records = new Map<string, StoredRecord>();
  readonly #servers = new Map<string, Set<string>>();
  readonly #recordTtl: number;

  constructor(
    private readonly options: ResolvedImOptions,
    private readonly feed: MemoryPresenceFeed,
    private readonly clock: () => number,
  ) {
    this.#recordTtl = options.routeTtl + options.lastSeenTtl;
  }

  async read(userIds: readonly string[], found: FoundRecord): Promise<void> {
    const now = this.clock();
    for (let i = 0; i < userIds.length; i++) found(i, this.#raw(userIds[i], now));
  }

  async bind(route: Route, now: number): Promise<Route | null> {
    const record = this.#load(route.userId, now);
    const was = visible(record);
    const entry = {
      deviceId: route.deviceId,
      expiresAt: now + this.options.routeTtl,
      serverId: route.serverId,
      connectionId: route.connectionId,
    };

    const at = record.devices.findIndex((d) => d.deviceId === route.deviceId);
    let replaced: Route | null = null;
    if (at < 0) {
      record.devices.push(entry);
    } else {
      const old = record.devices[at];
      if (old.serverId !== route.serverId || old.connectionId !== route.connectionId) {
        replaced = { ...route, serverId: old.serverId, connectionId: old.connectionId };
      }
      record.devices[at] = entry;
    }

    this.#index(route.serverId, route.userId);
    this.#save(route.userId, record, now);
    if (!was && visible(record)) this.#emit('online', route.userId, record.status, now);
    return replaced;
  }

  async unbind(ref: RouteRef, now: number): Promise<boolean> {
    if (this.#raw(ref.userId, now) === undefined) return false;
    const record = this.#load(ref.userId, now);
    const was = visible(record);
    const at = record.devices.findIndex(
      (d) => d.deviceId === ref.deviceId && d.connectionId === ref.connectionId,
    );
    if (at >= 0) {
      record.devices.splice(at, 1);
      if (was && !visible(record)) this.#goOffline(ref.userId, record, now);
    }
    this.#save(ref.userId, record, now);
    return at >= 0;
  }

  async renew(refs: readonly RouteRef[], now: number): Promise<number[]> {
    const gone: number[] = [];
    for (let i = 0; i < refs.length; i++) {
      if (!this.#renewOne(refs[i], now)) gone.push(i);
    }
    return gone;
  }

  async setStatus(userId: string, status: UserStatus, now: number): Promise<void> {
    const record = this.#load(userId, now);
    const was = visible(record);
    const before = record.status;
    record.status = status;
    const is = visible(record);

    if (was && !is) this.#goOffline(userId, record, now);
    else if (is && !was) this.#emit('online', userId, status, now);
    else if (is && before !== status) this.#emit('status', userId, status, now);
    this.#save(userId, record, now);
  }

  async removeServer(serverId: string, now: number): Promise<number> {
    const members = this.#servers.get(serverId);
    this.#servers.delete(serverId);
    let removed = 0;
    for (const userId of members ?? []) {
      if (this.#raw(userId, now) === undefined) continue;
      const record = this.#load(userId, now);
      const was = visible(record);
      const kept = record.devices.filter((d) => d.serverId !== serverId);
      removed += record.devices.length - kept.length;
      record.devices = kept;
      if (was && !visible(record)) this.#goOffline(userId, record, now);
      this.#save(userId, record, now);
    }
    return removed;
  }

  /** Extends one live binding, the way the renew script's fast path does. */
  #renewOne(ref: RouteRef, now: number): boolean {
    const raw = this.#raw(ref.userId, now);
    if (raw === undefined) return false;
    const record = decodeRecord(raw);
    const device = record.devices.find((d) => d.deviceId === ref.deviceId);
    if (device === undefined || device.connectionId !== ref.connectionId) return false;

    if (device.expiresAt > now) {
      device.expiresAt = now + this.options.routeTtl;
      this.#save(ref.userId, record, now);
      return true;
    }
    this.#prune(ref.userId, record, now);
    this.#save(ref.userId, record, now);
    return false;
  }

  /** Decodes a user's record and drops the devices whose lease ended. */
  #load(userId: string, now: number): UserRecord {
    const record = decodeRecord(this.#raw(userId, now));
    this.#prune(userId, record, now);
    return record;
  }

  /**
   * Drops ended leases. When the last device of a visible user goes this way, the user went
   * offline when that lease ended: that moment is stored and reported (late, but once).
   */
  #prune(userId: string, record: UserRecord, now: number): void {
    const was = visible(record);
    let lastEnd = 0;
    const kept = record.devices.filter((d) => {
      if (d.expiresAt > now) return true;
      lastEnd = Math.max(lastEnd, d.expiresAt);
      return false;
    });
    if (kept.length === record.devices.length) return;
    record.devices = kept;
    if (was && kept.length === 0) this.#goOffline(userId, record, lastEnd);
  }

  #goOffline(userId: string, record: UserRecord, at: number): void {
    record.lastSeenAt = at;
    this.#emit('offline', userId, 'offline', at);
  }

  #emit(
    type: PresenceChange['type'],
    userId: string,
    status: PresenceChange['status'],
    at: number,
  ) {
    this.feed.emit({ type, userId, status, at });
  }

  #raw(userId: string, now: number): string | undefined {
    const stored = this.#records.get(userId);
    if (stored === undefined) return undefined;
    if (stored.expiresAt > now) return stored.raw;
    this.#records.delete(userId);
    return undefined;
  }

  #save(userId: string, record: UserRecord, now: number): void {
    this.#records.set(userId, { raw: encodeRecord(record), expiresAt: now + this.#recordTtl });
  }

  #index(serverId: string, userId: string): void {
    let members = this.#servers.get(serverId);
    if (members === undefined) this.#servers.set(serverId, (members = new Set()));
    members.add(userId);
  }
}

function visible(record: UserRecord): boolean {
  return record.status !== 'invisible' && record.devices.length > 0;
}
