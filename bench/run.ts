// npm run bench [-- NAME ... [--FLAG VALUE ...]]: runs the benchmarks (all, or the named ones) one after another,
// each in a process of its own so that one's heap, JIT state and peak RSS do not leak into the
// next. Each prints its tables and writes bench/results/<name>.json. Benchmarks whose data
// (../shared/data, relative to the repository root) is missing are skipped with a message.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gloveAvailable, GLOVE_DIR, ROOT, SCIFACT_DIR } from './lib/data.ts';
import { beirAvailable } from './lib/beir.ts';
import { RESULTS_DIR } from './lib/report.ts';

interface Benchmark {
  name: string;
  what: string;
  data: 'glove' | 'scifact' | 'none';
}

const BENCHMARKS: Benchmark[] = [
  { name: 'vector', what: 'GloVe-100 50k: recall@10 and latency vs raw hnswlib-node, in process and over HTTP', data: 'glove' },
  { name: 'ivf', what: 'GloVe-100 50k in one segment: IVF (cluster sizes × u8/bits codes × nprobe) vs HNSW, recall@10 and latency', data: 'glove' },
  { name: 'vector-index', what: 'GloVe-100 50k over HTTP, HNSW (main) vs IVF segment in one run: recall@10, p50, RSS, segment bytes, cold first query', data: 'glove' },
  { name: 'filtered', what: 'GloVe-100 50k with filters of 1/10/50% selectivity vs unfiltered', data: 'glove' },
  { name: 'fulltext', what: 'SciFact BM25: nDCG@10 and latency, tail vs segments', data: 'scifact' },
  { name: 'fulltext-zipf', what: '1M synthetic Zipf docs in one segment: 2-term OR top-10 p50, text format 1 (exhaustive) vs 2 (block-max)', data: 'none' },
  { name: 'ingest', what: 'HTTP ingest docs/s, event-loop delay, flush vs raw hnswlib build, peak RSS', data: 'glove' },
  { name: 'ivf-cold', what: 'GloVe-100 50k in one IVF segment, this revision vs --before: cold first query on S3 and local (round trips, bytes, ms)', data: 'glove' },
  { name: 'index-lag', what: '1M synthetic 128-d docs ingested at 26k/s by 4 writers: time from the last ack to fully indexed, build time by task, query p50 during ingest, peak RSS', data: 'none' },
  { name: 'cold-start', what: 'first query on a cold namespace: time and object-store requests, local and S3', data: 'glove' },
  { name: 'small-segments', what: 'one segment of 128 to 16k rows: HNSW search vs exact scan latency, RSS per loaded HNSW index', data: 'none' },
  { name: 'many-namespaces', what: '2,000 namespaces × 200 docs flushing at once: threads, RSS, time to flush all, build pool vs a worker per build', data: 'none' },
  { name: 'namespace-bound', what: 'N namespaces × 100 docs under cache.memory_size (1 GiB): RSS, one query to every namespace, before vs after', data: 'none' },
  { name: 'shutdown-flush', what: '200 small tails on S3 flushed one by one vs flushAll (graceful shutdown): tails/s', data: 'none' },
  { name: 'merge-policy', what: 'merge policy before/after issue 9 over streams of flushes: segment count, write amplification (pure simulation)', data: 'none' },
  { name: 'import-probe', what: '/health latency during an import: JSON batches vs streamed NDJSON (silt import)', data: 'none' },
  { name: 'id-paging', what: 'a page of 1,000 by id at depths of a 200k-row segment: id-order walk vs scan vs sort (turbopuffer export paging)', data: 'none' },
  { name: 'scale', what: "issue 9's targets at 1M × 128-d clustered over HTTP: ingest, time to indexed, query p50 during ingest, RSS, warm recall/p50, 8-client QPS, cold S3 query", data: 'none' },
  { name: 'ingest-latency', what: 'query p50/p99 during sustained HTTP ingest (300k × 128-d, 4 writers + 1 querier): end to end vs took_ms, event-loop lag, tail size, [--before REV] [--profile]', data: 'none' },
  { name: 'centroid-rank', what: 'centroid ranking at 1M and 10M namespace shapes (128-d, nprobe 64): JavaScript vs the native shortlist, side by side, same probes', data: 'none' },
  { name: 'query-cores', what: '200k synthetic 128-d (and GloVe-50k) in IVF segments over HTTP: QPS and p50 at 1/2/4/8 clients, query.threads 1 vs 0, recall@10', data: 'none' },
  { name: 'cluster', what: '3 indexers + query node on S3: forwarding overhead, eventual reads, owner down, cold vs warm cache', data: 'glove' },
];

function available(data: Benchmark['data']): { ok: boolean; where: string } {
  if (data === 'none') return { ok: true, where: '' };
  return data === 'glove'
    ? { ok: gloveAvailable(), where: GLOVE_DIR }
    : { ok: beirAvailable(SCIFACT_DIR), where: SCIFACT_DIR };
}

function runOne(b: Benchmark, flags: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench', `${b.name}.ts`), ...flags], { cwd: ROOT, stdio: 'inherit' });
    child.once('exit', (code) => resolve(code));
  });
}

async function main(): Promise<void> {
  // Names first, then flags (`scale --docs 10000000`), which every selected benchmark is given.
  const argv = process.argv.slice(2);
  const firstFlag = argv.findIndex((a) => a.startsWith('--') && a !== '--help');
  const args = firstFlag < 0 ? argv : argv.slice(0, firstFlag);
  const flags = firstFlag < 0 ? [] : argv.slice(firstFlag);
  if (args.includes('--help') || args.includes('-h')) {
    console.log('usage: npm run bench [-- NAME ...]\n');
    for (const b of BENCHMARKS) console.log(`  ${b.name.padEnd(15)} ${b.what}`);
    return;
  }
  const unknown = args.filter((a) => !BENCHMARKS.some((b) => b.name === a));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${BENCHMARKS.map((b) => b.name).join(', ')}`);
    process.exit(2);
  }
  const selected = args.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => args.includes(b.name));
  const summary: Array<{ name: string; status: string; seconds: number }> = [];
  const t0 = performance.now();
  for (const b of selected) {
    const data = available(b.data);
    if (!data.ok) {
      console.log(`\n=== ${b.name}: skipped, data not found at ${data.where}`);
      summary.push({ name: b.name, status: 'skipped (no data)', seconds: 0 });
      continue;
    }
    console.log(`\n=== ${b.name}: ${b.what}`);
    const start = performance.now();
    const code = await runOne(b, flags);
    const json = join(RESULTS_DIR, `${b.name}.json`);
    summary.push({
      name: b.name,
      status: code === 0 ? (existsSync(json) ? `ok → bench/results/${b.name}.json` : 'ok') : `FAILED (exit ${code})`,
      seconds: (performance.now() - start) / 1000,
    });
  }
  console.log(`\n=== summary (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  for (const s of summary) console.log(`  ${s.name.padEnd(15)} ${s.seconds.toFixed(0).padStart(4)} s  ${s.status}`);
  if (summary.some((s) => s.status.startsWith('FAILED'))) process.exit(1);
}

await main();
