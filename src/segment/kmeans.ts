// Partitions a segment's vectors into clusters of about `target` rows for the IVF index (ivf.ts).
// Hierarchical: a k-means of at most MAX_SPLIT centroids, fitted on a sample, splits the rows;
// every part still larger than SPLIT_ABOVE × target is split again the same way. A flat k-means
// of 1M rows into 4k clusters costs 1M × 4k distances per pass (≈ 5·10^11 multiply-adds at
// 128-d, minutes in JavaScript); the hierarchy assigns every row through ≈ 2 × 64 centroids
// instead, and the parts come out near the target size because each level divides by size.
// Deterministic for a given seed, so a rebuild of the same rows gives the same segment.

/** Centroids per k-means split; also bounds the cost of assigning a row at each level. */
const MAX_SPLIT = 64;
/** Sampled rows per centroid when fitting (Faiss warns below 39). */
const SAMPLE_PER_CENTROID = 64;
const ITERATIONS = 10;
/** A part larger than this many times the target is split again. */
const SPLIT_ABOVE = 1.5;

/** mulberry32: small, seedable, good enough to pick samples and initial centroids. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Splits `rows` (row numbers into data, dim floats each) into parts of about `target` rows by
 * Euclidean k-means; returns the parts (each non-empty, rows ascending).
 */
export function partitionRows(data: Float32Array, dim: number, rows: Uint32Array, target: number, seed: number): Uint32Array[] {
  const rand = seededRandom(seed);
  const out: Uint32Array[] = [];
  const pending: Uint32Array[] = [rows];
  while (pending.length > 0) {
    const part = pending.pop()!;
    if (part.length <= target * SPLIT_ABOVE) {
      if (part.length > 0) out.push(part);
      continue;
    }
    const k = Math.min(MAX_SPLIT, Math.ceil(part.length / target));
    const parts = splitOnce(data, dim, part, k, rand);
    if (parts.length <= 1) {
      // Identical vectors cannot be told apart: cut the part into even pieces instead.
      for (let at = 0; at < part.length; at += target) out.push(part.subarray(at, at + target));
      continue;
    }
    pending.push(...parts);
  }
  return out;
}

/** One k-means of `k` centroids fitted on a sample of `rows`, then every row assigned. */
function splitOnce(data: Float32Array, dim: number, rows: Uint32Array, k: number, rand: () => number): Uint32Array[] {
  const sample = sampleRows(rows, Math.min(rows.length, k * SAMPLE_PER_CENTROID), rand);
  const centroids = new Float32Array(k * dim);
  // Initial centroids: k distinct sampled rows (sample is a random subset, so its first k).
  for (let c = 0; c < k; c++) centroids.set(data.subarray(sample[c]! * dim, sample[c]! * dim + dim), c * dim);
  const assign = new Uint32Array(sample.length);
  const sums = new Float64Array(k * dim);
  const counts = new Uint32Array(k);
  const halfNorms = new Float32Array(k);
  for (let iter = 0; iter < ITERATIONS; iter++) {
    halfSquaredNorms(centroids, k, dim, halfNorms);
    for (let i = 0; i < sample.length; i++) assign[i] = nearest(data, sample[i]! * dim, centroids, halfNorms, k, dim);
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < sample.length; i++) {
      const c = assign[i]!;
      counts[c]!++;
      const off = sample[i]! * dim;
      for (let d = 0; d < dim; d++) sums[c * dim + d]! += data[off + d]!;
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) {
        // An empty centroid restarts on a random sampled row, as Faiss does.
        const row = sample[Math.floor(rand() * sample.length)]!;
        centroids.set(data.subarray(row * dim, row * dim + dim), c * dim);
        continue;
      }
      for (let d = 0; d < dim; d++) centroids[c * dim + d] = sums[c * dim + d]! / counts[c]!;
    }
  }
  const of = new Uint32Array(rows.length);
  counts.fill(0);
  halfSquaredNorms(centroids, k, dim, halfNorms);
  for (let i = 0; i < rows.length; i++) {
    const c = nearest(data, rows[i]! * dim, centroids, halfNorms, k, dim);
    of[i] = c;
    counts[c]!++;
  }
  const parts = Array.from({ length: k }, (_, c) => new Uint32Array(counts[c]!));
  const fill = new Uint32Array(k);
  for (let i = 0; i < rows.length; i++) parts[of[i]!]![fill[of[i]!]!++] = rows[i]!;
  return parts.filter((p) => p.length > 0);
}

/** ‖c‖² / 2 of each centroid, for nearest(). */
function halfSquaredNorms(centroids: Float32Array, k: number, dim: number, out: Float32Array): void {
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += centroids[c * dim + d]! * centroids[c * dim + d]!;
    out[c] = s / 2;
  }
}

/**
 * Index of the centroid nearest (squared Euclidean) to data[off..off+dim]: the one maximizing
 * x·c − ‖c‖²/2, since ‖x − c‖² = ‖x‖² − 2 (x·c − ‖c‖²/2). One multiply-add per dimension instead
 * of a subtract and a multiply-add, in four independent sums (the loop is unrolled by hand: V8
 * does not). k-means is ≈ 80 % of a 50k × 128-d segment build (CPU profile); 20k rows against 64
 * centroids, old and new side by side in one process on the loaded 2-core machine: 1.9–2.1× faster.
 */
export function nearest(data: Float32Array, off: number, centroids: Float32Array, halfNorms: Float32Array, k: number, dim: number): number {
  let best = 0;
  let bestScore = -Infinity;
  const tail = dim & ~3;
  for (let c = 0; c < k; c++) {
    const base = c * dim;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let d = 0;
    for (; d < tail; d += 4) {
      s0 += data[off + d]! * centroids[base + d]!;
      s1 += data[off + d + 1]! * centroids[base + d + 1]!;
      s2 += data[off + d + 2]! * centroids[base + d + 2]!;
      s3 += data[off + d + 3]! * centroids[base + d + 3]!;
    }
    for (; d < dim; d++) s0 += data[off + d]! * centroids[base + d]!;
    const score = s0 + s1 + s2 + s3 - halfNorms[c]!;
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

/** `n` distinct entries of rows in random order (partial Fisher–Yates over a copy). */
function sampleRows(rows: Uint32Array, n: number, rand: () => number): Uint32Array {
  const copy = Uint32Array.from(rows);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rand() * (copy.length - i));
    const t = copy[i]!;
    copy[i] = copy[j]!;
    copy[j] = t;
  }
  return copy.subarray(0, n);
}
