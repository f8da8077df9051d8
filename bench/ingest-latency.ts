// ingest-latency: where a query's time goes while a namespace takes sustained ingest (issue 9's
// "1M: query p50 during sustained ingest ≤ 25 ms"; bench scale measured 112.6 ms at 1M). A real
// Silt process; N clustered 128-d documents (bench/lib/synthetic.ts, the scale data) POSTed as
// 1,000-document JSON batches by 4 clients while a 5th queries back to back. Reported per
// revision: query p50/p99 end to end and the server's own took_ms (the difference is time the
// request waited on the main thread before or after the query ran: parsing, other handlers); the
// server's event-loop delay (prom-client's nodejs_eventloop_lag_* scraped every second, reset at
// each scrape); the tail's size (unindexed documents, scanned exactly by every query); ack rate;
// time from the last ack to fully indexed. --profile adds a CPU profile of the server's threads.
// --before REV runs that revision's server too, the two alternating run by run (one run each by
// default), so the ratio comes from one sitting of the shared machine.
//
//   npm run bench -- ingest-latency [--docs 300000] [--before REV] [--runs 1] [--profile]

import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { summarizeProfiles } from './lib/cpu-profile.ts';
import { ROOT } from './lib/data.ts';
import { ingest, queryIds, sleep, waitIndexed } from './lib/load.ts';
import { checkout } from './lib/process.ts';
import { fmt, printTable, writeResult } from './lib/report.ts';
import { call, startServer } from './lib/silt.ts';
import { median, summarize } from './lib/stats.ts';
import { batchBody, batchCount, batchVectors, clustered, queryVectors } from './lib/synthetic.ts';

const { values: flags } = parseArgs({
  options: {
    docs: { type: 'string', default: '300000' },
    before: { type: 'string', default: 'none' },
    runs: { type: 'string', default: '1' },
    profile: { type: 'boolean', default: false },
    'compare-nice': { type: 'boolean', default: false },
  },
});
const DOCS = Number(flags.docs);
const RUNS = Number(flags.runs);
const DIM = 128;
const NS = 'ingest';
/** flush_docs' default: the tail a query scans just before a flush takes it. */
const TAIL_ROWS = 50_000;

const set = clustered({ docs: DOCS, dim: DIM, seed: 9, batch: 1000, centres: 1000, noise: 0.5 });
const probes = queryVectors(set, 200);

/** nodejs_eventloop_lag_<stat>_seconds from a /metrics text, in ms. */
function lag(text: string, stat: string): number {
  const m = new RegExp(`^nodejs_eventloop_lag_${stat}_seconds (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) * 1000 : NaN;
}

interface Variant { label: string; root: string; temp: boolean; env: Record<string, string> }

/**
 * The tail scan alone, in this process: a query over a memtable of `rows` rows (the scale data),
 * through the revision's own Memtable and vectorSearch, median of `queries`; revisions alternate.
 */
async function tailScan(variants: readonly Variant[], rows: number, queries: number): Promise<number[]> {
  const revs = await Promise.all(variants.map(async (v) => {
    const imp = (p: string) => import(join(v.root, p));
    const [memtable, executor, schema, request] = await Promise.all([imp('src/namespace/memtable.ts'), imp('src/query/executor.ts'),
      imp('src/schema/parse.ts'), imp('src/query/request.ts')]);
    const sch = schema.parseNamespaceSchema({ vector_dim: DIM, vector_metric: 'l2' });
    const m = new memtable.Memtable(sch);
    for (let b = 0; b * 1000 < rows; b++) {
      const { first, rows: n, vectors } = batchVectors(set, b);
      for (let r = 0; r < n; r++) m.upsert({ id: BigInt(first + r), vector: Float32Array.from(vectors.subarray(r * DIM, (r + 1) * DIM)), attributes: {} }, b + 1);
    }
    return { m, sch, executor, request };
  }));
  const ms = variants.map(() => [] as number[]);
  for (let q = 0; q < queries; q++) {
    for (const [i, r] of revs.entries()) {
      const parsed = r.request.parseQuery({ vector: probes[q % probes.length], top_k: 10 }, r.sch, NS, { default_top_k: 10, max_top_k: 1000 });
      const t0 = performance.now();
      await r.executor.vectorSearch(r.sch, [r.m], parsed, 10, { ef: 128 });
      ms[i]!.push(performance.now() - t0);
    }
  }
  return ms.map((x) => median(x));
}

async function run({ label, root, env }: Variant, profileDir: string | null) {
  const command: [string, ...string[]] = [process.execPath, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
    '--import', 'tsx', join(root, 'src/main.ts')];
  const server = await startServer('ingest-latency', env, { command });
  try {
    await call(server.url, 'PUT', `/v1/namespaces/${NS}`, { vector_dim: DIM, vector_metric: 'l2' });
    const bodies = Array.from({ length: batchCount(set) }, (_, b) => batchBody(set, b));
    let ingesting = true;
    const e2e: number[] = [];
    const took: number[] = [];
    const querying = (async () => {
      for (let i = 0; ingesting; i++) {
        const t0 = performance.now();
        await queryIds(server.url, NS, probes[i % probes.length]!, {}, took);
        e2e.push(performance.now() - t0);
      }
    })();
    const loop = { p50: [] as number[], p99: [] as number[], max: [] as number[] };
    const tail: number[] = [];
    const sampling = (async () => {
      await fetch(`${server.url}/metrics`).then((r) => r.text()); // resets the lag histogram
      while (ingesting) {
        await sleep(1000);
        const text = await fetch(`${server.url}/metrics`).then((r) => r.text());
        loop.p50.push(lag(text, 'p50'));
        loop.p99.push(lag(text, 'p99'));
        loop.max.push(lag(text, 'max'));
        tail.push((await call(server.url, 'GET', `/v1/namespaces/${NS}`)).unindexed_documents as number);
      }
    })();
    const acked = await ingest(server.url, NS, bodies.length, 4, (b) => bodies[b]!);
    ingesting = false;
    await Promise.all([querying, sampling]);
    const indexed = await waitIndexed(server.url, NS, 3000, 30 * 60_000);
    const q = summarize(e2e);
    const t = summarize(took);
    const result = {
      label,
      ackDocsPerSec: (DOCS * 1000) / acked.wallMs,
      queries: q.count,
      e2e: { p50: q.p50, p99: q.p99 },
      tookMs: { p50: t.p50, p99: t.p99 },
      loopLagMs: { p50: median(loop.p50), p99: median(loop.p99), max: Math.max(...loop.max) },
      tail: { median: median(tail), max: Math.max(...tail) },
      indexedAfterLastAckS: (indexed.at - acked.lastAckAt) / 1000,
    };
    console.log(`  ${label}: query p50 ${fmt(q.p50, 1)} ms (took_ms ${fmt(t.p50, 1)}), loop lag p99 ${fmt(result.loopLagMs.p99, 1)} ms, tail median ${result.tail.median}`);
    return result;
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const variants: Variant[] = [{ label: 'this tree', root: ROOT, temp: false, env: {} }];
  if (flags['compare-nice']) variants.unshift({ label: 'this tree, build_nice 0', root: ROOT, temp: false, env: { SILT_INDEXING_BUILD_NICE: '0' } });
  if (flags.before !== 'none') variants.unshift({ label: `before (${flags.before})`, root: await checkout(flags.before), temp: true, env: {} });
  const results: Array<Awaited<ReturnType<typeof run>>> = [];
  const profiles: Record<string, Array<Array<string | number>>> = {};
  let scan: number[] = [];
  try {
    scan = await tailScan(variants, TAIL_ROWS, 60);
    (globalThis as { gc?: () => void }).gc?.();
    for (let r = 0; r < RUNS; r++) {
      for (const v of variants) {
        const dir = flags.profile ? join(ROOT, 'bench/results', `ingest-latency-profile-${r}-${variants.indexOf(v)}`) : null;
        if (dir) await mkdir(dir, { recursive: true });
        results.push(await run(v, dir));
        if (dir) {
          profiles[`${v.label} #${r}`] = await summarizeProfiles(dir, 25);
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    for (const v of variants) if (v.temp) await rm(v.root, { recursive: true, force: true });
  }
  printTable(`ingest-latency: ${DOCS} × ${DIM}-d, 4 writers (1,000-doc JSON batches), a 5th client querying back to back (top 10, default ef)`,
    ['revision', 'acked docs/s', 'queries', 'p50 ms', 'p99 ms', 'took_ms p50', 'took_ms p99', 'loop lag p50', 'loop lag p99', 'loop lag max', 'tail median', 'tail max', 'indexed after ack s'],
    results.map((x) => [x.label, fmt(x.ackDocsPerSec, 0), x.queries, fmt(x.e2e.p50, 1), fmt(x.e2e.p99, 1), fmt(x.tookMs.p50, 1), fmt(x.tookMs.p99, 1),
      fmt(x.loopLagMs.p50, 1), fmt(x.loopLagMs.p99, 1), fmt(x.loopLagMs.max, 0), x.tail.median, x.tail.max, fmt(x.indexedAfterLastAckS, 1)]));
  printTable(`the tail scan alone: one top-10 query over a ${TAIL_ROWS}-row tail, in process, median of 60 (revisions alternating)`,
    ['revision', 'ms'], variants.map((v, i) => [v.label, fmt(scan[i], 2)]));
  for (const [name, rows] of Object.entries(profiles)) printTable(`CPU self time, ${name}`, ['%', 'ms', 'function [thread]'], rows);
  writeResult('ingest-latency', { data: { docs: DOCS, dim: DIM, batch: 1000, writers: 4 }, runs: RUNS, results, tailScanMs: { rows: TAIL_ROWS, byVariant: variants.map((v, i) => ({ label: v.label, ms: scan[i] })) }, profiles });
}

await main();
