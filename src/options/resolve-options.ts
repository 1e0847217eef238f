import { Logger, type LoggerService } from '@nestjs/common';
import {
  resolveCoherenceOptions,
  type ResolvedCoherenceOptions,
} from '../coherence/coherence-options';
import { resolveImOptions, type ResolvedImOptions } from '../im/im-options';
import { InvalidOptionError } from '../errors';
import type {
  DistributedCache,
  DistributedCacheClass,
} from '../distributed/distributed-cache.interface';
import type { LocalCache, LocalCacheClass } from '../local/local-cache.interface';
import type {
  CacheModuleOptions,
  DistributedCacheOptions,
  DistributedDriverName,
  ExistenceFilter,
  LocalDriverName,
} from './cache-options.interface';
import { toMilliseconds } from './duration';

/** Options after defaults and validation: durations in milliseconds, drivers decided. */
export interface ResolvedCacheOptions {
  namespace: string;
  /** `namespace + ':'`, prepended to every L2 key. */
  keyPrefix: string;
  ttl: number;
  negativeTtl: number;
  jitter: number;
  local: ResolvedLocalOptions;
  distributed: ResolvedDistributedOptions;
  logger: LoggerService;
  now: () => number;
  coherence: ResolvedCoherenceOptions;
  /** The IM repositories (`im`). */
  im: ResolvedImOptions;
  lock: ResolvedLockOptions | false;
  failSafe: { grace: number; backoff: number };
  loaderTimeout: { soft: number; hard: number };
  breaker: { failures: number; openFor: number } | false;
  refreshAhead: number;
  existenceFilter: ExistenceFilter | undefined;
}

export interface ResolvedLockOptions {
  lease: number;
  wait: number;
  onTimeout: 'load' | 'error';
}

export interface ResolvedLocalOptions {
  driver: LocalDriverName | LocalCacheClass | LocalCache;
  maxEntries: number;
  maxBytes: number;
  ttl: number;
}

export interface ResolvedDistributedOptions extends DistributedCacheOptions {
  driver: DistributedDriverName | DistributedCacheClass | DistributedCache;
  commandTimeout: number;
  connectTimeout: number;
  batchSize: number;
  coalesceReads: boolean;
  offlineQueue: boolean;
  maxEntries: number;
}

const LOCAL_DRIVERS: readonly string[] = ['lru', 'none'];
// What the service calls on a driver instance: every required method of the interface.
const LOCAL_METHODS = ['get', 'set', 'delete', 'getStale', 'remainingTtl', 'clear'];
const DISTRIBUTED_METHODS = ['get', 'getMany', 'set', 'add', 'delete'];
const DISTRIBUTED_DRIVERS: readonly string[] = ['redis', 'memory', 'keyv', 'none'];
// prettier-ignore
const TOP_LEVEL_KEYS = new Set([
  'namespace', 'ttl', 'negativeTtl', 'jitter', 'local', 'distributed', 'logger', 'now',
  'isGlobal', 'lock', 'failSafe', 'loaderTimeout', 'breaker', 'refreshAhead', 'existenceFilter',
  'coherence', 'im',
]);
const LOCAL_KEYS = new Set(['driver', 'maxEntries', 'maxBytes', 'ttl']);
const NAMESPACE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Applies defaults and validates every option, so a mistake surfaces when the module starts
 * rather than on the first cache call.
 *
 * @throws InvalidOptionError naming the option at fault
 */
export function resolveOptions(raw: CacheModuleOptions = {}): ResolvedCacheOptions {
  if (typeof raw !== 'object' || raw === null) {
    throw new InvalidOptionError('options', 'expected an object');
  }
  rejectUnknownKeys(raw, TOP_LEVEL_KEYS, '');

  const namespace = raw.namespace ?? 'im';
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
    throw new InvalidOptionError(
      'namespace',
      `expected 1 to 64 letters, digits, '_', '.' or '-'; got ${JSON.stringify(namespace)}`,
    );
  }

  const distributed = resolveDistributed(raw.distributed ?? {});
  return {
    namespace,
    keyPrefix: `${namespace}:`,
    ttl: positiveDuration(raw.ttl ?? '5m', 'ttl'),
    negativeTtl: positiveDuration(raw.negativeTtl ?? '30s', 'negativeTtl'),
    jitter: fraction(raw.jitter ?? 0.1, 'jitter'),
    local: resolveLocal(raw.local ?? {}),
    distributed,
    logger: raw.logger ?? new Logger('ImCache'),
    now: checkFunction(raw.now ?? Date.now, 'now'),
    coherence: resolveCoherenceOptions(raw.coherence, namespace, distributed.driver),
    im: resolveImOptions(raw.im),
    ...resolveProtections(raw),
  };
}

type ProtectionOptions = Pick<
  ResolvedCacheOptions,
  'lock' | 'failSafe' | 'loaderTimeout' | 'breaker' | 'refreshAhead' | 'existenceFilter'
>;

/** The protection groups: lock, fail-safe, loader timeouts, breaker, refresh-ahead, filter. */
function resolveProtections(raw: CacheModuleOptions): ProtectionOptions {
  const failSafe = group(raw.failSafe ?? {}, 'failSafe', ['grace', 'backoff']) || {};
  const timeout = group(raw.loaderTimeout ?? {}, 'loaderTimeout', ['soft', 'hard']) || {};
  const filter = raw.existenceFilter;
  if (filter !== undefined) checkFunction(filter, 'existenceFilter');

  return {
    lock: resolveLock(raw.lock),
    failSafe: {
      grace: toMilliseconds(failSafe.grace ?? 0, 'failSafe.grace'),
      backoff: toMilliseconds(failSafe.backoff ?? '5s', 'failSafe.backoff'),
    },
    loaderTimeout: {
      soft: toMilliseconds(timeout.soft ?? 0, 'loaderTimeout.soft'),
      hard: toMilliseconds(timeout.hard ?? 0, 'loaderTimeout.hard'),
    },
    breaker: resolveBreaker(raw.breaker),
    refreshAhead: fraction(raw.refreshAhead ?? 0, 'refreshAhead'),
    existenceFilter: filter,
  };
}

function resolveLock(raw: CacheModuleOptions['lock']): ResolvedLockOptions | false {
  const lock = group(raw, 'lock', ['lease', 'wait', 'onTimeout']);
  if (lock === false) return false;

  const onTimeout = lock?.onTimeout ?? 'load';
  if (onTimeout !== 'load' && onTimeout !== 'error') {
    throw new InvalidOptionError('lock.onTimeout', `expected 'load' or 'error', got ${onTimeout}`);
  }
  return {
    lease: positiveDuration(lock?.lease ?? '10s', 'lock.lease'),
    wait: toMilliseconds(lock?.wait ?? '5s', 'lock.wait'),
    onTimeout,
  };
}

function resolveBreaker(raw: CacheModuleOptions['breaker']): ResolvedCacheOptions['breaker'] {
  const breaker = group(raw, 'breaker', ['failures', 'openFor']);
  if (breaker === false) return false;

  return {
    failures: positiveInteger(breaker?.failures ?? 5, 'breaker.failures', 1),
    openFor: positiveDuration(breaker?.openFor ?? '1s', 'breaker.openFor'),
  };
}

/** An option group given as an object (checked for unknown keys), `false`, or omitted. */
function group<T extends object>(value: T | false | undefined, option: string, keys: string[]) {
  if (value === false || value === undefined) return value;
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError(option, 'expected an object or false');
  }
  rejectUnknownKeys(value, new Set(keys), `${option}.`);
  return value;
}

function resolveLocal(raw: NonNullable<CacheModuleOptions['local']>): ResolvedLocalOptions {
  rejectUnknownKeys(raw, LOCAL_KEYS, 'local.');
  const driver = raw.driver ?? 'lru';
  checkDriver(driver, LOCAL_DRIVERS, 'local.driver', LOCAL_METHODS);

  return {
    driver,
    maxEntries: positiveInteger(raw.maxEntries ?? 100_000, 'local.maxEntries', 1),
    maxBytes: positiveInteger(raw.maxBytes ?? 64 * 1024 * 1024, 'local.maxBytes', 0),
    ttl: positiveDuration(raw.ttl ?? '1m', 'local.ttl'),
  };
}

function resolveDistributed(raw: DistributedCacheOptions): ResolvedDistributedOptions {
  if (typeof raw !== 'object' || raw === null) {
    throw new InvalidOptionError('distributed', 'expected an object');
  }
  const wantsRedis = raw.url !== undefined || raw.cluster !== undefined || raw.sentinel;
  const driver = raw.driver ?? (wantsRedis ? 'redis' : 'memory');
  checkDriver(driver, DISTRIBUTED_DRIVERS, 'distributed.driver', DISTRIBUTED_METHODS);

  const resolved: ResolvedDistributedOptions = {
    ...raw,
    driver,
    commandTimeout: positiveDuration(raw.commandTimeout ?? '1s', 'distributed.commandTimeout'),
    connectTimeout: positiveDuration(raw.connectTimeout ?? '5s', 'distributed.connectTimeout'),
    offlineQueue: raw.offlineQueue ?? false,
    batchSize: positiveInteger(raw.batchSize ?? 200, 'distributed.batchSize', 1),
    // Off on Cluster: a batch spans masters, and one master failing would fail all of it.
    coalesceReads: raw.coalesceReads ?? (driver === 'redis' && raw.cluster === undefined),
    maxEntries: positiveInteger(raw.maxEntries ?? 1_000_000, 'distributed.maxEntries', 1),
  };
  for (const flag of ['offlineQueue', 'coalesceReads'] as const) {
    if (typeof resolved[flag] !== 'boolean') {
      throw new InvalidOptionError(`distributed.${flag}`, 'expected true or false');
    }
  }
  if (driver === 'redis') checkRedisTarget(resolved);
  if (driver === 'redis' && resolved.tls !== undefined) checkTls(resolved);
  if (driver === 'keyv' && (typeof raw.store !== 'object' || raw.store === null)) {
    throw new InvalidOptionError(
      'distributed.store',
      "driver 'keyv' needs a Keyv instance or a Keyv store adapter, e.g. new KeyvRedis(url)",
    );
  }
  return resolved;
}

function checkRedisTarget(options: ResolvedDistributedOptions): void {
  if (options.cluster !== undefined) {
    checkUrlList(options.cluster?.nodes, 'distributed.cluster.nodes');
    return;
  }
  if (options.sentinel !== undefined) {
    if (typeof options.sentinel?.name !== 'string' || options.sentinel.name === '') {
      throw new InvalidOptionError('distributed.sentinel.name', 'expected the master name');
    }
    checkUrlList(options.sentinel.nodes, 'distributed.sentinel.nodes');
    return;
  }
  if (options.client === undefined) {
    options.url ??= 'redis://127.0.0.1:6379';
    checkRedisUrl(options.url, 'distributed.url');
  }
}

function checkTls(options: ResolvedDistributedOptions): void {
  if (typeof options.tls !== 'object' || options.tls === null) {
    throw new InvalidOptionError('distributed.tls', 'expected tls.connect() options, e.g. { ca }');
  }
  const url = options.cluster || options.sentinel || options.client ? undefined : options.url;
  if (url !== undefined && !url.startsWith('rediss://')) {
    throw new InvalidOptionError(
      'distributed.tls',
      `TLS settings need a rediss:// URL, but distributed.url starts with ` +
        JSON.stringify(url.slice(0, url.indexOf(':') + 3)),
    );
  }
}

function checkUrlList(nodes: unknown, option: string): void {
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new InvalidOptionError(option, 'expected a non-empty array of redis:// URLs');
  }
  nodes.forEach((url, i) => checkRedisUrl(url, `${option}[${i}]`));
}

/** Accepts `redis://` and `rediss://` URLs with an optional numeric database path. */
export function checkRedisUrl(url: unknown, option: string): void {
  const hint = "expected 'redis[s]://[[user][:password]@]host[:port][/database]'";
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch (cause) {
    throw new InvalidOptionError(option, `${hint}, got ${JSON.stringify(url)}`, { cause });
  }
  if (typeof url !== 'string' || !['redis:', 'rediss:'].includes(parsed.protocol)) {
    throw new InvalidOptionError(option, `${hint}, got ${JSON.stringify(url)}`);
  }
  if (parsed.hostname === '') throw new InvalidOptionError(option, `${hint}: the host is missing`);
  const database = parsed.pathname.replace(/^\//, '');
  if (database !== '' && !/^\d+$/.test(database)) {
    throw new InvalidOptionError(option, `the database must be a number, got "${database}"`);
  }
}

function checkDriver(driver: unknown, names: readonly string[], option: string, methods: string[]) {
  if (typeof driver === 'string') {
    if (names.includes(driver)) return;
    throw new InvalidOptionError(
      option,
      `unknown driver "${driver}"; valid drivers are ${names.map((n) => `'${n}'`).join(', ')}, ` +
        'or a class or instance implementing the driver interface',
    );
  }
  if (typeof driver === 'function') return;
  const candidate = driver as Record<string, unknown> | null;
  const missing = methods.filter((m) => typeof candidate?.[m] !== 'function');
  if (candidate === null || typeof candidate !== 'object' || missing.length > 0) {
    throw new InvalidOptionError(
      option,
      `a custom driver must implement ${methods.join(', ')}; missing ${missing.join(', ')}`,
    );
  }
}

function rejectUnknownKeys(raw: object, known: Set<string>, prefix: string): void {
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) {
      const valid = [...known].filter((k) => k !== 'isGlobal').join(', ');
      throw new InvalidOptionError(`${prefix}${key}`, `unknown option; valid ones are ${valid}`);
    }
  }
}

function positiveDuration(value: unknown, option: string): number {
  const ms = toMilliseconds(value as number | string, option);
  if (ms === 0) throw new InvalidOptionError(option, 'must be greater than 0');
  return ms;
}

function positiveInteger(value: unknown, option: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidOptionError(option, `expected an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/**
 * `value` when it is a fraction from 0 to below 1.
 *
 * @throws InvalidOptionError naming `option` otherwise
 */
export function fraction(value: unknown, option: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new InvalidOptionError(option, `expected a fraction from 0 to below 1, got ${value}`);
  }
  return value;
}

function checkFunction<T>(value: T, option: string): T {
  if (typeof value !== 'function') throw new InvalidOptionError(option, 'expected a function');
  return value;
}
