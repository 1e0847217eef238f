/** What a call carries. */
export type CallMedia = 'audio' | 'video';

/** Where a participant stands: rung and not answered yet, in the call, or gone. */
export type ParticipantState = 'invited' | 'joined' | 'left';

/** One user of a video session. */
export interface SessionParticipant {
  userId: string;
  state: ParticipantState;
}

/** A call's state, as the repository returns it. */
export interface VideoSession {
  sessionId: string;
  initiatorId: string;
  media: CallMedia;
  /** The initiator first (`joined`), then the invited users in the order given. */
  participants: SessionParticipant[];
  /** Milliseconds since the epoch. */
  startedAt: number;
  /** When the session expires unless kept alive, in milliseconds since the epoch. */
  expiresAt: number;
}

/** What `VideoSessionRepository.start` takes. */
export interface StartSessionInput {
  /** Unique ID of the call, chosen by the caller. */
  sessionId: string;
  initiatorId: string;
  /** The users rung; the initiator is added (and ignored here if listed). */
  participantIds: readonly string[];
  media: CallMedia;
}
