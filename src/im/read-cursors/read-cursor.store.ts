/**
 * Storage of read cursors: per user, one field per conversation (`s:<id>` for a single chat,
 * `g:<id>` for a group chat) holding the largest message ID read, as a canonical decimal
 * string. Arguments are validated and normalized by the repository.
 */
export interface ReadCursorStore {
  /** Moves the cursor to `messageId` if that is further; resolves the stored cursor. */
  markRead(userId: string, field: string, messageId: string, now: number): Promise<string>;

  /** The cursors of `fields`, in order (`null` where none); one round trip. */
  read(userId: string, fields: readonly string[]): Promise<(string | null)[]>;
}
