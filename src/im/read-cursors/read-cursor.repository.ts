import { Inject, Injectable } from '@nestjs/common';
import { RESOLVED_CACHE_OPTIONS } from '../../cache.constants';
import type { ResolvedCacheOptions } from '../../options/resolve-options';
import { checkArray, checkId, checkObject, checkOneOf } from '../ids';
import {
  IM_STORAGE,
  ImStorageHandle,
  storageFailure,
  storageStep,
} from '../store/im-storage.handle';
import { normalizeMessageId, type MessageId } from './message-id';
import type { ReadCursorStore } from './read-cursor.store';

const NAME = 'ReadCursorRepository';

/** A 1:1 chat or a group chat. */
export type ChatType = 'single' | 'group';

const CHAT_TYPES: readonly ChatType[] = ['single', 'group'];

/** One conversation of a user. */
export interface ReadCursorTarget {
  chat: ChatType;
  conversationId: string;
}

/** One user's cursor in one conversation. */
export interface ReadCursorKey extends ReadCursorTarget {
  userId: string;
}

/** What `markRead` takes. */
export interface MarkReadInput extends ReadCursorKey {
  /** The message read: a decimal string, a bigint or a safe integer, 0 to 2^64 - 1. */
  messageId: MessageId;
}

/**
 * The largest message ID each user has read, per single chat and per group chat: the base
 * of unread counts and read receipts. IDs are 64-bit (snowflake) and handled exactly as
 * decimal strings; they never pass through a JavaScript number.
 *
 * @example
 * const cursor = await readCursors.markRead({
 *   userId, chat: 'group', conversationId: groupId, messageId: 1790000000000000001n,
 * });
 */
@Injectable()
export class ReadCursorRepository {
  readonly #now: () => number;

  constructor(
    @Inject(IM_STORAGE) private readonly storage: ImStorageHandle,
    @Inject(RESOLVED_CACHE_OPTIONS) options: ResolvedCacheOptions,
  ) {
    this.#now = options.now;
  }

  /**
   * Moves the cursor forward to `messageId`, never back: a lower or equal ID leaves it as
   * it is. Atomic under concurrent writers (several devices, several instances). Resolves
   * the stored cursor after the call, a canonical decimal string.
   *
   * @throws InvalidMessageIdError when the ID is not an integer from 0 to 2^64 - 1
   * @throws InvalidArgumentError when another argument is malformed
   */
  markRead(input: MarkReadInput): Promise<string> {
    // The hot path of read receipts: no async wrapper, one promise from the store.
    let userId: string;
    let stored: Promise<string>;
    try {
      const given = checkObject(input, 'input');
      userId = checkId(given.userId, 'input.userId');
      const field = fieldOf(given, 'input');
      const messageId = normalizeMessageId(given.messageId);
      stored = this.#store().markRead(userId, field, messageId, this.#now());
    } catch (error) {
      return Promise.reject(error);
    }
    return stored.catch((cause) => {
      throw storageFailure('readCursors.markRead', `user "${userId}"`, cause);
    });
  }

  /** The cursor of one conversation, or `null` when nothing was marked read. */
  async get(key: ReadCursorKey): Promise<string | null> {
    const given = checkObject(key, 'key');
    const userId = checkId(given.userId, 'key.userId');
    const [cursor] = await this.#read(userId, [fieldOf(given, 'key')]);
    return cursor;
  }

  /**
   * The cursors of a user's conversations, in the order given (`null` where nothing was
   * marked read); one round trip.
   */
  async getMany(userId: string, targets: readonly ReadCursorTarget[]): Promise<(string | null)[]> {
    checkId(userId, 'userId');
    checkArray(targets, 'targets');
    const fields = targets.map((target, i) =>
      fieldOf(checkObject(target, `targets[${i}]`), `targets[${i}]`),
    );
    return this.#read(userId, fields);
  }

  #read(userId: string, fields: string[]): Promise<(string | null)[]> {
    const store = this.#store();
    return storageStep('readCursors.get', `user "${userId}"`, () => store.read(userId, fields));
  }

  #store(): ReadCursorStore {
    return this.storage.get(NAME).cursors;
  }
}

/** The hash field of a conversation: `s:<id>` or `g:<id>`. */
function fieldOf(given: Record<string, unknown>, argument: string): string {
  const chat = checkOneOf(given.chat, CHAT_TYPES, `${argument}.chat`);
  const conversationId = checkId(given.conversationId, `${argument}.conversationId`);
  return (chat === 'single' ? 's:' : 'g:') + conversationId;
}
