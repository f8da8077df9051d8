import hnswlib from 'hnswlib-node';
import { nearestAcross } from '../src/segment/ivf-centroids.ts';
const dim = 128, per = 3900;
let seed = 1; const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const centres = Array.from({ length: 1000 }, () => Float32Array.from({ length: dim }, () => rnd() * 10));
const c = new Float32Array(per * dim);
for (let i = 0; i < per; i++) { const m = centres[Math.floor(rnd() * 1000)]!; for (let d = 0; d < dim; d++) c[i * dim + d] = m[d]! + rnd() * 3; }
const qs = Array.from({ length: 200 }, () => { const m = centres[Math.floor(rnd() * 1000)]!; return Float32Array.from({ length: dim }, (_, d) => m[d]! + rnd() * 3); });
for (const [M, efC] of [[16, 64], [16, 100], [12, 48], [8, 40]]) {
  const idx = new hnswlib.HierarchicalNSW('l2', dim);
  idx.initIndex({ maxElements: per, m: M, efConstruction: efC, randomSeed: 100 });
  let t = performance.now();
  for (let i = 0; i < per; i++) idx.addPoint(Array.from(c.subarray(i * dim, i * dim + dim)), i);
  const build = performance.now() - t;
  for (const [n, ef] of [[64, 64], [64, 128], [64, 200]]) {
    idx.setEf(ef);
    let hit = 0; t = performance.now();
    const res = qs.map((q) => idx.searchKnn(Array.from(q), n).neighbors);
    const ms = (performance.now() - t) / qs.length;
    qs.forEach((q, i) => { const ex = new Set(nearestAcross([{ clusters: per, dim, centroids: c }], 'l2', q, n).clusters); for (const x of res[i]!) if (ex.has(x)) hit++; });
    console.log({ M, efC, build: build.toFixed(0), n, ef, ms: ms.toFixed(3), recall: (hit / (n * qs.length)).toFixed(4) });
  }
}
let t = performance.now();
for (const q of qs) nearestAcross([{ clusters: per, dim, centroids: c }], 'l2', q, 64);
console.log('exact', ((performance.now() - t) / qs.length).toFixed(3));
