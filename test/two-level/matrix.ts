import { after } from 'node:test';
import {
  DISTRIBUTED_CACHE,
  LOCAL_CACHE,
  type CacheModuleOptions,
  type DistributedCache,
  type LocalCache,
} from '../../src';
import { startCache, type TestCache } from '../support/app';
import { deleteKeys, globEscape, openRawRedis, type RawRedis } from '../support/redis-client';
import { testRedisUrl, uniqueNamespace } from '../support/redis';

/** One cell of the L1 x L2 matrix the service tests run over. */
export interface Combo {
  local: 'lru' | 'none';
  distributed: 'memory' | 'redis';
  label: string;
}

/** lru and none in front of memory and Redis. */
export const COMBOS: readonly Combo[] = (['lru', 'none'] as const).flatMap((local) =>
  (['memory', 'redis'] as const).map((distributed) => ({
    local,
    distributed,
    label: `L1 ${local} / L2 ${distributed}`,
  })),
);

/** A started module with its drivers at hand. */
export interface ComboCache extends TestCache {
  namespace: string;
  l1: LocalCache;
  l2: DistributedCache;
  /** The L2 key of a caller's key: `<namespace>:c:<key>`. */
  l2Key(key: string): string;
}

const namespaces: string[] = [];
let raw: Promise<RawRedis> | undefined;

/** A plain client on the test Redis, closed (after cleanup) when the file's tests end. */
export function rawRedis(): Promise<RawRedis> {
  raw ??= testRedisUrl().then(openRawRedis);
  return raw;
}

after(async () => {
  if (raw === undefined) return;
  const client = await raw;
  for (const namespace of namespaces) await deleteKeys(client, `${globEscape(namespace)}:*`);
  await client.close();
});

/**
 * Starts `CacheModule.forRoot()` for a combo under a fresh namespace (unless `extra` names
 * one). Redis namespaces are deleted when the file's tests end.
 */
export async function startCombo(
  combo: Combo,
  extra: CacheModuleOptions = {},
): Promise<ComboCache> {
  const namespace = extra.namespace ?? uniqueNamespace(`svc-${combo.local}-${combo.distributed}`);
  const distributed =
    combo.distributed === 'redis'
      ? { driver: 'redis' as const, url: await testRedisUrl(), commandTimeout: '5s' }
      : { driver: 'memory' as const };
  if (combo.distributed === 'redis') namespaces.push(namespace);

  const started = await startCache({
    ...extra,
    namespace,
    local: { driver: combo.local, ...extra.local },
    distributed: { ...distributed, ...extra.distributed },
  });
  return {
    ...started,
    namespace,
    l1: started.app.get<LocalCache>(LOCAL_CACHE),
    l2: started.app.get<DistributedCache>(DISTRIBUTED_CACHE),
    l2Key: (key) => `${namespace}:c:${key}`,
  };
}

/**
 * A second module (another "instance" of the app) sharing the L2 of `first`: the same
 * Redis and namespace, or the very same memory driver handed over as an instance.
 */
export async function startPeer(
  combo: Combo,
  first: ComboCache,
  extra: CacheModuleOptions = {},
): Promise<ComboCache> {
  const shared = combo.distributed === 'memory' ? { distributed: { driver: first.l2 } } : {};
  return startCombo(combo, { ...extra, ...shared, namespace: first.namespace });
}

/** Parses the expiry out of an L2 entry (`<expiresAt>|<json>`). */
export function expiryOfEntry(entry: string | null | undefined): number {
  const match = /^(\d+)\|/.exec(entry ?? '');
  if (!match) throw new Error(`not an entry of this module: ${String(entry)}`);
  return Number(match[1]);
}
