// Exact distances from a query to a list of rows, into a TopK: the unindexed tail (every live row
// of it, for every vector query) and a segment's filtered candidates. It runs on the main thread,
// so its speed is the query latency during ingest (bench ingest-latency: a 50k-row tail took
// 72 ms a query through a closure and distance() per row, the metric re-dispatched each time).
//
// The distances are bit for bit those of distance(): one accumulator summed in dimension order
// (several accumulators would be faster but round differently, and a document must score the
// same in the tail as in the segment it is folded into). L2 stops summing a row once its partial
// sum of squares passes the k-th best (early abandoning): the remaining terms only add, so the
// row cannot enter the top k. The slack on the bound keeps that exact through sqrt's rounding.
import type { VectorMetric } from '../schema/types.ts';
import type { TopK } from './topk.ts';

/** Dimensions summed between checks of the early-abandon bound. */
const CHECK_EVERY = 16;
const BOUND_SLACK = 1 + 1e-9;

export interface ScanInput {
  metric: VectorMetric;
  query: Float32Array;
  qNorm: number;
  data: Float32Array;
  rows: ArrayLike<number>;
  /** The row's vector offset in `data`, or -1 when it has none. */
  offsetOf(row: number): number;
  normOf(row: number): number;
  /** Added to a row to make its TopK key (the source's place in the query). */
  keyBase: number;
}

/** Pushes every row's negated distance into `top` (higher is closer, as the executor's heaps keep it). */
export function scanExact(input: ScanInput, top: TopK): void {
  if (input.metric === 'l2') scanL2(input, top);
  else scanDot(input, top);
}

function scanL2({ query, data, rows, offsetOf, keyBase }: ScanInput, top: TopK): void {
  const dim = query.length;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const off = offsetOf(row);
    if (off < 0) continue;
    const worst = -top.threshold; // Infinity until k rows are kept
    const bound = worst * worst * BOUND_SLACK;
    let s = 0;
    let i = 0;
    while (i < dim) {
      const end = Math.min(dim, i + CHECK_EVERY);
      for (; i < end; i++) {
        const d = query[i]! - data[off + i]!;
        s += d * d;
      }
      if (s > bound) break;
    }
    if (i < dim) continue;
    top.push(keyBase + row, -Math.sqrt(s));
  }
}

function scanDot({ metric, query, qNorm, data, rows, offsetOf, normOf, keyBase }: ScanInput, top: TopK): void {
  const dim = query.length;
  const cosine = metric === 'cosine';
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const off = offsetOf(row);
    if (off < 0) continue;
    let dot = 0;
    for (let i = 0; i < dim; i++) dot += query[i]! * data[off + i]!;
    let d = -dot;
    if (cosine) {
      const denom = qNorm * normOf(row);
      d = denom === 0 ? 1 : Math.min(2, Math.max(0, 1 - dot / denom));
    }
    top.push(keyBase + row, -d);
  }
}
