import { nearestAcross } from '../src/segment/ivf-centroids.ts';
import { buildCentroidGraph, CentroidGraph } from '../src/segment/ivf-graph.ts';
import { tmpdir } from 'node:os';
const dim = 128, segs = 14, per = 3900;
import { rng } from '../test/support/rng.ts'; const rnd = rng(7);
const centres = Array.from({ length: 1000 }, () => Float32Array.from({ length: dim }, () => rnd() * 10));
const dirs: any[] = Array.from({ length: segs }, () => {
  const c = new Float32Array(per * dim);
  for (let i = 0; i < per; i++) { const m = centres[Math.floor(rnd() * 1000)]!; for (let d = 0; d < dim; d++) c[i * dim + d] = m[d]! + rnd() * 3; }
  return { clusters: per, dim, centroids: c, graph: null };
});
const t0 = performance.now();
for (const d of dirs) d.graph = await CentroidGraph.load(buildCentroidGraph('l2', dim, d.centroids, per, 100, tmpdir()), 'l2', dim, tmpdir());
console.log('build+load', ((performance.now() - t0) / segs).toFixed(0), 'ms/segment');
const qs = Array.from({ length: 200 }, () => { const m = centres[Math.floor(rnd() * 1000)]!; return Float32Array.from({ length: dim }, (_, d) => m[d]! + rnd() * 3); });
for (const n of [16, 64]) for (let r = 0; r < 2; r++) for (const g of [false, true]) {
  let t = performance.now(); let hit = 0;
  for (const q of qs) { const a = nearestAcross(dirs, 'l2', q, n, g); if (g) { const e = nearestAcross(dirs, 'l2', q, n, false); const s = new Set(Array.from(e.clusters, (c, j) => e.segments[j] * 1e5 + c)); hit += Array.from(a.clusters, (c, j) => a.segments[j]! * 1e5 + c).filter((x) => s.has(x)).length; } }
  const ms = (performance.now() - t) / qs.length;
  if (!g) console.log(n, 'exact', ms.toFixed(3)); else { t = performance.now(); for (const q of qs) nearestAcross(dirs, 'l2', q, n, true); console.log(n, 'graph', ((performance.now() - t) / qs.length).toFixed(3), 'overlap', (hit / (n * qs.length)).toFixed(4)); }
}
for (const [k, ef] of [[64, 64], [16, 64], [8, 32], [8, 16], [4, 16]]) {
  const g = dirs[0].graph.index;
  let t = performance.now();
  for (let r = 0; r < 5; r++) for (const q of qs) g.search(q, k, ef);
  console.log('search k', k, 'ef', ef, ((performance.now() - t) / qs.length / 5 * 1000).toFixed(1), 'µs');
}
