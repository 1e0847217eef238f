import { measureInChild, type HeapDelta } from '../lib/heap';
import type { ResultRow } from '../lib/report';
import type { SuiteContext } from '../lib/suite';
import { median } from '../lib/timing';

export const name = 'l1-memory';
export const title = 'L1 memory: 100k online-status records';
export const description =
  'Bytes per entry that each in-memory structure takes to hold 100k online-status records ' +
  '(`{ userId, online, status, devices, lastSeenAt }` under a 16-character key), each ' +
  'measured in its own child process (`--expose-gc`): heap and ArrayBuffer growth from ' +
  'before the structure is created to after it is filled, after full collections. The ' +
  "structure is counted with the records it keeps: the caller's objects for Map and " +
  'lru-cache, the copies L1 keeps for ImCacheService (it stores a frozen copy so callers ' +
  "cannot change each other's reads), serialized strings for bentocache. " +
  'The target compares with a Map of records built in code, whose short strings are shared ' +
  'constants; the row "records parsed from JSON" shows the same Map when the records come ' +
  'off the wire, as they do in production. ' +
  'An IM node keeps presence and routes of its connected users in L1, so this decides how ' +
  'many users a node can cache.';

const SCENARIO = 'L1 memory, 100k records';
const COUNT = 100_000;

const SUBJECTS = [
  { child: 'ours', subject: 'ImCacheService L1 (lru driver, defaults)', ours: true },
  { child: 'map', subject: 'plain Map', versus: { atMost: 1.3 } },
  { child: 'map-parsed', subject: 'plain Map, records parsed from JSON' },
  { child: 'lru-cache', subject: 'raw lru-cache ({ max })' },
  { child: 'bentocache', subject: 'bentocache memory driver (defaults)' },
] as const;

export async function run(context: SuiteContext): Promise<ResultRow[]> {
  const repeats = context.quick ? 1 : 3;
  const rows: ResultRow[] = [];

  for (const entry of SUBJECTS) {
    const samples: HeapDelta[] = [];
    for (let r = 0; r < repeats; r++) {
      context.log(`${entry.child}: child ${r + 1} of ${repeats}`);
      samples.push(await measureInChild('l1-memory', [entry.child, String(COUNT)]));
    }
    if (samples.some((sample) => sample.entries !== COUNT)) {
      throw new Error(
        `${entry.child} holds ${samples.map((s) => s.entries)} entries, not ${COUNT}`,
      );
    }

    const total = median(samples.map((s) => (s.heapBytes + s.arrayBufferBytes) / s.entries));
    const heap = median(samples.map((s) => s.heapBytes / s.entries));
    const buffers = median(samples.map((s) => s.arrayBufferBytes / s.entries));
    const totals = samples.map((s) => (s.heapBytes + s.arrayBufferBytes) / s.entries);
    rows.push({
      scenario: SCENARIO,
      subject: entry.subject,
      value: total,
      unit: 'B/entry',
      spread: (Math.max(...totals) - Math.min(...totals)) / 2 / total,
      ...('ours' in entry ? { ours: true } : {}),
      ...('versus' in entry ? { versus: entry.versus } : {}),
      note: `${heap.toFixed(0)} B heap + ${buffers.toFixed(0)} B ArrayBuffers per entry`,
    });
  }
  return rows;
}
