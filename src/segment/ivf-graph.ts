// An HNSW graph over an IVF segment's centroids (the `ivf.graph` section), as SPANN and SPFresh
// search their centroids: a query's nearest clusters come from the graph instead of a pass over
// every centroid (ivf-centroids.ts nearestAcross). Built with the segment on the build pool when
// it has GRAPH_FROM_CLUSTERS clusters or more, loaded after a query has first ranked the
// segment's clusters without it (ivf-reader.ts), so a cold first query never waits for it.
//
// Measured on this machine, 3,900 centroids × 128-d (a 1M-row segment), top 64 of them, by
// .scratch experiments beside the 10M scale run (docs/benchmarks.md "centroid graph"): the exact
// pass takes 1.5 ms a query for one such segment (6–12 ms over the 14 segments of 10M rows, the
// whole of that run's missed p50), the graph 0.13–0.16 ms at ef 64–128 with 98.5 % of the exact
// top 64 found. M 16 / efConstruction 64 builds in 0.8 s; M 8 lost 4 points of that overlap.
import type { VectorMetric } from '../schema/types.ts';
import { buildHnswBytes, HnswIndex } from './hnsw.ts';

/** From this many clusters a segment carries a centroid graph: below it the exact pass costs ≤ ≈ 0.3 ms. */
export const GRAPH_FROM_CLUSTERS = 1024;
const GRAPH_M = 16;
const GRAPH_EF_CONSTRUCTION = 64;
/** The least ef of a graph search; a search for n clusters uses max(n, this). */
const GRAPH_EF_MIN = 32;

/** The space centroids are ranked in: Euclidean for l2 and cosine (cosine centroids are of normalized vectors, themselves not unit), inner product for dot. */
function graphMetric(metric: VectorMetric): VectorMetric {
  return metric === 'dot' ? 'dot' : 'l2';
}

/** The `ivf.graph` section's bytes: hnswlib's index file over the centroids (labels = cluster numbers). */
export function buildCentroidGraph(metric: VectorMetric, dim: number, centroids: Float32Array, clusters: number, seed: number, tmpDir: string): Buffer {
  return buildHnswBytes({
    metric: graphMetric(metric),
    dim,
    data: centroids,
    rows: Array.from({ length: clusters }, (_, c) => c),
    params: { m: GRAPH_M, efConstruction: GRAPH_EF_CONSTRUCTION, seed },
    tmpDir,
  });
}

/** A loaded centroid graph. */
export class CentroidGraph {
  private constructor(private readonly index: HnswIndex, readonly clusters: number) {}

  static async load(bytes: Buffer, metric: VectorMetric, dim: number, tmpDir: string): Promise<CentroidGraph> {
    const index = await HnswIndex.load({ bytes, metric: graphMetric(metric), dim, tmpDir });
    return new CentroidGraph(index, index.count);
  }

  /**
   * About the n clusters nearest qv (normalized already for cosine), in no particular order:
   * the caller computes their exact distances. Deterministic for a given graph and query, so the
   * probes a query chooses do not change between two calls.
   */
  nearest(qv: Float32Array, n: number): number[] {
    return this.index.search(qv, n, Math.max(n, GRAPH_EF_MIN));
  }

  close(): void {
    this.index.close();
  }
}

/** Where a loaded graph is attached: the directory that ranking reads (RankDirectory.graph). */
export interface GraphHolder {
  graph: CentroidGraph | null;
}

/**
 * How long after a query first ranks a segment's clusters its graph starts loading: a cold first
 * query on S3 takes 150–400 ms here (docs/benchmarks.md, "scale", "ivf-cold"), and the graph's
 * read (≈ 0.7 KB a cluster, 2.7 MB at 3,900) would compete with its codes reads.
 */
export const GRAPH_LOAD_DELAY_MS = 1000;
/** After a failed load (the store's error, a bad section) ranking stays exact for this long, then a query tries again. */
const GRAPH_RETRY_MS = 30_000;

/**
 * A segment's `ivf.graph`, loaded once after its first ranking and attached to its directory;
 * until then, or if it cannot be loaded, ranking is the exact pass (the same clusters, bar the
 * graph's few misses), so nothing waits for it and nothing fails for want of it.
 */
export class GraphLoader {
  private timer: NodeJS.Timeout | null = null;
  private loading: Promise<boolean> | null = null;
  private retryAt = 0;
  private closed = false;
  /** The last load's failure (tests read it); ranking is exact meanwhile. */
  lastError: Error | null = null;

  constructor(
    private readonly holder: GraphHolder,
    private readonly read: () => Promise<Buffer>,
    private readonly metric: VectorMetric,
    private readonly dim: number,
    private readonly tmpDir: string,
  ) {}

  /** A query ranked the clusters without the graph: load it GRAPH_LOAD_DELAY_MS from now, once. */
  wanted(): void {
    if (this.closed || this.holder.graph !== null || this.timer !== null || this.loading !== null || Date.now() < this.retryAt) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.load();
    }, GRAPH_LOAD_DELAY_MS);
    this.timer.unref();
  }

  /** Loads the graph now (or joins the load under way); whether it is attached. */
  load(): Promise<boolean> {
    if (this.holder.graph !== null) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    this.loading ??= (async () => {
      try {
        const graph = await CentroidGraph.load(await this.read(), this.metric, this.dim, this.tmpDir);
        if (this.closed) {
          graph.close();
          return false;
        }
        this.holder.graph = graph;
        this.lastError = null;
        return true;
      } catch (e) {
        this.lastError = e as Error;
        this.retryAt = Date.now() + GRAPH_RETRY_MS;
        return false;
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  /** Detaches and frees the graph; a query still ranking this segment (after a merge closed it) ranks exactly. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const graph = this.holder.graph;
    this.holder.graph = null;
    graph?.close();
  }
}
