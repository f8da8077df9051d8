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
  if (metric === 'l2') {
    let s = 0;
    for (let i = 0; i < dim; i++) {
      const d = q[i]! - data[offset + i]!;
      s += d * d;
    }
    return Math.sqrt(s);
  }
  let dot = 0;
  for (let i = 0; i < dim; i++) dot += q[i]! * data[offset + i]!;
  if (metric === 'dot') return -dot;
  const denom = qNorm * vNorm;
  // Rounding can push |cos| a hair past 1; keep distances in [0, 2] and similarities in [-1, 1].
  return denom === 0 ? 1 : Math.min(2, Math.max(0, 1 - dot / denom));
}

export function scoreOfDistance(metric: VectorMetric, d: number): number {
  return metric === 'cosine' ? 1 - d : -d;
}
