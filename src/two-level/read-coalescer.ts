import type { DistributedCache } from '../distributed/distributed-cache.interface';

type Raw = string | null | undefined;

/** The reads queued in one turn: their keys and the one request that will answer them. */
class PendingBatch {
  readonly keys: string[] = [];
  readonly values: Promise<readonly Raw[]>;
  resolve!: (values: readonly Raw[]) => void;
  reject!: (error: unknown) => void;
  sent = false;

  constructor() {
    this.values = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/**
 * Turns the single-key L2 reads started in one turn of the event loop into one batch read
 * (`getMany`: an MGET on Redis) of up to `maxBatch` keys.
 *
 * A busy instance has many reads in flight at once (every message fanned out to a group
 * reads state); one MGET of a hundred keys costs Redis and the client far less than a
 * hundred GETs, and waiting for the end of the current turn (`process.nextTick`) costs a
 * single read nothing measurable. Every read of a batch shares its outcome: its value, or
 * the batch's error.
 */
export class ReadCoalescer {
  #pending: PendingBatch | undefined;

  constructor(
    private readonly l2: DistributedCache,
    private readonly maxBatch: number,
  ) {}

  /** The stored string of `key` (an L2 key, prefix included), read with its turn's batch. */
  get(key: string): Promise<Raw> {
    let batch = this.#pending;
    if (batch === undefined) {
      batch = this.#pending = new PendingBatch();
      process.nextTick(this.#flush, batch);
    }
    const index = batch.keys.push(key) - 1;
    if (batch.keys.length >= this.maxBatch) this.#flush(batch);
    return batch.values.then((values) => values[index]);
  }

  readonly #flush = (batch: PendingBatch): void => {
    if (batch.sent) return;
    batch.sent = true;
    if (this.#pending === batch) this.#pending = undefined;
    try {
      if (batch.keys.length === 1) {
        this.l2.get(batch.keys[0]).then((value) => batch.resolve([value]), batch.reject);
      } else {
        this.l2.getMany(batch.keys).then(batch.resolve, batch.reject);
      }
    } catch (error) {
      batch.reject(error);
    }
  };
}
