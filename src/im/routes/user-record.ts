import type { OnlineStatus, Route, UserStatus } from './route.types';

/**
 * The presence record of one user: everything routing and presence know about them, in one
 * string under one key, so a batch of users is one `MGET` and both repositories read the
 * same source of truth.
 *
 * Layout (ENTRY = U+001E, FIELD = U+001F; IDs never contain control characters):
 *
 *   <status><lastSeenAt>
 *   ( ENTRY <deviceId> FIELD <expiresAt> FIELD <serverId> FIELD <connectionId> )*
 *
 * `status` is one letter (`o`nline, `a`way, `b`usy, `i`nvisible); `lastSeenAt` and
 * `expiresAt` are decimal milliseconds (`lastSeenAt` empty when never seen). A device whose
 * `expiresAt` has passed is gone: readers skip it, the next write drops it. The Lua scripts
 * in route.scripts.ts read and write the same layout.
 */
export const ENTRY = '\x1e';
/** Separates the fields of a device entry (see {@link ENTRY}). */
export const FIELD = '\x1f';

const ENTRY_CODE = 30;
const FIELD_CODE = 31;

/** One device binding inside a record. */
export interface DeviceBinding {
  deviceId: string;
  expiresAt: number;
  serverId: string;
  connectionId: string;
}

/** A decoded presence record. */
export interface UserRecord {
  status: UserStatus;
  lastSeenAt: number | null;
  devices: DeviceBinding[];
}

/** The one-letter code of each status, as stored. */
export const STATUS_CODE: Readonly<Record<UserStatus, string>> = {
  online: 'o',
  away: 'a',
  busy: 'b',
  invisible: 'i',
};

/** The status of a one-letter code (unknown letters read as `online`). */
export function statusOf(code: string): UserStatus {
  switch (code) {
    case 'a':
      return 'away';
    case 'b':
      return 'busy';
    case 'i':
      return 'invisible';
    default:
      return 'online';
  }
}

/** A record with nothing in it: the state of a user never seen. */
export function emptyRecord(): UserRecord {
  return { status: 'online', lastSeenAt: null, devices: [] };
}

/** Decodes a stored record (`null` or `undefined` as the empty record). */
export function decodeRecord(raw: string | null | undefined): UserRecord {
  if (raw === null || raw === undefined || raw === '') return emptyRecord();
  const parts = raw.split(ENTRY);
  const head = parts[0];
  const record: UserRecord = {
    status: statusOf(head.charAt(0)),
    lastSeenAt: head.length > 1 ? Number(head.slice(1)) : null,
    devices: [],
  };
  for (let i = 1; i < parts.length; i++) {
    const [deviceId, expiresAt, serverId, connectionId] = parts[i].split(FIELD);
    record.devices.push({ deviceId, expiresAt: Number(expiresAt), serverId, connectionId });
  }
  return record;
}

/** Encodes a record in the stored layout. */
export function encodeRecord(record: UserRecord): string {
  let raw = STATUS_CODE[record.status] + (record.lastSeenAt === null ? '' : record.lastSeenAt);
  for (const d of record.devices) {
    raw += ENTRY + d.deviceId + FIELD + d.expiresAt + FIELD + d.serverId + FIELD + d.connectionId;
  }
  return raw;
}

/**
 * The presence a reader sees in a stored record, parsed in one pass without intermediate
 * arrays (this runs 500 times per group read).
 *
 * A device whose lease ended reads as gone; when the last one ended and the user was
 * visible, `lastSeenAt` is the end of that lease (the write that later drops the device
 * stores the same value).
 */
export function readPresence(
  userId: string,
  raw: string | null | undefined,
  now: number,
  self: boolean,
): OnlineStatus {
  if (raw === null || raw === undefined || raw === '') {
    return { userId, online: false, status: 'offline', devices: [], lastSeenAt: null };
  }
  const devices: string[] = [];
  let lastEnd = 0;
  let i = raw.indexOf(ENTRY);
  let lastSeenAt = i === 1 || raw.length === 1 ? null : digitsAt(raw, 1);

  while (i >= 0) {
    const idEnd = raw.indexOf(FIELD, i + 1);
    const expiresAt = digitsAt(raw, idEnd + 1);
    if (expiresAt > now) devices.push(raw.slice(i + 1, idEnd));
    else if (expiresAt > lastEnd) lastEnd = expiresAt;
    i = raw.indexOf(ENTRY, idEnd);
  }

  const status = statusOf(raw.charAt(0));
  const visible = status !== 'invisible';
  if (devices.length === 0 && lastEnd > 0 && visible && lastEnd > (lastSeenAt ?? 0)) {
    lastSeenAt = lastEnd;
  }
  if (self) return { userId, online: devices.length > 0, status, devices, lastSeenAt };
  if (devices.length > 0 && visible) return { userId, online: true, status, devices, lastSeenAt };
  return { userId, online: false, status: 'offline', devices: [], lastSeenAt };
}

/**
 * Calls `found` with every live binding of a stored record, in stored order. Shared by
 * `routes.get`, `getMany` and `groupByServer`.
 */
export function forEachLiveRoute(
  userId: string,
  raw: string | null | undefined,
  now: number,
  found: (route: Route) => void,
): void {
  if (raw === null || raw === undefined) return;
  let i = raw.indexOf(ENTRY);
  while (i >= 0) {
    const idEnd = raw.indexOf(FIELD, i + 1);
    const serverStart = raw.indexOf(FIELD, idEnd + 1) + 1;
    const serverEnd = raw.indexOf(FIELD, serverStart);
    const next = raw.indexOf(ENTRY, serverEnd);
    if (digitsAt(raw, idEnd + 1) > now) {
      found({
        userId,
        deviceId: raw.slice(i + 1, idEnd),
        serverId: raw.slice(serverStart, serverEnd),
        connectionId: raw.slice(serverEnd + 1, next < 0 ? raw.length : next),
      });
    }
    i = next;
  }
}

/** The decimal number starting at `start`, up to the next separator or the end. */
function digitsAt(raw: string, start: number): number {
  let value = 0;
  for (let k = start; k < raw.length; k++) {
    const code = raw.charCodeAt(k);
    if (code === FIELD_CODE || code === ENTRY_CODE) break;
    value = value * 10 + (code - 48);
  }
  return value;
}
