import {
  NotInSessionError,
  SessionExistsError,
  SessionNotFoundError,
  UsersBusyError,
  type BusyUser,
} from '../../errors';
import { activeUsers, type VideoSessionStore } from './video-session.store';
import type { VideoSession } from './video-session.types';

interface Flag {
  sessionId: string;
  expiresAt: number;
}

/**
 * Video sessions inside one process, for the embedded `memory` driver. Each call runs to
 * completion before another starts, so claims are all or nothing and exclusive as on a
 * standalone Redis. Sessions are returned as copies.
 */
export class MemoryVideoSessionStore implements VideoSessionStore {
  readonly #sessions = new Map<string, VideoSession>();
  readonly #flags = new Map<string, Flag>();

  constructor(
    private readonly ttl: number,
    private readonly clock: () => number,
  ) {}

  async start(session: VideoSession): Promise<void> {
    const now = this.clock();
    if (this.#find(session.sessionId, now) !== undefined) {
      throw new SessionExistsError(session.sessionId);
    }
    const users = session.participants.map((p) => p.userId);
    const busy = this.#busy(session.sessionId, users, now);
    if (busy.length > 0) throw new UsersBusyError(session.sessionId, busy);

    for (const user of users) this.#claim(user, session.sessionId, session.expiresAt);
    this.#sessions.set(session.sessionId, structuredClone(session));
  }

  async get(sessionId: string): Promise<VideoSession | null> {
    const session = this.#find(sessionId, this.clock());
    return session === undefined ? null : structuredClone(session);
  }

  async sessionOf(userId: string): Promise<string | null> {
    return this.#holder(userId, this.clock()) ?? null;
  }

  async join(sessionId: string, userId: string, now: number): Promise<VideoSession> {
    const session = this.#require(sessionId, now);
    const participant = session.participants.find((p) => p.userId === userId);
    if (participant === undefined) throw new NotInSessionError(sessionId, userId);

    if (participant.state === 'left') {
      const busy = this.#busy(sessionId, [userId], now);
      if (busy.length > 0) throw new UsersBusyError(sessionId, busy);
      this.#claim(userId, sessionId, session.expiresAt);
    }
    participant.state = 'joined';
    return structuredClone(session);
  }

  async leave(sessionId: string, userId: string, now: number): Promise<VideoSession | null> {
    const session = this.#require(sessionId, now);
    const participant = session.participants.find((p) => p.userId === userId);
    if (participant === undefined) throw new NotInSessionError(sessionId, userId);

    participant.state = 'left';
    this.#release(sessionId, [userId]);
    if (activeUsers(session).length > 0) return structuredClone(session);
    this.#sessions.delete(sessionId);
    return null;
  }

  async end(sessionId: string): Promise<VideoSession | null> {
    const session = this.#find(sessionId, this.clock());
    if (session === undefined) return null;
    this.#sessions.delete(sessionId);
    this.#release(
      sessionId,
      session.participants.map((p) => p.userId),
    );
    return session;
  }

  async keepAlive(sessionId: string, now: number): Promise<VideoSession> {
    const session = this.#require(sessionId, now);
    session.expiresAt = now + this.ttl;
    for (const user of activeUsers(session)) {
      const flag = this.#flags.get(user);
      if (flag?.sessionId === sessionId) flag.expiresAt = session.expiresAt;
    }
    return structuredClone(session);
  }

  #require(sessionId: string, now: number): VideoSession {
    const session = this.#find(sessionId, now);
    if (session === undefined) throw new SessionNotFoundError(sessionId);
    return session;
  }

  #find(sessionId: string, now: number): VideoSession | undefined {
    const session = this.#sessions.get(sessionId);
    if (session === undefined || session.expiresAt > now) return session;
    this.#sessions.delete(sessionId);
    return undefined;
  }

  #busy(sessionId: string, users: string[], now: number): BusyUser[] {
    const busy: BusyUser[] = [];
    for (const userId of users) {
      const holder = this.#holder(userId, now);
      if (holder !== undefined && holder !== sessionId) busy.push({ userId, sessionId: holder });
    }
    return busy;
  }

  #holder(userId: string, now: number): string | undefined {
    const flag = this.#flags.get(userId);
    if (flag === undefined || flag.expiresAt > now) return flag?.sessionId;
    this.#flags.delete(userId);
    return undefined;
  }

  #claim(userId: string, sessionId: string, expiresAt: number): void {
    this.#flags.set(userId, { sessionId, expiresAt });
  }

  #release(sessionId: string, users: string[]): void {
    for (const user of users) {
      if (this.#flags.get(user)?.sessionId === sessionId) this.#flags.delete(user);
    }
  }
}
