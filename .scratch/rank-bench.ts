import { nearestAcross } from '../src/segment/ivf-centroids.ts';
const dim = 128, segs = 14, per = 3900;
import { rng } from '../test/support/rng.ts'; const rnd = rng(7);
// clustered-ish: centroids around 1000 centres
const centres = Array.from({ length: 1000 }, () => Float32Array.from({ length: dim }, () => rnd() * 10));
const dirs = Array.from({ length: segs }, () => {
  const c = new Float32Array(per * dim);
  for (let i = 0; i < per; i++) { const m = centres[Math.floor(rnd() * 1000)]!; for (let d = 0; d < dim; d++) c[i * dim + d] = m[d]! + rnd(); }
  return { clusters: per, dim, centroids: c };
});
const qs = Array.from({ length: 200 }, () => { const m = centres[Math.floor(rnd() * 1000)]!; return Float32Array.from({ length: dim }, (_, d) => m[d]! + rnd()); });
for (const n of [64, 128]) {
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    for (const q of qs) nearestAcross(dirs, 'l2', q, n);
    console.log(n, ((performance.now() - t) / qs.length).toFixed(3), 'ms/query');
  }
}
