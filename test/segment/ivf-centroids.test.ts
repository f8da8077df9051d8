// Centroid ranking (ivf-centroids.ts rankCentroids): the first nprobe clusters come from a bounded
// heap whose Euclidean sums stop early, wider probes from a full sort. Both must give exactly
// the order a plain sort of the distances gives, ties by cluster number, and the slices of one
// query must join up without a cluster missed or probed twice (a filter's widening probe).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VectorMetric } from '../../src/schema/types.ts';
import { nearestAcross, rankCentroids } from '../../src/segment/ivf-centroids.ts';
import { rng } from './helpers.ts';

const DIM = 37; // not a multiple of 4 or 16: the lanes' tail and the early stop's step both run

/** Integer components, so every distance is exact whatever the order of summation. */
function centroidsOf(clusters: number, seed: number): Float32Array {
  const rand = rng(seed);
  const out = new Float32Array(clusters * DIM);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(rand() * 21) - 10;
  // Duplicates: equal distances, ranked by cluster number.
  for (let c = 0; c < clusters; c += 7) out.copyWithin((c + 3) * DIM, c * DIM, (c + 1) * DIM);
  return out.subarray(0, clusters * DIM);
}

function plainOrder(centroids: Float32Array, clusters: number, metric: VectorMetric, q: Float32Array): number[] {
  const dist = Array.from({ length: clusters }, (_, c) => {
    let s = 0;
    for (let d = 0; d < DIM; d++) {
      const x = centroids[c * DIM + d]!;
      s += metric === 'dot' ? -q[d]! * x : (q[d]! - x) ** 2;
    }
    return s;
  });
  return dist.map((_, c) => c).sort((a, b) => dist[a]! - dist[b]! || a - b);
}

for (const metric of ['l2', 'cosine', 'dot'] as const) {
  test(`${metric}: the first nprobe clusters and every wider slice follow the plain sort of centroid distances`, () => {
    const clusters = 500;
    const centroids = centroidsOf(clusters, metric.length);
    const dir = { clusters, dim: DIM, centroids };
    const rand = rng(99);
    for (let i = 0; i < 20; i++) {
      const q = Float32Array.from({ length: DIM }, () => Math.floor(rand() * 21) - 10);
      const want = plainOrder(centroids, clusters, metric, q);
      for (const nprobe of [1, 8, 64]) {
        assert.deepEqual(Array.from(rankCentroids(dir, metric, q).slice(0, nprobe)), want.slice(0, nprobe), `nprobe ${nprobe}`);
      }
      // A widening probe: the heap's first slice, then the sort's, nprobe at a time.
      const order = rankCentroids(dir, metric, q);
      const probed: number[] = [];
      for (let from = 0; from < clusters; from += 16) probed.push(...order.slice(from, 16));
      assert.deepEqual(probed, want);
    }
  });
}

test('a slice past the clusters there are is cut at the end', () => {
  const dir = { clusters: 3, dim: DIM, centroids: centroidsOf(3, 5) };
  const q = new Float32Array(DIM);
  assert.equal(rankCentroids(dir, 'l2', q).slice(0, 10).length, 3);
  assert.equal(rankCentroids(dir, 'l2', q).slice(2, 10).length, 1);
});

test("several segments' clusters ranked together follow the plain sort over all of them, ties by segment then cluster", () => {
  const sizes = [300, 120, 1, 60];
  // Segment 1 repeats segment 0's first centroids: equal distances in two segments.
  const dirs = sizes.map((clusters, s) => ({ clusters, dim: DIM, centroids: centroidsOf(clusters, s === 1 ? 0 : s + 10) }));
  const rand = rng(5);
  for (const metric of ['l2', 'dot'] as const) {
    for (let i = 0; i < 10; i++) {
      const q = Float32Array.from({ length: DIM }, () => Math.floor(rand() * 21) - 10);
      const all = dirs.flatMap((dir, s) => plainOrder(dir.centroids, dir.clusters, metric, q).map((c) => ({ s, c, d: distanceOf(dir.centroids, c, metric, q) })));
      all.sort((a, b) => a.d - b.d || a.s - b.s || a.c - b.c);
      for (const n of [1, 8, 40, 1000]) {
        const got = nearestAcross(dirs, metric, q, n);
        const want = all.slice(0, n);
        assert.deepEqual(Array.from(got.segments), want.map((x) => x.s), `${metric} n ${n}`);
        assert.deepEqual(Array.from(got.clusters), want.map((x) => x.c), `${metric} n ${n}`);
      }
    }
  }
});

function distanceOf(centroids: Float32Array, c: number, metric: VectorMetric, q: Float32Array): number {
  let s = 0;
  for (let d = 0; d < DIM; d++) s += metric === 'dot' ? -q[d]! * centroids[c * DIM + d]! : (q[d]! - centroids[c * DIM + d]!) ** 2;
  return s;
}
