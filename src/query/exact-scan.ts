// Exact distances from a query to a list of rows, into a TopK: the unindexed tail (every live row
// of it, for every vector query) and a segment's filtered candidates. It runs on the main thread,
// so its speed is the query latency during ingest (bench ingest-latency: a 50k-row 128-d L2 tail
// query took 80 ms through a closure and distance() per row, 26 ms here, side by side).
//
// The distances are bit for bit those of distance(): the same four lanes summed in the same
// order (a document must score the same in the tail as in the segment it is folded into). L2
// stops summing a row once its partial sum of squares passes the k-th best (early abandoning):
// the remaining terms only add, so the row cannot enter the top k. The slack on the bound covers
// the lanes' partial sum rounding differently from the full one, and sqrt's rounding.
import type { VectorMetric } from '../schema/types.ts';
import { dotDistance } from '../segment/distance.ts';
import type { TopK } from './topk.ts';

/** Dimensions summed between checks of the early-abandon bound (a multiple of the 4 lanes). */
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
  const wide = dim - (dim % 4);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const off = offsetOf(row);
    if (off < 0) continue;
    const worst = -top.threshold; // Infinity until k rows are kept
    const bound = worst * worst * BOUND_SLACK;
    let a = 0;
    let b = 0;
    let c = 0;
    let e = 0;
    let i = 0;
    let abandoned = false;
    while (i < wide) {
      const end = Math.min(wide, i + CHECK_EVERY);
      for (; i < end; i += 4) {
        const d0 = query[i]! - data[off + i]!;
        const d1 = query[i + 1]! - data[off + i + 1]!;
        const d2 = query[i + 2]! - data[off + i + 2]!;
        const d3 = query[i + 3]! - data[off + i + 3]!;
        a += d0 * d0;
        b += d1 * d1;
        c += d2 * d2;
        e += d3 * d3;
      }
      if ((a + b) + (c + e) > bound) {
        abandoned = true;
        break;
      }
    }
    if (abandoned) continue;
    for (; i < dim; i++) {
      const d = query[i]! - data[off + i]!;
      a += d * d;
    }
    top.push(keyBase + row, -Math.sqrt((a + b) + (c + e)));
  }
}

/**
 * Dot and cosine abandon too, by Cauchy–Schwarz: after the first i dimensions the rest of the
 * product is at most |q[i..]| · |v| (|v| is the row's norm), so q·v ≤ partial + rest[i] · |v|.
 * The norms are those the sources keep for cosine; a source without them (norm 0) is summed whole.
 */
function scanDot({ metric, query, qNorm, data, rows, offsetOf, normOf, keyBase }: ScanInput, top: TopK): void {
  const dim = query.length;
  const wide = dim - (dim % 4);
  const rest = suffixNorms(query);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const off = offsetOf(row);
    if (off < 0) continue;
    const vNorm = normOf(row);
    const worst = -top.threshold; // Infinity until k rows are kept
    // The largest dot that still scores worse than the k-th best: dot below it cannot enter.
    const atLeast = metric === 'dot' ? -worst : (1 - worst) * qNorm * vNorm;
    // Slack for the partial sums' rounding (relative to |q|·|v|), and for norms stored as float32
    // (a segment's may be 6e-8 short of the true norm, which the bound must not be).
    const bound = atLeast - 1e-9 * (Math.abs(atLeast) + qNorm * vNorm);
    const vNormUp = vNorm * (1 + 1e-6);
    const check = vNorm > 0 && worst < (metric === 'dot' ? Infinity : 2);
    let a = 0;
    let b = 0;
    let c = 0;
    let e = 0;
    let i = 0;
    let abandoned = false;
    while (i < wide) {
      const end = Math.min(wide, i + CHECK_EVERY);
      for (; i < end; i += 4) {
        a += query[i]! * data[off + i]!;
        b += query[i + 1]! * data[off + i + 1]!;
        c += query[i + 2]! * data[off + i + 2]!;
        e += query[i + 3]! * data[off + i + 3]!;
      }
      if (check && (a + b) + (c + e) + rest[i]! * vNormUp < bound) {
        abandoned = true;
        break;
      }
    }
    if (abandoned) continue;
    for (; i < dim; i++) a += query[i]! * data[off + i]!;
    top.push(keyBase + row, -dotDistance(metric, (a + b) + (c + e), qNorm, vNorm));
  }
}

/** rest[i] = |q[i..]|, for i in 0..dim. */
function suffixNorms(q: Float32Array): Float64Array {
  const rest = new Float64Array(q.length + 1);
  let s = 0;
  for (let i = q.length - 1; i >= 0; i--) {
    s += q[i]! * q[i]!;
    rest[i] = Math.sqrt(s);
  }
  return rest;
}
