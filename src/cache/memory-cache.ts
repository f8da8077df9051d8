// Decoded structures (segment readers, IVF cluster blocks, postings) kept in memory, bounded by
// the byte size each loader reports, least recently used evicted first. A load runs once per key
// however many callers want it at the same time; a failed load is not remembered, so the next
// get retries. Every kind of structure is a part (a MemoryCache) of one MemoryTier: a single LRU
// over all of them, so one byte bound covers them together and the coldest entry goes whatever
// its kind (memory-budget.ts sets that bound from cache.memory_size).

import { LRUCache } from 'lru-cache';

export interface MemoryCacheStats {
  entries: number;
  bytes: number;
  max_bytes: number;
  /** Gets answered from memory. */
  hits: number;
  /** Gets that ran `load`; callers that joined an in-flight load are not counted again. */
  misses: number;
  evictions: number;
}

interface Counters { entries: number; bytes: number; hits: number; misses: number; evictions: number }
interface Entry { value: {}; size: number; part: Counters }

/** One LRU bounded by bytes, shared by the parts made with part(). */
export class MemoryTier {
  readonly maxBytes: number;
  readonly #lru: LRUCache<string, Entry>;
  readonly #parts = new Map<string, Counters>();
  #capacity: number;

  constructor(maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new RangeError(`cache maxBytes must be a non-negative integer, got ${maxBytes}`);
    }
    this.maxBytes = maxBytes;
    this.#capacity = maxBytes;
    // lru-cache wants a positive maxSize; with maxBytes 0 nothing is ever set, so 1 is never used.
    this.#lru = new LRUCache<string, Entry>({
      maxSize: Math.max(1, maxBytes),
      dispose: (entry, _key, reason) => {
        entry.part.entries--;
        entry.part.bytes -= entry.size;
        if (reason === 'evict') entry.part.evictions++;
      },
    });
  }

  /** The bytes the tier may hold now: at most maxBytes, less when the budget lends the rest. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Sets capacity (clamped to 0..maxBytes), evicting least recently used entries down to it. */
  resize(bytes: number): void {
    this.#capacity = Math.max(0, Math.min(this.maxBytes, Math.floor(bytes)));
    this.#trim();
  }

  get bytes(): number {
    return this.#lru.calculatedSize;
  }

  /** Bytes held by each part, by kind. */
  bytesByKind(): Record<string, number> {
    return Object.fromEntries([...this.#parts].map(([kind, c]) => [kind, c.bytes]));
  }

  /** Every part's counters summed; max_bytes is the capacity now. */
  stats(): MemoryCacheStats {
    const sum = { entries: 0, bytes: 0, max_bytes: this.#capacity, hits: 0, misses: 0, evictions: 0 };
    for (const c of this.#parts.values()) {
      sum.entries += c.entries; sum.bytes += c.bytes; sum.hits += c.hits; sum.misses += c.misses; sum.evictions += c.evictions;
    }
    return sum;
  }

  /** The part of the tier for one kind of value; its keys never meet another part's. */
  part<V extends {}>(kind: string): MemoryCache<V> {
    if (kind.includes('\0')) throw new RangeError(`memory tier kind '${kind}' may not hold NUL`);
    let counters = this.#parts.get(kind);
    if (!counters) {
      counters = { entries: 0, bytes: 0, hits: 0, misses: 0, evictions: 0 };
      this.#parts.set(kind, counters);
    }
    return new MemoryCache<V>(this, `${kind}\0`, counters);
  }

  /** @internal MemoryCache's access to the shared LRU. */
  lookup(key: string): Entry | undefined {
    return this.#lru.get(key);
  }

  /** @internal */
  peekEntry(key: string): Entry | undefined {
    return this.#lru.peek(key);
  }

  /** @internal Keeps value when it fits the capacity, evicting the coldest entries of any kind. */
  store(key: string, value: {}, bytes: number, part: Counters): void {
    // lru-cache sizes are positive integers; a zero-byte value still occupies its slot.
    const size = Math.max(1, Math.ceil(bytes));
    if (this.#capacity <= 0 || size > this.#capacity) return;
    this.#lru.set(key, { value, size, part }, { size });
    part.entries++;
    part.bytes += size;
    this.#trim();
  }

  /** @internal */
  remove(key: string): void {
    this.#lru.delete(key);
  }

  #trim(): void {
    while (this.#lru.calculatedSize > this.#capacity && this.#lru.size > 0) this.#lru.pop();
  }
}

export class MemoryCache<V extends {}> {
  readonly #tier: MemoryTier;
  readonly #prefix: string;
  readonly #counters: Counters;
  readonly #inflight = new Map<string, Promise<V>>();

  /** A cache of its own of `maxBytes`, or (through MemoryTier.part) one part of a shared tier. */
  constructor(maxBytes: number);
  constructor(tier: MemoryTier, prefix: string, counters: Counters);
  constructor(tierOrMax: MemoryTier | number, prefix = '', counters?: Counters) {
    if (typeof tierOrMax === 'number') {
      this.#tier = new MemoryTier(tierOrMax);
      this.#counters = { entries: 0, bytes: 0, hits: 0, misses: 0, evictions: 0 };
    } else {
      this.#tier = tierOrMax;
      this.#counters = counters!;
    }
    this.#prefix = prefix;
  }

  get(key: string, load: () => Promise<{ value: V; bytes: number }>): Promise<V> {
    const k = this.#prefix + key;
    const cached = this.#tier.lookup(k);
    if (cached !== undefined) {
      this.#counters.hits++;
      return Promise.resolve(cached.value as V);
    }
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    this.#counters.misses++;
    // Started on a microtask so the promise is registered before `load` can settle or throw.
    const p: Promise<V> = Promise.resolve().then(load).then(({ value, bytes }) => {
      // A delete() during the load drops p from #inflight: the value then goes to its callers only.
      if (this.#inflight.get(key) === p) this.#tier.store(k, value, bytes, this.#counters);
      return value;
    }).finally(() => {
      if (this.#inflight.get(key) === p) this.#inflight.delete(key);
    });
    this.#inflight.set(key, p);
    return p;
  }

  peek(key: string): V | undefined {
    return this.#tier.peekEntry(this.#prefix + key)?.value as V | undefined;
  }

  /**
   * The value kept under key, made most recent, without a promise: counted as a hit, or as a miss
   * when absent (the caller then loads it itself and keeps it with set()).
   */
  hit(key: string): V | undefined {
    const cached = this.#tier.lookup(this.#prefix + key);
    if (cached === undefined) {
      this.#counters.misses++;
      return undefined;
    }
    this.#counters.hits++;
    return cached.value as V;
  }

  /** Keeps value under key in place of what was there, when it fits the tier (else drops the old value). */
  set(key: string, value: V, bytes: number): void {
    const k = this.#prefix + key;
    this.#tier.remove(k);
    this.#tier.store(k, value, bytes, this.#counters);
  }

  delete(key: string): void {
    this.#inflight.delete(key);
    this.#tier.remove(this.#prefix + key);
  }

  /** This part's entries and counters; max_bytes is the whole tier's capacity now. */
  stats(): MemoryCacheStats {
    const c = this.#counters;
    return { entries: c.entries, bytes: c.bytes, max_bytes: this.#tier.capacity, hits: c.hits, misses: c.misses, evictions: c.evictions };
  }
}
