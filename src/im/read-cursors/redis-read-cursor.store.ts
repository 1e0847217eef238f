import type { ImKeys } from '../im-keys';
import type { RedisScriptRunner } from '../store/redis-script-runner';
import { MARK_READ } from './read-cursor.scripts';
import type { ReadCursorStore } from './read-cursor.store';

interface PendingMark {
  key: string;
  field: string;
  messageId: string;
  resolve(stored: string): void;
  reject(error: unknown): void;
}

/**
 * Calls batched into one script run at most (per hash slot on Cluster). A batch that
 * reaches it is sent at once, so Redis runs one batch while the next one fills.
 */
const BATCH_LIMIT = 32;

/**
 * Read cursors in Redis: one hash per user. `markRead` calls made in the same tick are
 * batched into script runs of up to {@link BATCH_LIMIT} calls (per hash slot on Cluster):
 * a gateway acknowledging many receipts at once pays one script call per batch instead of
 * one each. Each cursor still moves in its own atomic step, in call order, and every caller
 * gets its own stored value.
 */
export class RedisReadCursorStore implements ReadCursorStore {
  #pending: PendingMark[] = [];

  constructor(
    private readonly redis: RedisScriptRunner,
    private readonly keys: ImKeys,
    private readonly ttl: number,
  ) {}

  markRead(userId: string, field: string, messageId: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const key = this.keys.cursors(userId);
      const pending = this.#pending.push({ key, field, messageId, resolve, reject });
      if (pending === 1) queueMicrotask(() => this.#flush());
      else if (pending >= BATCH_LIMIT) this.#flush();
    });
  }

  read(userId: string, fields: readonly string[]): Promise<(string | null)[]> {
    if (fields.length === 0) return Promise.resolve([]);
    const key = this.keys.cursors(userId);
    return this.redis.send(key, ['HMGET', key, ...fields], true);
  }

  #flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    const keys = batch.map((mark) => mark.key);
    for (const group of this.redis.groups(keys, BATCH_LIMIT)) {
      this.#run(group.map((i) => batch[i]));
    }
  }

  #run(marks: PendingMark[]): void {
    const keys = new Array<string>(marks.length);
    const args = [String(this.ttl)];
    for (let i = 0; i < marks.length; i++) {
      keys[i] = marks[i].key;
      args.push(marks[i].field, marks[i].messageId);
    }
    this.redis.run<(string | 1)[]>(MARK_READ, keys, args).then(
      (stored) => marks.forEach((mark, i) => mark.resolve(kept(stored[i], mark.messageId))),
      (error) => marks.forEach((mark) => mark.reject(error)),
    );
  }
}

/** The cursor after a mark: its own ID when the script stored it (1), else the one kept. */
function kept(reply: string | 1, messageId: string): string {
  return reply === 1 ? messageId : reply;
}
