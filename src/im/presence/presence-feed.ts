import type { PresenceChange } from '../routes/route.types';

/** Receives presence changes; see `OnlineStatusRepository.onChange`. */
export type PresenceListener = (change: PresenceChange) => void;

/** A registered presence listener. */
export interface PresenceSubscription {
  /**
   * Resolves once this instance receives changes (its pub/sub subscription is confirmed).
   * It never rejects: while Redis is unreachable it stays pending and resolves when the
   * subscription is made.
   */
  readonly ready: Promise<void>;
  /** Stops delivering changes to the listener. Safe to call more than once. */
  unsubscribe(): void;
}

/** Delivers the presence changes published by any instance to this instance's listeners. */
export interface PresenceFeed {
  subscribe(listener: PresenceListener): PresenceSubscription;
  close(): Promise<void>;
}

/** Turns a published message into a change; `undefined` when it is not one of ours. */
export function parsePresenceMessage(message: string): PresenceChange | undefined {
  let parsed: { t?: unknown; u?: unknown; s?: unknown; at?: unknown };
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  const { t, u, s, at } = parsed;
  if ((t !== 'online' && t !== 'offline' && t !== 'status') || typeof u !== 'string') {
    return undefined;
  }
  return {
    type: t,
    userId: u,
    status: s as PresenceChange['status'],
    at: Number(at),
  };
}
