import { createClient } from '@keyv/redis';

const createRawClient = (url: string) => createClient({ url });

/** A plain node-redis client, for looking at what the module wrote. */
export type RawRedis = ReturnType<typeof createRawClient>;

/** Opens a plain node-redis client on `url` (no module settings), for checks and cleanup. */
export async function openRawRedis(url: string): Promise<RawRedis> {
  const client = createRawClient(url);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** The keys matching `pattern` (a Redis glob), found with SCAN. */
export async function scanKeys(client: RawRedis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: pattern, COUNT: 1000 })) {
    keys.push(...batch);
  }
  return keys;
}

/** Deletes the keys matching `pattern`; resolves how many there were. */
export async function deleteKeys(client: RawRedis, pattern: string): Promise<number> {
  const keys = await scanKeys(client, pattern);
  for (let i = 0; i < keys.length; i += 500) await client.unlink(keys.slice(i, i + 500));
  return keys.length;
}

/** Escapes Redis glob characters so a literal prefix can be used in a SCAN pattern. */
export function globEscape(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * Calls of `command` (lower case: `'mget'`) the server has run so far, from
 * `INFO commandstats`; the difference around some work counts the commands it sent.
 */
export async function commandCalls(client: RawRedis, command: string): Promise<number> {
  const info = await client.info('commandstats');
  const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
  return match === null ? 0 : Number(match[1]);
}
