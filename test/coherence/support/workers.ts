import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { CacheModuleOptions, CacheStats } from '../../../src';

/** An application instance running in another process (see `cache-worker.ts`). */
export interface Worker {
  /** The instance id its invalidation bus uses (undefined when coherence is off). */
  instanceId: string | undefined;
  process: ChildProcess;
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>;
  stats(): Promise<CacheStats>;
  /** Closes the application (`app.close()`) and waits for the process to exit. */
  close(): Promise<void>;
}

const WORKER = join(__dirname, 'cache-worker.js');
const running = new Set<ChildProcess>();
process.on('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/** Starts a worker process with `options` (JSON only: no logger, clock or driver instances). */
export async function startWorker(options: CacheModuleOptions): Promise<Worker> {
  const child = fork(WORKER, [JSON.stringify(options)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  running.add(child);
  child.on('exit', () => running.delete(child));

  const [hello] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(() => [{ ready: false, error: 'worker exited' }]),
  ])) as [{ ready: boolean; instanceId?: string; error?: string }];
  if (!hello.ready) throw new Error(`worker did not start: ${hello.error}`);

  let next = 0;
  const waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  child.on('message', (reply: { id?: number; ok: boolean; result?: unknown; error?: any }) => {
    const pending = reply.id === undefined ? undefined : waiting.get(reply.id);
    if (!pending) return;
    waiting.delete(reply.id as number);
    if (reply.ok) pending.resolve(reply.result);
    else pending.reject(Object.assign(new Error(reply.error.message), reply.error));
  });
  child.on('exit', (code) => {
    for (const pending of waiting.values()) pending.reject(new Error(`worker exited (${code})`));
    waiting.clear();
  });

  const call = <T>(op: string, ...args: unknown[]) =>
    new Promise<T>((resolve, reject) => {
      const id = ++next;
      waiting.set(id, { resolve, reject });
      child.send({ id, op, args });
    });

  return {
    instanceId: hello.instanceId,
    process: child,
    call,
    stats: () => call<CacheStats>('stats'),
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      await call('close').catch(() => undefined);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Polls `check` until it returns true; fails after `timeout` ms (a bound, not a speed). */
export async function eventually(
  check: () => Promise<boolean>,
  timeout: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Waits until every instance received every message the others published so far, so the
 * next step starts from a settled state.
 */
export async function quiesce(workers: readonly Worker[], timeout = 5000): Promise<void> {
  await Promise.all(workers.map((worker) => worker.call('flush')));
  await eventually(
    async () => {
      const stats = await Promise.all(workers.map((worker) => worker.stats()));
      const published = stats.reduce((sum, s) => sum + (s.coherence?.published ?? 0), 0);
      return stats.every((s) => s.coherence!.received === published - s.coherence!.published);
    },
    timeout,
    'every message to be received',
  );
}
