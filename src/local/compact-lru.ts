/** Marks "no slot" in the link arrays. */
const NIL = -1;

/** Largest value an `Int32Array` slot holds. */
const INT32_MAX = 2 ** 31 - 1;

/** Smallest value an `Int32Array` slot holds. */
const INT32_MIN = -(2 ** 31);

/**
 * Longest TTL kept, in milliseconds (2^30 ms, about 12.4 days). Longer TTLs are clamped to
 * it: expiries are stored as int32 offsets from a base time, and L1 TTLs are short by design.
 */
export const MAX_LRU_TTL = 2 ** 30;

/**
 * Once the clock is this far (either way) from the base time, the base moves to now and every
 * stored expiry is shifted, so `offset + MAX_LRU_TTL` always fits in an int32.
 */
const REBASE_DISTANCE = 2 ** 30;

/** Slots allocated by a new or cleared LRU; they double on demand up to `maxEntries`. */
const INITIAL_SLOTS = 64;

/** What a {@link CompactLru} is built with. */
export interface CompactLruSettings {
  /** Most entries held at once (at least 1). */
  maxEntries: number;
  /** Most bytes held at once (sum of the sizes given to `set`), or 0 for no byte bound. */
  maxBytes: number;
  /** Milliseconds now; read once per call. */
  now: () => number;
}

/**
 * A least-recently-used map with a TTL per entry and optional byte bound, laid out to cost
 * little memory per entry.
 *
 * Each entry is a slot number: a `Map` leads from the key to its slot, keys and values sit in
 * two plain arrays, and the recency links, expiry and size are int32s in typed arrays (about
 * 32 bytes per entry besides the `Map` and the key and value themselves). Freed slots are
 * chained through the `next` links and reused. The arrays start small and double as entries
 * arrive, up to `maxEntries`, so a mostly empty cache costs little; `clear` shrinks them back.
 *
 * Expiry is an int32 of milliseconds from a base time taken at construction, so TTLs are
 * clamped to {@link MAX_LRU_TTL} (about 12.4 days); when the clock has moved that far from the
 * base, the base moves and the stored expiries are shifted (one pass over the entries, at most
 * once per 12 days of uptime). An entry is live while the clock is before its expiry: a TTL of
 * 0 or less stores an entry that is already expired.
 *
 * Expired entries stay until they are evicted, deleted or replaced, so {@link getStale} can
 * serve them; they count towards both bounds and leave in least-recently-used order like any
 * other entry. Reading an expired entry does not refresh its recency.
 */
export class CompactLru<V> {
  readonly #index = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  #base: number;

  #keys: (string | undefined)[] = [];
  #values: (V | undefined)[] = [];
  #prev: Int32Array = new Int32Array(0);
  #next: Int32Array = new Int32Array(0);
  #expiry: Int32Array = new Int32Array(0);
  #sizes: Int32Array | undefined;

  /** Most recently used slot. */
  #head = NIL;
  /** Least recently used slot, the next to be evicted. */
  #tail = NIL;
  /** First freed slot, the others chained through `#next`. */
  #free = NIL;
  /** Slots handed out so far; slots from here to the capacity were never used. */
  #used = 0;
  #bytes = 0;

  constructor(settings: CompactLruSettings) {
    this.#maxEntries = settings.maxEntries;
    this.#maxBytes = settings.maxBytes;
    this.#now = settings.now;
    this.#base = settings.now();
    this.#allocate(Math.min(INITIAL_SLOTS, settings.maxEntries));
  }

  /** Number of entries held, expired ones not yet evicted included. */
  get size(): number {
    return this.#index.size;
  }

  /** Sum of the sizes of the entries held (0 without a byte bound). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Slots allocated: grows with the entries, never beyond `maxEntries`. */
  get capacity(): number {
    return this.#prev.length;
  }

  /** The value of a live entry, made the most recently used; `undefined` otherwise. */
  get(key: string): V | undefined {
    const slot = this.#index.get(key);
    if (slot === undefined) return undefined;

    // The clock first: reading it may shift the stored expiries.
    const now = this.#clock();
    if (this.#expiry[slot] <= now) return undefined;

    this.#touch(slot);
    return this.#values[slot];
  }

  /**
   * The value of a live entry or of one that expired less than `maxStaleness` ms ago;
   * `undefined` otherwise. Only a live entry is made the most recently used.
   */
  getStale(key: string, maxStaleness: number): V | undefined {
    const slot = this.#index.get(key);
    if (slot === undefined) return undefined;

    const now = this.#clock();
    const expiry = this.#expiry[slot];
    if (expiry <= now - maxStaleness) return undefined;

    if (expiry > now) this.#touch(slot);
    return this.#values[slot];
  }

  /** Milliseconds left before the entry expires; 0 when absent or expired. */
  remainingTtl(key: string): number {
    const slot = this.#index.get(key);
    if (slot === undefined) return 0;

    const now = this.#clock();
    return Math.max(0, this.#expiry[slot] - now);
  }

  /**
   * Stores `value` for `ttl` ms (clamped to {@link MAX_LRU_TTL}) as the most recently used
   * entry, then evicts the least recently used while a bound is exceeded. With a byte bound,
   * `size` is the entry's weight (below 1 counts as 1); an entry heavier than `maxBytes` is
   * not kept, and the old value of its key is dropped.
   */
  set(key: string, value: V, ttl: number, size: number): void {
    const now = this.#clock();
    const weight = this.#weigh(size);
    let slot = this.#index.get(key);

    if (weight > this.#maxBytes && this.#sizes !== undefined) {
      if (slot !== undefined) this.#remove(slot);
      return;
    }

    if (slot === undefined) slot = this.#insert(key);
    else this.#touch(slot);

    this.#values[slot] = value;
    this.#expiry[slot] = now + Math.ceil(Math.min(Math.max(ttl, 0), MAX_LRU_TTL));
    this.#resize(slot, weight);
  }

  /** Removes one entry; `true` when it was there. */
  delete(key: string): boolean {
    const slot = this.#index.get(key);
    if (slot === undefined) return false;

    this.#remove(slot);
    return true;
  }

  /** Removes every entry and gives back the memory of the grown arrays. */
  clear(): void {
    this.#index.clear();
    this.#head = NIL;
    this.#tail = NIL;
    this.#free = NIL;
    this.#used = 0;
    this.#bytes = 0;
    this.#keys = [];
    this.#values = [];
    this.#prev = new Int32Array(0);
    this.#next = new Int32Array(0);
    this.#expiry = new Int32Array(0);
    this.#sizes = undefined;
    this.#allocate(Math.min(INITIAL_SLOTS, this.#maxEntries));
  }

  /** Milliseconds since the base time: reads the clock once, and moves the base if due. */
  #clock(): number {
    const offset = this.#now() - this.#base;
    if (offset < REBASE_DISTANCE && offset > -REBASE_DISTANCE) return offset;

    return this.#rebase(offset);
  }

  /** Moves the base time by `offset` ms, shifting every stored expiry; returns the new 0. */
  #rebase(offset: number): number {
    const expiry = this.#expiry;
    for (let slot = this.#head; slot !== NIL; slot = this.#next[slot]) {
      expiry[slot] = Math.min(INT32_MAX, Math.max(INT32_MIN, expiry[slot] - offset));
    }

    this.#base += offset;
    return 0;
  }

  /** The weight counted for an entry: 0 without a byte bound, else the size, at least 1. */
  #weigh(size: number): number {
    if (this.#sizes === undefined) return 0;
    return size >= 1 ? Math.min(Math.floor(size), INT32_MAX) : 1;
  }

  /** Gives `key` a slot at the head, evicting the least recently used when full. */
  #insert(key: string): number {
    if (this.#index.size >= this.#maxEntries) this.#remove(this.#tail);

    const slot = this.#takeSlot();
    this.#index.set(key, slot);
    this.#keys[slot] = key;
    this.#linkAtHead(slot);
    return slot;
  }

  /** Sets the weight of `slot`, then evicts from the tail while over the byte bound. */
  #resize(slot: number, weight: number): void {
    const sizes = this.#sizes;
    if (sizes === undefined) return;

    this.#bytes += weight - sizes[slot];
    sizes[slot] = weight;

    // The entry just set is at the head and fits alone, so the loop stops before reaching it.
    while (this.#bytes > this.#maxBytes) this.#remove(this.#tail);
  }

  /** A freed slot, else a never used one, growing the arrays when all are in use. */
  #takeSlot(): number {
    const freed = this.#free;
    if (freed !== NIL) {
      this.#free = this.#next[freed];
      return freed;
    }

    if (this.#used === this.#prev.length) {
      this.#allocate(Math.min(this.#prev.length * 2, this.#maxEntries));
    }
    return this.#used++;
  }

  /** Drops the entry in `slot` and puts the slot on the free list. */
  #remove(slot: number): void {
    this.#index.delete(this.#keys[slot] as string);
    this.#keys[slot] = undefined;
    this.#values[slot] = undefined;
    this.#unlink(slot);

    if (this.#sizes !== undefined) {
      this.#bytes -= this.#sizes[slot];
      this.#sizes[slot] = 0;
    }

    this.#next[slot] = this.#free;
    this.#free = slot;
  }

  /** Makes `slot` the most recently used. */
  #touch(slot: number): void {
    if (slot === this.#head) return;

    this.#unlink(slot);
    this.#linkAtHead(slot);
  }

  #linkAtHead(slot: number): void {
    this.#prev[slot] = NIL;
    this.#next[slot] = this.#head;

    if (this.#head === NIL) this.#tail = slot;
    else this.#prev[this.#head] = slot;
    this.#head = slot;
  }

  #unlink(slot: number): void {
    const prev = this.#prev[slot];
    const next = this.#next[slot];

    if (prev === NIL) this.#head = next;
    else this.#next[prev] = next;

    if (next === NIL) this.#tail = prev;
    else this.#prev[next] = prev;
  }

  /** Resizes every per-slot array to `capacity` slots, keeping the slots in use. */
  #allocate(capacity: number): void {
    this.#prev = grownInt32(this.#prev, capacity);
    this.#next = grownInt32(this.#next, capacity);
    this.#expiry = grownInt32(this.#expiry, capacity);
    if (this.#maxBytes > 0) this.#sizes = grownInt32(this.#sizes, capacity);

    this.#keys = grownArray(this.#keys, capacity, this.#used);
    this.#values = grownArray(this.#values, capacity, this.#used);
  }
}

/** A new `Int32Array` of `length` holding the start of `old` (as much as fits). */
function grownInt32(old: Int32Array | undefined, length: number): Int32Array {
  const grown = new Int32Array(length);
  if (old !== undefined) grown.set(old.length <= length ? old : old.subarray(0, length));
  return grown;
}

/**
 * A new array of exactly `length` elements holding the first `used` of `old`: allocated
 * whole, so its backing store has no slack (pushing would grow it by half at a time).
 */
function grownArray<T>(old: (T | undefined)[], length: number, used: number): (T | undefined)[] {
  const grown = new Array<T | undefined>(length).fill(undefined);
  for (let i = 0; i < used; i++) grown[i] = old[i];
  return grown;
}
