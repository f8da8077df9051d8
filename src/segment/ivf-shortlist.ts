// A native shortlist for centroid ranking (ivf-centroids.ts nearestAcross): hnswlib's brute-force
// index, whose distances run in SIMD C++, picks each large segment's nearest centroids, and only
// those are ranked in JavaScript as before. The result is exactly what ranking every centroid in
// JavaScript gives, to the tie: float32 distances are off by a bounded relative error, and a
// shortlist is used only when every centroid it left out is provably farther than the last one
// chosen (else all are ranked in JavaScript).
//
// Measured side by side in one process (bench/centroid-rank.ts, docs/benchmarks.md
// "centroid-rank", 128-d, nprobe 64, medians of 900 queries): 15 segments × 3,700 centroids (a
// 10M namespace) 14.6 ms in JavaScript, 4.8 ms through the shortlists; one segment of 3,900 (1M)
// 0.78 vs 0.22 ms; four of 1,000 1.25 vs 0.63 ms; four of 200 (below the threshold: no shortlist)
// 0.24 vs 0.21 ms. JavaScript was not bound by memory (u8 centroids, a quarter of the bytes, were
// no faster in the same loop) but by its scalar arithmetic.
//
// Built on the main thread only (query-pool workers rank in JavaScript), lazily, after the query
// that first asks for it, so that no query waits for it; until it is built, ranking is as
// before. It is loaded whole from a file written in hnswlib's own layout (the centroids with
// their labels), read by hnswlib in libuv's pool. Adding the centroids one by one instead
// (hnswlib-node's addPoint takes a JavaScript array) cost the main thread 20–80 µs each, and
// showed in cold 1M queries' profiles; from the first ranking until built (docs/benchmarks.md,
// "centroid-rank"), a 1M namespace's 3,900 centroids took 92–136 ms that way and 6–17 ms from
// the file, the 10M shape's 55,500 1.3–1.8 s and 107–130 ms. It is a copy of the centroids in
// native memory, charged to the segment's resident bytes (format.ts residentBytes via
// shortlistBytes).
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import type { VectorMetric } from '../schema/types.ts';
import type { RankDirectory } from './ivf-centroids.ts';

/**
 * Segments with fewer clusters rank in JavaScript only: below this the native call's fixed cost
 * (the query's conversion, the result arrays, the shortlist's own re-rank) is most of what it
 * saves. Four segments of 1,000 gained 2× (bench centroid-rank); fewer clusters a segment were
 * not measured with a shortlist, so 512 is a guess between that and the small segments' 0.06 ms.
 */
export const SHORTLIST_MIN_CLUSTERS = 512;
/** Centroids shortlisted beyond the n asked for, so that the proof of completeness holds. */
const SLACK = 16;
/** Bytes hnswlib keeps per centroid besides its floats: its label (a size_t). A loaded index builds no map of labels (points are never added to it). */
const NATIVE_ENTRY_BYTES = 8;

interface BruteForce {
  readIndex(filename: string): Promise<boolean>;
  getCurrentCount(): number;
  searchKnn(query: number[], k: number): { distances: number[]; neighbors: number[] };
}

type BruteForceClass = new (space: 'l2' | 'ip', dim: number) => BruteForce;

let bruteForce: BruteForceClass | null = null;
function nativeClass(): BruteForceClass {
  // Required on first use, so that the query pool's threads, which import the ranking, never load the addon.
  bruteForce ??= (createRequire(import.meta.url)('hnswlib-node') as { BruteforceSearch: BruteForceClass }).BruteforceSearch;
  return bruteForce;
}

/**
 * The file hnswlib's BruteforceSearch reads (bruteforce.h loadIndex): three size_t (the most
 * elements, the bytes of one, how many there are), then each element's float32 components and
 * its label (a size_t), little-endian on the 64-bit platforms Silt runs on.
 */
function bruteForceFile(centroids: Float32Array, clusters: number, dim: number): Buffer {
  const per = dim * 4 + 8;
  const out = Buffer.alloc(24 + clusters * per);
  out.writeBigUInt64LE(BigInt(clusters), 0);
  out.writeBigUInt64LE(BigInt(per), 8);
  out.writeBigUInt64LE(BigInt(clusters), 16);
  const floats = new Float32Array(out.buffer, out.byteOffset, out.byteLength >>> 2);
  const words = new Uint32Array(out.buffer, out.byteOffset, out.byteLength >>> 2);
  for (let c = 0; c < clusters; c++) {
    const at = (24 + c * per) >>> 2;
    floats.set(centroids.subarray(c * dim, (c + 1) * dim), at);
    words[at + dim] = c; // the label's high word stays 0
  }
  return out;
}

function largestNorm({ centroids, clusters, dim }: RankDirectory): number {
  let most = 0;
  for (let c = 0; c < clusters; c++) {
    let s = 0;
    for (let d = c * dim; d < (c + 1) * dim; d++) s += centroids[d]! * centroids[d]!;
    most = Math.max(most, s);
  }
  return Math.sqrt(most);
}

/** A segment's centroids in a native brute-force index, usable once `ready`. */
class NativeCentroids {
  ready = false;
  private readonly index: BruteForce;
  /** For dot: the largest centroid norm, which bounds the float32 error of a dot product (0 for l2, which does not use it). */
  readonly maxNorm: number = 0;

  constructor(private readonly dir: RankDirectory, readonly space: 'l2' | 'ip') {
    this.index = new (nativeClass())(space, dir.dim);
    if (space === 'ip') this.maxNorm = largestNorm(dir);
    // A shortlist that cannot load (no writable temp directory) stays unbuilt: ranking stays in JavaScript.
    setImmediate(() => void this.load().catch(() => {})).unref();
  }

  private async load(): Promise<void> {
    const { dim, centroids, clusters } = this.dir;
    const file = join(tmpdir(), `silt-centroids-${process.pid}-${randomUUID()}.bin`);
    try {
      await writeFile(file, bruteForceFile(centroids, clusters, dim));
      await this.index.readIndex(file);
    } finally {
      await rm(file, { force: true });
    }
    if (this.index.getCurrentCount() !== clusters) throw new Error(`the shortlist loaded ${this.index.getCurrentCount()} of ${clusters} centroids`);
    this.ready = true;
  }

  /** The m nearest clusters by float32 distance (hnswlib's: ‖q − c‖², or 1 − q·c), nearest first. */
  nearest(q: number[], m: number): { clusters: number[]; distances: number[] } {
    const found = this.index.searchKnn(q, m);
    return { clusters: found.neighbors, distances: found.distances };
  }
}

const natives = new WeakMap<Float32Array, NativeCentroids>();
/** bruteForceFile's layout is little-endian: elsewhere every ranking stays in JavaScript. */
const LITTLE_ENDIAN = endianness() === 'LE';
const counts = { used: 0, refused: 0 };

/** Rankings of this thread that a shortlist served (`used`), and those it could not prove complete, ranked over all clusters instead (`refused`). */
export function shortlistStats(): { used: number; refused: number } {
  return { ...counts };
}

export function countShortlist(used: boolean): void {
  counts[used ? 'used' : 'refused']++;
}

/** The bytes a segment's shortlist holds in native memory: a copy of its centroids and an entry per cluster; 0 below SHORTLIST_MIN_CLUSTERS. */
export function shortlistBytes(clusters: number, dim: number): number {
  return clusters < SHORTLIST_MIN_CLUSTERS ? 0 : clusters * (dim * 4 + NATIVE_ENTRY_BYTES);
}

/** The directory's native index when it is built; starts building it (main thread, large segments) when it is not. */
function nativeOf(dir: RankDirectory, metric: VectorMetric): NativeCentroids | null {
  if (!isMainThread || dir.clusters < SHORTLIST_MIN_CLUSTERS || !LITTLE_ENDIAN) return null;
  const space = metric === 'dot' ? 'ip' : 'l2';
  let native = natives.get(dir.centroids);
  if (native === undefined || native.space !== space) natives.set(dir.centroids, (native = new NativeCentroids(dir, space)));
  return native.ready ? native : null;
}

/** Whether every large directory's shortlist is built (then ranking here costs a fraction of a worker task's: scan-pool.ts). */
export function shortlistsReady(dirs: readonly RankDirectory[], metric: VectorMetric): boolean {
  let any = false;
  for (const dir of dirs) {
    if (dir.clusters < SHORTLIST_MIN_CLUSTERS) continue;
    if (nativeOf(dir, metric) === null) return false;
    any = true;
  }
  return any;
}

/**
 * Per directory: the clusters to rank exactly (null: all of them), and the least distance, in
 * the JavaScript ranking's terms (ivf-centroids.ts centroidDistance), that a cluster left out can
 * have (Infinity when none is). Null when no directory has a shortlist built.
 */
export function shortlists(dirs: readonly RankDirectory[], metric: VectorMetric, qv: Float32Array, n: number): Array<{ clusters: number[] | null; floor: number }> | null {
  const m = n + SLACK;
  let q: number[] | null = null;
  let qNorm = 0;
  let used = false;
  const out = dirs.map((dir) => {
    const native = m < dir.clusters ? nativeOf(dir, metric) : null;
    if (native === null) return { clusters: null, floor: Infinity };
    if (q === null) {
      q = Array.from(qv);
      for (const x of qv) qNorm += x * x;
      qNorm = Math.sqrt(qNorm);
    }
    used = true;
    const found = native.nearest(q, m);
    const last = found.distances[found.distances.length - 1]!;
    return { clusters: found.clusters, floor: floorOf(last, metric, dir.dim, qNorm, native.maxNorm) };
  });
  return used ? out : null;
}

/**
 * The least exact distance of a centroid whose float32 distance is at least `last`. A float32 sum
 * of dim terms is within (dim + 16) units of the last place, relative to the sum of the terms'
 * magnitudes, of the exact sum (each term's own roundings included; the bound of a sequential
 * sum, which SIMD lanes only shorten). For l2 the terms are squares: relative to the distance
 * itself. For dot, relative to Σ|q_d c_d| ≤ ‖q‖ ‖c‖, plus the rounding of hnswlib's 1 − q·c.
 * JavaScript's float64 distances are exact to far better than the margin kept (1e-9).
 */
function floorOf(last: number, metric: VectorMetric, dim: number, qNorm: number, maxNorm: number): number {
  if (!Number.isFinite(last)) return -Infinity;
  const rel = (dim + 16) * 2 ** -24;
  if (metric !== 'dot') return (last / (1 + rel)) * (1 - 1e-9) - 1e-30;
  const bound = qNorm * maxNorm;
  const err = rel * bound + 2 ** -23 * (1 + bound);
  // hnswlib's 1 − q·c, in JavaScript's terms −q·c.
  return last - 1 - err - 1e-9 * (1 + bound);
}
