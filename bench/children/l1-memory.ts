import { onlineStatusRecord, userKey } from '../lib/data';
import { reportHeapDelta } from '../lib/heap';
import { createBentoMemoryOnly, createRawLru } from '../lib/peers';
import { startImCache } from '../lib/subject';

/**
 * `node --expose-gc l1-memory.js <subject> <count>`: builds one in-memory structure holding
 * `count` online-status records and prints its heap growth (see lib/heap.ts).
 */

type Builder = (count: number) => Promise<{ holder: unknown; entries: number }>;

const builders: Record<string, Builder> = {
  map: async (count) => {
    const map = new Map<string, object>();
    for (let i = 0; i < count; i++) map.set(userKey(i), onlineStatusRecord(i));
    return { holder: map, entries: map.size };
  },

  // The same records as they arrive from Redis or a database driver: parsed from JSON, so
  // their short strings ('online', 'ios') are separate copies, as in L1.
  'map-parsed': async (count) => {
    const map = new Map<string, object>();
    for (let i = 0; i < count; i++) {
      map.set(userKey(i), JSON.parse(JSON.stringify(onlineStatusRecord(i))) as object);
    }
    return { holder: map, entries: map.size };
  },

  'lru-cache': async (count) => {
    const lru = createRawLru<object>(count);
    for (let i = 0; i < count; i++) lru.set(userKey(i), onlineStatusRecord(i));
    return { holder: lru, entries: lru.size };
  },

  bentocache: async (count) => {
    const bento = createBentoMemoryOnly(count);
    for (let i = 0; i < count; i++) {
      await bento.set({ key: userKey(i), value: onlineStatusRecord(i), ttl: '30m' });
    }
    const last = await bento.get({ key: userKey(count - 1) });
    return { holder: bento, entries: last === undefined ? 0 : count };
  },

  ours: async (count) => {
    // The module's defaults (LRU L1 of 100k entries and 64 MiB, jitter) with no L2, so only
    // L1 holds the records.
    const started = await startImCache({
      local: count > 100_000 ? { maxEntries: count } : {},
      distributed: { driver: 'none' },
    });
    for (let i = 0; i < count; i++) await started.cache.set(userKey(i), onlineStatusRecord(i));
    return { holder: started, entries: started.cache.stats().l1.size };
  },
};

async function main(): Promise<void> {
  const [subject, countText] = process.argv.slice(2);
  const build = builders[subject];
  if (build === undefined) {
    throw new Error(`unknown subject ${subject}; expected ${Object.keys(builders).join(', ')}`);
  }
  const count = Number(countText);
  if (!Number.isInteger(count) || count <= 0) throw new Error(`bad count ${countText}`);

  // Load and exercise the code once, so lazily compiled code is not counted as data.
  const warm = await build(1_000);
  if (subject === 'ours') await (warm.holder as { close(): Promise<void> }).close();

  await reportHeapDelta(() => build(count));
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
