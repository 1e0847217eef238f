import { Inject, Injectable } from '@nestjs/common';
import { RESOLVED_CACHE_OPTIONS } from '../../cache.constants';
import { InvalidArgumentError } from '../../errors';
import type { ResolvedCacheOptions } from '../../options/resolve-options';
import { checkId, checkIds, checkObject, checkOneOf } from '../ids';
import { IM_STORAGE, ImStorageHandle, storageStep } from '../store/im-storage.handle';
import type { VideoSessionStore } from './video-session.store';
import type { CallMedia, StartSessionInput, VideoSession } from './video-session.types';

const NAME = 'VideoSessionRepository';
const MEDIA: readonly CallMedia[] = ['audio', 'video'];

/**
 * Call state: who rings whom, who joined, audio or video, and a busy flag per user so a
 * user in a call cannot be rung into a second one.
 *
 * A session lives for `im.sessionTtl` unless kept alive (`keepAlive`, e.g. from the
 * initiator's client every third of it); when it expires its users are free again.
 *
 * @example
 * try {
 *   await calls.start({ sessionId, initiatorId: me, participantIds: [peer], media: 'video' });
 * } catch (error) {
 *   if (error instanceof UsersBusyError) return reply.busy(error.userIds);
 *   throw error;
 * }
 */
@Injectable()
export class VideoSessionRepository {
  readonly #options: ResolvedCacheOptions;

  constructor(
    @Inject(IM_STORAGE) private readonly storage: ImStorageHandle,
    @Inject(RESOLVED_CACHE_OPTIONS) options: ResolvedCacheOptions,
  ) {
    this.#options = options;
  }

  /**
   * Starts a call: the initiator `joined`, the others `invited`, every one of them marked
   * busy. The check and the claim are atomic: if any user is in another session, nobody is
   * claimed and the call fails naming the busy users. Of two concurrent calls sharing a
   * user, exactly one starts; of any number that overlap, at least one does (on Cluster,
   * more may fail than must: see docs/repositories.md).
   *
   * @throws UsersBusyError naming the busy users
   * @throws SessionExistsError when `sessionId` is taken
   * @throws InvalidArgumentError when an argument is malformed
   */
  async start(input: StartSessionInput): Promise<VideoSession> {
    const session = this.#newSession(input);
    const store = this.#store();
    await storageStep('videoSessions.start', `session "${session.sessionId}"`, () =>
      store.start(session),
    );
    return session;
  }

  /**
   * Marks a participant `joined` (answering, or rejoining after leaving, which claims their
   * busy flag again).
   *
   * @throws SessionNotFoundError, NotInSessionError, UsersBusyError (rejoining while busy)
   */
  async join(sessionId: string, userId: string): Promise<VideoSession> {
    checkId(sessionId, 'sessionId');
    checkId(userId, 'userId');
    const store = this.#store();
    return storageStep('videoSessions.join', `session "${sessionId}"`, () =>
      store.join(sessionId, userId, this.#options.now()),
    );
  }

  /**
   * Marks a participant `left` (hanging up, or declining while `invited`) and frees their
   * busy flag. When nobody invited or joined is left, the session ends: resolves `null`.
   *
   * @throws SessionNotFoundError, NotInSessionError
   */
  async leave(sessionId: string, userId: string): Promise<VideoSession | null> {
    checkId(sessionId, 'sessionId');
    checkId(userId, 'userId');
    const store = this.#store();
    return storageStep('videoSessions.leave', `session "${sessionId}"`, () =>
      store.leave(sessionId, userId, this.#options.now()),
    );
  }

  /** Ends a call and frees all its users. Resolves the ended session, or `null` if none. */
  async end(sessionId: string): Promise<VideoSession | null> {
    checkId(sessionId, 'sessionId');
    const store = this.#store();
    return storageStep('videoSessions.end', `session "${sessionId}"`, () => store.end(sessionId));
  }

  /** A session, or `null` when it does not exist (never started, ended or expired). */
  async get(sessionId: string): Promise<VideoSession | null> {
    checkId(sessionId, 'sessionId');
    const store = this.#store();
    return storageStep('videoSessions.get', `session "${sessionId}"`, () => store.get(sessionId));
  }

  /** The session a user is busy in (invited or joined), or `null`. */
  async getByUser(userId: string): Promise<VideoSession | null> {
    checkId(userId, 'userId');
    const store = this.#store();
    return storageStep('videoSessions.getByUser', `user "${userId}"`, async () => {
      const sessionId = await store.sessionOf(userId);
      return sessionId === null ? null : store.get(sessionId);
    });
  }

  /**
   * Extends the session, and the busy flags of its users, by `im.sessionTtl` from now.
   *
   * @throws SessionNotFoundError when it already ended or expired
   */
  async keepAlive(sessionId: string): Promise<VideoSession> {
    checkId(sessionId, 'sessionId');
    const store = this.#store();
    return storageStep('videoSessions.keepAlive', `session "${sessionId}"`, () =>
      store.keepAlive(sessionId, this.#options.now()),
    );
  }

  #newSession(input: StartSessionInput): VideoSession {
    const given = checkObject(input, 'input');
    const sessionId = checkId(given.sessionId, 'input.sessionId');
    const initiatorId = checkId(given.initiatorId, 'input.initiatorId');
    const invited = [...new Set(checkIds(given.participantIds, 'input.participantIds'))].filter(
      (userId) => userId !== initiatorId,
    );
    if (invited.length === 0) {
      throw new InvalidArgumentError(
        'input.participantIds',
        'a call needs at least one participant besides the initiator',
      );
    }
    const now = this.#options.now();

    return {
      sessionId,
      initiatorId,
      media: checkOneOf(given.media, MEDIA, 'input.media'),
      participants: [
        { userId: initiatorId, state: 'joined' },
        ...invited.map((userId) => ({ userId, state: 'invited' as const })),
      ],
      startedAt: now,
      expiresAt: now + this.#options.im.sessionTtl,
    };
  }

  #store(): VideoSessionStore {
    return this.storage.get(NAME).sessions;
  }
}
