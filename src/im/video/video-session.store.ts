import type { VideoSession } from './video-session.types';

/**
 * Storage of video sessions and of the busy flag of each user in one. Arguments are
 * validated by the repository; failures are the repository's typed errors.
 */
export interface VideoSessionStore {
  /**
   * Creates `session` and claims the busy flag of each participant, all or none.
   *
   * @throws SessionExistsError, UsersBusyError
   */
  start(session: VideoSession): Promise<void>;

  get(sessionId: string): Promise<VideoSession | null>;

  /** The session whose busy flag the user holds, or `null`. */
  sessionOf(userId: string): Promise<string | null>;

  /**
   * Marks a participant `joined`, claiming the user's busy flag again if they had left.
   *
   * @throws SessionNotFoundError, NotInSessionError, UsersBusyError
   */
  join(sessionId: string, userId: string, now: number): Promise<VideoSession>;

  /**
   * Marks a participant `left` and frees their busy flag; the session ends when nobody
   * invited or joined is left. Resolves the session, or `null` when it ended.
   *
   * @throws SessionNotFoundError, NotInSessionError
   */
  leave(sessionId: string, userId: string, now: number): Promise<VideoSession | null>;

  /** Deletes the session and frees every participant; resolves it, or `null` if none. */
  end(sessionId: string): Promise<VideoSession | null>;

  /**
   * Extends the session and the busy flags of its active participants by the session TTL.
   *
   * @throws SessionNotFoundError
   */
  keepAlive(sessionId: string, now: number): Promise<VideoSession>;
}

/** Participants still in the call or still rung. */
export function activeUsers(session: VideoSession): string[] {
  return session.participants.filter((p) => p.state !== 'left').map((p) => p.userId);
}
