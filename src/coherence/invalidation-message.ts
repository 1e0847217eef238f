/**
 * The wire format of the invalidation bus. A message names keys and the write that changed
 * them, never a value: receivers drop their copies and read L2 again when they need them.
 *
 * `{"o":"<origin>","s":<seq>,"t":<at>,"k":{"<scope>":["<key>",...],...},"x":["<scope>"]}`
 *
 * - `o`: the publishing instance, so it can skip its own messages;
 * - `s`: the publisher's message counter, which grows with every message it sends;
 * - `t`: the publisher's wall clock (milliseconds) when it sent the message, for logs and
 *   lag measurements only (clocks of different hosts are never compared);
 * - `k`: the keys per scope: a scope is one key space held in L1, e.g. the generic cache;
 * - `x` (optional): scopes changed too widely to list, whose copies are all dropped (e.g.
 *   every route of a gateway node that died).
 */

/** Which write an invalidation comes from: its origin and the origin's message counter. */
export interface WriteStamp {
  origin: string;
  seq: number;
}

/** A decoded invalidation message. */
export interface InvalidationMessage extends WriteStamp {
  /** Publisher's wall clock in milliseconds when sent. */
  at: number;
  /** Keys per scope. */
  keys: Record<string, string[]>;
  /** Scopes whose every copy is dropped. */
  cleared?: string[];
}

/** Encodes a message; `keys` must hold at least one key. */
export function encodeInvalidation(message: InvalidationMessage): string {
  const { origin: o, seq: s, at: t, keys: k, cleared: x } = message;
  return JSON.stringify(x === undefined ? { o, s, t, k } : { o, s, t, k, x });
}

/**
 * Decodes a message, or returns `undefined` when `raw` is not one (another program writing to
 * the channel): a malformed message is skipped, never thrown.
 */
export function decodeInvalidation(raw: string): InvalidationMessage | undefined {
  let parsed: { o?: unknown; s?: unknown; t?: unknown; k?: unknown; x?: unknown };
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;

  const { o, s, t, k, x } = parsed;
  if (typeof o !== 'string' || typeof s !== 'number' || typeof t !== 'number') return undefined;
  if (typeof k !== 'object' || k === null || Array.isArray(k)) return undefined;
  for (const keys of Object.values(k)) {
    if (!isStringArray(keys)) return undefined;
  }
  if (x !== undefined && !isStringArray(x)) return undefined;

  const keys = k as Record<string, string[]>;
  const message: InvalidationMessage = { origin: o, seq: s, at: t, keys };
  if (x !== undefined) message.cleared = x as string[];
  return message;
}

function isStringArray(value: unknown): boolean {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
