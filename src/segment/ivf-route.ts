// A segment's IVF route: its centroids and the byte offsets of its codes blocks, the part of the
// directory (ivf.ts) a query needs to choose its clusters and ask for their codes. The manifest
// pointer carries one per IVF segment (manifest.ts), so that a cold first query reads the probed
// codes in the same round as the segment's open, before the directory (norms, slots) has
// arrived: one sequential round trip less (docs/benchmarks.md, "ivf-cold"). The reader checks
// what it prefetched against the directory (offsets, CRCs) and reads anything else itself.
import { crc32 } from 'node:zlib';
import type { VectorMetric } from '../schema/types.ts';
import type { SectionEntry } from './format.ts';
import { sharedCopy } from './scan-pool.ts';
import { norm } from './distance.ts';
import type { IvfDirectory } from './ivf-directory.ts';
import { nprobeOfEf } from './ivf-search.ts';
import { rankCentroids } from './ivf-centroids.ts';

/** As the pointer stores it: little-endian float32 centroids and float64 offsets, in base64. */
export interface IvfRouteJson {
  clusters: number;
  dim: number;
  centroids: string;
  offsets: string;
}

export interface IvfRoute {
  clusters: number;
  dim: number;
  centroids: Float32Array;
  blockOffsets: Float64Array;
}

/** What a query wants read early: the query vector and how many clusters it probes first. */
export interface ProbeHint {
  vector: Float32Array;
  nprobe: number;
}

/** A query as the namespace's opener sees it, before its body is parsed against the schema. */
export interface QueryHint {
  vector: Float32Array;
  ef?: number;
  nprobe?: number;
  /** The query has a filter: each segment probes on its own then (executor.ts). */
  filtered?: boolean;
}

/** The hint's probe count, as the query will choose it (its nprobe, else from its ef or the default). */
export function probeHint(hint: QueryHint, defaultEf: number): ProbeHint {
  return { vector: hint.vector, nprobe: hint.nprobe ?? nprobeOfEf(hint.ef ?? defaultEf) };
}

export function routeJson(dir: Pick<IvfDirectory, 'clusters' | 'dim' | 'centroids' | 'blockOffsets'>): IvfRouteJson {
  const bytes = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
  return { clusters: dir.clusters, dim: dir.dim, centroids: bytes(dir.centroids), offsets: bytes(dir.blockOffsets) };
}

/** The route, or null when it does not have the shape it claims (then the query reads as without one). */
export function parseRoute(json: IvfRouteJson): IvfRoute | null {
  const c = Buffer.from(json.centroids, 'base64');
  const o = Buffer.from(json.offsets, 'base64');
  if (c.byteLength !== json.clusters * json.dim * 4 || o.byteLength !== (json.clusters + 1) * 8) return null;
  // Copies: base64 decodes into a pooled buffer whose offset need not be aligned.
  const centroids = new Float32Array(json.clusters * json.dim);
  new Uint8Array(centroids.buffer).set(c);
  const blockOffsets = new Float64Array(json.clusters + 1);
  new Uint8Array(blockOffsets.buffer).set(o);
  return { clusters: json.clusters, dim: json.dim, centroids, blockOffsets };
}

/**
 * The route's centroids, in a SharedArrayBuffer (the query pool scans them where they are), when
 * they are the `ivf.centroids` section's bytes: its length (padded to 8) and CRC, from the
 * segment table. Else null, and the section is read.
 */
export function routeCentroids(route: IvfRoute, dim: number, entry: SectionEntry): Float32Array | null {
  const c = route.centroids;
  const pad = entry.length - c.byteLength;
  if (route.dim !== dim || pad < 0 || pad >= 8) return null;
  const bytes = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
  if (crc32(Buffer.alloc(pad), crc32(bytes)) !== entry.crc) return null;
  const shared = sharedCopy(bytes);
  return new Float32Array(shared.buffer, shared.byteOffset, c.length);
}

/**
 * The clusters a search for `hint` scans first, as searchIvf chooses them (same ranking over
 * the same centroids, same count), in storage order.
 */
export function firstProbes(route: IvfRoute, metric: VectorMetric, hint: ProbeHint): number[] {
  const q = hint.vector;
  if (q.length !== route.dim || route.clusters === 0) return [];
  const qNorm = norm(q);
  const qv = metric === 'cosine' && qNorm > 0 ? q.map((x) => x / qNorm) : q;
  const order = rankCentroids(route, metric, qv);
  const nprobe = Math.min(route.clusters, Math.max(1, hint.nprobe));
  return Array.from(order.slice(0, nprobe)).sort((a, b) => a - b);
}
