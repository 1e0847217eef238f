import { execFile } from 'node:child_process';
import { join } from 'node:path';

/**
 * Memory measurements, one subject per child process started with `--expose-gc`, so that
 * nothing one subject allocated (or a JIT artefact of it) is counted for another.
 *
 * Parent side: {@link measureInChild}. Child side: {@link reportHeapDelta}.
 */

/** What a child reports. */
export interface HeapDelta {
  /** Growth of the V8 heap (`heapUsed`) while the structure was built and filled. */
  heapBytes: number;
  /** Growth of memory held by ArrayBuffers (typed arrays live outside the V8 heap). */
  arrayBufferBytes: number;
  /** Number of entries the structure holds at the end. */
  entries: number;
}

/** Settles the heap: full collections with turns of the event loop in between. */
export async function settleHeap(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run the child with --expose-gc');
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function usage(): { heap: number; arrayBuffers: number } {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heap: heapUsed, arrayBuffers };
}

/**
 * Child side: measures what `build` leaves on the heap. `build` creates the structure and
 * fills it (so its own fixed cost, such as preallocated arrays, is counted too) and returns
 * it with its entry count; the structure stays referenced until the measurement is done.
 * Prints the {@link HeapDelta} as one JSON line on stdout.
 */
export async function reportHeapDelta(
  build: () => Promise<{ holder: unknown; entries: number }>,
): Promise<void> {
  await settleHeap();
  const before = usage();
  const { holder, entries } = await build();
  await settleHeap();
  const after = usage();

  const delta: HeapDelta = {
    heapBytes: after.heap - before.heap,
    arrayBufferBytes: after.arrayBuffers - before.arrayBuffers,
    entries,
  };
  process.stdout.write(JSON.stringify(delta) + '\n');
  // Referenced after the measurement so the collector could not reclaim it earlier.
  if (holder === undefined) process.exitCode = 2;
}

/**
 * Parent side: runs `bench/children/<child>.js <args...>` with `--expose-gc` and returns the
 * {@link HeapDelta} it printed.
 */
export function measureInChild(child: string, args: string[]): Promise<HeapDelta> {
  const script = join(__dirname, '..', 'children', `${child}.js`);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', script, ...args],
      { maxBuffer: 1 << 20, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${child} ${args.join(' ')} failed: ${stderr || error.message}`));
          return;
        }
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(line) as HeapDelta);
        } catch {
          reject(new Error(`${child} ${args.join(' ')} printed no result: ${stdout}${stderr}`));
        }
      },
    );
  });
}
