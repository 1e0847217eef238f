import { createClient } from '@keyv/redis';

/** The node-redis client type the benchmarks use for raw baselines and cleanup. */
export type RawRedisClient = Awaited<ReturnType<typeof openRawRedis>>;

/** Where the benchmarks find Redis: `REDIS_URL`, else the default local server. */
export function benchRedisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/**
 * A plain node-redis client with default settings, as an application would open one: the
 * baseline the module's own Redis path is compared with.
 */
export async function openRawRedis(url = benchRedisUrl()) {
  const client = createClient({ url });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (cause) {
    throw new Error(`No Redis at ${url}: start redis-server on 127.0.0.1:6379 or set REDIS_URL`, {
      cause,
    });
  }
  return client;
}

/** Deletes every key starting with `prefix` (SCAN + UNLINK), so a run leaves nothing behind. */
export async function deleteByPrefix(client: RawRedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    const keys = (Array.isArray(batch) ? batch : [batch]) as string[];
    if (keys.length > 0) deleted += await client.unlink(keys);
  }
  return deleted;
}

/** The version of the Redis server, from `INFO server`. */
export async function redisVersion(client: RawRedisClient): Promise<string> {
  const info = await client.info('server');
  return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
}
