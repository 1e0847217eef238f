import { deepStrictEqual } from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { Redis } from 'ioredis';
import { RouteRepository } from '../../src';
import { forEachLimited, randomIndexes } from '../lib/data';
import { createCacheManagerTwoTier } from '../lib/peers';
import { openRawRedis } from '../lib/redis';
import type { ResultRow } from '../lib/report';
import { startImCache } from '../lib/subject';
import type { SuiteContext } from '../lib/suite';
import { compareThroughput, median } from '../lib/timing';

const ROUNDS = 50;
const PEER_WITHOUT_BUS_ROUNDS = 5;
const WARMUP_ROUNDS = 5;
const TIMEOUT = 2500;
const TTL = 10 * 60_000;
const HOT_USERS = 10_000;

export const name = 'coherence';
export const title = 'Coherence: propagation lag between instances, routes from L1';
export const description =
  'Propagation lag: two processes per subject on one Redis, a writer and a reader whose ' +
  'in-memory tier holds the old value (the reader wrote it). The reader reads the key every ' +
  'millisecond (an awaited get, then a 1 ms timer); the writer overwrites it. The lag runs ' +
  'from the start of the write to the first read returning the new value, on one clock ' +
  '(both processes run on this machine); a fresh key per round, after 5 unmeasured ones. ' +
  'A subject that never ' +
  'propagates is cut off after the timeout and shown as "stale" (its memory tier serves the ' +
  'old value until its TTL). Hot routes: ' +
  `${HOT_USERS} users with 1 to 3 devices each, bound through RouteRepository; an awaited ` +
  'routes.get of a random one of them (its record unchanged, so answered by the coherent ' +
  'L1) against the baseline a team would write by hand: the same routes as one Redis hash ' +
  'per user, read with an awaited node-redis HGETALL.';

type SubjectName = 'ours' | 'bentocache' | 'cache-manager';

/** What a worker process runs: one instance of one subject. */
interface Instance {
  get(key: string): Promise<unknown>;
  set(key: string, value: string): Promise<unknown>;
  close(): Promise<void>;
}

interface WorkerSettings {
  subject: SubjectName;
  url: string;
  prefix: string;
}

interface Round {
  lag: number | undefined;
}

export async function run(context: SuiteContext): Promise<ResultRow[]> {
  const rounds = context.quick ? 10 : ROUNDS;
  const settings = { url: context.redisUrl, prefix: context.prefix };
  const subjects: [SubjectName, string, number][] = [
    ['ours', 'ImCacheService (coherence bus)', rounds],
    ['bentocache', 'bentocache two-tier + Redis bus', rounds],
    ['cache-manager', 'cache-manager 7 two-tier', context.quick ? 2 : PEER_WITHOUT_BUS_ROUNDS],
  ];

  const rows: ResultRow[] = [];
  for (const [subject, label, count] of subjects) {
    context.log(`${label}: ${count} rounds`);
    // A peer without a bus never propagates: warming it up would only wait for timeouts.
    const warmup = subject === 'cache-manager' ? 0 : WARMUP_ROUNDS;
    const results = await measure({ subject, ...settings }, count, warmup);
    rows.push(...summarize(subject, label, results));
  }
  rows.push(...(await hotRoutes(context)));
  return rows;
}

/** `routes.get` of unchanged users (coherent L1) against HGETALL of the same routes. */
async function hotRoutes(context: SuiteContext): Promise<ResultRow[]> {
  const count = context.quick ? 2000 : HOT_USERS;
  const users = Array.from({ length: count }, (_, i) => `user-${i}`);
  const routesOf = (i: number) =>
    Array.from({ length: 1 + (i % 3) }, (_, d) => ({
      userId: users[i],
      deviceId: `device-${d}`,
      serverId: `gateway-${(i + d) % 16}`,
      connectionId: `conn-${i}-${d}`,
    }));
  const hashKey = (i: number) => `${context.prefix}.hash:routes:${users[i]}`;

  const ours = await startImCache({
    namespace: `${context.prefix}.routes`,
    distributed: { driver: 'redis', url: context.redisUrl },
    im: { routeTtl: TTL },
  });
  const repository = ours.app.get(RouteRepository);
  const raw = await openRawRedis(context.redisUrl);
  try {
    context.log(`binding the routes of ${count} users`);
    await forEachLimited(users, 128, async (_, i) => {
      const routes = routesOf(i);
      for (const route of routes) await repository.bind(route);
      const fields: Record<string, string> = {};
      for (const r of routes) fields[r.deviceId] = `${r.serverId}|${r.connectionId}`;
      await raw.hSet(hashKey(i), fields);
    });
    await checkRoutes(repository, raw, hashKey, routesOf, count);
    // Hot: every user was looked up once already (one getMany per 500 users).
    for (let i = 0; i < count; i += 500) await repository.getMany(users.slice(i, i + 500));

    const order = randomIndexes(count);
    const mask = order.length - 1;
    const [mine, hgetall] = await compareThroughput(
      [
        { subject: 'RouteRepository.get (L1)', op: (i) => repository.get(users[order[i & mask]]) },
        { subject: 'raw node-redis HGETALL', op: (i) => raw.hGetAll(hashKey(order[i & mask])) },
      ],
      context.timing,
    );
    const scenario = `hot routes.get, ${count} users, random reads`;
    return [
      {
        scenario,
        subject: mine.subject,
        value: mine.opsPerSec,
        unit: 'ops/s',
        spread: mine.spread,
        ours: true,
      },
      {
        scenario,
        subject: hgetall.subject,
        value: hgetall.opsPerSec,
        unit: 'ops/s',
        spread: hgetall.spread,
        versus: { atLeast: 4 },
      },
    ];
  } finally {
    await raw.close();
    await ours.close();
  }
}

/** Both subjects must answer the same routes: a broken subject must not look fast. */
async function checkRoutes(
  repository: RouteRepository,
  raw: Awaited<ReturnType<typeof openRawRedis>>,
  hashKey: (i: number) => string,
  routesOf: (i: number) => { deviceId: string; serverId: string; connectionId: string }[],
  count: number,
): Promise<void> {
  for (const i of [0, count >> 1, count - 1]) {
    const expected = routesOf(i);
    deepStrictEqual(await repository.get(`user-${i}`), expected);
    const hash = await raw.hGetAll(hashKey(i));
    deepStrictEqual(Object.keys(hash).length, expected.length);
  }
}

async function measure(
  settings: WorkerSettings,
  rounds: number,
  warmupRounds: number,
): Promise<Round[]> {
  const [writer, reader] = await Promise.all([startWorker(settings), startWorker(settings)]);
  const results: Round[] = [];
  try {
    // Unmeasured rounds first, as every timing of the harness has a warm-up: the first calls
    // of a path run before V8 has optimised it.
    for (let round = 0; round < warmupRounds; round++) {
      await measureRound(writer, reader, `warm:${round}`);
    }
    for (let round = 0; round < rounds; round++) {
      results.push(await measureRound(writer, reader, `lag:${round}`));
    }
    return results;
  } finally {
    await Promise.all([writer.close(), reader.close()]);
  }
}

/**
 * One round: the reader stores the old value; once the bus is quiet, it starts polling and
 * the writer overwrites the value.
 */
async function measureRound(writer: WorkerHandle, reader: WorkerHandle, key: string) {
  // The reader writes the old value itself: every subject then holds it in its memory tier
  // (cache-manager does not copy an L2 hit into its memory tier).
  await reader.call('set', key, 'old');
  await sleep(20);
  const held = await reader.call('get', key);
  if (held !== 'old') throw new Error(`the reader read ${String(held)} instead of old`);

  const watching = reader.call<{ seenAt?: number; stale?: unknown }>('watch', key, 'new', TIMEOUT);
  await sleep(5);
  const writtenAt = await writer.call<number>('timedSet', key, 'new');
  const seen = await watching;
  return { lag: seen.seenAt === undefined ? undefined : Math.max(0, seen.seenAt - writtenAt) };
}

/** Median and worst lag; a stale round counts as the timeout (a lower bound of its lag). */
function summarize(subject: SubjectName, label: string, rounds: Round[]): ResultRow[] {
  const lags = rounds.map((round) => round.lag ?? TIMEOUT);
  const stale = rounds.filter((round) => round.lag === undefined).length;
  const scenario = 'propagation lag, writer and reader in two processes';
  const note =
    stale > 0
      ? `stale beyond ${TIMEOUT} ms in ${stale} of ${rounds.length} rounds`
      : `${rounds.length} rounds`;
  const ours = subject === 'ours';

  return [
    {
      scenario: `${scenario}: median`,
      subject: label,
      value: median(lags),
      unit: 'ms',
      note,
      ...(ours ? { ours: true, target: { atMost: 2 } } : {}),
    },
    {
      scenario: `${scenario}: worst`,
      subject: label,
      value: Math.max(...lags),
      unit: 'ms',
      note,
      ...(ours ? { ours: true, target: { atMost: 20 } } : {}),
    },
  ];
}

// ---- the worker side: one process, one instance of one subject, driven over IPC ----

interface WorkerHandle {
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>;
  close(): Promise<void>;
}

async function startWorker(settings: WorkerSettings): Promise<WorkerHandle> {
  const child: ChildProcess = fork(__filename, ['--coherence-worker', JSON.stringify(settings)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const [hello] = (await once(child, 'message')) as [{ ready: boolean; error?: string }];
  if (!hello.ready) throw new Error(`${settings.subject} worker did not start: ${hello.error}`);

  let next = 0;
  const waiting = new Map<number, { resolve(value: unknown): void; reject(e: Error): void }>();
  child.on('message', (reply: { id: number; ok: boolean; result?: unknown; error?: string }) => {
    const pending = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (reply.ok) pending?.resolve(reply.result);
    else pending?.reject(new Error(reply.error));
  });

  const call = <T>(op: string, ...args: unknown[]) =>
    new Promise<T>((resolve, reject) => {
      const id = ++next;
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, op, args });
    });

  return {
    call,
    close: async () => {
      const exited = once(child, 'exit');
      await call('close').catch(() => undefined);
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

async function openInstance(settings: WorkerSettings): Promise<Instance> {
  if (settings.subject === 'ours') {
    const started = await startImCache({
      namespace: `${settings.prefix}.ours`,
      ttl: TTL,
      local: { ttl: TTL },
      distributed: { driver: 'redis', url: settings.url },
    });
    return {
      get: (key) => started.cache.get(key),
      set: (key, value) => started.cache.set(key, value),
      close: () => started.close(),
    };
  }

  if (settings.subject === 'cache-manager') {
    const peer = createCacheManagerTwoTier({
      url: settings.url,
      prefix: `${settings.prefix}.cm`,
      maxEntries: 10_000,
    });
    return {
      get: (key) => peer.cache.get(key),
      set: (key, value) => peer.cache.set(key, value, TTL),
      close: () => peer.close(),
    };
  }

  return openBento(settings);
}

/** bentocache as its docs show a tiered store with the Redis bus (@boringnode/bus). */
function openBento(settings: WorkerSettings): Instance {
  const { hostname, port } = new URL(settings.url);
  const target = { host: hostname, port: Number(port || 6379) };
  const connection = new Redis(target);
  const store = bentostore()
    .useL1Layer(memoryDriver({ maxItems: 10_000 }))
    .useL2Layer(redisDriver({ connection }))
    .useBus(redisBusDriver({ connection: target }));
  const bento = new BentoCache({
    default: 'tiered',
    prefix: `${settings.prefix}.bento`,
    stores: { tiered: store },
  });
  return {
    get: (key) => bento.get({ key }),
    set: (key, value) => bento.set({ key, value, ttl: TTL }),
    close: async () => {
      await bento.disconnectAll();
      connection.disconnect();
    },
  };
}

/** Reads `key` every millisecond until it is `expected`; when, on the shared clock. */
async function watch(instance: Instance, key: string, expected: string, timeout: number) {
  const start = performance.now();
  for (;;) {
    const value = await instance.get(key);
    if (value === expected) return { seenAt: wallClock() };
    if (performance.now() - start > timeout) return { stale: value };
    await sleep(1);
  }
}

/** Epoch milliseconds with sub-millisecond precision, comparable between processes. */
function wallClock(): number {
  return performance.timeOrigin + performance.now();
}

async function worker(settings: WorkerSettings): Promise<void> {
  const instance = await openInstance(settings);
  const ops: Record<string, (...args: any[]) => unknown> = {
    get: (key: string) => instance.get(key),
    set: (key: string, value: string) => instance.set(key, value),
    timedSet: async (key: string, value: string) => {
      const at = wallClock();
      await instance.set(key, value);
      return at;
    },
    watch: (key: string, expected: string, timeout: number) =>
      watch(instance, key, expected, timeout),
    close: async () => {
      await instance.close();
      setImmediate(() => process.exit(0));
    },
  };
  process.on('message', (request: { id: number; op: string; args: unknown[] }) => {
    Promise.resolve()
      .then(() => ops[request.op](...request.args))
      .then(
        (result) => process.send?.({ id: request.id, ok: true, result }),
        (error: unknown) => process.send?.({ id: request.id, ok: false, error: String(error) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true });
}

if (require.main === module && process.argv[2] === '--coherence-worker') {
  worker(JSON.parse(process.argv[3]) as WorkerSettings).catch((error: unknown) => {
    process.send?.({ ready: false, error: String(error) });
    process.exit(1);
  });
}
