// Small segments: HNSW search vs an exact scan of the vectors section, on one segment, by row
// count. Chooses EXACT_SCAN_ROWS (src/segment/builder.ts): below it a segment is built without
// an HNSW index. Also measures what one loaded HNSW index costs in RSS, whatever its size.
//
//   npx tsx bench/small-segments.ts [--queries 200] [--passes 5]
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import type { NamespaceSchema, VectorMetric } from '../src/schema/types.ts';
import { buildSegment, readSegmentMeta, SegmentReader } from '../src/segment/index.ts';
import { gloveAvailable, loadGlove } from './lib/data.ts';
import { fmt, printTable, writeResult } from './lib/report.ts';
import { summarize } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: { queries: { type: 'string', default: '200' }, passes: { type: 'string', default: '5' } },
});
const QUERIES = Number(args.queries);
const PASSES = Number(args.passes);
const SIZES = [128, 256, 384, 512, 1024, 2048, 4096, 8192, 16384];
const K = 10;
// The configured defaults (config/default.toml [indexing]).
const HNSW = { m: 16, efConstruction: 200, seed: 100 };
const EF = 128;

interface Dataset { name: string; metric: VectorMetric; dim: number; base: Float32Array; queries: Float32Array[] }

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** 64 Gaussian clusters in [-1, 1]^dim; queries drawn the same way. */
function clustered(metric: VectorMetric, dim: number, rows: number): Dataset {
  const rand = lcg(7);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const centres = Array.from({ length: 64 }, () => Float32Array.from({ length: dim }, () => rand() * 2 - 1));
  const point = (out: Float32Array, off: number) => {
    const c = centres[Math.floor(rand() * centres.length)]!;
    for (let i = 0; i < dim; i++) out[off + i] = c[i]! + 0.25 * gauss();
  };
  const base = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) point(base, r * dim);
  const queries = Array.from({ length: QUERIES }, () => { const q = new Float32Array(dim); point(q, 0); return q; });
  return { name: `synthetic-${dim} ${metric}`, metric, dim, base, queries };
}

function glove(): Dataset | null {
  if (!gloveAvailable()) return null;
  const g = loadGlove();
  const queries = Array.from({ length: Math.min(QUERIES, g.queries.rows) },
    (_, q) => g.queries.data.slice(q * g.queries.dim, (q + 1) * g.queries.dim));
  return { name: 'glove-100 cosine', metric: 'cosine', dim: g.base.dim, base: g.base.data, queries };
}

async function open(d: Dataset, rows: number, withHnsw: boolean): Promise<SegmentReader> {
  const schema: NamespaceSchema = { vector_dim: d.dim, vector_metric: d.metric, attributes: {} };
  const { bytes } = await buildSegment({
    schema,
    ids: Array.from({ length: rows }, (_, r) => BigInt(r)),
    vectors: d.base.subarray(0, rows * d.dim),
    hasVector: new Uint8Array(rows).fill(1),
    attributes: Array.from({ length: rows }, () => ({})),
    hnsw: HNSW,
    exactScanBelow: withHnsw ? 0 : Infinity,
  });
  const meta = readSegmentMeta(bytes.subarray(Math.max(0, bytes.length - 65_536)), bytes.length);
  return SegmentReader.open({
    meta, schema, tmpDir: tmpdir(),
    readSection: async (_name, { offset, length }) => bytes.subarray(offset, offset + length),
  });
}

type Search = (q: Float32Array) => number[];

/** Median over passes of each method's p50 (ms), the methods interleaved within a pass. */
function time(methods: Search[], queries: Float32Array[]): number[] {
  const p50s: number[][] = methods.map(() => []);
  for (const m of methods) for (const q of queries.slice(0, 20)) m(q); // warm the JIT
  for (let pass = 0; pass < PASSES; pass++) {
    methods.forEach((m, i) => {
      const ms: number[] = [];
      for (const q of queries) {
        const t = performance.now();
        m(q);
        ms.push(performance.now() - t);
      }
      p50s[i]!.push(summarize(ms).p50);
    });
  }
  return p50s.map((xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
}

function recallOf(approx: Search, exact: Search, queries: Float32Array[]): number {
  let hit = 0;
  for (const q of queries) {
    const truth = new Set(exact(q));
    hit += approx(q).filter((r) => truth.has(r)).length;
  }
  return hit / (queries.length * K);
}

/** RSS growth per loaded reader, over `count` readers of a 256-row segment. */
async function rssPerReader(d: Dataset, withHnsw: boolean, count: number): Promise<number> {
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  const readers: SegmentReader[] = [];
  for (let i = 0; i < count; i++) readers.push(await open(d, 256, withHnsw));
  globalThis.gc?.();
  const after = process.memoryUsage().rss;
  for (const r of readers) r.close();
  return (after - before) / count / 2 ** 20;
}

async function main(): Promise<void> {
  const maxRows = SIZES[SIZES.length - 1]!;
  const sets = [clustered('cosine', 128, maxRows), clustered('l2', 128, maxRows), glove()].filter((d) => d !== null);
  const results: Array<Record<string, unknown>> = [];
  for (const d of sets) {
    const table: Array<Array<string | number>> = [];
    for (const rows of SIZES) {
      if (rows * d.dim > d.base.length) continue;
      const [graph, scan] = [await open(d, rows, true), await open(d, rows, false)];
      const half = (r: number) => r % 2 === 0;
      const hnsw: Search = (q) => graph.searchVector(q, K, EF).rows;
      const exact: Search = (q) => scan.searchVector(q, K, EF).rows;
      const hnswHalf: Search = (q) => graph.searchVector(q, K, EF, half).rows;
      const exactHalf: Search = (q) => scan.searchVector(q, K, EF, half).rows;
      const [h, e, hf, ef] = time([hnsw, exact, hnswHalf, exactHalf], d.queries);
      const recall = recallOf(hnsw, exact, d.queries);
      table.push([rows, fmt(h), fmt(e), fmt(e! / h!, 2), fmt(hf), fmt(ef), fmt(ef! / hf!, 2), fmt(recall)]);
      results.push({ dataset: d.name, rows, k: K, ef: EF, hnswP50Ms: h, exactP50Ms: e, hnswFilteredP50Ms: hf, exactFilteredP50Ms: ef, hnswRecall: recall });
      graph.close();
      scan.close();
    }
    printTable(`${d.name}: one segment, top ${K}, ef ${EF}, p50 ms (median of ${PASSES} passes × ${d.queries.length} queries); filter keeps 50% of rows`,
      ['rows', 'hnsw', 'exact', 'exact/hnsw', 'hnsw 50%', 'exact 50%', 'ratio 50%', 'hnsw recall'], table);
  }
  const synthetic = sets[0]!;
  const withIndex = await rssPerReader(synthetic, true, 100);
  const without = await rssPerReader(synthetic, false, 100);
  printTable('RSS per loaded 256-row segment (128-d), over 100 readers', ['segment', 'MiB each'],
    [['with hnsw', fmt(withIndex, 2)], ['exact scan', fmt(without, 2)]]);
  writeResult('small-segments', { sizes: SIZES, hnsw: HNSW, ef: EF, results, rssPerReaderMiB: { hnsw: withIndex, exact: without } });
}

await main();
