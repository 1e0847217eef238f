import { setTimeout as sleep } from 'node:timers/promises';
import type {
  CacheModuleOptions,
  DistributedCacheOptions,
  ImCacheService,
  PresenceChange,
} from '../../../src';
import { startCache, type TestCache } from '../../support/app';
import { ManualClock } from '../../support/clock';
import { testRedisUrl, uniqueNamespace } from '../../support/redis';
import { deleteKeys, globEscape, openRawRedis } from '../../support/redis-client';

/**
 * What a contract suite runs against: instances of `CacheModule` on one backend, sharing
 * their state (on Redis: one namespace), with a clock the test moves.
 *
 * Route leases and presence are judged by the module clock (`now`), so a `ManualClock`
 * drives them on both backends. Video sessions expire by the backend's own timer (Redis
 * `PX`), so on Redis their lease is short and real and `expireSessions` sleeps past it.
 */
export interface ImFixture {
  readonly backend: 'redis' | 'memory';
  readonly clock: ManualClock;
  readonly routeTtl: number;
  readonly sessionTtl: number;
  /** Starts an instance of the module; closed by `close()`. */
  instance(extra?: CacheModuleOptions): Promise<ImCacheService>;
  /** Lets every video session started so far expire. */
  expireSessions(): Promise<void>;
  close(): Promise<void>;
}

/** A backend the contract suites run on. */
export interface Backend {
  name: string;
  /** Whether two instances share state (Redis: yes; memory: each instance is alone). */
  shared: boolean;
  /** A fresh fixture: a new namespace, or a new process-local store. */
  create(): Promise<ImFixture>;
}

const ROUTE_TTL = 60_000;
/** How long {@link ChangeLog.settle} waits for stragglers after its marker. */
const QUIET_MS = 50;

async function memoryFixture(): Promise<ImFixture> {
  const clock = new ManualClock();
  const sessionTtl = 30_000;
  const apps: TestCache[] = [];
  return {
    backend: 'memory',
    clock,
    routeTtl: ROUTE_TTL,
    sessionTtl,
    async instance(extra) {
      const app = await startCache({
        distributed: { driver: 'memory' },
        now: clock.now,
        im: { routeTtl: ROUTE_TTL, sessionTtl },
        ...extra,
      });
      apps.push(app);
      return app.cache;
    },
    async expireSessions() {
      clock.advance(sessionTtl + 1);
    },
    async close() {
      await Promise.all(apps.map((app) => app.close()));
    },
  };
}

async function redisFixture(base?: CacheModuleOptions): Promise<ImFixture> {
  const url = await testRedisUrl();
  const distributed = { driver: 'redis' as const, url, commandTimeout: '5s' };
  const cleanUp = async (namespace: string) => {
    const raw = await openRawRedis(url);
    await deleteKeys(raw, `${globEscape(namespace)}:*`);
    await raw.close();
  };
  return redisFixtureOn(distributed, cleanUp, base);
}

/**
 * A Redis fixture on any Redis deployment (`distributed` options), calling `cleanUp` with
 * its namespace when it closes.
 */
export async function redisFixtureOn(
  distributed: DistributedCacheOptions,
  cleanUp: (namespace: string) => Promise<void>,
  base: CacheModuleOptions = { coherence: false },
): Promise<ImFixture> {
  const namespace = uniqueNamespace('im');
  const clock = new ManualClock();
  const sessionTtl = 400;
  const apps: TestCache[] = [];
  return {
    backend: 'redis',
    clock,
    routeTtl: ROUTE_TTL,
    sessionTtl,
    async instance(extra) {
      const app = await startCache({
        namespace,
        distributed,
        ...base,
        now: clock.now,
        im: { routeTtl: ROUTE_TTL, sessionTtl },
        ...extra,
      });
      apps.push(app);
      return app.cache;
    },
    async expireSessions() {
      await sleep(sessionTtl + 250);
    },
    async close() {
      await Promise.all(apps.map((app) => app.close()));
      await cleanUp(namespace);
    },
  };
}

/** The embedded `memory` driver. */
export const memoryBackend: Backend = { name: 'memory', shared: false, create: memoryFixture };

/** The `redis` driver on the test Redis, every read going to Redis (coherence off). */
export const redisBackend: Backend = { name: 'redis', shared: true, create: () => redisFixture() };

/**
 * The `redis` driver with the module's defaults: the invalidation bus on, so routes and
 * presence are read through the coherent L1 of user records.
 */
export const redisCoherentBackend: Backend = {
  name: 'redis with the coherent L1 (defaults)',
  shared: true,
  create: () => redisFixture({}),
};

/** Records the presence changes an instance receives. */
export class ChangeLog {
  readonly changes: PresenceChange[] = [];
  readonly #waiters: (() => void)[] = [];

  static async of(cache: ImCacheService): Promise<ChangeLog> {
    const log = new ChangeLog();
    const subscription = cache.onlineStatus.onChange((change) => log.#add(change));
    await subscription.ready;
    return log;
  }

  of(userId: string): PresenceChange[] {
    return this.changes.filter((c) => c.userId === userId);
  }

  /**
   * Waits until every change published so far has arrived: `cache` publishes a marker
   * change and this log waits for it. One Redis delivers in publishing order, so that is
   * enough there; on a Cluster, changes published by different masters may arrive in any
   * order, so the log also waits until no change arrived for {@link QUIET_MS}.
   */
  async settle(cache: ImCacheService): Promise<void> {
    const marker = `marker-${Math.random().toString(36).slice(2)}`;
    const seen = this.#until(() => this.changes.some((c) => c.userId === marker));
    await cache.routes.bind({ userId: marker, deviceId: 'd', serverId: 's', connectionId: 'c' });
    await Promise.race([
      seen,
      sleep(5000, undefined, { ref: false }).then(() => {
        throw new Error('the marker change did not arrive within 5 s');
      }),
    ]);
    for (let heard = -1; heard !== this.changes.length;) {
      heard = this.changes.length;
      await sleep(QUIET_MS);
    }
    this.changes.splice(
      this.changes.findIndex((c) => c.userId === marker),
      1,
    );
  }

  #add(change: PresenceChange): void {
    this.changes.push(change);
    this.#waiters.splice(0).forEach((wake) => wake());
  }

  async #until(done: () => boolean): Promise<void> {
    while (!done()) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}
