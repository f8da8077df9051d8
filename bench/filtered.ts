// filtered: GloVe-100 50k in one HNSW segment, each document with an integer attribute
// bucket = i % 100. Filters `bucket lt 1` (1%), `lt 10` (10%), `lt 50` (50%): recall@10 against
// the exact filtered top 10 (brute-force cosine over the matching rows), and p50 latency next to
// the unfiltered query at the same ef, all taking turns in blocks of queries. Each filter runs
// twice: the same filter on every query ("repeated", which a per-segment filter cache serves),
// and a filter that matches the same rows but is new on every query ("new"), which no cache
// can serve: `rank lt v` over a second attribute rank = bucket·1000 + ⌊i/100⌋ (< 500), where
// every v in [1000·t − 500, 1000·t] selects exactly the rows with bucket < t; v cycles through
// those 501 values, so a value comes back only after 500 other filters.
//
//   npm run bench -- filtered          (or: npx tsx bench/filtered.ts)

import { rm } from 'node:fs/promises';
import { flushTail } from '../src/indexer/flush.ts';
import type { Document } from '../src/schema/types.ts';
import { queryVectors, recall, rowArray, rowF32, truthTopK, type Matrix, loadGloveOrSkip } from './lib/data.ts';
import { interleave } from './lib/interleave.ts';
import { fmt, printTable, verdict, writeResult } from './lib/report.ts';
import { createNamespace, hitIds, indexingOptions, inProcessSilt, query, schemaOf, tempDir, upsertAll } from './lib/silt.ts';
import { median, medianOf, since, type Latency } from './lib/stats.ts';

const EFS = [128, 256];
const K = 10;
const QUERIES = 200;
const PASSES = 5;
const BLOCK = 50;
const BUCKETS = 100;
const TARGET_RATIO = 2;
const TARGET_RECALL = 0.95;

interface Case {
  name: string;
  /** bucket < threshold; null = no filter. */
  threshold: number | null;
  /** A filter never seen before on every query (same matching rows). */
  fresh: boolean;
}

const SELECTIVITIES = [
  { name: 'bucket lt 1 (1%)', threshold: 1 },
  { name: 'bucket lt 10 (10%)', threshold: 10 },
  { name: 'bucket lt 50 (50%)', threshold: 50 },
];
const CASES: Case[] = [
  { name: 'none', threshold: null, fresh: false },
  ...SELECTIVITIES.map((s) => ({ ...s, name: `${s.name} repeated`, fresh: false })),
  ...SELECTIVITIES.map((s) => ({ ...s, name: `${s.name} new`, fresh: true })),
];
let nonce = 0;

function filterOf(c: Case): unknown {
  if (c.threshold === null) return undefined;
  if (!c.fresh) return { field: 'bucket', op: 'lt', value: c.threshold };
  return { field: 'rank', op: 'lt', value: c.threshold * 1000 - 500 + (nonce++ % 501) };
}

interface CaseResult {
  filter: string;
  threshold: number | null;
  newFilterEachQuery: boolean;
  selectivity: number;
  recall10: number;
  latencyMs: Latency;
  p50VsUnfiltered: number;
  p50VsUnfilteredPerPass: number[];
  /** null for the unfiltered baseline. */
  met: boolean | null;
}

/** Exact top-k rows by cosine for each query, one list per case (filtered rows only). */
function exactTruth(base: Matrix<Float32Array>, queries: number[][], cases: Case[], k: number): number[][][] {
  const { rows: n, dim } = base;
  const unit = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += base.data[r * dim + j]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) unit[r * dim + j] = base.data[r * dim + j]! * inv;
  }
  const dots = new Float64Array(n);
  return queries.map((q) => {
    for (let r = 0; r < n; r++) {
      let s = 0;
      const off = r * dim;
      for (let j = 0; j < dim; j++) s += q[j]! * unit[off + j]!;
      dots[r] = s; // the query's norm does not change the order
    }
    return cases.map((c) => {
      const rows: number[] = [];
      for (let r = 0; r < n; r++) if (c.threshold === null || r % BUCKETS < c.threshold) rows.push(r);
      rows.sort((a, b) => dots[b]! - dots[a]! || a - b);
      return rows.slice(0, k);
    });
  });
}

async function main(): Promise<void> {
  const glove = loadGloveOrSkip('filtered');
  if (!glove) return;
  const n = glove.base.rows;
  const dim = glove.base.dim;
  const qs = queryVectors(glove, QUERIES);
  const nq = qs.length;
  console.log(`filtered: GloVe-100 ${n} × ${dim}-d cosine, bucket = i % ${BUCKETS}, ${nq} queries`);

  let t0 = performance.now();
  const truth = exactTruth(glove.base, qs, CASES, K); // the fresh cases' truth equals the repeated ones'
  // The brute force must agree with the published ground truth where both exist (no filter).
  const agreement = median(truth.map((t, q) => recall(t[0]!, truthTopK(glove.groundTruth, q, K))));
  const meanAgreement = truth.reduce((a, t, q) => a + recall(t[0]!, truthTopK(glove.groundTruth, q, K)), 0) / nq;
  console.log(`exact filtered top-${K} by brute force in ${fmt(since(t0) / 1000, 1)} s; agrees with groundtruth.cosine.ivecs on ${fmt(meanAgreement * 100, 2)}% (unfiltered)`);
  if (agreement < 1) throw new Error('brute-force ground truth disagrees with the published one');

  const dir = await tempDir('filtered');
  const silt = await inProcessSilt(dir, indexingOptions());
  const ns = await createNamespace(silt.catalog, 'glove', schemaOf({
    vector_dim: dim, vector_metric: 'cosine',
    attributes: { bucket: { type: 'integer', filterable: true }, rank: { type: 'integer', filterable: true } },
  }));
  const docs: Document[] = Array.from({ length: n }, (_, i) => ({
    id: BigInt(i), vector: rowF32(glove.base, i), attributes: { bucket: i % BUCKETS, rank: (i % BUCKETS) * 1000 + Math.floor(i / BUCKETS) },
  }));
  // Every "new" filter must select exactly the rows of its "repeated" one.
  for (const { threshold: t } of SELECTIVITIES) {
    for (const v of [t * 1000 - 500, t * 1000]) {
      const differ = docs.filter((d) => ((d.attributes.rank as number) < v) !== ((d.attributes.bucket as number) < t)).length;
      if (differ > 0) throw new Error(`rank lt ${v} and bucket lt ${t} differ on ${differ} rows`);
    }
  }
  await upsertAll(ns, docs, 1000);
  t0 = performance.now();
  await flushTail(ns);
  console.log(`silt: flushTail ${fmt(since(t0) / 1000, 1)} s → ${ns.stats().segments.length} segment`);

  const bodyOf = (c: Case, q: number, ef: number) => ({
    vector: qs[q]!, top_k: K, ef, include_attributes: false,
    ...(c.threshold === null ? {} : { filter: filterOf(c) }),
  });
  for (const c of CASES) for (let q = 0; q < nq; q++) await query(ns, bodyOf(c, q, 128)); // warm-up

  const perEf: Array<{ ef: number; cases: CaseResult[] }> = [];
  for (const ef of EFS) {
    const recalls = CASES.map(() => 0);
    const { passes } = await interleave(CASES.length, { queries: nq, passes: PASSES, block: BLOCK },
      async (c, q) => hitIds(await query(ns, bodyOf(CASES[c]!, q, ef))),
      (c, q, ids, pass) => {
        if (pass === 0) recalls[c]! += recall(ids, truth[q]![c]!);
      });
    perEf.push({
      ef,
      cases: CASES.map((c, i): CaseResult => {
        const ratios = passes[i]!.map((s, p) => s.p50 / passes[0]![p]!.p50);
        const r = recalls[i]! / nq;
        const ratio = median(ratios);
        return {
          filter: c.name, threshold: c.threshold, newFilterEachQuery: c.fresh,
          selectivity: c.threshold === null ? 1 : c.threshold / BUCKETS,
          recall10: r, latencyMs: medianOf(passes[i]!), p50VsUnfiltered: ratio, p50VsUnfilteredPerPass: ratios,
          met: c.threshold === null ? null : r >= TARGET_RECALL && ratio <= TARGET_RATIO,
        };
      }),
    });
  }
  await silt.close();
  await rm(dir, { recursive: true, force: true });

  for (const r of perEf) {
    printTable(`ef=${r.ef}, ${nq} queries, median of ${PASSES} passes taking turns in blocks of ${BLOCK} (ms)`,
      ['filter', 'R@10', 'p50', 'p99', 'QPS', 'p50 / unfiltered', `R≥${TARGET_RECALL} and ≤${TARGET_RATIO}×`],
      r.cases.map((c) => [c.filter, fmt(c.recall10), fmt(c.latencyMs.p50), fmt(c.latencyMs.p99), fmt(c.latencyMs.qps, 0),
        `${fmt(c.p50VsUnfiltered, 2)}×`, c.met === null ? '' : verdict(c.met)]));
  }
  const metAt = (fresh: boolean) => perEf.filter((r) => r.cases.every((c) => c.met !== false || c.newFilterEachQuery !== fresh)).map((r) => r.ef);
  const list = (efs: number[]) => (efs.length ? `ef ${efs.join(', ')}` : 'no ef');
  console.log(`\ntarget met at every selectivity: repeated filters at ${list(metAt(false))}; new filters at ${list(metAt(true))}`);

  writeResult('filtered', {
    data: { base: n, dim, metric: 'cosine', queries: nq, k: K, attribute: `bucket = i % ${BUCKETS}` },
    hnsw: { m: 16, efConstruction: 200 },
    method: `${PASSES} passes; the ${CASES.length} cases take turns in blocks of ${BLOCK} queries; medians over passes; ` +
      'truth = exact cosine top 10 over the matching rows (brute force); "new" = a filter never used before on every query',
    truthAgreementWithPublished: meanAgreement,
    results: perEf,
    target: { p50VsUnfiltered: TARGET_RATIO, minRecall: TARGET_RECALL, metAtEfRepeated: metAt(false), metAtEfNew: metAt(true) },
  });
}

await main();
