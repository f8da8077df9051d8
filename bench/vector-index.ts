// vector-index: the same GloVe-100 50k namespace (cosine) served over HTTP by a real server,
// once with the segment indexed by HNSW (indexing.ivf_min_rows above the segment size: what main
// builds) and once by IVF (the default), in the same run. For each: segment bytes in storage,
// server RSS after the flush and after the queries, then recall@10 and HTTP p50/p99 of 1,000
// sequential queries at each knob, and the first query after a restart (empty caches).
//
// With --before REV, the IVF segment is also served by that revision's server (a checkout), for
// a ratio in the same run; --modes narrows the modes (hnsw,ivf-before,ivf).
//
//   npm run bench -- vector-index          (or: npx tsx bench/vector-index.ts [--before REV] [--modes ...])

import { readdir, readFile, stat } from 'node:fs/promises';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSilt } from '../test/support/silt-process.ts';
import { checkout } from './lib/process.ts';
import { loadGloveOrSkip, queryVectors, recall, rowArray, truthTopK } from './lib/data.ts';
import { fmt, printTable, writeResult } from './lib/report.ts';
import { call, tempDir } from './lib/silt.ts';
import { medianOf, summarize, type Latency } from './lib/stats.ts';

const K = 10;
const QUERIES = 1000;
const PASSES = 3;

const { values: args } = parseArgs({ options: { before: { type: 'string' }, modes: { type: 'string', default: 'hnsw,ivf-before,ivf' } } });
const IVF_KNOBS = [{ ef: 128 }, { nprobe: 32 }, { nprobe: 48 }, { nprobe: 96 }];
interface Mode { key: string; name: string; env: Record<string, string>; knobs: Array<Record<string, number>>; before?: boolean }
const MODES = ([
  { key: 'hnsw', name: 'hnsw (main)', env: { SILT_INDEXING_IVF_MIN_ROWS: '1000000000' }, knobs: [{ ef: 128 }, { ef: 256 }] },
  { key: 'ivf-before', name: `ivf (${args.before})`, env: {}, knobs: IVF_KNOBS, before: true },
  { key: 'ivf', name: 'ivf', env: {}, knobs: IVF_KNOBS },
] as Mode[]).filter((m) => args.modes.split(',').includes(m.key) && (!m.before || args.before !== undefined));

async function rssMiB(pid: number): Promise<number> {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

async function main(): Promise<void> {
  const glove = loadGloveOrSkip('vector-index');
  if (!glove) return;
  const n = glove.base.rows;
  const qs = queryVectors(glove, QUERIES);
  const truth = qs.map((_, q) => truthTopK(glove.groundTruth, q, K));
  const rows: Array<Array<string | number>> = [];
  const results: Record<string, unknown>[] = [];
  const beforeRoot = args.before === undefined ? null : await checkout(args.before);
  for (const mode of MODES) {
    const dir = await tempDir('vector-index');
    const start = (e: Record<string, string>) => startSilt(e, [], mode.before && beforeRoot !== null
      ? { command: [process.execPath, '--import', 'tsx', join(beforeRoot, 'src/main.ts')] } : {});
    const env = {
      SILT_STORAGE_LOCAL_ROOT_PATH: join(dir, 'root'),
      SILT_CACHE_DISK_PATH: join(dir, 'cache'),
      SILT_INDEXING_FLUSH_DOCS: '100000000',
      SILT_INDEXING_FLUSH_INTERVAL_SECS: '86400',
      ...mode.env,
    };
    let silt = await start(env);
    await call(silt.url, 'PUT', '/v1/namespaces/glove', { vector_dim: glove.base.dim, vector_metric: 'cosine' });
    for (let from = 0; from < n; from += 1000) {
      const documents = [];
      for (let i = from; i < Math.min(n, from + 1000); i++) documents.push({ id: i, vector: rowArray(glove.base, i) });
      await call(silt.url, 'POST', '/v1/namespaces/glove/upsert', { documents });
    }
    const t0 = performance.now();
    await call(silt.url, 'POST', '/v1/namespaces/glove/flush');
    const flushS = (performance.now() - t0) / 1000;
    const segBytes = await bytesUnder(join(dir, 'root', 'glove', 'seg'));
    // A restart: the segment is opened from storage, nothing else in memory.
    await silt.stop();
    silt = await start(env);
    const ask = async (body: string) => {
      const res = await fetch(`${silt.url}/v1/namespaces/glove/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (!res.ok) throw new Error(`query: ${res.status} ${await res.text()}`);
      return (await res.json()) as { results: Array<{ id: number }> };
    };
    const c0 = performance.now();
    await ask(JSON.stringify({ vector: qs[0], top_k: K }));
    const coldMs = performance.now() - c0;
    const rssOpen = await rssMiB(silt.child.pid!);
    for (const knob of mode.knobs) {
      const bodies = qs.map((v) => JSON.stringify({ vector: v, top_k: K, include_attributes: false, ...knob }));
      for (let q = 0; q < 200; q++) await ask(bodies[q]!);
      const passes: Latency[] = [];
      let rec = 0;
      for (let pass = 0; pass < PASSES; pass++) {
        const times: number[] = [];
        for (let q = 0; q < qs.length; q++) {
          const start = performance.now();
          const body = await ask(bodies[q]!);
          times.push(performance.now() - start);
          if (pass === 0) rec += recall(body.results.map((h) => h.id), truth[q]!);
        }
        passes.push(summarize(times));
      }
      const lat = medianOf(passes);
      const label = Object.entries(knob).map(([k, v]) => `${k} ${v}`).join(' ');
      const rss = await rssMiB(silt.child.pid!);
      rows.push([mode.name, label, fmt(rec / qs.length, 4), fmt(lat.p50, 3), fmt(lat.p99, 3), fmt(segBytes / 2 ** 20, 1), fmt(rssOpen, 0), fmt(rss, 0), fmt(coldMs, 1), fmt(flushS, 1)]);
      results.push({ mode: mode.name, knob, recall10: rec / qs.length, latencyMs: lat, segmentBytes: segBytes, rssAfterOpenMiB: rssOpen, rssAfterQueriesMiB: rss, coldFirstQueryMs: coldMs, flushS });
    }
    await silt.stop();
  }
  if (beforeRoot !== null) await rm(beforeRoot, { recursive: true, force: true });
  printTable(`vector-index: GloVe-100 ${n} cosine over HTTP, ${qs.length} sequential queries, median of ${PASSES} passes (ms)`,
    ['index', 'knob', 'R@10', 'p50', 'p99', 'segment MiB', 'RSS open MiB', 'RSS after MiB', 'cold 1st ms', 'flush s'], rows);
  writeResult('vector-index', { data: { base: n, queries: qs.length, k: K }, results });
}

await main();
