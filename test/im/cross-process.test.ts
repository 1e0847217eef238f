import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import type { ImCacheService, PresenceChange, Route } from '../../src';
import { startCache, type TestCache } from '../support/app';
import { testRedisUrl, uniqueNamespace } from '../support/redis';
import { deleteKeys, globEscape, openRawRedis } from '../support/redis-client';
import { ChangeLog } from './support/fixture';

/** The presence worker process (workers/presence-worker.ts) and what it printed. */
class Worker {
  readonly changes: PresenceChange[] = [];
  readonly #child: ChildProcess;
  readonly #waiting = new Map<string, (message: any) => void>();
  #next = 0;

  constructor(config: object) {
    this.#child = spawn(process.execPath, [join(__dirname, 'workers', 'presence-worker.js')], {
      env: { ...process.env, IM_WORKER: JSON.stringify(config) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: this.#child.stdout! }).on('line', (line) => this.#receive(line));
  }

  ready(): Promise<unknown> {
    return new Promise((resolve) => this.#waiting.set('ready', resolve));
  }

  run(command: object): Promise<any> {
    const id = String(this.#next++);
    const done = new Promise((resolve) => this.#waiting.set(id, resolve));
    this.#child.stdin!.write(`${JSON.stringify({ ...command, id })}\n`);
    return done;
  }

  /** Resolves once the worker heard a change of `userId`. */
  heard(userId: string): Promise<void> {
    return new Promise((resolve) => {
      const check = () =>
        this.changes.some((c) => c.userId === userId) ? resolve() : setTimeout(check, 10);
      check();
    });
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = once(this.#child, 'exit');
    this.#child.stdin!.write(`${JSON.stringify({ cmd: 'exit' })}\n`);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  #receive(line: string): void {
    let message: any;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (message.event === 'failed') throw new Error(`presence worker failed: ${message.message}`);
    if (message.event === 'change') this.changes.push(message.change);
    const key = message.event === 'done' ? message.id : message.event;
    this.#waiting.get(key)?.(message);
    this.#waiting.delete(key);
  }
}

const route = (userId: string, connectionId: string, serverId = 'gw-a'): Route => ({
  userId,
  deviceId: 'phone',
  serverId,
  connectionId,
});

describe('presence changes across processes', () => {
  const namespace = uniqueNamespace('im-xproc');
  let url: string;
  let app: TestCache;
  let cache: ImCacheService;
  let log: ChangeLog;
  let worker: Worker;

  before(async () => {
    url = await testRedisUrl();
    app = await startCache({
      namespace,
      distributed: { driver: 'redis', url, commandTimeout: '5s' },
      coherence: false,
    });
    cache = app.cache;
    log = await ChangeLog.of(cache);
    worker = new Worker({ redisUrl: url, namespace });
    await worker.ready();
  });

  after(async () => {
    await worker.stop();
    await app.close();
    const raw = await openRawRedis(url);
    await deleteKeys(raw, `${globEscape(namespace)}:*`);
    await raw.close();
  });

  /** Waits until both processes heard every change made so far. */
  async function settle(): Promise<void> {
    const marker = `marker-${Math.random().toString(36).slice(2)}`;
    await worker.run({ cmd: 'bind', route: route(marker, 'c') });
    await worker.heard(marker);
    await log.settle(cache);
  }

  it('a change made in one process reaches the other once, and its own once', async () => {
    await cache.routes.bind(route('u1', 'c1'));
    await worker.run({ cmd: 'setStatus', userId: 'u1', status: 'busy' });
    await worker.run({ cmd: 'bind', route: route('u2', 'c2', 'gw-b') });
    await cache.routes.unbind(route('u1', 'c1'));
    await settle();

    const summary = (changes: PresenceChange[]) =>
      changes
        .filter((c) => c.userId === 'u1' || c.userId === 'u2')
        .map((c) => `${c.type}:${c.userId}:${c.status}`);
    const expected = [
      'online:u1:online',
      'status:u1:busy',
      'online:u2:online',
      'offline:u1:offline',
    ];
    assert.deepEqual(summary(log.changes), expected);
    assert.deepEqual(summary(worker.changes), expected);
  });

  it('of concurrent binds of one device from both processes, one replaces the other', async () => {
    const here = Array.from({ length: 4 }, (_, i) => route('u3', `here-${i}`, 'gw-a'));
    const there = Array.from({ length: 4 }, (_, i) => route('u3', `there-${i}`, 'gw-b'));
    const results = await Promise.all([
      ...here.map((r) => cache.routes.bind(r)),
      ...there.map((r) =>
        worker.run({ cmd: 'bind', route: r }).then((m) => m.result as Route | null),
      ),
    ]);
    assert.equal(results.filter((r) => r === null).length, 1, 'one bind came first');
    const replaced = results.filter((r): r is Route => r !== null).map((r) => r.connectionId);
    assert.equal(new Set(replaced).size, 7);
    const [survivor] = await cache.routes.get('u3');
    assert.ok(!replaced.includes(survivor.connectionId));

    await settle();
    assert.equal(log.of('u3').length, 1, 'online once here');
    assert.equal(worker.changes.filter((c) => c.userId === 'u3').length, 1, 'and once there');
  });
});
