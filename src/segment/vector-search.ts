// Exact k-nearest rows of a segment, with distances in Silt's convention (distance.ts:
// cosine 1 − cos, l2 Euclidean, dot −q·v) so that segment and tail results merge by one order.
import { distance, norm } from './distance.ts';
import type { VectorMetric } from '../schema/types.ts';

/** Random access to a segment's float32 vectors: the `vectors` section, or the IVF blocks. */
export interface VectorAccess {
  readonly rows: number;
  readonly data: Float32Array;
  readonly norms: Float32Array;
  /** Offset of the row's vector in data, or -1 when the row has none. */
  offset(row: number): number;
  has(row: number): boolean;
}

export interface Neighbours {
  rows: number[];
  distances: number[];
}

/**
 * The k nearest of `rows` (distinct; rows without a vector are skipped), nearest first; equal
 * distances by row ascending. A bounded max-heap keeps it O(n log k).
 */
export function exactNearest(
  metric: VectorMetric,
  query: Float32Array,
  vectors: VectorAccess,
  k: number,
  rows: Iterable<number>,
): Neighbours {
  if (k <= 0) return { rows: [], distances: [] };
  const top = new Nearest(metric, query, vectors, k);
  for (const row of rows) top.offer(row);
  return top.result();
}

/**
 * The k nearest of all rows with a vector that `accept` allows (every row when it is absent):
 * the search of a segment without an HNSW index. A plain loop over row numbers, no iterator.
 */
export function scanNearest(
  metric: VectorMetric,
  query: Float32Array,
  vectors: VectorAccess,
  k: number,
  accept?: (row: number) => boolean,
): Neighbours {
  if (k <= 0) return { rows: [], distances: [] };
  const top = new Nearest(metric, query, vectors, k);
  const rows = vectors.rows;
  if (accept === undefined) {
    for (let row = 0; row < rows; row++) top.offer(row);
  } else {
    for (let row = 0; row < rows; row++) if (accept(row)) top.offer(row);
  }
  return top.result();
}

/** A bounded max-heap of the k nearest rows offered so far. */
class Nearest {
  private readonly qNorm: number;
  private readonly heapRows: number[] = [];
  private readonly heapDist: number[] = [];

  constructor(
    private readonly metric: VectorMetric,
    private readonly query: Float32Array,
    private readonly vectors: VectorAccess,
    private readonly k: number,
  ) {
    this.qNorm = norm(query);
  }

  /** Rows without a vector are skipped. */
  offer(row: number): void {
    const { vectors, heapRows, heapDist } = this;
    const off = vectors.offset(row);
    if (off < 0) return;
    const d = distance(this.metric, this.query, this.qNorm, vectors.data, off, vectors.norms[row]!);
    if (heapRows.length < this.k) {
      heapRows.push(row);
      heapDist.push(d);
      siftUp(heapRows, heapDist, heapRows.length - 1);
    } else if (before(d, row, heapDist[0]!, heapRows[0]!)) {
      heapRows[0] = row;
      heapDist[0] = d;
      siftDown(heapRows, heapDist, 0);
    }
  }

  result(): Neighbours {
    const { heapRows, heapDist } = this;
    const order = heapRows.map((_, i) => i);
    order.sort((a, b) => heapDist[a]! - heapDist[b]! || heapRows[a]! - heapRows[b]!);
    return { rows: order.map((i) => heapRows[i]!), distances: order.map((i) => heapDist[i]!) };
  }
}

/** (d1, r1) comes before (d2, r2): nearer, or as near with a lower row. */
function before(d1: number, r1: number, d2: number, r2: number): boolean {
  return d1 < d2 || (d1 === d2 && r1 < r2);
}

// Max-heap on (distance, row): the root is the farthest kept entry.
function siftUp(rows: number[], dist: number[], i: number): void {
  while (i > 0) {
    const p = (i - 1) >>> 1;
    if (!before(dist[p]!, rows[p]!, dist[i]!, rows[i]!)) break;
    swap(rows, dist, i, p);
    i = p;
  }
}

function siftDown(rows: number[], dist: number[], i: number): void {
  const n = rows.length;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let top = i;
    if (l < n && before(dist[top]!, rows[top]!, dist[l]!, rows[l]!)) top = l;
    if (r < n && before(dist[top]!, rows[top]!, dist[r]!, rows[r]!)) top = r;
    if (top === i) return;
    swap(rows, dist, i, top);
    i = top;
  }
}

function swap(rows: number[], dist: number[], a: number, b: number): void {
  const r = rows[a]!;
  rows[a] = rows[b]!;
  rows[b] = r;
  const d = dist[a]!;
  dist[a] = dist[b]!;
  dist[b] = d;
}
