// What an open namespace holds in memory, estimated cheaply enough to sum over every namespace
// open on the node: its tail (the memtable's estimate), its segment readers (the sections they
// read whole at open, segment/format.ts residentBytes, as the views' memory tier counts them) and
// a fixed overhead for the rest (manifest, WAL writer, maps, schema, the memtable's initial arrays).
import { residentBytes } from '../segment/index.ts';
import type { Namespace } from './namespace.ts';

/**
 * Measured with bench/namespace-bound.ts (nothing closed): 3,000 more open namespaces of 100
 * 32-d documents in their tails took 129 MiB more RSS, 44 KB each, of which the tail estimate
 * is 19 KB; the rest, about 24 KiB, is what every open namespace costs beyond its data.
 */
export const NAMESPACE_OVERHEAD_BYTES = 24 * 1024;

export interface OpenMemory {
  tails: number;
  segments: number;
  namespaces_overhead: number;
  total: number;
}

export function namespaceMemory(ns: Namespace): OpenMemory {
  const tails = ns.memtable.bytes;
  let segments = 0;
  for (const ref of ns.loaded.manifest.segments) segments += residentBytes(ref.meta);
  return { tails, segments, namespaces_overhead: NAMESPACE_OVERHEAD_BYTES, total: tails + segments + NAMESPACE_OVERHEAD_BYTES };
}

/** The sum over `namespaces`. */
export function openMemory(namespaces: Iterable<Namespace>): OpenMemory {
  const sum: OpenMemory = { tails: 0, segments: 0, namespaces_overhead: 0, total: 0 };
  for (const ns of namespaces) {
    const m = namespaceMemory(ns);
    sum.tails += m.tails;
    sum.segments += m.segments;
    sum.namespaces_overhead += m.namespaces_overhead;
    sum.total += m.total;
  }
  return sum;
}

/**
 * /stats "memory": bytes by kind. Owned namespaces' tails, segments and overhead and the views'
 * tails and overhead are estimates; the memory tier's parts (readers, clusters, …) are the byte
 * sizes their loaders reported; heap, array_buffers and rss are the process's own (what RSS
 * holds beyond the three is native: code, hnswlib, malloc's free lists).
 */
export interface MemoryByKind {
  tails: number;
  segments: number;
  namespaces_overhead: number;
  views: number;
  /** The memory tier, by part: decoded segment readers of views, IVF cluster blocks, … */
  [tierKind: string]: number;
  heap: number;
  /** Bytes of ArrayBuffers and SharedArrayBuffers (Buffers, typed arrays), outside the V8 heap. */
  array_buffers: number;
  rss: number;
}

export function memoryByKind(open: OpenMemory, viewBytes: number, tier: Record<string, number> = {}): MemoryByKind {
  const usage = process.memoryUsage();
  return {
    tails: open.tails, segments: open.segments, namespaces_overhead: open.namespaces_overhead, views: viewBytes,
    readers: 0, clusters: 0, ...tier,
    heap: usage.heapUsed, array_buffers: usage.arrayBuffers, rss: usage.rss,
  };
}

/**
 * The least recently used open namespaces (name → use sequence) whose estimates add up to at
 * least `excess` bytes, in the order given; names no longer open are skipped.
 */
export function leastRecentCovering(order: Iterable<[string, number]>, open: ReadonlyMap<string, Namespace>, excess: number): Map<string, number> {
  const chosen = new Map<string, number>();
  for (const [name, seq] of order) {
    if (excess <= 0) break;
    const ns = open.get(name);
    if (!ns) continue;
    chosen.set(name, seq);
    excess -= namespaceMemory(ns).total;
  }
  return chosen;
}
