import { compareMessageIds } from './message-id';
import type { ReadCursorStore } from './read-cursor.store';

interface UserCursors {
  fields: Map<string, string>;
  expiresAt: number;
}

/** Read cursors inside one process, for the embedded `memory` driver. */
export class MemoryReadCursorStore implements ReadCursorStore {
  readonly #users = new Map<string, UserCursors>();

  constructor(
    private readonly ttl: number,
    private readonly clock: () => number,
  ) {}

  async markRead(userId: string, field: string, messageId: string, now: number): Promise<string> {
    let cursors = this.#cursors(userId, now);
    const current = cursors?.fields.get(field);
    if (current !== undefined && compareMessageIds(messageId, current) <= 0) return current;

    if (cursors === undefined) {
      cursors = { fields: new Map(), expiresAt: Infinity };
      this.#users.set(userId, cursors);
    }
    cursors.fields.set(field, messageId);
    if (this.ttl > 0) cursors.expiresAt = now + this.ttl;
    return messageId;
  }

  async read(userId: string, fields: readonly string[]): Promise<(string | null)[]> {
    const cursors = this.#cursors(userId, this.clock());
    return fields.map((field) => cursors?.fields.get(field) ?? null);
  }

  #cursors(userId: string, now: number): UserCursors | undefined {
    const cursors = this.#users.get(userId);
    if (cursors === undefined || cursors.expiresAt > now) return cursors;
    this.#users.delete(userId);
    return undefined;
  }
}
