// The native shortlist of centroid ranking (ivf-shortlist.ts): once built, nearestAcross ranks
// each large segment's shortlist only, and must still give exactly the order of a plain sort of
// the float64 distances, ties by segment then cluster; where float32 cannot prove that nothing
// left out ranks before the last kept (equal distances across the cut), it ranks all instead.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VectorMetric } from '../../src/schema/types.ts';
import { nearestAcross, type RankDirectory } from '../../src/segment/ivf-centroids.ts';
import { shortlistBytes, shortlistsReady, shortlistStats, SHORTLIST_MIN_CLUSTERS } from '../../src/segment/ivf-shortlist.ts';
import { probesOf, rng, shortlistsBuilt } from './helpers.ts';

const DIM = 37; // not a multiple of 4 or 16: the native lanes' tail runs too

function plain(dirs: readonly RankDirectory[], metric: VectorMetric, q: Float32Array, n: number): { segments: number[]; clusters: number[] } {
  const all: Array<[number, number, number]> = [];
  dirs.forEach((dir, s) => {
    for (let c = 0; c < dir.clusters; c++) {
      let d = 0;
      for (let i = 0; i < DIM; i++) {
        const x = dir.centroids[c * DIM + i]!;
        d += metric === 'dot' ? -q[i]! * x : (q[i]! - x) ** 2;
      }
      all.push([d, s, c]);
    }
  });
  all.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const top = all.slice(0, n);
  return { segments: top.map((x) => x[1]), clusters: top.map((x) => x[2]) };
}

async function built(dirs: readonly RankDirectory[], metric: VectorMetric): Promise<void> {
  await shortlistsBuilt(dirs, metric);
  // Each shortlist is loaded through a temporary file in hnswlib's layout, removed once read.
  assert.deepEqual(readdirSync(tmpdir()).filter((f) => f.startsWith(`silt-centroids-${process.pid}-`)), [], 'no temporary file is left');
}

for (const metric of ['l2', 'cosine', 'dot'] as const) {
  test(`${metric}: ranking through the built shortlists gives exactly the plain order, across segments`, async () => {
    const rand = rng(metric.length + 40);
    // Fractional components (float32 distances are inexact), plus duplicated centroids (exact ties).
    const dirs = [1500, SHORTLIST_MIN_CLUSTERS + 3, 300].map((clusters) => {
      const centroids = Float32Array.from({ length: clusters * DIM }, () => rand() * 2 - 1);
      for (let c = 0; c + 5 < clusters; c += 11) centroids.copyWithin((c + 5) * DIM, c * DIM, (c + 1) * DIM);
      return { clusters, dim: DIM, centroids };
    });
    const queries = Array.from({ length: 30 }, (_, i) => i % 3 === 0
      ? dirs[0]!.centroids.slice(i * DIM, (i + 1) * DIM) // on a centroid, which has a duplicate
      : Float32Array.from({ length: DIM }, () => rand() * 2 - 1));
    assert.equal(shortlistsReady(dirs, metric), false, 'not built before first use');
    const before = shortlistStats();
    await built(dirs, metric);
    for (const q of queries) {
      for (const n of [1, 8, 64]) assert.deepEqual(probesOf(nearestAcross(dirs, metric, q, n)), plain(dirs, metric, q, n), `n ${n}`);
    }
    const after = shortlistStats();
    assert.ok(after.used - before.used >= 80, `the shortlists served most rankings (${after.used - before.used} of 90)`);
  });
}

test('equal distances across the shortlist\'s cut are not provable: everything is ranked, ties by cluster', async () => {
  const clusters = SHORTLIST_MIN_CLUSTERS + 100;
  const centroids = new Float32Array(clusters * DIM).fill(0.25);
  const dirs = [{ clusters, dim: DIM, centroids }];
  await built(dirs, 'l2');
  const before = shortlistStats();
  const q = new Float32Array(DIM).fill(1);
  assert.deepEqual(probesOf(nearestAcross(dirs, 'l2', q, 10)), plain(dirs, 'l2', q, 10));
  assert.deepEqual(Array.from(nearestAcross(dirs, 'l2', q, 10).clusters), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const after = shortlistStats();
  assert.equal(after.refused - before.refused, 2);
  assert.equal(after.used, before.used);
});

test('small segments have no shortlist and cost nothing for one', () => {
  assert.equal(shortlistBytes(SHORTLIST_MIN_CLUSTERS - 1, 128), 0);
  assert.ok(shortlistBytes(SHORTLIST_MIN_CLUSTERS, 128) >= SHORTLIST_MIN_CLUSTERS * 128 * 4);
  const dirs = [{ clusters: 500, dim: DIM, centroids: new Float32Array(500 * DIM) }];
  const before = shortlistStats();
  nearestAcross(dirs, 'l2', new Float32Array(DIM), 4);
  assert.deepEqual(shortlistStats(), before, 'no shortlist was asked');
});
