// ivf: GloVe-100 50k (cosine and l2) in one segment, built with the IVF index at several cluster
// sizes, against the HNSW segment main builds (M=16, efConstruction=200). For each setting:
// build time, segment bytes, recall@10 against the exact ground truth, p50 of one
// SegmentReader.search call (in process, no HTTP), and what a cold first query reads (open, then
// one query). Chooses IVF_CLUSTER_ROWS and the ef → nprobe mapping (docs/benchmarks.md).
//
//   npm run bench -- ivf          (or: npx tsx bench/ivf.ts)

import { join } from 'node:path';
import type { NamespaceSchema, VectorMetric } from '../src/schema/types.ts';
import { buildSegmentSync } from '../src/segment/builder.ts';
import type { CodeKind } from '../src/segment/ivf.ts';
import { readSegmentMeta, SegmentReader } from '../src/segment/index.ts';
import { GLOVE_DIR, loadGloveOrSkip, readIvecs, recall, truthTopK } from './lib/data.ts';
import { fmt, printTable, writeResult } from './lib/report.ts';
import { since, summarize } from './lib/stats.ts';
import { tempDir } from './lib/silt.ts';

const K = 10;
const QUERIES = 500;
const CLUSTER_ROWS = (process.env.IVF_CLUSTERS ?? '128,256,512').split(',').map(Number);
const NPROBES = [4, 8, 16, 24, 32, 48];
const EFS = [64, 128, 256];
const CODES = (process.env.IVF_CODES ?? 'u8,bits,rabitq').split(',') as CodeKind[];
const METRICS: VectorMetric[] = (process.env.IVF_METRICS ?? 'cosine,l2').split(',') as VectorMetric[];

/** Opens the segment from its bytes; `reads` counts every ranged read and its bytes. */
async function open(bytes: Buffer, schema: NamespaceSchema, tmpDir: string, reads = { n: 0, bytes: 0 }): Promise<SegmentReader> {
  return SegmentReader.open({
    meta: readSegmentMeta(bytes),
    schema,
    tmpDir,
    readSection: async (_name, r) => {
      reads.n++;
      reads.bytes += r.length;
      return bytes.subarray(r.offset, r.offset + r.length);
    },
  });
}

async function main(): Promise<void> {
  const glove = loadGloveOrSkip('ivf');
  if (!glove) return;
  const n = glove.base.rows;
  const dim = glove.base.dim;
  const tmp = await tempDir('ivf');
  const nq = Math.min(QUERIES, glove.queries.rows);
  const qs = Array.from({ length: nq }, (_, q) => glove.queries.data.subarray(q * dim, q * dim + dim));
  const rows: Array<Array<string | number>> = [];
  const results: Record<string, unknown>[] = [];
  const cold: Array<Array<string | number>> = [];
  for (const metric of METRICS) {
    const gt = metric === 'cosine' ? glove.groundTruth : readIvecs(join(GLOVE_DIR, 'groundtruth.l2.ivecs'));
    const truth = Array.from({ length: nq }, (_, q) => truthTopK(gt, q, K));
    const schema: NamespaceSchema = { vector_dim: dim, vector_metric: metric, attributes: {} };
    const input = {
      schema,
      ids: Array.from({ length: n }, (_, i) => BigInt(i)),
      vectors: glove.base.data,
      hasVector: new Uint8Array(n).fill(1),
      attributes: Array.from({ length: n }, () => ({})),
      hnsw: { m: 16, efConstruction: 200 },
      tmpDir: tmp,
    };
    const settings: Array<{ name: string; clusterRows: number | null; codes: CodeKind }> = [
      ...(process.env.IVF_NO_HNSW ? [] : [{ name: 'hnsw', clusterRows: null, codes: 'u8' as const }]),
      ...CODES.flatMap((codes) => CLUSTER_ROWS.map((c) => ({ name: `ivf/${c}/${codes}`, clusterRows: c, codes })))];
    for (const s of settings) {
      const t0 = performance.now();
      const built = buildSegmentSync(s.clusterRows === null
        ? { ...input, ivfFrom: Infinity }
        : { ...input, ivfFrom: 0, ivfClusterRows: s.clusterRows, ivfCodes: s.codes });
      const buildMs = since(t0);
      // A cold first query: open (every section it needs) and one query, reads counted.
      const reads = { n: 0, bytes: 0 };
      const reader = await open(built.bytes, schema, tmp, reads);
      const opened = { ...reads };
      await reader.search(qs[0]!, K, 128);
      cold.push([metric, s.name, opened.n, fmt(opened.bytes / 2 ** 20, 2), reads.n - opened.n, fmt((reads.bytes - opened.bytes) / 2 ** 20, 2),
        `${fmt((100 * reads.bytes) / built.bytes.byteLength, 1)} %`]);
      results.push({ metric, index: s.name, cold: { openReads: opened.n, openBytes: opened.bytes, queryReads: reads.n - opened.n, queryBytes: reads.bytes - opened.bytes, segmentBytes: built.bytes.byteLength } });
      const knobs = s.clusterRows === null ? EFS.map((ef) => ({ label: `ef ${ef}`, ef, nprobe: undefined }))
        : NPROBES.map((p) => ({ label: `nprobe ${p}`, ef: 128, nprobe: p }));
      for (const knob of knobs) {
        for (let q = 0; q < Math.min(50, nq); q++) await reader.search(qs[q]!, K, knob.ef, undefined, knob.nprobe); // warm-up
        const ms: number[] = [];
        let hit = 0;
        for (let q = 0; q < nq; q++) {
          const t = performance.now();
          const got = await reader.search(qs[q]!, K, knob.ef, undefined, knob.nprobe);
          ms.push(since(t));
          hit += recall(got.rows, truth[q]!) * K;
        }
        const lat = summarize(ms);
        const r = hit / (nq * K);
        rows.push([metric, s.name, knob.label, fmt(r, 4), fmt(lat.p50, 3), fmt(lat.p99, 3), fmt(buildMs / 1000, 1), fmt(built.bytes.byteLength / 2 ** 20, 1)]);
        results.push({ metric, index: s.name, knob: knob.label, recall: r, p50_ms: lat.p50, p99_ms: lat.p99, build_s: buildMs / 1000, bytes: built.bytes.byteLength });
      }
      reader.close();
    }
  }
  printTable(`ivf: GloVe-100 ${n} × ${dim}-d, one segment, ${nq} queries, top ${K}, SegmentReader.searchVector in process`,
    ['metric', 'index', 'knob', 'recall@10', 'p50 ms', 'p99 ms', 'build s', 'segment MiB'], rows);
  printTable('cold first query: sections read by open, then blocks read by one query at ef 128 (ranged reads, MiB)',
    ['metric', 'index', 'open reads', 'open MiB', 'query reads', 'query MiB', 'of the segment'], cold);
  console.log(`raw vectors: ${fmt((n * dim * 4) / 2 ** 20, 1)} MiB`);
  writeResult('ivf', { results });
}

await main();
