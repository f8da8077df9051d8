// Ranks an IVF segment's clusters by their centroid's distance to a query: the clusters a search
// probes (ivf-search.ts), the probe a query chooses across a namespace's segments (nearestAcross:
// query/executor.ts, and the cold open's prefetch, namespace/objects.ts), on this thread or a
// query-pool worker (scan-pool.ts).
import type { VectorMetric } from '../schema/types.ts';
import type { IvfDirectory } from './ivf-directory.ts';
import { norm } from './distance.ts';
import { countShortlist, shortlists } from './ivf-shortlist.ts';

/** What ranking reads of the directory. */
export type RankDirectory = Pick<IvfDirectory, 'clusters' | 'dim' | 'centroids'>;

/** nearestAcross, here or on the query pool. */
export type RankClusters = (dirs: readonly RankDirectory[], metric: VectorMetric, qv: Float32Array, n: number) => Probes | Promise<Probes>;

/**
 * The clusters in order of their centroid's distance to the query, nearest first, ties by
 * cluster number: Euclidean for l2 and cosine, inner product for dot. Ranked lazily: a query
 * probes its nprobe nearest of hundreds or thousands of clusters, so the first slice is
 * selected by a bounded heap (nearestAcross), and only a wider probe (a filter's) computes and
 * sorts them all. Both paths sum in the same order, so their distances are identical.
 */
export class CentroidOrder {
  private sorted: Uint32Array | null = null;

  constructor(private readonly dir: RankDirectory, private readonly metric: VectorMetric, private readonly qv: Float32Array) {}

  /** The clusters ranked [from, from + n). */
  slice(from: number, n: number): Uint32Array {
    const { dir, metric, qv } = this;
    const end = Math.min(dir.clusters, from + n);
    if (from === 0 && this.sorted === null && end * 4 < dir.clusters) return nearestAcross([dir], metric, qv, end).clusters;
    if (this.sorted === null) {
      const dist = new Float64Array(dir.clusters);
      for (let c = 0; c < dir.clusters; c++) dist[c] = centroidDistance(dir, metric, qv, c, Infinity);
      this.sorted = new Uint32Array(dir.clusters).map((_, i) => i).sort((a, b) => dist[a]! - dist[b]! || a - b);
    }
    return this.sorted.subarray(from, end);
  }
}

export function rankCentroids(dir: RankDirectory, metric: VectorMetric, qv: Float32Array): CentroidOrder {
  return new CentroidOrder(dir, metric, qv);
}

/** Clusters of several segments, nearest first: parallel arrays of segment (index into the directories given) and cluster. */
export interface Probes {
  segments: Uint32Array;
  clusters: Uint32Array;
}

/**
 * The n clusters nearest the query among all the given segments' (ties by segment, then
 * cluster), by one bounded max-heap: a namespace's IVF segments are probed as one index, so a
 * query scans n clusters whatever the segment count (executor.ts). A Euclidean sum stops once
 * it passes the heap's farthest (exact: the terms are squares), and one heap across segments
 * lets every segment after the first stop early too. A segment of many clusters whose native
 * shortlist is built (ivf-shortlist.ts) offers only its shortlist, when that provably changes
 * nothing; the result is the same either way.
 */
export function nearestAcross(dirs: readonly RankDirectory[], metric: VectorMetric, qv: Float32Array, n: number): Probes {
  const lists = shortlists(dirs, metric, qv, n);
  const short = lists === null ? null : rankHeap(dirs, metric, qv, n, lists);
  if (lists !== null) countShortlist(short !== null);
  return short ?? rankHeap(dirs, metric, qv, n, null)!;
}

/**
 * nearestAcross over all clusters (lists null), or over each segment's shortlist (ivf-shortlist.ts,
 * null: all of its clusters): then null unless every cluster left out is provably farther than
 * the n kept (its floor above the farthest), so that the result is the same as over all.
 */
function rankHeap(dirs: readonly RankDirectory[], metric: VectorMetric, qv: Float32Array, n: number,
  lists: ReadonlyArray<{ clusters: readonly number[] | null; floor: number }> | null): Probes | null {
  let total = 0;
  for (const dir of dirs) total += dir.clusters;
  n = Math.min(n, total);
  const hs = new Uint32Array(n);
  const hc = new Uint32Array(n);
  const hd = new Float64Array(n);
  // (d, s, c) ranks after (d2, s2, c2)
  const after = (d: number, s: number, c: number, d2: number, s2: number, c2: number) => d > d2 || (d === d2 && (s > s2 || (s === s2 && c > c2)));
  let size = 0;
  const move = (to: number, from: number) => {
    hs[to] = hs[from]!;
    hc[to] = hc[from]!;
    hd[to] = hd[from]!;
  };
  const put = (i: number, d: number, s: number, c: number) => {
    hs[i] = s;
    hc[i] = c;
    hd[i] = d;
  };
  const offer = (dir: RankDirectory, s: number, c: number) => {
    if (size < n) {
      const d = centroidDistance(dir, metric, qv, c, Infinity);
      let i = size++;
      for (let p = (i - 1) >>> 1; i > 0 && after(d, s, c, hd[p]!, hs[p]!, hc[p]!); i = p, p = (i - 1) >>> 1) move(i, p);
      put(i, d, s, c);
      return;
    }
    const d = centroidDistance(dir, metric, qv, c, hd[0]!);
    if (!after(hd[0]!, hs[0]!, hc[0]!, d, s, c)) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const m = l + 1 < n && after(hd[l + 1]!, hs[l + 1]!, hc[l + 1]!, hd[l]!, hs[l]!, hc[l]!) ? l + 1 : l;
      if (!after(hd[m]!, hs[m]!, hc[m]!, d, s, c)) break;
      move(i, m);
      i = m;
    }
    put(i, d, s, c);
  };
  let floor = Infinity;
  dirs.forEach((dir, s) => {
    const list = lists?.[s]?.clusters ?? null;
    if (list === null) {
      for (let c = 0; c < dir.clusters; c++) offer(dir, s, c);
      return;
    }
    floor = Math.min(floor, lists![s]!.floor);
    for (const c of list) offer(dir, s, c);
  });
  if (floor !== Infinity && !(size === n && hd[0]! < floor)) return null;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => hd[a]! - hd[b]! || hs[a]! - hs[b]! || hc[a]! - hc[b]!);
  return { segments: Uint32Array.from(order, (i) => hs[i]!), clusters: Uint32Array.from(order, (i) => hc[i]!) };
}

/**
 * Cluster c's centroid distance, or Infinity once a Euclidean sum passes `bound`. Four partial
 * sums (as in query/exact-scan.ts: independent additions the CPU overlaps), tested every 16
 * dimensions. Measured on a 100k-row segment (499 clusters × 128-d): a full sort and a one-lane
 * loop took 0.21 ms a query, this with the heap 0.11 ms.
 */
function centroidDistance(dir: RankDirectory, metric: VectorMetric, qv: Float32Array, c: number, bound: number): number {
  const { dim, centroids } = dir;
  const at = c * dim;
  const tail = dim & ~3;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let d = 0;
  if (metric === 'dot') {
    for (; d < tail; d += 4) {
      s0 -= qv[d]! * centroids[at + d]!;
      s1 -= qv[d + 1]! * centroids[at + d + 1]!;
      s2 -= qv[d + 2]! * centroids[at + d + 2]!;
      s3 -= qv[d + 3]! * centroids[at + d + 3]!;
    }
    for (; d < dim; d++) s0 -= qv[d]! * centroids[at + d]!;
    return s0 + s1 + s2 + s3;
  }
  for (; d < tail; d += 4) {
    const x0 = qv[d]! - centroids[at + d]!;
    const x1 = qv[d + 1]! - centroids[at + d + 1]!;
    const x2 = qv[d + 2]! - centroids[at + d + 2]!;
    const x3 = qv[d + 3]! - centroids[at + d + 3]!;
    s0 += x0 * x0;
    s1 += x1 * x1;
    s2 += x2 * x2;
    s3 += x3 * x3;
    if ((d & 15) === 12 && s0 + s1 + s2 + s3 > bound) return Infinity;
  }
  for (; d < dim; d++) {
    const x = qv[d]! - centroids[at + d]!;
    s0 += x * x;
  }
  return s0 + s1 + s2 + s3;
}

/**
 * The clusters each of `segments` scans for an unfiltered query over all of them (nearestAcross
 * through `rank`, the query normalized for cosine): segment → its clusters, nearest first; a
 * segment with none is absent. Segments are ranked in id order, so that equal distances in two
 * segments pick the same one wherever probes are chosen (the query, query/executor.ts, and a
 * cold open's prefetch, namespace/objects.ts). Synchronous when `rank` is.
 */
export function probesAcross<T extends { id: string; dir: RankDirectory }>(segments: readonly T[], metric: VectorMetric,
  query: Float32Array, nprobe: number, rank: RankClusters = nearestAcross): Map<T, number[]> | Promise<Map<T, number[]>> {
  const sorted = [...segments].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const qNorm = norm(query);
  const qv = metric === 'cosine' && qNorm > 0 ? query.map((x) => x / qNorm) : query;
  const group = (found: Probes) => {
    const out = new Map<T, number[]>();
    found.segments.forEach((i, j) => {
      const list = out.get(sorted[i]!) ?? [];
      list.push(found.clusters[j]!);
      out.set(sorted[i]!, list);
    });
    return out;
  };
  const found = rank(sorted.map((x) => x.dir), metric, qv, Math.max(1, nprobe));
  return found instanceof Promise ? found.then(group) : group(found);
}
