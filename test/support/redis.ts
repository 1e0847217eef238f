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

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
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
  const port = await freePort();
  let child = await launch(port, extraArgs);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    stop: () => terminate(child),
    restart: async () => {
      child = await launch(port, extraArgs);
    },
  };
}

async function launch(port: number, extraArgs: string[]): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn('redis-server', [...args, ...extraArgs], { stdio: 'ignore' });
  children.add(child);
  const failed = once(child, 'error');
  for (let i = 0; i < 100; i++) {
    const ok = await Promise.race([ping(port, true), failed.then(() => 'error' as const)]);
    if (ok === 'error') throw new Error('redis-server could not be started');
    if (ok) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on port ${port} within 5 s`);
}

async function terminate(child: ChildProcess): Promise<void> {
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
