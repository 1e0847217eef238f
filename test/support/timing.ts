import { setTimeout as sleep } from 'node:timers/promises';

/** How a promise settled and how long it took. */
export interface Settled<T> {
  status: 'fulfilled' | 'rejected';
  value?: T;
  reason?: unknown;
  elapsed: number;
}

/**
 * Waits for `promise` at most `bound` ms; throws when it is still pending then (a hang).
 * For "does not hang" assertions only, with generous bounds: never for speed.
 */
export async function settleWithin<T>(promise: Promise<T>, bound: number): Promise<Settled<T>> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${bound} ms`)), bound);
  });
  try {
    const value = await Promise.race([promise, hang]);
    return { status: 'fulfilled', value, elapsed: Date.now() - started };
  } catch (reason) {
    if (reason instanceof Error && reason.message === `still pending after ${bound} ms`) {
      throw reason;
    }
    return { status: 'rejected', reason, elapsed: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** Retries `attempt` every `interval` ms until it resolves truthy or `timeout` passes. */
export async function eventually(
  attempt: () => Promise<boolean> | boolean,
  timeout: number,
  interval = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    try {
      if (await attempt()) return true;
    } catch {
      // not yet
    }
    await sleep(interval);
  }
  return false;
}
