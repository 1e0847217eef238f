import { InvalidOptionError } from '../errors';
import { toMilliseconds, type Duration } from '../options/duration';

/**
 * What an instance does with its L1 while it cannot hear the other instances' invalidations
 * (the bus connection is down, or has not been subscribed yet):
 *
 * - `'bypass'`: L1 answers no reads and takes no new entries, so every read goes to L2. The
 *   entries it holds are kept only as the stale fallback used when L2 itself fails. Nothing
 *   stale is served while L2 answers.
 * - `'clear'`: L1 is emptied when the outage is noticed and keeps working during it. A value
 *   changed by another instance during the outage can be served stale for at most
 *   `local.ttl`; L2 sees less traffic.
 *
 * In both modes L1 is emptied again as soon as the subscription is back.
 */
export type CoherenceDisconnectMode = 'bypass' | 'clear';

/** Options of the invalidation bus (`coherence`). */
export interface CoherenceOptions {
  /**
   * What L1 does while the bus is down; see {@link CoherenceDisconnectMode}.
   * @default 'bypass'
   */
  onDisconnect?: CoherenceDisconnectMode;
  /**
   * How often the instance sends itself a heartbeat through the bus. A heartbeat that was
   * published but not received within one interval means the subscription is silently gone
   * (a half-open connection): the bus is treated as down and its connection is reopened.
   * `false` disables heartbeats; socket errors are still noticed at once.
   * @default '1s'
   */
  heartbeat?: Duration | false;
  /**
   * Pub/sub channel of the invalidations. Pub/sub ignores the Redis database number, so
   * applications sharing a Redis server need different namespaces or channels.
   * @default '<namespace>:coherence'
   */
  channel?: string;
}

/** `coherence` after defaults and validation. */
export interface ResolvedCoherenceOptions {
  /**
   * `'auto'`: on when the L2 driver turns out to be Redis (decided when the module starts,
   * as a custom driver instance may be one).
   */
  enabled: boolean | 'auto';
  onDisconnect: CoherenceDisconnectMode;
  /** Milliseconds; 0 when heartbeats are off. */
  heartbeat: number;
  channel: string;
}

const KEYS = new Set(['onDisconnect', 'heartbeat', 'channel']);
const CHANNEL = /^[\x21-\x7e]{1,200}$/;

/**
 * Validates `coherence`: `false` turns the bus off, `true` or an object turns it on, absent
 * means on when L2 is Redis. The embedded `memory` and `none` drivers share nothing between
 * processes, so the bus is off with them whatever is asked.
 *
 * @throws InvalidOptionError naming the option at fault
 */
export function resolveCoherenceOptions(
  raw: boolean | CoherenceOptions | undefined,
  namespace: string,
  driver: unknown,
): ResolvedCoherenceOptions {
  const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
  if (raw !== undefined && typeof raw !== 'boolean' && !isObject) {
    throw new InvalidOptionError('coherence', 'expected true, false or an options object');
  }
  const given: CoherenceOptions = isObject ? raw : {};
  checkKeys(given);

  return {
    enabled: decideEnabled(raw, driver),
    onDisconnect: disconnectMode(given.onDisconnect ?? 'bypass'),
    heartbeat: heartbeat(given.heartbeat ?? '1s'),
    channel: channel(given.channel ?? `${namespace}:coherence`),
  };
}

function decideEnabled(raw: unknown, driver: unknown): boolean | 'auto' {
  if (raw === false || driver === 'memory' || driver === 'none') return false;
  if (driver === 'keyv') {
    if (raw === undefined) return false;
    throw new InvalidOptionError(
      'coherence',
      "the invalidation bus needs Redis pub/sub; driver 'keyv' does not expose it. Use " +
        "distributed.driver 'redis', or set coherence: false and rely on local.ttl",
    );
  }
  if (driver === 'redis') return true;
  return raw === undefined ? 'auto' : true;
}

function checkKeys(given: object): void {
  for (const key of Object.keys(given)) {
    if (!KEYS.has(key)) {
      throw new InvalidOptionError(
        `coherence.${key}`,
        `unknown option; valid ones are ${[...KEYS].join(', ')}`,
      );
    }
  }
}

function disconnectMode(value: unknown): CoherenceDisconnectMode {
  if (value === 'bypass' || value === 'clear') return value;
  throw new InvalidOptionError(
    'coherence.onDisconnect',
    `expected 'bypass' or 'clear', got ${JSON.stringify(value)}`,
  );
}

function heartbeat(value: unknown): number {
  if (value === false) return 0;
  const ms = toMilliseconds(value as Duration, 'coherence.heartbeat');
  if (ms < 10) {
    throw new InvalidOptionError('coherence.heartbeat', 'must be at least 10ms, or false');
  }
  return ms;
}

function channel(value: unknown): string {
  if (typeof value === 'string' && CHANNEL.test(value)) return value;
  throw new InvalidOptionError(
    'coherence.channel',
    `expected 1 to 200 printable characters without spaces, got ${JSON.stringify(value)}`,
  );
}
