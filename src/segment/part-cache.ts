// The cache a segment reader keeps its decoded parts in (IVF blocks and records, text dictionary
// blocks and postings). The node's is cache/memory-cache.ts's MemoryCache, a part of the memory
// budget (main.ts passes it down in ReaderOptions); segment/ sits below cache/, so a reader
// opened without one gets a byte-bounded LRU of its module's.
import { LRUCache } from 'lru-cache';

export interface PartCache<V extends {}> {
  /** The value kept under key, else load()'s, kept when it fits; concurrent callers may share one load. */
  get(key: string, load: () => Promise<{ value: V; bytes: number }>): Promise<V>;
  delete(key: string): void;
  /** The value kept under key, made most recent, without a promise; undefined when absent (counted as a miss, the caller loading it and keeping it with set()). */
  hit(key: string): V | undefined;
  /** The value kept under key, without making it most recent or counting a hit. */
  peek(key: string): V | undefined;
  /** Keeps value under key (replacing what was there) when it fits, charged `bytes`. */
  set(key: string, value: V, bytes: number): void;
}

/** A byte-bounded LRU of its own, for readers opened without the node's cache (tests, benches, tools). */
export function lruPartCache<V extends {}>(maxBytes: number): PartCache<V> {
  const lru = new LRUCache<string, V>({ maxSize: maxBytes });
  return {
    async get(key, load) {
      const hit = lru.get(key);
      if (hit !== undefined) return hit;
      const { value, bytes } = await load();
      if (bytes <= maxBytes) lru.set(key, value, { size: Math.max(1, bytes) });
      return value;
    },
    delete: (key) => { lru.delete(key); },
    hit: (key) => lru.get(key),
    peek: (key) => lru.peek(key),
    set(key, value, bytes) {
      if (bytes <= maxBytes) lru.set(key, value, { size: Math.max(1, bytes) });
      else lru.delete(key);
    },
  };
}
