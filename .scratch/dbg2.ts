import { nearestAcross } from '../src/segment/ivf-centroids.ts';
import { buildCentroidGraph, CentroidGraph } from '../src/segment/ivf-graph.ts';
import { tmpdir } from 'node:os';
import { rng } from '../test/support/rng.ts'; const rnd = rng(7);
const dim = 128, segs = 14, per = 3900;
const centres = Array.from({ length: 1000 }, () => Float32Array.from({ length: dim }, () => rnd() * 10));
const dirs: any[] = Array.from({ length: segs }, () => {
  const c = new Float32Array(per * dim);
  for (let i = 0; i < per; i++) { const m = centres[Math.floor(rnd() * 1000)]!; for (let d = 0; d < dim; d++) c[i * dim + d] = m[d]! + rnd() * 3; }
  return { clusters: per, dim, centroids: c, graph: null };
});
for (const d of dirs) d.graph = await CentroidGraph.load(buildCentroidGraph('l2', dim, d.centroids, per, 100, tmpdir()), 'l2', dim, tmpdir());
let calls = 0; let ms = 0;
for (const d of dirs) { const g = d.graph; const orig = g.nearest.bind(g); g.nearest = (q: any, k: number) => { calls++; const t = performance.now(); const r = orig(q, k); ms += performance.now() - t; return r; }; }
const qs = Array.from({ length: 200 }, () => { const m = centres[Math.floor(rnd() * 1000)]!; return Float32Array.from({ length: dim }, (_, d) => m[d]! + rnd() * 3); });
for (const n of [16, 64]) { calls = 0; ms = 0; const t = performance.now(); for (const q of qs) nearestAcross(dirs, 'l2', q, n); console.log(n, 'calls/query', calls / qs.length, 'graph ms/query', (ms / qs.length).toFixed(3), 'total', ((performance.now() - t) / qs.length).toFixed(3)); }
