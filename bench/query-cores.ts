// query-cores: does one Silt process use every core for vector queries? One server over a
// namespace of synthetic clustered 128-d docs in IVF segments (QUERY_CORES_ROWS, 200k by default,
// flushed as QUERY_CORES_SEGMENTS segments) and GloVe-100 50k when ../shared/data has it. For
// each, the same data directory is served twice in one run: `query.threads = 1` (the main thread
// scans, as before) and `query.threads = 0` (the probe scan on the query pool, one thread per
// core). Reported: QPS and p50 at 1, 2, 4, 8 concurrent HTTP clients (keep-alive, node:http),
// the 8-vs-1 throughput ratio, recall@10 against brute force, and the server's CPU per query
// (main thread and whole process, from /proc), which a busy machine does not distort.
//
// QUERY_CORES_MODES (default "1,0") lists the query.threads values; QUERY_CORES_SYNTHETIC=0 and
// QUERY_CORES_GLOVE=0 leave a data set out. QUERY_CORES_PROFILE=1 also runs each server under --cpu-prof during an 8-client phase and
// prints where the server's CPU time went (self time by function, bench/lib/cpu-profile.ts).
//
//   npm run bench -- query-cores      (or: npx tsx bench/query-cores.ts)

import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSilt, type SiltProcess } from '../test/support/silt-process.ts';
import { summarizeProfiles } from './lib/cpu-profile.ts';
import { gloveAvailable, loadGlove, ROOT, recall, rowArray, truthTopK } from './lib/data.ts';
import { fmt, printTable, writeResult } from './lib/report.ts';
import { call } from './lib/silt.ts';
import { summarize } from './lib/stats.ts';

const K = 10;
const CLIENTS = [1, 2, 4, 8];
const PHASE_MS = Number(process.env.QUERY_CORES_PHASE_MS ?? 4000);
const ROWS = Number(process.env.QUERY_CORES_ROWS ?? 200_000);
const SEGMENTS = Number(process.env.QUERY_CORES_SEGMENTS ?? 2);
const QUERIES = 200;
const PROFILE = process.env.QUERY_CORES_PROFILE === '1';
const MODES = (process.env.QUERY_CORES_MODES ?? '1,0').split(',');

interface Dataset {
  name: string;
  dim: number;
  metric: 'cosine' | 'l2';
  rows: number;
  vector(i: number): number[];
  queries: number[][];
  truth: number[][];
}

/** Gaussian blobs around 1,000 random centres, the shape of the synthetic sets. */
function synthetic(rows: number, dim = 128): Dataset {
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const centres = Array.from({ length: 1000 }, () => Array.from({ length: dim }, () => rand() * 2 - 1));
  const data = new Float32Array(rows * dim);
  for (let i = 0; i < rows; i++) {
    const c = centres[i % centres.length]!;
    for (let d = 0; d < dim; d++) data[i * dim + d] = c[d]! + 0.15 * gauss();
  }
  const queries = Array.from({ length: QUERIES }, (_, q) => {
    const c = centres[(q * 7) % centres.length]!;
    return c.map((x) => x + 0.15 * gauss());
  });
  // Exact top-10 by L2, brute force.
  const truth = queries.map((q) => {
    const best: Array<[number, number]> = [];
    for (let i = 0; i < rows; i++) {
      let d2 = 0;
      for (let d = 0; d < dim; d++) {
        const x = q[d]! - data[i * dim + d]!;
        d2 += x * x;
      }
      if (best.length < K || d2 < best[best.length - 1]![0]) {
        best.push([d2, i]);
        best.sort((a, b) => a[0] - b[0]);
        if (best.length > K) best.pop();
      }
    }
    return best.map(([, i]) => i);
  });
  return { name: `synthetic ${rows / 1000}k×${dim}`, dim, metric: 'l2', rows, vector: (i) => Array.from(data.subarray(i * dim, i * dim + dim)), queries, truth };
}

function glove(): Dataset {
  const g = loadGlove();
  const dim = g.base.dim;
  const queries = Array.from({ length: QUERIES }, (_, q) => Array.from(g.queries.data.subarray(q * dim, q * dim + dim)));
  return { name: `GloVe-100 ${g.base.rows / 1000}k`, dim, metric: 'cosine', rows: g.base.rows, vector: (i) => rowArray(g.base, i), queries, truth: queries.map((_, q) => truthTopK(g.groundTruth, q, K)) };
}

function envOf(dir: string, threads: string): Record<string, string> {
  return {
    SILT_STORAGE_LOCAL_ROOT_PATH: join(dir, 'root'),
    SILT_CACHE_DISK_PATH: join(dir, 'cache'),
    SILT_INDEXING_FLUSH_DOCS: '100000000',
    SILT_INDEXING_FLUSH_INTERVAL_SECS: '86400',
    SILT_COMPACTION_ENABLED: 'false',
    ...(threads === '' ? {} : { SILT_QUERY_THREADS: threads }),
  };
}

async function load(dir: string, ds: Dataset): Promise<void> {
  const silt = await startSilt(envOf(dir, ''));
  try {
    await call(silt.url, 'PUT', '/v1/namespaces/bench', { vector_dim: ds.dim, vector_metric: ds.metric });
    const per = Math.ceil(ds.rows / SEGMENTS);
    for (let from = 0; from < ds.rows; from += 1000) {
      const documents = [];
      for (let i = from; i < Math.min(ds.rows, from + 1000); i++) documents.push({ id: i, vector: ds.vector(i) });
      await call(silt.url, 'POST', '/v1/namespaces/bench/upsert', { documents });
      const to = from + documents.length;
      if (to % per === 0 || to === ds.rows) await call(silt.url, 'POST', '/v1/namespaces/bench/flush');
    }
  } finally {
    await silt.stop();
  }
}

/**
 * CPU ms the server has used: its main thread (the thread whose id is the pid) and the whole
 * process. On a machine shared with other work, wall-clock QPS mostly measures the neighbours;
 * CPU per query does not, and bounds the QPS of an idle machine: min(1 / main, cores / total).
 */
function cpuMs(pid: number): { main: number; total: number } {
  const ticks = (path: string) => {
    const f = readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * (1000 / 100); // utime + stime, at USER_HZ = 100
  };
  return { main: ticks(`/proc/${pid}/task/${pid}/stat`), total: ticks(`/proc/${pid}/stat`) };
}

/** `clients` loops sending queries back to back for PHASE_MS; latencies of every request. */
async function phase(url: string, bodies: string[], clients: number): Promise<{ qps: number; times: number[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const { hostname, port } = new URL(url);
  const ask = (body: string) => new Promise<void>((resolve, reject) => {
    const req = request({ agent, hostname, port, method: 'POST', path: '/v1/namespaces/bench/query', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`query: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
  const times: number[] = [];
  const end = performance.now() + PHASE_MS;
  let next = 0;
  const loop = async () => {
    while (performance.now() < end) {
      const body = bodies[next++ % bodies.length]!;
      const t = performance.now();
      await ask(body);
      times.push(performance.now() - t);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, loop));
  const qps = times.length / ((performance.now() - t0) / 1000);
  agent.destroy();
  return { qps, times };
}

async function measure(dir: string, ds: Dataset, threads: string, profileDir: string | null) {
  const env = envOf(dir, threads);
  // --cpu-prof is refused in NODE_OPTIONS: it goes on the command line.
  const command: [string, ...string[]] = [process.execPath, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), '--import', 'tsx', join(ROOT, 'src/main.ts')];
  const silt: SiltProcess = await startSilt(env, [], { command });
  try {
    const bodies = ds.queries.map((v) => JSON.stringify({ vector: v, top_k: K, include_attributes: false }));
    let rec = 0;
    for (let q = 0; q < ds.queries.length; q++) {
      const body = (await call(silt.url, 'POST', '/v1/namespaces/bench/query', bodies[q])) as { results: Array<{ id: number }> };
      rec += recall(body.results.map((h) => h.id), ds.truth[q]!);
    }
    await phase(silt.url, bodies, 2); // warm-up: JIT, caches
    const out: Array<{ clients: number; qps: number; p50: number; p99: number; mainCpuMs: number; cpuMs: number }> = [];
    const pid = silt.child.pid!;
    for (const clients of CLIENTS) {
      const before = cpuMs(pid);
      const { qps, times } = await phase(silt.url, bodies, clients);
      const after = cpuMs(pid);
      const lat = summarize(times);
      out.push({ clients, qps, p50: lat.p50, p99: lat.p99, mainCpuMs: (after.main - before.main) / times.length, cpuMs: (after.total - before.total) / times.length });
    }
    const stats = (await call(silt.url, 'GET', '/stats')) as { query_threads?: unknown };
    return { recall: rec / ds.queries.length, phases: out, queryThreads: stats.query_threads ?? null };
  } finally {
    await silt.stop();
  }
}

async function main(): Promise<void> {
  const sets: Array<() => Dataset> = process.env.QUERY_CORES_SYNTHETIC === '0' ? [] : [() => synthetic(ROWS)];
  if (gloveAvailable() && process.env.QUERY_CORES_GLOVE !== '0') sets.push(glove);
  const rows: Array<Array<string | number>> = [];
  const results: Record<string, unknown>[] = [];
  for (const make of sets) {
    const ds = make();
    const dir = await mkdtemp(join(tmpdir(), 'silt-bench-query-cores-'));
    try {
      await load(dir, ds);
      for (const threads of MODES) {
        const profileDir = PROFILE ? await mkdtemp(join(tmpdir(), 'silt-cpu-prof-')) : null;
        const m = await measure(dir, ds, threads, profileDir);
        const one = m.phases[0]!.qps;
        for (const p of m.phases) {
          const idle = Math.min(1000 / p.mainCpuMs, (availableParallelism() * 1000) / p.cpuMs);
          rows.push([ds.name, `threads ${threads}`, p.clients, fmt(p.qps, 0), fmt(p.qps / one, 2), fmt(p.p50, 3), fmt(p.p99, 3),
            fmt(p.mainCpuMs, 3), fmt(p.cpuMs, 3), fmt(idle, 0), fmt(m.recall, 4)]);
        }
        results.push({ dataset: ds.name, rows: ds.rows, segments: SEGMENTS, threads, recall10: m.recall, phases: m.phases, queryThreads: m.queryThreads });
        if (profileDir) {
          printTable(`server CPU by function, ${ds.name}, threads ${threads} (all phases)`, ['self %', 'ms', 'function'], await summarizeProfiles(profileDir, 25));
          await rm(profileDir, { recursive: true, force: true });
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  printTable(`query-cores: QPS by concurrent HTTP clients, ${PHASE_MS / 1000} s a phase, one server (threads 1 = main thread only, 0 = query pool on every core)`,
    ['data', 'mode', 'clients', 'QPS', 'vs 1 client', 'p50 ms', 'p99 ms', 'main CPU ms/q', 'CPU ms/q', 'idle-machine QPS bound', 'R@10'], rows);
  console.log(`load average during the run: ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
  writeResult('query-cores', { data: { k: K, phaseMs: PHASE_MS, segments: SEGMENTS }, loadAverage: loadavg(), results });
}

await main();
