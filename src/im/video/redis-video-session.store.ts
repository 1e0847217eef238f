import calculateSlot from 'cluster-key-slot';
import {
  type BusyUser,
  NotInSessionError,
  SessionExistsError,
  SessionNotFoundError,
  UsersBusyError,
} from '../../errors';
import type { ImKeys } from '../im-keys';
import type { RedisScriptRunner } from '../store/redis-script-runner';
import {
  CLAIM,
  END,
  JOIN,
  KEEP_ALIVE,
  LEAVE,
  RELEASE,
  START,
  TOUCH,
} from './video-session.scripts';
import { activeUsers, type VideoSessionStore } from './video-session.store';
import type { VideoSession } from './video-session.types';

/**
 * Video sessions in Redis. Starting a call claims every participant's busy flag:
 *
 * - Standalone and Sentinel: one script checks and claims all flags and creates the
 *   session, so the claim is all or nothing and, of concurrent calls sharing a user, exactly
 *   one starts.
 * - Cluster: flags of different users live in different slots, and a script cannot cross
 *   slots. The session is created first (`SET NX`), then the flags are claimed slot by slot
 *   in ascending slot order, each slot all or nothing; a busy slot rolls back the slots
 *   already claimed and deletes the session. No user is ever claimed by two sessions, and
 *   because every call claims in that one order, of any number of overlapping calls at least
 *   one starts (see {@link RedisVideoSessionStore.start}). A call may still fail on a claim
 *   that is rolled back a moment later, and during the claim another caller may briefly see
 *   a user busy for a call that then fails. docs/repositories.md says more.
 */
export class RedisVideoSessionStore implements VideoSessionStore {
  readonly #ttl: string;

  constructor(
    private readonly redis: RedisScriptRunner,
    private readonly keys: ImKeys,
    ttl: number,
  ) {
    this.#ttl = String(ttl);
  }

  /**
   * Creates the session and claims its participants' flags, all or none.
   *
   * Why, on Cluster, overlapping calls cannot all fail: a call fails only on a slot where it
   * finds a flag held by another call, which has then already claimed every slot of its own
   * up to that one. If that other call fails too, it fails on a slot after it. So a chain of
   * "failed because of" climbs strictly in slot order and cannot come back to its start: the
   * call at its end, holding the flags the others tripped on, started (unless what it found
   * busy was a session outside the race, which is a real refusal).
   */
  async start(session: VideoSession): Promise<void> {
    if (this.redis.topology === 'cluster') return this.#startBySlot(session);

    const users = session.participants.map((p) => p.userId);
    const reply = await this.redis.run<string[]>(
      START,
      [this.keys.session(session.sessionId), ...users.map((u) => this.keys.busy(u))],
      [session.sessionId, JSON.stringify(session), this.#ttl, ...users],
    );
    if (reply[0] === 'exists') throw new SessionExistsError(session.sessionId);
    if (reply[0] === 'busy') throw new UsersBusyError(session.sessionId, pairs(reply.slice(1)));
  }

  async get(sessionId: string): Promise<VideoSession | null> {
    const key = this.keys.session(sessionId);
    const raw = await this.redis.send<string | null>(key, ['GET', key], true);
    return raw === null ? null : parseSession(raw);
  }

  sessionOf(userId: string): Promise<string | null> {
    const key = this.keys.busy(userId);
    return this.redis.send(key, ['GET', key], true);
  }

  async join(sessionId: string, userId: string): Promise<VideoSession> {
    const sessionKey = this.keys.session(sessionId);
    let reply = await this.redis.run<string[]>(JOIN, [sessionKey], [userId, '']);
    if (reply[0] === 'claim') {
      // The user had left and freed their flag: claim it again before rejoining.
      await this.#claim(sessionId, [userId]);
      reply = await this.redis.run<string[]>(JOIN, [sessionKey], [userId, 'claimed']);
      if (reply[0] !== 'ok') await this.#release(sessionId, [userId]);
    }
    return this.#session(sessionId, userId, reply) as VideoSession;
  }

  async leave(sessionId: string, userId: string): Promise<VideoSession | null> {
    const reply = await this.redis.run<string[]>(LEAVE, [this.keys.session(sessionId)], [userId]);
    const session = this.#session(sessionId, userId, reply);
    await this.#release(sessionId, [userId]);
    return reply[0] === 'ended' ? null : session;
  }

  async end(sessionId: string): Promise<VideoSession | null> {
    const raw = await this.redis.run<string | null>(END, [this.keys.session(sessionId)], []);
    if (raw === null) return null;
    const session = parseSession(raw);
    await this.#release(
      sessionId,
      session.participants.map((p) => p.userId),
    );
    return session;
  }

  async keepAlive(sessionId: string, now: number): Promise<VideoSession> {
    const expiresAt = String(now + Number(this.#ttl));
    const raw = await this.redis.run<string | null>(
      KEEP_ALIVE,
      [this.keys.session(sessionId)],
      [expiresAt, this.#ttl],
    );
    if (raw === null) throw new SessionNotFoundError(sessionId);
    const session = parseSession(raw);
    await this.#eachSlot(activeUsers(session), (keys) =>
      this.redis.run(TOUCH, keys, [sessionId, this.#ttl]),
    );
    return session;
  }

  async #startBySlot(session: VideoSession): Promise<void> {
    const sessionKey = this.keys.session(session.sessionId);
    const created = await this.redis.send<string | null>(sessionKey, [
      'SET',
      sessionKey,
      JSON.stringify(session),
      'PX',
      this.#ttl,
      'NX',
    ]);
    if (created === null) throw new SessionExistsError(session.sessionId);

    try {
      await this.#claim(
        session.sessionId,
        session.participants.map((p) => p.userId),
      );
    } catch (error) {
      // Best effort: the caller learns why the start failed, not why the clean-up did.
      await this.redis.send(sessionKey, ['DEL', sessionKey]).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Claims the flags of `users` slot by slot in ascending slot order (one group off Cluster),
   * rolling back on the first busy slot, or on the first failed claim (that one included: it
   * may have been applied before its reply was lost).
   *
   * @throws UsersBusyError naming the busy users of that slot and of the slots after it
   */
  async #claim(sessionId: string, users: string[]): Promise<void> {
    const groups = this.#bySlot(users);
    for (let g = 0; g < groups.length; g++) {
      let busy: string[];
      try {
        busy = await this.redis.run<string[]>(
          CLAIM,
          groups[g].map((u) => this.keys.busy(u)),
          [sessionId, this.#ttl, ...groups[g]],
        );
      } catch (error) {
        await this.#rollBack(sessionId, groups.slice(0, g + 1));
        throw error;
      }
      if (busy.length === 0) continue;

      await this.#rollBack(sessionId, groups.slice(0, g));
      const later = await this.#busyAmong(sessionId, groups.slice(g + 1).flat());
      throw new UsersBusyError(sessionId, [...pairs(busy), ...later]);
    }
  }

  /**
   * Frees the flags `sessionId` holds in `groups` (one group per slot), all slots at once;
   * a slot that cannot be reached keeps its flags until their lease ends.
   */
  async #rollBack(sessionId: string, groups: string[][]): Promise<void> {
    await Promise.allSettled(
      groups.map((group) =>
        this.redis.run(
          RELEASE,
          group.map((u) => this.keys.busy(u)),
          [sessionId],
        ),
      ),
    );
  }

  /** The users of `users` whose flag another session holds (a read, for the error only). */
  async #busyAmong(sessionId: string, users: string[]): Promise<BusyUser[]> {
    if (users.length === 0) return [];
    const holders = await this.redis.mget(users.map((u) => this.keys.busy(u)));
    const busy: BusyUser[] = [];
    holders.forEach((holder, i) => {
      if (holder !== null && holder !== sessionId)
        busy.push({ userId: users[i], sessionId: holder });
    });
    return busy;
  }

  async #release(sessionId: string, users: string[]): Promise<void> {
    await this.#eachSlot(users, (keys) => this.redis.run(RELEASE, keys, [sessionId]));
  }

  async #eachSlot(users: string[], run: (keys: string[]) => Promise<unknown>): Promise<void> {
    await Promise.all(this.#bySlot(users).map((group) => run(group.map((u) => this.keys.busy(u)))));
  }

  /** Users grouped by the slot of their flag, in ascending slot order; one group off Cluster. */
  #bySlot(users: string[]): string[][] {
    if (users.length === 0) return [];
    if (this.redis.topology !== 'cluster') return [users];
    const groups = new Map<number, string[]>();
    for (const user of users) {
      const slot = calculateSlot(this.keys.busy(user));
      const group = groups.get(slot);
      if (group) group.push(user);
      else groups.set(slot, [user]);
    }
    return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, group]) => group);
  }

  /** The session in a JOIN / LEAVE reply, or the typed error the reply stands for. */
  #session(sessionId: string, userId: string, reply: string[]): VideoSession | null {
    if (reply[0] === 'missing') throw new SessionNotFoundError(sessionId);
    if (reply[0] === 'not-in') throw new NotInSessionError(sessionId, userId);
    return parseSession(reply[1]);
  }
}

/** `[user, holder, user, holder, ...]` as busy users. */
function pairs(flat: string[]): BusyUser[] {
  const busy: BusyUser[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2)
    busy.push({ userId: flat[i], sessionId: flat[i + 1] });
  return busy;
}

/** A stored session, its fields in the documented order (Lua's JSON encoder reorders them). */
function parseSession(raw: string): VideoSession {
  const stored: VideoSession = JSON.parse(raw);
  return {
    sessionId: stored.sessionId,
    initiatorId: stored.initiatorId,
    media: stored.media,
    participants: stored.participants.map(({ userId, state }) => ({ userId, state })),
    startedAt: stored.startedAt,
    expiresAt: stored.expiresAt,
  };
}
