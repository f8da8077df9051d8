import { nearestAcross } from '../src/segment/ivf-centroids.ts';
import { buildCentroidGraph, CentroidGraph } from '../src/segment/ivf-graph.ts';
import { tmpdir } from 'node:os';
const dim = 128, segs = 3, per = 3900;
let seed = 1; const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const centres = Array.from({ length: 1000 }, () => Float32Array.from({ length: dim }, () => rnd() * 10));
const dirs: any[] = Array.from({ length: segs }, () => {
  const c = new Float32Array(per * dim);
  for (let i = 0; i < per; i++) { const m = centres[Math.floor(rnd() * 1000)]!; for (let d = 0; d < dim; d++) c[i * dim + d] = m[d]! + rnd() * 3; }
  return { clusters: per, dim, centroids: c, graph: null };
});
for (const d of dirs) d.graph = await CentroidGraph.load(buildCentroidGraph('l2', dim, d.centroids, per, 100, tmpdir()), 'l2', dim, tmpdir());
const q = Float32Array.from({ length: dim }, (_, d) => centres[5]![d]! + rnd() * 3);
const g = dirs[0].graph;
console.log(g.nearest(q, 8), g.nearest(q, 16));
console.log(nearestAcross([dirs[0]], 'l2', q, 16, false).clusters);
