/**
 * Data shared by the suites: the record every scenario stores and the random access pattern
 * every subject of a scenario replays, so that no subject gets an easier workload.
 */

/** The online-status record of one user, the most common small value of an IM backend. */
export interface OnlineStatusRecord {
  userId: string;
  online: boolean;
  status: 'online' | 'away' | 'busy' | 'invisible';
  devices: string[];
  lastSeenAt: number;
}

const STATUSES = ['online', 'away', 'busy', 'invisible'] as const;
const DEVICE_SETS = [['ios'], ['ios', 'web'], ['android'], ['android', 'desktop', 'web']];

/** The record of user number `i`; deterministic, so every subject stores the same values. */
export function onlineStatusRecord(i: number): OnlineStatusRecord {
  return {
    userId: `u${100_000_000 + i}`,
    online: i % 3 !== 0,
    status: STATUSES[i % STATUSES.length],
    devices: [...DEVICE_SETS[i % DEVICE_SETS.length]],
    lastSeenAt: 1_700_000_000_000 + i * 1000,
  };
}

/** The cache key of user number `i` (without any namespace or prefix). */
export function userKey(i: number): string {
  return `status:${100_000_000 + i}`;
}

/** `count` keys built with {@link userKey}. */
export function userKeys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => userKey(i));
}

/**
 * A power-of-two long array of indexes in `[0, range)`, from a seeded generator so every run
 * and every subject replays the same sequence. Index it with `i & (length - 1)`.
 */
export function randomIndexes(range: number, length = 1 << 20, seed = 42): Uint32Array {
  if ((length & (length - 1)) !== 0) throw new Error('length must be a power of two');
  const indexes = new Uint32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    // xorshift32: fast, good enough to spread reads over the whole key set.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    indexes[i] = state % range;
  }
  return indexes;
}

/**
 * Runs `task` over `items` with at most `limit` promises pending at once. The first failure
 * stops the workers from starting new tasks; it is thrown once every pending task settled,
 * so a caller closing its clients afterwards closes them for good.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        await task(items[index], index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}

/**
 * Calls `write` until it succeeds, at most `attempts` times: data set-up on a loaded machine
 * can see a Redis reply take longer than a client's timeout, which is not what a suite
 * measures.
 */
export async function retrying<T>(write: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/** Waits for every promise, then throws the first failure if any (unlike `Promise.all`). */
export async function settleAll(promises: readonly Promise<unknown>[]): Promise<void> {
  const outcomes = await Promise.allSettled(promises);
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
}

/**
 * `howMany` sets of `size` distinct random indexes below `range`, drawn from the seeded
 * sequence of {@link randomIndexes}: the same batches for every subject of a run.
 */
export function randomBatches(
  range: number,
  howMany: number,
  size: number,
  seed: number,
): Uint32Array[] {
  const stream = randomIndexes(range, 1 << 20, seed);
  const batches: Uint32Array[] = [];
  let cursor = 0;
  for (let b = 0; b < howMany; b++) {
    const picked = new Set<number>();
    while (picked.size < size) picked.add(stream[cursor++ & (stream.length - 1)]);
    batches.push(Uint32Array.from(picked));
  }
  return batches;
}
