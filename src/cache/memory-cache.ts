// Decoded structures (segment indexes, columns, id maps) kept in memory, bounded by the byte size
// each loader reports, least recently used evicted first. A load runs once per key however many
// callers want it at the same time; a failed load is not remembered, so the next get retries.

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

export class MemoryCache<V extends {}> {
  readonly #max: number;
  readonly #lru: LRUCache<string, V>;
  readonly #inflight = new Map<string, Promise<V>>();
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  constructor(maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new RangeError(`cache maxBytes must be a non-negative integer, got ${maxBytes}`);
    }
    this.#max = maxBytes;
    // lru-cache wants a positive maxSize; with maxBytes 0 nothing is ever set, so 1 is never used.
    this.#lru = new LRUCache<string, V>({
      maxSize: Math.max(1, maxBytes),
      dispose: (_value, _key, reason) => { if (reason === 'evict') this.#evictions++; },
    });
  }

  get(key: string, load: () => Promise<{ value: V; bytes: number }>): Promise<V> {
    const cached = this.#lru.get(key);
    if (cached !== undefined) {
      this.#hits++;
      return Promise.resolve(cached);
    }
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    this.#misses++;
    // Started on a microtask so the promise is registered before `load` can settle or throw.
    const p: Promise<V> = Promise.resolve().then(load).then(({ value, bytes }) => {
      // A delete() during the load drops p from #inflight: the value then goes to its callers only.
      if (this.#inflight.get(key) === p && this.#max > 0 && bytes <= this.#max) {
        // lru-cache sizes are positive integers; a zero-byte value still occupies its slot.
        this.#lru.set(key, value, { size: Math.max(1, Math.ceil(bytes)) });
      }
      return value;
    }).finally(() => {
      if (this.#inflight.get(key) === p) this.#inflight.delete(key);
    });
    this.#inflight.set(key, p);
    return p;
  }

  peek(key: string): V | undefined {
    return this.#lru.peek(key);
  }

  delete(key: string): void {
    this.#inflight.delete(key);
    this.#lru.delete(key);
  }

  stats(): MemoryCacheStats {
    return {
      entries: this.#lru.size, bytes: this.#lru.calculatedSize, max_bytes: this.#max,
      hits: this.#hits, misses: this.#misses, evictions: this.#evictions,
    };
  }
}
