// Exact vector distances. `distance` is lower-is-closer for every metric; `score` is the
// higher-is-better form reported to users (cosine similarity, dot product, −Euclidean distance).
import type { VectorMetric } from '../schema/types.ts';

export function norm(v: ArrayLike<number>, offset = 0, dim = v.length): number {
  let s = 0;
  for (let i = 0; i < dim; i++) {
    const x = v[offset + i]!;
    s += x * x;
  }
  return Math.sqrt(s);
}

/**
 * Distance between query q (with precomputed norm qNorm) and the vector stored at data[offset..].
 * cosine: 1 − cos (a zero vector has cos 0); l2: Euclidean distance; dot: −q·v.
 *
 * Sums run in four lanes (dimension i in lane i % 4, the dim % 4 last ones in lane 0, lanes
 * added as (0 + 1) + (2 + 3)): one accumulator is a chain of dependent adds, and four ran a raw
 * 128-d dot loop 1.2–2.5× faster, side by side in one process (the tail scan: bench ingest-latency). query/exact-scan.ts sums in
 * exactly this order, so a row scores the same in the tail as in a segment's re-rank.
 */
export function distance(
  metric: VectorMetric,
  q: Float32Array,
  qNorm: number,
  data: Float32Array,
  offset: number,
  vNorm: number,
): number {
  const dim = q.length;
  const wide = dim - (dim % 4);
  let a = 0;
  let b = 0;
  let c = 0;
  let e = 0;
  if (metric === 'l2') {
    let i = 0;
    for (; i < wide; i += 4) {
      const d0 = q[i]! - data[offset + i]!;
      const d1 = q[i + 1]! - data[offset + i + 1]!;
      const d2 = q[i + 2]! - data[offset + i + 2]!;
      const d3 = q[i + 3]! - data[offset + i + 3]!;
      a += d0 * d0;
      b += d1 * d1;
      c += d2 * d2;
      e += d3 * d3;
    }
    for (; i < dim; i++) {
      const d = q[i]! - data[offset + i]!;
      a += d * d;
    }
    return Math.sqrt((a + b) + (c + e));
  }
  let i = 0;
  for (; i < wide; i += 4) {
    a += q[i]! * data[offset + i]!;
    b += q[i + 1]! * data[offset + i + 1]!;
    c += q[i + 2]! * data[offset + i + 2]!;
    e += q[i + 3]! * data[offset + i + 3]!;
  }
  for (; i < dim; i++) a += q[i]! * data[offset + i]!;
  return dotDistance(metric, (a + b) + (c + e), qNorm, vNorm);
}

/** The distance of a dot product q·v: −q·v for dot, 1 − cos for cosine. */
export function dotDistance(metric: VectorMetric, dot: number, qNorm: number, vNorm: number): number {
  if (metric === 'dot') return -dot;
  const denom = qNorm * vNorm;
  // Rounding can push |cos| a hair past 1; keep distances in [0, 2] and similarities in [-1, 1].
  return denom === 0 ? 1 : Math.min(2, Math.max(0, 1 - dot / denom));
}

export function scoreOfDistance(metric: VectorMetric, d: number): number {
  return metric === 'cosine' ? 1 - d : -d;
}
