import { performance } from 'node:perf_hooks';

/**
 * Timing loops. Every measurement is: a warm-up (lets V8 optimise the path and fills pools),
 * then several rounds; a figure is the median of the rounds, and the spread (half the
 * interquartile range of the rounds, relative to the median) says how much the machine
 * moved underneath. Subjects compared in one scenario run their rounds
 * interleaved (A B C, B C A, ...) so a burst of noise hits all of them, not one.
 */

/** How long to measure. */
export interface Timing {
  /** Untimed run of each subject before its rounds. */
  warmupMs: number;
  /** Length of one timed round. */
  roundMs: number;
  /** Timed rounds per subject; the median is reported. */
  rounds: number;
}

/** The timing of a full run: long enough for figures stable within a few percent. */
export const FULL_TIMING: Timing = { warmupMs: 1000, roundMs: 600, rounds: 15 };

/** The timing of `--quick`: for checking that a suite works, not for its figures. */
export const QUICK_TIMING: Timing = { warmupMs: 150, roundMs: 250, rounds: 3 };

/**
 * One operation. `i` counts the calls of this subject (it keeps growing across rounds), for
 * picking the next key from a pre-generated access pattern. A returned promise is awaited.
 */
export type Operation = (i: number) => unknown;

/** A subject of a throughput comparison. */
export interface Contender {
  subject: string;
  op: Operation;
  /** Requests kept in flight; 1 (the default) awaits each call before the next. */
  inFlight?: number;
}

/** The outcome of measuring one contender. */
export interface Throughput {
  subject: string;
  /** Median operations per second over the rounds. */
  opsPerSec: number;
  /** Operations per second of each round, in the order they ran. */
  rounds: number[];
  /** Half the interquartile range of the rounds relative to the median (0.05 = ±5%). */
  spread: number;
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Half the interquartile range of `values` relative to their median (0.05 = ±5%). */
export function spreadOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = median(sorted);
  if (mid === 0) return 0;
  const q1 = sorted[Math.floor((sorted.length - 1) / 4)];
  const q3 = sorted[Math.ceil(((sorted.length - 1) * 3) / 4)];
  return (q3 - q1) / 2 / mid;
}

/**
 * Calls `op` back to back, awaiting each call, until `durationMs` has passed. The clock is
 * read every 256 calls so that reading it costs nothing measurable.
 *
 * @returns the number of calls and the seconds they took
 */
export async function runSequential(
  op: Operation,
  durationMs: number,
  firstIndex = 0,
): Promise<{ ops: number; seconds: number }> {
  const start = performance.now();
  const end = start + durationMs;
  let i = firstIndex;
  let now = start;
  while (now < end) {
    for (let k = 0; k < 256; k++) await op(i++);
    now = performance.now();
  }
  return { ops: i - firstIndex, seconds: (now - start) / 1000 };
}

/**
 * Keeps `inFlight` calls of `op` pending at all times for `durationMs`: each worker starts a
 * new call as soon as its previous one settles, like a server handling that many concurrent
 * requests.
 *
 * @returns the number of calls completed and the seconds they took
 */
export async function runInFlight(
  op: Operation,
  inFlight: number,
  durationMs: number,
  firstIndex = 0,
): Promise<{ ops: number; seconds: number }> {
  const start = performance.now();
  const end = start + durationMs;
  let next = firstIndex;
  let done = 0;
  let stop = false;

  const worker = async () => {
    while (!stop) {
      await op(next++);
      done++;
      if ((done & 31) === 0 && performance.now() >= end) stop = true;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { ops: done, seconds: (performance.now() - start) / 1000 };
}

/**
 * Measures every contender with the same timing: each one warms up, then the rounds run
 * interleaved, the order rotating each round so no subject always runs first.
 */
export async function compareThroughput(
  contenders: readonly Contender[],
  timing: Timing,
): Promise<Throughput[]> {
  const counters = contenders.map(() => 0);
  const rounds = contenders.map(() => [] as number[]);

  const runOnce = async (index: number, durationMs: number) => {
    const { op, inFlight = 1 } = contenders[index];
    const outcome =
      inFlight > 1
        ? await runInFlight(op, inFlight, durationMs, counters[index])
        : await runSequential(op, durationMs, counters[index]);
    counters[index] += outcome.ops;
    return outcome.ops / outcome.seconds;
  };

  for (let c = 0; c < contenders.length; c++) await runOnce(c, timing.warmupMs);
  for (let r = 0; r < timing.rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = (r + k) % contenders.length;
      rounds[c].push(await runOnce(c, timing.roundMs));
    }
  }

  return contenders.map((contender, c) => ({
    subject: contender.subject,
    opsPerSec: median(rounds[c]),
    rounds: rounds[c],
    spread: spreadOf(rounds[c]),
  }));
}
