import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect } from 'node:net';

/**
 * Finds a Redis for the tests: `REDIS_URL`, else 127.0.0.1:6379, else a `redis-server`
 * started on a free port for this process. Fails with a message saying how to get one.
 */
let shared: Promise<string> | undefined;

export function testRedisUrl(): Promise<string> {
  shared ??= findRedis();
  return shared;
}

async function findRedis(): Promise<string> {
  if (process.env.REDIS_URL) return process.env.REDIS_URL;
  if (await ping(6379)) return 'redis://127.0.0.1:6379';
  try {
    const server = await startRedisServer();
    return server.url;
  } catch (cause) {
    throw new Error(
      'No Redis for the tests: set REDIS_URL, start redis-server on 127.0.0.1:6379, or ' +
        'install it (apt-get install redis-server) so the tests can start their own.',
      { cause },
    );
  }
}

/**
 * Resolves true when a Redis answers PING on 127.0.0.1:`port` within 500 ms. With
 * `authRequired`, a server that answers "authentication required" counts as up too (a
 * server started with `--requirepass`).
 */
export function ping(port: number, authRequired = false): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      const reply = data.toString();
      done(reply.startsWith('+PONG') || (authRequired && reply.startsWith('-NOAUTH')));
    });
  });
}

/**
 * A free TCP port on 127.0.0.1. With `busOffset`, the port that many numbers higher must be
 * free and valid too (Redis Cluster listens on its port + 10000 for the cluster bus).
 */
export async function freePort(busOffset = 0): Promise<number> {
  for (;;) {
    const port = await bindAny();
    if (busOffset === 0) return port;
    if (port + busOffset <= 65535 && (await isFree(port + busOffset))) return port;
  }
}

async function bindAny(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A `redis-server` this test process owns: stop, pause (SIGSTOP) and resume it at will. */
export interface RedisServer {
  url: string;
  port: number;
  /** Freezes the server: connections stay open, nothing answers. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
  /** Starts it again on the same port after `stop()`. */
  restart(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));

/** Starts a throwaway `redis-server` (no persistence) and waits until it answers. */
export async function startRedisServer(extraArgs: string[] = []): Promise<RedisServer> {
  const busOffset = extraArgs.includes('--cluster-enabled') ? 10000 : 0;
  const { port, child } = await onFreePort(busOffset, (port, mayRetry) =>
    launch(port, extraArgs, mayRetry),
  );
  let current = child;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pause: () => current.kill('SIGSTOP'),
    resume: () => current.kill('SIGCONT'),
    stop: () => terminate(current),
    restart: async () => {
      current = await relaunch(port, extraArgs);
    },
  };
}

/**
 * Runs `start` on a free port (see {@link freePort} for `busOffset`) until it gives a
 * process. Another process can take the port between freePort() and the server's bind:
 * `start` resolves `undefined` for a server that exited before answering, and is tried
 * again on a new port, its last try told `mayRetry = false`.
 */
export async function onFreePort(
  busOffset: number,
  start: (port: number, mayRetry: boolean) => Promise<ChildProcess | undefined>,
): Promise<{ port: number; child: ChildProcess }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(busOffset);
    const child = await start(port, attempt < LAUNCH_ATTEMPTS);
    if (child !== undefined) return { port, child };
  }
}

/** How many tries a server start gets before its failure is reported. */
const LAUNCH_ATTEMPTS = 5;
/** How long a starting server may take to answer: generous, the CI machine is shared. */
const LAUNCH_DEADLINE_MS = 30_000;

/** Starts the server again on its own port; a bind that fails at once is tried again. */
async function relaunch(port: number, extraArgs: string[]): Promise<ChildProcess> {
  for (let attempt = 1; ; attempt++) {
    const child = await launch(port, extraArgs, attempt < LAUNCH_ATTEMPTS);
    if (child) return child;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function launch(
  port: number,
  extraArgs: string[],
  mayRetry: boolean,
): Promise<ChildProcess | undefined> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  return spawnRedis(port, [...args, ...extraArgs], mayRetry);
}

/**
 * Spawns `redis-server` with `args` (which make it listen on `port`) and resolves once it
 * answers PING. Resolves `undefined` when the server exits before answering and `mayRetry`
 * is set; otherwise that exit is an error quoting what the server printed. The process is
 * killed when the test process exits.
 */
export async function spawnRedis(
  port: number,
  args: string[],
  mayRetry: boolean,
): Promise<ChildProcess | undefined> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  const collect = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2000));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const failed = once(child, 'error').then(() => 'error' as const);
  const exited = once(child, 'exit').then(() => 'exit' as const);
  const deadline = Date.now() + LAUNCH_DEADLINE_MS;
  while (Date.now() < deadline) {
    const outcome = await Promise.race([ping(port, true), failed, exited]);
    if (outcome === true) return quiet(child);
    if (outcome === 'error') throw new Error('redis-server could not be started (is it on PATH?)');
    if (outcome === 'exit') {
      children.delete(child);
      if (mayRetry) return undefined;
      throw new Error(`redis-server on port ${port} exited at start: ${lastLine(output)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on port ${port} within ${LAUNCH_DEADLINE_MS} ms`);
}

/** Stops reading a started server's output (it is only kept to explain a failed start). */
function quiet(child: ChildProcess): ChildProcess {
  child.stdout?.removeAllListeners('data').resume();
  child.stderr?.removeAllListeners('data').resume();
  return child;
}

function lastLine(output: string): string {
  const lines = output.trim().split('\n');
  return lines[lines.length - 1] || '(it printed nothing)';
}

/** Kills a process started by {@link spawnRedis} (a paused one too) and awaits its exit. */
export async function terminate(child: ChildProcess): Promise<void> {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGCONT');
  child.kill('SIGKILL');
  await once(child, 'exit');
}

/** A namespace no other test uses, so test files can share one Redis. */
export function uniqueNamespace(label = 't'): string {
  return `${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
