// Centroid ranking (segment/ivf-centroids.ts nearestAcross) in JavaScript vs through the native
// shortlist (segment/ivf-shortlist.ts), side by side in one process: the namespace shapes of the
// scale benchmark (1M rows: one segment of ≈ 3,900 clusters, or four of 1,000; 10M rows: 15
// segments of ≈ 3,700), 128-d centroids drawn like its data (synthetic.ts: 1,000 gaussian centres
// plus noise), nprobe 64. Also checks that both give the same probes for every query.
//
//   npm run bench -- centroid-rank [--queries 300] [--rounds 3]
import { parseArgs } from 'node:util';
import { nearestAcross, type Probes, type RankDirectory } from '../src/segment/ivf-centroids.ts';
import { SHORTLIST_MIN_CLUSTERS, shortlistsReady, shortlistStats } from '../src/segment/ivf-shortlist.ts';
import { fmt, printTable, writeResult } from './lib/report.ts';
import { median } from './lib/stats.ts';
import { batchVectors, clustered, queryVectors } from './lib/synthetic.ts';

const { values: args } = parseArgs({ options: { queries: { type: 'string', default: '300' }, rounds: { type: 'string', default: '3' } } });
const QUERIES = Number(args.queries);
const ROUNDS = Number(args.rounds);
const DIM = 128;
const NPROBE = 64;
const SHAPES: Array<{ name: string; segments: number; clusters: number }> = [
  { name: '1M, one segment', segments: 1, clusters: 3900 },
  { name: '1M, four segments', segments: 4, clusters: 1000 },
  { name: '10M, 15 segments', segments: 15, clusters: 3700 },
  { name: '200k, four segments', segments: 4, clusters: 200 },
];

function shape(segments: number, clusters: number): { dirs: RankDirectory[]; queries: Float32Array[] } {
  const rows = segments * clusters;
  const set = clustered({ docs: rows, dim: DIM, seed: 7, batch: 1000, centres: 1000, noise: 0.5 });
  const all = new Float32Array(rows * DIM);
  for (let b = 0; b * 1000 < rows; b++) {
    const { first, vectors } = batchVectors(set, b);
    all.set(Float32Array.from(vectors), first * DIM);
  }
  const dirs = Array.from({ length: segments }, (_, s) => ({ clusters, dim: DIM, centroids: all.slice(s * clusters * DIM, (s + 1) * clusters * DIM) }));
  return { dirs, queries: queryVectors(set, QUERIES).map((q) => Float32Array.from(q)) };
}

const key = (p: Probes) => `${p.segments.join(',')}/${p.clusters.join(',')}`;

const rows: Array<Array<string | number>> = [];
const results: Array<Record<string, unknown>> = [];
for (const { name, segments, clusters } of SHAPES) {
  for (const metric of ['l2', 'dot'] as const) {
    const { dirs, queries } = shape(segments, clusters);
    const js: number[] = [];
    const native: number[] = [];
    let differ = 0;
    let buildMs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Fresh copies have no shortlist, and none is built while the loop does not yield.
      const plain = dirs.map((d) => ({ ...d, centroids: d.centroids.slice() }));
      const want = queries.map((q) => {
        const t = performance.now();
        const found = nearestAcross(plain, metric, q, NPROBE);
        js.push(performance.now() - t);
        return key(found);
      });
      const t0 = performance.now();
      // Below SHORTLIST_MIN_CLUSTERS a segment has none: both columns then rank in JavaScript.
      while (clusters >= SHORTLIST_MIN_CLUSTERS && !shortlistsReady(dirs, metric)) await new Promise((r) => setImmediate(r));
      if (round === 0) buildMs = performance.now() - t0;
      queries.forEach((q, i) => {
        const t = performance.now();
        const found = nearestAcross(dirs, metric, q, NPROBE);
        native.push(performance.now() - t);
        if (key(found) !== want[i]) differ++;
      });
    }
    const a = median(js);
    const b = median(native);
    rows.push([name, metric, segments * clusters, fmt(a, 2), fmt(b, 2), fmt(a / b, 2), Math.round(buildMs), differ]);
    results.push({ shape: name, metric, segments, clusters_per_segment: clusters, js_p50_ms: a, shortlist_p50_ms: b, ratio: a / b, build_ms: buildMs, differing_probes: differ });
  }
}
printTable(`centroid ranking, ${DIM}-d, nprobe ${NPROBE}: JavaScript vs native shortlist, medians of ${ROUNDS} × ${QUERIES} queries each`,
  ['shape', 'metric', 'centroids', 'js p50 ms', 'shortlist p50 ms', 'ratio', 'build ms', 'probes differing'], rows);
console.log(`shortlist rankings: ${JSON.stringify(shortlistStats())}`);
writeResult('centroid-rank', { queries: QUERIES, rounds: ROUNDS, dim: DIM, nprobe: NPROBE, shortlist: shortlistStats(), results });
