/**
 * Where the IM repositories keep their data in Redis, all under `<namespace>:im:`, apart from
 * the generic cache keys (`<namespace>:c:`). The part in braces is the Redis Cluster hash
 * tag: every key of one user (presence record, busy flag, read cursors) hashes to the same
 * slot, so a script touching them never crosses slots. See docs/repositories.md.
 */
export class ImKeys {
  readonly #prefix: string;
  /** Pub/sub channel of presence changes. Pub/sub ignores the database number. */
  readonly presenceChannel: string;

  constructor(namespace: string) {
    this.#prefix = `${namespace}:im:`;
    this.presenceChannel = `${namespace}:im:presence`;
  }

  /** String: the user's presence record (status, last seen, device bindings). */
  user(userId: string): string {
    return `${this.#prefix}u:{${userId}}`;
  }

  /** String: the ID of the video session the user is in (the busy flag). */
  busy(userId: string): string {
    return `${this.#prefix}b:{${userId}}`;
  }

  /** Hash: the user's read cursors, field `s:<conversationId>` or `g:<conversationId>`. */
  cursors(userId: string): string {
    return `${this.#prefix}r:{${userId}}`;
  }

  /** Set: users that bound a device on the server (may hold stale members). */
  server(serverId: string): string {
    return `${this.#prefix}s:{${serverId}}`;
  }

  /** String: a video session as JSON. */
  session(sessionId: string): string {
    return `${this.#prefix}v:{${sessionId}}`;
  }
}
