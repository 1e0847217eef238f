/**
 * One application instance in its own process, driven by the test over IPC. Started by
 * `startWorker()` with `fork()`; argv[2] is the JSON of the CacheModule options.
 *
 * Each request `{ id, op, args }` gets one reply `{ id, ok, result | error }`.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import {
  LOCAL_CACHE,
  OnlineStatusRepository,
  RouteRepository,
  type CacheModuleOptions,
  type LocalCache,
} from '../../../src';
import { INVALIDATION_BUS } from '../../../src/coherence/coherence.constants';
import { CoherentLocalCache } from '../../../src/coherence/coherent-local-cache';
import type { InvalidationBus } from '../../../src/coherence/invalidation-bus';
import { MemoryLogger, startCache } from '../../support/app';

interface Request {
  id: number;
  op: string;
  args: unknown[];
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as CacheModuleOptions;
  const logger = new MemoryLogger();
  const started = await startCache({ ...options, logger });
  const { cache, app } = started;
  const local = app.get<LocalCache>(LOCAL_CACHE);
  const raw = local instanceof CoherentLocalCache ? local.inner : local;
  const bus = app.get<InvalidationBus | null>(INVALIDATION_BUS);
  const routes = app.get(RouteRepository);
  const presence = app.get(OnlineStatusRepository);

  const ops: Record<string, (...args: any[]) => unknown> = {
    get: (key: string) => cache.get(key),
    getMany: (keys: string[]) => cache.getMany(keys),
    set: (key: string, value: unknown, ttl?: number) => cache.set(key, value, { ttl }),
    setMany: (entries: [string, unknown][]) =>
      Promise.all(entries.map(([key, value]) => cache.set(key, value))),
    delete: (keys: string | string[]) => cache.delete(keys),
    /** getOrLoad with a loader that returns `value`. */
    load: (key: string, value: unknown) => cache.getOrLoad(key, () => value),
    /** What L1 answers a read with (undefined while bypassed). */
    peek: (key: string) => local.get(key),
    /** What the L1 driver holds, bypass or not. */
    peekRaw: (key: string) => raw.get(key),
    peekRawMany: (keys: string[]) => keys.map((key) => raw.get(key)),
    stats: () => cache.stats(),
    bind: (route: never) => routes.bind(route),
    unbind: (ref: never) => routes.unbind(ref),
    renew: (refs: never[]) => routes.renew(refs),
    removeServer: (serverId: string) => routes.removeServer(serverId),
    routes: (userId: string) => routes.get(userId),
    groupByServer: (userIds: string[]) =>
      routes.groupByServer(userIds).then((groups) => Object.fromEntries(groups)),
    online: (userId: string) => presence.get(userId),
    setStatus: (userId: string, status: never) => presence.setStatus(userId, status),
    /** Reads the routes of `userId` every millisecond until they are `expected`. */
    waitForRoutes: (userId: string, expected: unknown, timeout: number) =>
      waitFor(() => routes.get(userId), expected, timeout),
    waitForOnline: (userId: string, expected: unknown, timeout: number) =>
      waitFor(() => presence.get(userId), expected, timeout),
    /** Waits until every invalidation of this instance's writes so far was published. */
    flush: () => bus?.flush(),
    logs: () => logger.lines,
    /** Reads `key` every millisecond until it equals `expected`; resolves the wait in ms. */
    waitFor: (key: string, expected: unknown, timeout: number) =>
      waitFor(() => cache.get(key), expected, timeout),
    close: async () => {
      await started.close();
      setImmediate(() => process.exit(0));
    },
  };

  process.on('message', (request: Request) => {
    Promise.resolve()
      .then(() => ops[request.op](...request.args))
      .then(
        (result) => process.send?.({ id: request.id, ok: true, result }),
        (error: Error & { code?: string }) =>
          process.send?.({
            id: request.id,
            ok: false,
            error: { name: error.name, message: error.message, code: error.code },
          }),
      );
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true, instanceId: cache.stats().coherence?.instanceId });
}

async function waitFor(read: () => Promise<unknown>, expected: unknown, timeout: number) {
  const start = performance.now();
  const wanted = JSON.stringify(expected);
  for (;;) {
    const value = await read();
    const elapsed = performance.now() - start;
    if (JSON.stringify(value) === wanted) return elapsed;
    if (elapsed > timeout) {
      throw new Error(`still ${JSON.stringify(value)} instead of ${wanted} after ${timeout}ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

main().catch((error: unknown) => {
  process.send?.({ ready: false, error: String(error) });
  process.exit(1);
});
